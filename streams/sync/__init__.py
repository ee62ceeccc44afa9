"""The sync service (``cdcbridge sync``): CDC topics -> canonical changes -> marketing platform.

Pure cores: ``coalesce`` (per-key coalescing, batch planning), ``offsets`` (commit watermark),
``breaker``, ``dlq`` (dead letters: ``dead_letter``, ``replay``; ``kafka_sink`` writes them),
``share`` (rate share), ``trace``. Threads and I/O: ``deliver`` (adapter calls with retries),
``engine`` (ties them together), ``strategy`` (arroyo step), ``service`` (wiring),
``kafka_boundary`` (consumer, producer, admin reads: below the domain). Commands: ``cli``
(``sync``, ``lag``) and ``dlq.cli``. Settings and the delete policy: ``settings``.
"""
