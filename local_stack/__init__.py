"""The local stack: real PostgreSQL, Kafka (KRaft), Kafka Connect + Debezium, ElasticMQ and the
sandbox marketing platform, started as plain processes on loopback under one state folder."""
