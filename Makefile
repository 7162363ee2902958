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

.PHONY: install run test test-fast demo bench lint clean

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

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
