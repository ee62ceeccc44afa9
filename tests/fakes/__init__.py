"""Test doubles shared by the suites: fakes of the queue, the platform, Kafka and the clock."""
