# The two commands in README.md: `make demo` and `make test`. Both install what is missing.
.PHONY: deps demo test lint unit integration artifacts wheel lambda image stack-up stack-down \
	bench clean backfill-heavy airflow-dag-test faults

VENV := .venv/bin

deps:
	@bash scripts/install-deps.sh

demo: deps
	$(VENV)/cdcbridge demo

# The tests build the wheel and the Lambda bundle (tests/artifacts); sam is installed first so
# no test spends its timeout installing it.
test: deps lint
	@bash scripts/build-lambda.sh --install-only
	$(VENV)/pytest -q

lint: deps
	$(VENV)/ruff check .
	$(VENV)/lint-imports --no-cache
	bash scripts/typecheck.sh
	$(VENV)/hadolint Dockerfile

# The shipped artifacts, built and run by their tests (also part of `make test`): the wheel in
# a clean virtualenv, the Lambda bundle (sam build) in a clean interpreter, the manifests.
artifacts: deps
	$(VENV)/pytest -q tests/artifacts tests/contract/test_kubernetes_manifests.py

wheel: deps
	$(VENV)/pip wheel -q --no-deps -w dist .
	@ls -l dist/cdcbridge-*.whl

lambda:
	bash scripts/build-lambda.sh

# Needs a container builder (buildah or docker); our CI has neither working (no user
# namespaces), so CI proves the same install steps in tests/artifacts/test_wheel.py.
image:
	buildah bud -t cdcbridge:0.1.0 . 2>/dev/null || docker build -t cdcbridge:0.1.0 .

unit: deps
	$(VENV)/pytest -q -m "unit or contract"

integration: deps
	$(VENV)/pytest -q -m integration

# The whole fault suite (tests/faults, ~30 min): load both ways while one component fails, the
# invariants checked after each; the table of what each fault cost is printed at the end (and
# kept in .stack/faults-report.md). The default test run keeps only the faults_ci trio.
faults: deps
	rm -f "$${CDCBRIDGE_FAULTS_REPORT:-.stack/faults-report.jsonl}"; \
	CDCBRIDGE_FAULTS=all CDCBRIDGE_FAULTS_OUTAGE_S=$${CDCBRIDGE_FAULTS_OUTAGE_S:-120} \
		$(VENV)/pytest -q -m faults tests/faults; status=$$?; \
	$(VENV)/python -m tests.faults.report; exit $$status

stack-up: deps
	$(VENV)/cdcbridge stack up

stack-down:
	$(VENV)/cdcbridge stack down

# Every benchmark, one report: bench/results/report.json + report.md (bench/README.md says what
# each number means). BENCH_QUICK=1: a few minutes instead of most of an hour.
bench: deps
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(VENV)/python bench/run_all.py $(if $(BENCH_QUICK),--quick,)

# The issue's size for the backfill proof (10,000 rows + 1,000 live updates); CI runs 2,000/200.
backfill-heavy: deps
	CDCBRIDGE_BACKFILL_ROWS=10000 CDCBRIDGE_BACKFILL_UPDATES=1000 \
		$(VENV)/pytest -q tests/integration/audit/test_backfill.py

# Airflow in its own virtualenv, then `airflow dags test` of deploy/airflow/ on the local stack.
airflow-dag-test: deps
	CDCBRIDGE_AIRFLOW_BIN=$$(bash scripts/install-airflow.sh) \
		$(VENV)/pytest -q tests/integration/audit/test_airflow_dag.py

clean:
	$(VENV)/cdcbridge stack down --purge
