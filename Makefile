# Haven: `make run` starts the demo, `make test` runs the test suite. `make help` lists the rest.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Procfile commands (python, celery) and the scripts find the virtualenv's programs first.
export PATH := $(abspath $(VENV)/bin):$(PATH)

# The demo logins, read from the code that creates them so the two never disagree.
DEMO_PASSWORD = $(shell sed -n 's/^DEMO_PASSWORD = "\([^"]*\)".*/\1/p' accounts/demo.py)
DEMO_USERS = $(shell sed -n 's/^    "\([a-z0-9]*\)": .Role\..*/\1/p' accounts/demo.py)

# CI starts from an empty test database; a developer's machine keeps it between runs.
ifneq ($(filter true 1 yes,$(CI)),)
PYTEST_DATABASE := --create-db
else
PYTEST_DATABASE := --reuse-db
endif
# Two workers, each handed the next test when it is free (the longest tests are collected first:
# tests/conftest.py), so that both finish together.
PYTEST_WORKERS ?= -n 2 --maxschedchunk 1
PYTEST_ARGS ?=

.PHONY: help run test lint check-deploy bench migrations-check services messages

help:
	@echo "make run               start Haven with demo data at http://127.0.0.1:8000/"
	@echo "make test              run the whole test suite"
	@echo "make lint              formatting, lint rules, deployment checks, bandit and pip-audit"
	@echo "make check-deploy      Django's deployment checks against the production settings"
	@echo "make bench             run the benchmarks"
	@echo "make migrations-check  fail if a model change has no migration"
	@echo "make messages          compile the translations (run, test and bench do it)"

$(PY):
	@python=""; \
	for candidate in python3.13 python3.12 python3.11 python3; do \
		if command -v "$$candidate" >/dev/null 2>&1 \
			&& "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
			python="$$candidate"; break; \
		fi; \
	done; \
	if [[ -z "$$python" ]]; then \
		echo "Haven needs Python 3.11 or newer, and none was found (tried python3.13, python3.12, python3.11, python3); install one and run make again." >&2; \
		exit 1; \
	fi; \
	echo "Creating $(VENV) with $$("$$python" --version)"; \
	"$$python" -m venv $(VENV)

# Reinstalled only when pyproject.toml is newer than the stamp.
$(INSTALLED): pyproject.toml | $(PY)
	@echo "Installing Haven and its development tools into $(VENV)..."
	@$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

# The translations are compiled here (the .mo files are not committed), before anything runs.
messages: $(INSTALLED)
	@PYTHON=$(PY) scripts/compile-messages.sh

services: $(INSTALLED) messages
	@PYTHON=$(PY) scripts/ensure-services.sh
	@scripts/ensure-fonts.sh

run: export DJANGO_SETTINGS_MODULE := config.settings.demo
run: services
	@$(PY) manage.py migrate --no-input --verbosity 0
	@$(PY) manage.py load_demo
	@echo
	@echo "Haven (demo, fictional data): http://127.0.0.1:8000/"
	@echo "Log in as any of: $(DEMO_USERS)"
	@echo "Password for all of them: $(DEMO_PASSWORD)"
	@echo "Web server, Celery worker and Celery beat run below; Ctrl-C stops them all."
	@echo
	@exec honcho start -f Procfile

test: export DJANGO_SETTINGS_MODULE := config.settings.test
test: services
	@scripts/ensure-browser.sh
	$(PY) -m pytest $(PYTEST_WORKERS) $(PYTEST_DATABASE) $(PYTEST_ARGS)

# Security scans of `make lint`. Bandit fails on any issue of medium or high severity (and
# medium or high confidence) in the code that runs in production; a finding that is not a flaw
# carries `# nosec BXXX  # why` on its line. pip-audit looks the installed packages up in PyPI's
# advisories; where PyPI cannot be reached it says so and goes on, unless PIP_AUDIT_REQUIRED=1.
BANDIT_PATHS := protection audit accounts operations notifications cases housing payments journeys config deploy manage.py
PIP_AUDIT_TIMEOUT ?= 120
PIP_AUDIT_REQUIRED ?=

lint: check-deploy
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	@echo "bandit: medium and high severity issues in $(BANDIT_PATHS)"
	@# Bandit warns about every justified `nosec` it has nothing to skip on that line: noise.
	@$(VENV)/bin/bandit --recursive --quiet --severity-level medium --confidence-level medium \
		$(BANDIT_PATHS) 2>&1 | { grep -v 'nosec encountered' || true; }
	@echo "pip-audit: known vulnerabilities in the packages installed in $(VENV)"
	@status=0; \
	report=$$(timeout $(PIP_AUDIT_TIMEOUT) $(VENV)/bin/pip-audit --local --strict --skip-editable \
		--progress-spinner off 2>&1) || status=$$?; \
	if [[ $$status -eq 0 ]]; then \
		echo "pip-audit: no known vulnerabilities"; \
	elif grep -q '^Found [0-9]* known vulnerabilit' <<<"$$report"; then \
		echo "$$report" >&2; \
		echo "pip-audit: upgrade the packages above to a version in the Fix Versions column." >&2; \
		exit 1; \
	else \
		if [[ $$status -eq 124 ]]; then \
			reason="no answer within $(PIP_AUDIT_TIMEOUT) s"; \
		else \
			reason=$$(grep -m 1 -E 'ERROR|Error|error' <<<"$$report" || tail -n 1 <<<"$$report"); \
		fi; \
		echo "pip-audit: NOT CHECKED: the vulnerability data could not be read from PyPI ($$reason)." >&2; \
		echo "pip-audit: run make lint where PyPI's JSON API is reachable (make lint PIP_AUDIT_REQUIRED=1 fails instead of skipping)." >&2; \
		if [[ -n "$(PIP_AUDIT_REQUIRED)" ]]; then exit 1; fi; \
	fi

# Django's deployment checks, against production settings with throw-away (but well-formed)
# secrets; no database or Redis needed.
check-deploy: $(INSTALLED)
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=haven.example.org \
	HAVEN_FIELD_KEYS="$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	HAVEN_BLIND_INDEX_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')" \
	HAVEN_BACKUP_KEYS="$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	$(PY) manage.py check --deploy --fail-level WARNING

# Each benchmark fills a throwaway database of its own on the same server; BENCH_ARGS passes
# options, e.g. make bench BENCH_ARGS="--plans 5000 --repeat 3 --explain". The scale benchmark
# keeps its database (haven_bench_scale, 100,000 cases: minutes to fill) for the next run and
# for the load test of 50 users that follows it.
bench: services
	$(PY) benchmarks/run.py $(BENCH_ARGS)
	$(PY) benchmarks/journeys.py
	$(PY) benchmarks/pages.py
	$(PY) benchmarks/load.py
	$(PY) benchmarks/scale.py --reuse
	$(PY) benchmarks/load.py --database haven_bench_scale --users 50 --capacity 0

migrations-check: export DJANGO_SETTINGS_MODULE := config.settings.demo
migrations-check: services
	$(PY) manage.py makemigrations --check --dry-run
