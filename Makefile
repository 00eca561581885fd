# Every target sets up .venv itself; only Python (>=3.10) and make are needed.
# constraints.txt pins torch to the CPU 2.13.0 wheel so no multi-GB CUDA build is pulled.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint bench bench-quick docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e '.[plot]'
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PIP) -e '.[plot,dev]'
	touch $@

$(VENV)/.bench: $(VENV)/.base
	$(PIP) -e '.[plot,bench]'
	touch $@

$(VENV)/.docs: $(VENV)/.base
	$(PIP) -e '.[plot,docs]'
	touch $@

demo: $(VENV)/.base
	$(BIN)/skensemble demo --output demo_output

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q

# Modules with a leading underscore are parts used by the scripts, not scripts.
BENCHMARKS := $(filter-out benchmarks/_%,$(wildcard benchmarks/*.py))

# Full runs take hours on 2 CPU cores; each script writes docs/benchmarks/<name>.md.
bench: $(VENV)/.bench
	for script in $(BENCHMARKS); do $(BIN)/python $$script || exit 1; done

bench-quick: $(VENV)/.bench
	for script in $(BENCHMARKS); do $(BIN)/python $$script --quick || exit 1; done

docs: $(VENV)/.docs
	$(BIN)/sphinx-build -b html -W --keep-going docs docs/_build/html

clean:
	rm -rf $(VENV) docs/_build docs/auto_examples demo_output
