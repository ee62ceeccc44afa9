"""streams package of cdcbridge."""
