# The two commands of the README: `make demo` runs a demo van, `make test` runs the whole suite.
# Both install what they need first: Debian packages (as root), uv (pinned with hashes), then the
# virtualenv exactly as uv.lock says (docs/dependencies.md). Nothing is ever resolved afresh here:
# `uv sync --locked` fails when uv.lock is out of date with pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := .tools/uv/bin/uv
PYTEST_ARGS ?=
# The van's and the hub's software releases (provision release build [--role hub]): tests install each offline into
# a fresh venv, as a van and a hub server install them.
RELEASE := var/release/van
HUB_RELEASE := var/release/hub
SOURCES := $(wildcard $(shell git ls-files common edge governorate provisioning systemd scripts 2>/dev/null))
# uv puts the project's environment here, and never fetches a Python of its own.
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
export UV := $(abspath $(UV))

.PHONY: demo test system venv release lock lock-check lint bench clean

demo: system venv
	$(BIN)/python scripts/demo.py

test: system venv release
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

system:
	scripts/install-system-packages dev

$(UV): requirements/uv.txt scripts/bootstrap-uv
	PYTHON=$(PYTHON) scripts/bootstrap-uv >/dev/null

# Every run: cheap when nothing changed, and an old .venv is brought to exactly the lock
# (packages the lock no longer names are removed).
venv: $(UV)
	$(UV) sync --locked --extra dev --python $(PYTHON)

# Rebuilt only when the lock or a source file changed (it fetches the role's wheels, checked against the lock).
release: $(RELEASE)/release.json $(HUB_RELEASE)/release.json

$(RELEASE)/release.json: uv.lock pyproject.toml $(SOURCES) | venv
	$(BIN)/provision release build $(RELEASE)

$(HUB_RELEASE)/release.json: uv.lock pyproject.toml $(SOURCES) | venv
	$(BIN)/provision release build --role hub $(HUB_RELEASE)

# After editing the dependencies in pyproject.toml (or to take upstream fixes: make lock UPGRADE=1).
lock: $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade)

lock-check: $(UV)
	$(UV) lock --check

lint: venv
	$(BIN)/ruff check .

# Every benchmark prints its figures as JSON; each runs as a module from the project's root (python -m bench.NAME),
# which is how it finds the test-support package (tests/support) without editing sys.path. The soak, bench/soak/,
# runs apart: python -m bench.soak, as root.
bench: system venv
	@for b in bench/*.py; do m=$$(basename $$b .py); echo "== bench.$$m"; $(BIN)/python -m bench.$$m || exit 1; done

clean:
	rm -rf $(VENV) .tools var .pytest_cache
