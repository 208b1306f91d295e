# Paper Notes: two commands on a fresh machine (python3.11+, git, make):
#   make serve   set up .venv, build and serve the site at http://127.0.0.1:8000
#   make test    set up .venv and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stages in one environment: the site builder alone (small, enough to serve the site),
# then the companion runtime and the test tools on top (torch and its CUDA wheels: large).
# The site stage skips byte-compiling (--no-compile): Python writes the bytecode of what the
# build imports when it first imports it, and the rest is never written (of 55 MB, most is
# for packages the build never imports, such as IPython, jedi and debugpy, which come with
# mkdocs-jupyter's kernel dependencies).
SITE_STAMP := $(VENV)/.site-installed
FULL_STAMP := $(VENV)/.runtime-installed
NAME ?=
# Runs a venv tool with the venv's bin first on PATH: qtorch finds the venv's ninja that way.
IN_VENV = PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python
export NO_MKDOCS_2_WARNING := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: setup serve build test execute check bench lock clean

$(SITE_STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "python3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet --no-compile -c constraints.txt -e .
	touch $(SITE_STAMP)

$(FULL_STAMP): $(SITE_STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[runtime,dev]"
	touch $(FULL_STAMP)

setup: $(FULL_STAMP)

serve: $(SITE_STAMP)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: $(SITE_STAMP)
	$(BIN)/mkdocs build --strict --clean --site-dir site

# Unit tests, integrity tests, the site build (also in a browser, skipped without chromium),
# and nbval re-executing every twin in parallel. -rs prints why a test was skipped.
test: $(FULL_STAMP)
	$(IN_VENV) -m pytest tests companions --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval-sanitize.cfg -n 2 --dist loadfile -rs

# Re-execute companions cleanly and rewrite their twins: all, or one with NAME=slug.
execute: $(FULL_STAMP)
	$(IN_VENV) -m papernotes execute $(NAME)

check: $(SITE_STAMP)
	$(BIN)/python -m papernotes check

bench: $(FULL_STAMP)
	$(IN_VENV) -m papernotes bench $(NAME)

# Re-pin every dependency to what is installed now (after changing pyproject.toml).
lock: $(FULL_STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^papernotes' > constraints.txt

clean:
	rm -rf site .cache
