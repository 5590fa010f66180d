# Two commands for a fresh machine: `make run` and `make test`. Both set up .venv first and are
# quick when nothing changed (the install is redone only when pyproject.toml or constraints.txt
# changes). Every install takes the exact versions in constraints.txt, the ones the suite passed
# with; `make lock` refreshes that file on purpose.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hearth-installed
# sentence-transformers needs torch; installing this pin first takes the CPU build where one is
# provided (set TORCH_INSTALL_ARGS to point pip at PyTorch's CPU index elsewhere).
TORCH_SPEC ?= torch==2.13.0
TORCH_INSTALL_ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup run test lint typecheck imports pytest bench package package-test clean lock

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_INSTALL_ARGS) "$(TORCH_SPEC)"
	@echo "Installing Hearth; the first build of llama-cpp-python takes about 10 minutes."
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# A new constraints.txt from the newest releases pyproject.toml allows, in a throwaway venv. Run
# `make test` after it and commit the file only when the suite passes.
LOCK_VENV := build/lock-venv
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet $(TORCH_INSTALL_ARGS) "$(TORCH_SPEC)"
	$(LOCK_VENV)/bin/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,/^# Refresh/p;/^# then run/p' constraints.txt; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable | grep -v -i -e '^torch==' -e '^-e '; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

run: setup
	$(BIN)/hearth

lint: setup
	$(BIN)/ruff check assistant tests bench
	$(BIN)/ruff format --check assistant tests bench

typecheck: setup
	$(BIN)/mypy

imports: setup
	$(BIN)/lint-imports

# The reference MCP server (tests/tools/test_mcp_interop.py), pinned, in an ignored folder; the
# stamp is named after the version so changing the pin reinstalls it.
MCP_EVERYTHING_VERSION ?= 2026.8.31
MCP_NPM := build/mcp-npm
MCP_NPM_STAMP := $(MCP_NPM)/.installed-$(MCP_EVERYTHING_VERSION)

$(MCP_NPM_STAMP):
	@command -v npm >/dev/null || (echo "npm (Node.js) is needed for the MCP interoperability tests" >&2; exit 1)
	npm install --prefix $(MCP_NPM) --no-audit --no-fund --loglevel=error \
		"@modelcontextprotocol/server-everything@$(MCP_EVERYTHING_VERSION)"
	touch $@

pytest: setup $(MCP_NPM_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck imports pytest

bench: setup
	$(BIN)/python bench/generation.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/ui.py
	$(BIN)/python bench/rag.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/modes.py
	$(BIN)/python bench/calculator.py
	$(BIN)/python bench/eval.py

# The double-click bundle: dist/hearth/ and dist/hearth-linux-x86_64.tar.gz (packaging/build.sh).
# It is built in a venv of its own whose llama.cpp is compiled for any x86-64 CPU with AVX2 (2013
# on) rather than for this machine's CPU (GGML_NATIVE, the default), which could crash elsewhere
# with "illegal instruction". That compile takes about 10 minutes, once.
PACKAGE_VENV ?= .venv-package
PACKAGE_STAMP := $(PACKAGE_VENV)/.hearth-installed
PORTABLE_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

$(PACKAGE_STAMP): pyproject.toml constraints.txt
	test -x $(PACKAGE_VENV)/bin/python || $(PYTHON) -m venv $(PACKAGE_VENV)
	$(PACKAGE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PACKAGE_VENV)/bin/python -m pip install --quiet $(TORCH_INSTALL_ARGS) "$(TORCH_SPEC)"
	@echo "Compiling llama.cpp for any AVX2 CPU; about 10 minutes the first time."
	CMAKE_ARGS="$(PORTABLE_CMAKE_ARGS)" $(PACKAGE_VENV)/bin/python -m pip install --quiet --no-cache-dir \
		--no-binary llama-cpp-python -c constraints.txt "llama-cpp-python>=0.3.16"
	$(PACKAGE_VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[package]'
	touch $@

package: $(PACKAGE_STAMP)
	PY=$(PACKAGE_VENV)/bin/python sh packaging/build.sh

# Build, then start the built bundle in smoke mode and validate its .desktop entry.
package-test: setup package
	command -v desktop-file-validate >/dev/null || (apt-get update -qq && apt-get install -y -qq desktop-file-utils)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest tests/test_bundle.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(PACKAGE_VENV) build dist artifacts .pytest_cache .mypy_cache .ruff_cache
