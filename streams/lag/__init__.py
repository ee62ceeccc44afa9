"""Consumer lag for SREs: offsets and seconds per partition, a Burrow-style status per group.

``model`` (samples and rows, pure) · ``evaluate`` (status over a window, pure) · ``kafka_reads``
(the Kafka boundary) · ``command`` (``cdcbridge lag``) · ``sampler`` (the sync service's gauges).
"""
