#!/usr/bin/env bash
# Apache Airflow in a virtualenv of its own (never the project's .venv: Airflow pins hundreds of
# packages), for `make airflow-dag-test` and CI. Idempotent. Prints the airflow executable.
set -euo pipefail
cd "$(dirname "$0")/.."
AIRFLOW_VERSION=${AIRFLOW_VERSION:-3.3.2}
VENV=${CDCBRIDGE_AIRFLOW_VENV:-.stack/airflow/venv}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/airflow" ] || ! "$VENV/bin/python" -c \
    "import importlib.metadata as m, sys; sys.exit(m.version('apache-airflow') != '$AIRFLOW_VERSION')"; then
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q -U pip >&2
  "$VENV/bin/pip" install -q "apache-airflow==$AIRFLOW_VERSION" >&2
fi
echo "$VENV/bin/airflow"
