# The two set-up commands of the README: `make demo` and `make test`.
# Both create the virtual environment from the pinned lock file when it is missing or stale.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-slow lock clean-venv

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet --requirement requirements.lock
	$(PY) -m pip install --quiet --no-deps --editable .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/p4dp demo

# The default run: everything but the suites marked `slow` (Spark engine, browser walks, whole
# demo rebuilds). CI (.ci/run) runs this, then `make test-slow`.
test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 -m slow $(PYTEST_ARGS)

# Refresh the lock after changing dependencies in pyproject.toml.
lock:
	rm -rf /tmp/p4dp-lock && python3 -m venv /tmp/p4dp-lock
	/tmp/p4dp-lock/bin/pip install --quiet ".[test,spark]"
	/tmp/p4dp-lock/bin/pip freeze --exclude-editable | grep -v '^p4dp' > requirements.lock

clean-venv:
	rm -rf $(VENV)
