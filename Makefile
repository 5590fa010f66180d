# Two commands for a fresh machine: `make run` and `make test`. Both set up .venv first and are
# quick when nothing changed (the install is redone only when pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hearth-installed
# sentence-transformers needs torch; installing this pin first takes the CPU build where one is
# provided (set TORCH_INSTALL_ARGS to point pip at PyTorch's CPU index elsewhere).
TORCH_SPEC ?= torch==2.13.0
TORCH_INSTALL_ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup run test lint typecheck imports pytest bench package package-test clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_INSTALL_ARGS) "$(TORCH_SPEC)"
	@echo "Installing Hearth; the first build of llama-cpp-python takes about 10 minutes."
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: setup
	$(BIN)/hearth

lint: setup
	$(BIN)/ruff check assistant tests bench
	$(BIN)/ruff format --check assistant tests bench

typecheck: setup
	$(BIN)/mypy

imports: setup
	$(BIN)/lint-imports

pytest: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck imports pytest

bench: setup
	$(BIN)/python bench/generation.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/ui.py
	$(BIN)/python bench/rag.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/modes.py

# The double-click bundle: dist/hearth/ and dist/hearth-linux-x86_64.tar.gz (packaging/build.sh).
package: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,package]'
	PY=$(BIN)/python sh packaging/build.sh

# Build, then start the built bundle in smoke mode and validate its .desktop entry.
package-test: package
	command -v desktop-file-validate >/dev/null || (apt-get update -qq && apt-get install -y -qq desktop-file-utils)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest tests/test_bundle.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist artifacts .pytest_cache .mypy_cache .ruff_cache
