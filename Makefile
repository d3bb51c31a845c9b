# The two commands of the README: `make demo` (the main job) and `make test`.
# Both run the idempotent set-up first, so a fresh Debian machine needs nothing else.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-gui lint bench templates clean

setup: $(VENV)/.lamforge-setup

$(VENV)/.lamforge-setup: scripts/setup.sh pyproject.toml
	bash scripts/setup.sh
	touch $@

demo: setup
	$(VENV)/bin/lamforge demo

# The slow GUI proofs (every Calc and Impress check kind through the real windows, ~1 min)
# run with `make test-gui`; `make test` keeps a small set of GUI tests.
test: setup
	$(VENV)/bin/ruff check lamforge tests benchmarks scripts
	$(PY) -m pytest -q --durations=15 -m "not (gui and slow)"

test-gui: setup
	$(PY) -m pytest -q --durations=15 -m gui

lint: setup
	$(VENV)/bin/ruff check lamforge tests benchmarks scripts

bench: setup
	$(PY) benchmarks/env_writer.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
