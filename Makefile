# LabSafe: `make run` and `make test` do all set-up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUNTIME_STAMP := $(VENV)/.installed-runtime
export FLASK_APP := wsgi.py

.PHONY: run test install install-runtime translations db demo clean bench fuzz bench-load

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# `make run` needs only the runtime packages; tests add pytest, Playwright, schemathesis...
$(RUNTIME_STAMP): $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP) requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install-runtime: $(RUNTIME_STAMP) translations

install: $(STAMP) translations

# Compile every domain's message catalogue (zh_CN first, en).
translations: $(RUNTIME_STAMP)
	@for d in app/translations app/*/translations; do \
	  if [ -d "$$d" ]; then $(BIN)/pybabel -q compile -f -d "$$d" || exit 1; fi; \
	done

db: install-runtime
	$(BIN)/flask db upgrade
	$(BIN)/flask checklists load

demo: db
	$(BIN)/flask demo-data
	$(BIN)/flask demo-activity

# PORT=8080 make run serves elsewhere (5000 is taken on some machines, e.g. by macOS AirPlay).
PORT ?= 5000
HOST ?= 127.0.0.1
run: demo
	@LABSAFE_RUN_URL=http://$(HOST):$(PORT) $(BIN)/flask demo-logins 2>/dev/null || true
	@echo "LabSafe is serving on http://$(HOST):$(PORT)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Lint and the import order between domains (settings in pyproject.toml), then the whole suite on
# SQLite, then on PostgreSQL when TEST_DATABASE_URL is set. Each pass runs on one process per core
# (pytest-xdist; TEST_WORKERS=0 runs it in this one); tests marked xdist_group share a process.
TEST_WORKERS ?= logical
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup
test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	env -u TEST_DATABASE_URL $(PYTEST)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== the same suite on PostgreSQL ($$TEST_DATABASE_URL) =="; \
	  $(PYTEST) -p no:cacheprovider; \
	fi

bench: install
	$(BIN)/python -m bench

# API fuzzing, long run: schemathesis as every role with many more examples per operation than make test's.
fuzz: install
	LABSAFE_FUZZ_EXAMPLES=$${LABSAFE_FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz

# Load on the hot paths vs a bare-Flask ceiling under gunicorn, SQLite then PostgreSQL (needs wrk).
bench-load: install
	@command -v wrk >/dev/null 2>&1 || { echo "wrk is missing: apt-get install wrk"; exit 2; }
	$(BIN)/python -m bench.load

clean:
	rm -rf $(VENV) instance .pytest_cache
