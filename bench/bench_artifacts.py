"""Benchmark: the shipped artifacts' sizes and the Lambda bundle's cold import time.

Builds the wheel (into a temporary folder) and the Lambda bundle (scripts/build-lambda.sh),
then imports the handler from the bundle alone (``python -B -I -S``) in fresh processes and
reports the median. Prints one JSON document.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "build" / "lambda" / "ReceiverFunction"
IMPORT = ("import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); "
          "import webhook_bridge.lambda_handler; print(time.perf_counter() - t)")


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def zipped_bytes(folder: Path, target: Path) -> int:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return target.stat().st_size


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp,
                        str(ROOT)], check=True)
        (wheel,) = Path(tmp).glob("cdcbridge-*.whl")
        wheel_bytes = wheel.stat().st_size
        subprocess.run(["bash", str(ROOT / "scripts" / "build-lambda.sh")], check=True,
                       stdout=subprocess.DEVNULL)
        bundle_zip = zipped_bytes(BUNDLE, Path(tmp) / "bundle.zip")
    imports = [
        float(subprocess.run([sys.executable, "-B", "-I", "-S", "-c", IMPORT, str(BUNDLE)],
                             capture_output=True, text=True, check=True).stdout)
        for _ in range(7)
    ]
    print(json.dumps({
        "wheel_bytes": wheel_bytes,
        "lambda_bundle_bytes": folder_bytes(BUNDLE),
        "lambda_bundle_zip_bytes": bundle_zip,
        "lambda_cold_import_s_median": round(statistics.median(imports), 3),
        "lambda_cold_import_s_min": round(min(imports), 3),
    }))


if __name__ == "__main__":
    main()
