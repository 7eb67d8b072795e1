# mailbot: `make run` starts the daemon (the local demo when no mailbox is configured), `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test test-fast bench mail-servers check clean

$(STAMP): pyproject.toml
	@# Debian ships venv without ensurepip until python3-venv is installed.
	$(PYTHON) -m venv $(VENV) || (rm -rf $(VENV) && apt-get update && apt-get install -y python3-venv \
		&& $(PYTHON) -m venv $(VENV))
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $(STAMP)

setup: $(STAMP)

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

test: setup mail-servers
	$(BIN)/pytest -q

test-fast: setup
	$(BIN)/pytest -q -m "not slow"

bench: setup mail-servers
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/matching.py

# Lint and type check: zero findings expected (settings in pyproject.toml, [tool.ruff] and [tool.mypy]).
LINT_STAMP := $(VENV)/.lint-stamp
$(LINT_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/pip install --quiet -e ".[lint]"
	@touch $(LINT_STAMP)

.PHONY: lint
lint: setup $(LINT_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

check: setup
	$(BIN)/mailbot check

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache
