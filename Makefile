# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench warmup clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip >/dev/null || true
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/liqcascade run examples/minimal.toml
	$(BIN)/liqcascade curve examples/minimal.toml --shocks 0:0.5:0.05
	$(BIN)/liqcascade run examples/flagship.toml --out reports/flagship
	@echo "report written to reports/flagship/summary.json"

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 tests

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

warmup: $(STAMP)
	$(BIN)/liqcascade warmup

clean:
	rm -rf $(VENV) reports .pytest_cache
