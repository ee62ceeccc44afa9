#!/usr/bin/env bash
# mypy --strict in one run over the packages, the benchmarks and the tests (pyproject's
# [tool.mypy] files; ``tests`` is one package, so its folders need no separate runs).
set -euo pipefail
cd "$(dirname "$0")/.."
MYPY=${MYPY:-.venv/bin/mypy}
"$MYPY"
