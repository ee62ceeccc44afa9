"""The sync service (``cdcbridge sync``): CDC topics -> canonical changes -> marketing platform.

Pure cores: ``coalesce`` (per-key coalescing, batch planning), ``offsets`` (commit watermark),
``breaker``, ``dlq`` / ``dlq_replay`` (dead letters), ``share`` (rate share), ``trace``.
Threads and I/O: ``deliver`` (adapter calls with retries), ``engine`` (ties them together),
``strategy`` (arroyo step), ``service`` (wiring). Settings and the delete policy: ``settings``.
"""
