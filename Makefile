# The two commands in README.md: `make demo` and `make test`. Both install what is missing.
.PHONY: deps demo test lint unit integration stack-up stack-down bench clean

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

clean:
	$(VENV)/cdcbridge stack down --purge
