# Two entry points for a fresh machine (see README):
#   make run   -> install into .venv and run the main job on the bundled sample data
#   make test  -> install into .venv (with test, spark and numpyro extras, Java if missing) and run lint + all tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SEED   ?= 7

.PHONY: run test lint install install-test sample bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the package metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,spark,numpyro]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/growth-allocator validate data/sample
	$(BIN)/growth-allocator simulate --seed $(SEED) --out .out/sample

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	scripts/ensure-java.sh
	$(BIN)/python -m pytest

# Regenerate the bundled sample data (byte-for-byte reproducible; tests check it).
sample: install
	$(BIN)/growth-allocator simulate --seed $(SEED) --out data/sample

# Speed and accuracy figures (prints tables, writes benchmarks/results/*.json); peers run side by side.
bench: install-test
	$(BIN)/python -m pip install --quiet -e ".[test,spark,bench]"
	$(BIN)/python benchmarks/attribution.py
	$(BIN)/python benchmarks/attribution_memory.py
	$(BIN)/python benchmarks/attribution_accuracy.py
	$(BIN)/python benchmarks/optimizer.py

clean:
	rm -rf $(VENV) .out .pytest_cache .ruff_cache
