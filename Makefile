# otel-llm developer commands. `make demo` and `make test` each set up their own virtualenv.
PYTHON ?= python3
VENV := .venv
DEMO_VENV := .venv-demo
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: demo test lint typecheck pytest generate clean

## demo: set up .venv-demo and run the main job (today: the package's example)
demo: $(DEMO_VENV)/.installed
	$(DEMO_VENV)/bin/otel-llm example

## test: set up .venv and run ruff (lint + format check), mypy --strict and pytest
test: lint typecheck pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed
	$(VENV)/bin/pytest

## generate: regenerate src/otel_llm/semconv/, docs/semconv.md and docs/configuration.md
generate: $(VENV)/.installed
	PYTHONPATH=scripts $(VENV)/bin/python -m semconvgen

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(VENV)/bin/pip install $(PIP_FLAGS) -e '.[dev]'
	touch $@

$(DEMO_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(DEMO_VENV)/bin/pip install $(PIP_FLAGS) -e '.[all]'
	touch $@

clean:
	rm -rf $(VENV) $(DEMO_VENV) .mypy_cache .ruff_cache .pytest_cache
