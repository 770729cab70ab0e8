# `make run` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app instructor_portal
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
#: pytest-xdist workers: one per core by default.
TEST_WORKERS ?= auto

.PHONY: run test install db clean browser

run: db  ## Install, create the database, load demo data, and run the app and its worker together (Ctrl-C stops both).
	HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho start --procfile Procfile --port $(PORT)

test: $(STAMP) browser  ## Install, check the code's form, and run the whole test suite on every core.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# End-to-end tests drive Debian's Chromium (never a downloaded browser); install it when we can.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "Chromium is not installed (apt-get install chromium): end-to-end tests will be skipped."

install: $(STAMP)

db: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) seed-demo

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) instance/*.sqlite .pytest_cache
