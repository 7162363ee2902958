# The two commands: `make run` (the platform on embedded defaults) and `make test`.
# Every target sets itself up on a fresh machine and does nothing twice.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8750
export UV_COMPILE_BYTECODE := 1
# The CPU build of torch lies in the folder pip's find-links names; uv must look there
# too, or it takes a CUDA build of several GB from the index.
FIND_LINKS := $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)

.PHONY: install run test test-fast demo bench bench-peers lint clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python $(if $(FIND_LINKS),--find-links $(FIND_LINKS)) -e '.[dev]'
	@if $(BIN)/python -m pip list 2>/dev/null | grep -qi '^nvidia-'; then \
		echo "error: a CUDA build crept in (nvidia-* packages); pin torch==2.13.0 (CPU)"; exit 1; fi
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/groundfog up --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -n auto -q

test-fast: install
	$(BIN)/python -m pytest -n auto -q -m "not slow"

demo: install
	$(BIN)/groundfog demo

# The benchmarks' tools live outside the project's venv: wrk (Debian's package) for the
# serving load, and a separate venv with the peer servers (MLflow) so that they never
# enter .venv. Each is set up once; `make test` needs none of this.
WRK_STAMP := bench/.wrk-installed
PEERS_VENV := bench/.peers-venv
PEERS_STAMP := $(PEERS_VENV)/.installed

$(WRK_STAMP):
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq wrk; fi; }
	touch $(WRK_STAMP)

$(PEERS_STAMP): | $(STAMP)
	$(BIN)/uv venv --quiet --python $(PYTHON) $(PEERS_VENV)
	$(BIN)/uv pip install --quiet --python $(PEERS_VENV)/bin/python $(if $(FIND_LINKS),--find-links $(FIND_LINKS)) \
		mlflow "scikit-learn==$$($(BIN)/python -c 'import sklearn; print(sklearn.__version__)')"
	touch $(PEERS_STAMP)

bench-peers: $(PEERS_STAMP)

bench: install $(WRK_STAMP) $(PEERS_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis $(PEERS_VENV) $(WRK_STAMP)
