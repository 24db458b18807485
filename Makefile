# Scribe Workbench. `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench lock clean-data

setup: $(STAMP)

# Idempotent: reinstalls only when the lock or the project metadata changed.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/scribe demo --simulate 2000

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	@for m in benchmarks/*.py; do \
		name=$$(basename $$m .py); \
		case $$name in _*|common) ;; *) $(PY) -m benchmarks.$$name ;; esac; \
	done

# Re-pin every installed package (run after changing dependencies in pyproject.toml).
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^scribe-workbench' > requirements.lock

clean-data:
	rm -rf data
