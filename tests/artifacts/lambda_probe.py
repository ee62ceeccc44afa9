"""Run inside a clean interpreter (``python -I -S lambda_probe.py BUNDLE``): nothing on
``sys.path`` but the standard library and the built Lambda bundle. Imports the handler, times
the import, answers the API Gateway events read as JSON from stdin, and prints one JSON
document: the cold import time, the answers, and which heavy modules got imported."""

import json
import sys
import time

bundle = sys.argv[1]
sys.path.insert(0, bundle)
events = json.load(sys.stdin)
started = time.perf_counter()
from webhook_bridge.lambda_handler import handler  # noqa: E402

import_s = time.perf_counter() - started
started = time.perf_counter()
answers = [handler(event, None) for event in events]
first_calls_s = time.perf_counter() - started
print(json.dumps({
    "import_s": import_s,
    "calls_s": first_calls_s,
    "answers": answers,
    "modules_from_bundle": sorted({
        name.split(".")[0] for name, module in sys.modules.items()
        if (getattr(module, "__file__", None) or "").startswith(bundle)
    }),
    "sync_or_kafka_imported": sorted(
        name for name in sys.modules if name.split(".")[0] in {"streams", "confluent_kafka"}
    ),
}))
