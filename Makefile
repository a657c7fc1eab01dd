# Caminos de Saberes — two commands on a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PORT ?= 8000
# lesson images are addressed from this base: it must be where `make run` serves
export CAMINOS_PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
export CAMINOS_DATABASE_URL ?= sqlite:///var/caminos.db

.PHONY: run test install lint typecheck migrations-check pytest bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# what the service needs to run, nothing of the toolchain
$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

# the dev extra: pytest, ruff, mypy, schemathesis, the client generator, Playwright
$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(DEV_STAMP) $(RUN_STAMP)

install: $(RUN_STAMP)

## Set everything up and serve on SQLite with demo content at http://127.0.0.1:$(PORT) (docs at /docs).
run: $(RUN_STAMP)
	mkdir -p var
	$(BIN)/caminos db upgrade
	$(BIN)/caminos content load
	$(BIN)/caminos demo
	$(BIN)/caminos serve --host 127.0.0.1 --port $(PORT)

## Install the dev tools and run every check: ruff, mypy, alembic check, pytest (SQLite, and PostgreSQL when
## CAMINOS_TEST_DATABASE_URL is set).
test: $(DEV_STAMP) lint typecheck migrations-check pytest

lint:
	$(BIN)/ruff check app tests migrations

typecheck:
	$(BIN)/mypy

migrations-check:
	rm -f var/alembic-check.db; mkdir -p var
	CAMINOS_DATABASE_URL=sqlite:///var/alembic-check.db $(BIN)/alembic upgrade head
	CAMINOS_DATABASE_URL=sqlite:///var/alembic-check.db $(BIN)/alembic check
	rm -f var/alembic-check.db

pytest:
	@if [ -z "$$CAMINOS_TEST_DATABASE_URL" ]; then \
	  echo "*** CAMINOS_TEST_DATABASE_URL is not set: PostgreSQL is SKIPPED, tests run on SQLite only. ***"; \
	fi
	$(BIN)/pytest -n 2 --dist loadgroup

## Benchmarks (against PostgreSQL at CAMINOS_BENCH_DATABASE_URL, default the local server).
bench: $(DEV_STAMP)
	$(BIN)/python -m tests.benchmarks.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
