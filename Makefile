# The two commands in README.md: `make demo` and `make test`. Both install what is missing.
.PHONY: deps demo test lint unit integration stack-up stack-down bench clean backfill-heavy \
	airflow-dag-test

VENV := .venv/bin

deps:
	@bash scripts/install-deps.sh

demo: deps
	$(VENV)/cdcbridge demo

test: deps lint
	$(VENV)/pytest -q

lint: deps
	$(VENV)/ruff check .
	bash scripts/typecheck.sh

unit: deps
	$(VENV)/pytest -q -m "unit or contract"

integration: deps
	$(VENV)/pytest -q -m integration

stack-up: deps
	$(VENV)/cdcbridge stack up

stack-down:
	$(VENV)/cdcbridge stack down

bench: deps
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@for b in bench/bench_*.py; do echo "== $$b"; $(VENV)/python $$b; done

# The issue's size for the backfill proof (10,000 rows + 1,000 live updates); CI runs 2,000/200.
backfill-heavy: deps
	CDCBRIDGE_BACKFILL_ROWS=10000 CDCBRIDGE_BACKFILL_UPDATES=1000 \
		$(VENV)/pytest -q tests/integration/audit/test_backfill.py

# Airflow in its own virtualenv, then `airflow dags test` of deploy/airflow/ on the local stack.
airflow-dag-test: deps
	CDCBRIDGE_AIRFLOW_BIN=$$(bash scripts/install-airflow.sh) \
		$(VENV)/pytest -q tests/integration/audit/test_airflow_dag.py

clean: stack-down
	rm -rf .stack
