"""webhook_bridge package of cdcbridge."""
