# The two commands of the README: `make demo` runs a demo van, `make test` runs the whole suite.
# Both install what they need first (Debian packages as root, a virtualenv, the project).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test system venv lint bench clean

demo: system $(BIN)/.installed-dev
	$(BIN)/python scripts/demo.py

test: system $(BIN)/.installed-dev
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

system:
	scripts/install-system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall when the dependency list changes.
$(BIN)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .

# Every benchmark prints its figures as JSON (the soak, bench/soak/, runs apart: python -m bench.soak, as root).
bench: system $(BIN)/.installed-dev
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
