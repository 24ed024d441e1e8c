# The two commands of the README:
#   make run    set up a virtual environment, an SQLite database with demo data, and start Omni
#   make test   lint, check migrations, and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint migrations-check pytest bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo
	@echo "Omni admin: http://$(HOST):$(PORT)/admin/   API docs: http://$(HOST):$(PORT)/api/docs/"
	@echo
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed lint migrations-check pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

migrations-check: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run

pytest: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

messages: $(VENV)/.installed
	for app in omni inventory customers loyalty orders; do mkdir -p $$app/locale; \
	  (cd $$app && DEBUG=1 ../$(BIN)/python ../manage.py makemessages -l ru --no-location --no-obsolete); done
	DEBUG=1 $(BIN)/python manage.py compilemessages

BENCHES ?= inventory customers loyalty orders desks webhooks marketing exports rfm

# Each benchmark empties and fills the PostgreSQL database named by DATABASE_URL ("bench" in its name).
bench: $(VENV)/.installed
	for name in $(BENCHES); do \
	  if [ -f bench/$$name.py ]; then $(BIN)/python -m bench.$$name || exit 1; fi; done

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
