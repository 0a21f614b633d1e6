# lobu: the two commands a newcomer needs are `make run` and `make test`.
# Everything they need is installed by the targets themselves.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := -e shared -e services/directory -e services/notifications -e services/surveys -e services/events -e ".[dev]"
PYPROJECTS := pyproject.toml shared/pyproject.toml $(wildcard services/*/pyproject.toml)

.PHONY: help install run observe test test-fast faults lint format bench constraints schemas kafka-start kafka-stop clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "lobu needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python constraints.txt $(PYPROJECTS)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt $(PACKAGES)
	touch $@

install: $(VENV)/.installed  ## Create .venv and install every package (pinned by constraints.txt)

run: install  ## Run the platform: Kafka, mail sink, directory :8001, surveys :8002, events :8003, notifications :8004
	scripts/run-platform.sh

observe:  ## Prometheus on :9090 scraping make run's services, with the alert rules (next to make run)
	scripts/observe.sh

# Test files run in TEST_WORKERS processes (pytest-xdist), each with its own broker and
# PostgreSQL cluster; most tests wait on Kafka and sockets, so two share two cores well.
TEST_WORKERS ?= 2

# make test provides every prerequisite itself, so under it a skipped test fails
# (tests/support/prerequisites.py) and the ensure-* scripts fail instead of warning.
test: export LOBU_REQUIRE_ALL = 1
test: install  ## The whole suite with linters; starts Kafka and PostgreSQL itself, skips nothing
	scripts/ensure-postgres.sh
	scripts/ensure-chromium.sh
	scripts/ensure-libreoffice.sh
	scripts/ensure-prometheus.sh
	deploy/local/kafka.sh fetch
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: install  ## Unit and contract tests only (no Kafka, no PostgreSQL)
	$(BIN)/python -m pytest -m "unit or contract"

faults: install  ## The fault tests on a local three-broker cluster (marker faults; make test leaves them out)
	scripts/ensure-postgres.sh
	deploy/local/kafka.sh fetch
	$(BIN)/python -m pytest -m faults -s

lint: install  ## ruff (lint and format check) and mypy --strict on every package
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared/src/lobu/shared $(wildcard services/*/src/lobu/*)

format: install  ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install  ## Benchmarks (start Kafka and PostgreSQL themselves); figures in docs/performance.md
	scripts/ensure-postgres.sh
	PYTHONPATH=. $(BIN)/python bench/outbox_relay.py
	PYTHONPATH=. $(BIN)/python bench/pipeline_consumer.py
	PYTHONPATH=. $(BIN)/python bench/pipeline_writes.py
	PYTHONPATH=. $(BIN)/python bench/directory_search.py
	PYTHONPATH=. $(BIN)/python bench/webhooks_fanout.py
	PYTHONPATH=. $(BIN)/python bench/surveys_results.py
	PYTHONPATH=. $(BIN)/python bench/events_burst.py

constraints: install  ## Re-pin constraints.txt from the pyproject files
	$(BIN)/python scripts/compile_constraints.py

schemas: install  ## Export the event contracts' JSON Schemas to shared/schemas/
	$(BIN)/lobu schemas shared/schemas

kafka-start:  ## Start only the local Kafka broker (127.0.0.1:9092)
	deploy/local/kafka.sh start

kafka-stop:  ## Stop the local Kafka broker
	deploy/local/kafka.sh stop

clean:  ## Remove local state (databases, mail, Kafka storage); keeps .venv and jars
	-deploy/local/kafka.sh stop
	rm -rf var
