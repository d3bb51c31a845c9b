# The two commands of the README: `make demo` (the main job) and `make test`.
# Both run the idempotent set-up first, so a fresh Debian machine needs nothing else.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test lint bench templates clean

setup: $(VENV)/.lamforge-setup

$(VENV)/.lamforge-setup: scripts/setup.sh pyproject.toml
	bash scripts/setup.sh
	touch $@

demo: setup
	$(VENV)/bin/lamforge demo

test: setup
	$(VENV)/bin/ruff check lamforge tests benchmarks scripts
	$(PY) -m pytest -q --durations=15

lint: setup
	$(VENV)/bin/ruff check lamforge tests benchmarks scripts

bench: setup
	$(PY) benchmarks/env_writer.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
