# Two commands set up a fresh machine: `make demo` (install, then run Sitrep on demo data)
# and `make test` (install with test tools, then lint and run the tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.PHONY: demo test lint install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install install-test: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/sitrep demo $(DEMO_DIR)

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

# Two workers, each taking whole test modules, so a module's fixtures (a Spark session, a lake)
# are built once. PYTEST_ARGS adds to it, e.g. PYTEST_ARGS=tests/test_jobs.py.
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/metrics.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) bench/out .pytest_cache .ruff_cache
