# mailbot: `make run` starts the daemon (the local demo when no mailbox is configured), `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every install takes its versions from constraints.txt (pip-compile's lock of pyproject.toml, all extras): what
# the tests passed with is what runs. `make lock` regenerates it after a change of dependencies.
CONSTRAINTS := constraints.txt
PIP_TOOLS := pip-tools==7.7.0
# Production (`make run`) installs mailbot and its runtime dependencies only; add EXTRAS=postgres for PostgreSQL.
EXTRAS ?=
PROD_STAMP := $(VENV)/.installed-prod
TEST_STAMP := $(VENV)/.installed-test

.PHONY: setup setup-test run test test-fast bench mail-servers check lock lint clean

$(BIN)/python:
	@# Debian ships venv without ensurepip until python3-venv is installed.
	$(PYTHON) -m venv $(VENV) || (rm -rf $(VENV) && apt-get update && apt-get install -y python3-venv \
		&& $(PYTHON) -m venv $(VENV))
	$(BIN)/pip install --quiet --upgrade pip

$(PROD_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".$(if $(EXTRAS),[$(EXTRAS)])"
	@touch $(PROD_STAMP)

$(TEST_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[test,postgres]"
	@touch $(TEST_STAMP)

# The package's bytecode is written once here (checked against the sources each time: a few milliseconds): where
# PYTHONDONTWRITEBYTECODE is set, every mailbot process (the daemon, its sending process, each command) would
# otherwise compile all its modules again at start, 0.08 s of CPU each.
setup: $(PROD_STAMP)
	@$(BIN)/python -m compileall -q mailbot

setup-test: $(TEST_STAMP)
	@$(BIN)/python -m compileall -q mailbot

# The lock: the newest versions allowed by pyproject.toml that keep the pins already in constraints.txt
# (`make lock ARGS=--upgrade` moves them all forward; then run `make test`).
lock:
	$(PYTHON) -m venv $(VENV)-tools && $(VENV)-tools/bin/pip install --quiet "$(PIP_TOOLS)"
	$(VENV)-tools/bin/pip-compile --quiet --all-extras --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file=$(CONSTRAINTS) $(ARGS) pyproject.toml

mail-servers:
	@bash .ci/install-mail-servers.sh

# With a .env (or MAILBOT_IMAP_HOST in the environment) run on the club's real mailbox;
# otherwise start the loopback demo mail server with demo accounts.
run: setup
	@if [ -f .env ] || [ -n "$$MAILBOT_IMAP_HOST" ]; then \
		$(BIN)/mailbot db upgrade && exec $(BIN)/mailbot run; \
	else \
		$(MAKE) --no-print-directory mail-servers && exec $(BIN)/mailbot demo; \
	fi

# The suite runs in TEST_WORKERS processes (pytest-xdist), each with its own Dovecot, Postfix and databases; a file's
# tests stay together in one process. Most tests wait on the servers, so two processes on two cores took the suite
# from 32 to 19 minutes. `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 2

test: setup-test mail-servers
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

test-fast: setup-test
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not slow"

# Every bench (bench/all.py), then a summary table; `make bench ARGS=--full` for the documented runs.
bench: setup-test mail-servers
	$(BIN)/python bench/all.py $(ARGS)

# Lint and type check: zero findings expected (settings in pyproject.toml, [tool.ruff] and [tool.mypy]).
LINT_STAMP := $(VENV)/.lint-stamp
$(LINT_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[test,postgres,lint]"
	@touch $(LINT_STAMP)

.PHONY: lint
lint: $(LINT_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

check: setup
	$(BIN)/mailbot check

clean:
	rm -rf $(VENV) $(VENV)-tools var build dist *.egg-info .pytest_cache
