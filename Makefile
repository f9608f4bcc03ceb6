# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench warmup clean mutate property-nightly

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/liqcascade demo --out reports/flagship

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 tests

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

warmup: $(STAMP)
	$(BIN)/liqcascade warmup

# nightly-style, not part of `make test` (see docs/testing.md)
MUTATE_CHILDREN ?= 2
mutate: $(STAMP)
	HYPOTHESIS_PROFILE=mutate $(BIN)/mutmut run --max-children $(MUTATE_CHILDREN)
	$(BIN)/mutmut export-cicd-stats
	$(BIN)/python benchmarks/mutation_summary.py mutants/mutmut-cicd-stats.json

HYPOTHESIS_SCALE ?= 16
property-nightly: $(STAMP)
	LIQCASCADE_HYPOTHESIS_SCALE=$(HYPOTHESIS_SCALE) HYPOTHESIS_PROFILE=explore \
		$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider --hypothesis-show-statistics tests

clean:
	rm -rf $(VENV) reports .pytest_cache mutants
