"""sandbox_platform package of cdcbridge."""
