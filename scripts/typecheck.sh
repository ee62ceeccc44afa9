#!/usr/bin/env bash
# mypy --strict over the packages and benchmarks, then over each test folder on its own
# (test folders hold sibling helper modules and their own conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
MYPY=${MYPY:-.venv/bin/mypy}
"$MYPY"
find tests -name '*.py' -printf '%h\n' | sort -u | while read -r dir; do
  "$MYPY" "$dir"/*.py
done
