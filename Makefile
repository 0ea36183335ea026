# Two entry points for a fresh machine (see README):
#   make run   -> install into .venv, run the quarterly plan on the bundled sample data, then launch the app
#   make test  -> install into .venv (with test, spark and numpyro extras, Java if missing) and run lint + all tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SEED   ?= 7

# Test files run in parallel (pytest-xdist, whole files per worker), one worker per core and at most 4; each worker
# compiles its own models and builds its own session fixtures. `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)

APP_HOST ?= 127.0.0.1
APP_PORT ?= 8501

.PHONY: run test lint install install-test sample posterior posterior-check bench clean

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
	$(BIN)/growth-allocator plan --config plans/example.toml --out .out/runs
	@echo "The app: http://$(APP_HOST):$(APP_PORT)  (Ctrl-C stops it)"
	$(BIN)/streamlit run app.py --server.address $(APP_HOST) --server.port $(APP_PORT)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	scripts/ensure-java.sh
	scripts/ensure-postgres.sh
	scripts/ensure-chromium.sh $(BIN)/python
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Regenerate the bundled sample data (byte-for-byte reproducible; tests check it).
sample: install
	$(BIN)/growth-allocator simulate --seed $(SEED) --out data/sample

# Refit the sample's shipped posterior (4 chains x 1000 draws after 1000 tuning steps, seed 1, every 2nd draw kept
# so it stays under 20 MB; about 3 minutes on 2 cores).
# MCMC follows another numerical path on another CPU, so a refit is a new posterior, not the same bytes:
# `make posterior-check` verifies the shipped files against their recorded SHA-256 sums instead.
posterior: install
	$(BIN)/growth-allocator fit --data data/sample --out data/sample/posterior --draws 1000 --tune 1000 --chains 4 --seed 1 --thin 2

posterior-check:
	cd data/sample/posterior && sha256sum -c SHA256SUMS

# Speed and accuracy figures (prints tables, writes benchmarks/results/*.json); peers run side by side.
bench: install-test
	$(BIN)/python -m pip install --quiet -e ".[test,spark,bench]"
	$(BIN)/python benchmarks/attribution.py
	$(BIN)/python benchmarks/attribution_memory.py
	$(BIN)/python benchmarks/attribution_accuracy.py
	$(BIN)/python benchmarks/optimizer.py

clean:
	rm -rf $(VENV) .out .pytest_cache .ruff_cache
