# otel-llm developer commands. `make demo` and `make test` each set up their own virtualenv.
PYTHON ?= python3
VENV := .venv
DEMO_VENV := .venv-demo
OPENAI2_VENV := .venv-openai2
PIP_FLAGS := --quiet --disable-pip-version-check
# Real servers the end-to-end tests start on 127.0.0.1 (Debian/Ubuntu packages).
DEBS := prometheus prometheus-alertmanager
DEB_BINARIES := /usr/bin/promtool /usr/bin/amtool /usr/bin/prometheus /usr/bin/prometheus-alertmanager
# Provider SDKs the tests run against: the newest of each supported major line.
SDKS := openai==3.54.0 anthropic==2.12.0
SDKS_OPENAI2 := openai==2.54.0 anthropic==2.12.0

.PHONY: demo test lint typecheck pytest pytest-openai2 generate debs stack clean

## demo: set up .venv-demo and run the main job: the instrumented support chatbot for ~20 s
demo: $(DEMO_VENV)/.installed
	$(DEMO_VENV)/bin/otel-llm demo

## test: set up .venv and run ruff (lint + format check), mypy --strict and pytest; then the
## OpenAI tests again against the openai 2.x line (which still talks through httpx)
test: lint typecheck pytest pytest-openai2

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed debs
	$(VENV)/bin/pytest

## stack: Prometheus + Alertmanager (Debian packages) + the demo on 127.0.0.1, no Docker;
## demo flags via ARGS="--fault errors=0.08"; Ctrl-C stops everything
stack: $(VENV)/.installed debs
	PYTHONPATH=scripts $(VENV)/bin/python -m localstack $(ARGS)

## debs: install Prometheus and Alertmanager from the distribution when missing (needs root)
debs:
	@missing=0; for b in $(DEB_BINARIES); do [ -x $$b ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $(DEBS) >/dev/null; \
	fi

pytest-openai2: $(OPENAI2_VENV)/.installed
	$(OPENAI2_VENV)/bin/pytest -q tests/instrumentation/test_openai.py tests/instrumentation/test_conformance.py tests/instrumentation/test_content.py tests/instrumentation/test_raw.py

## generate: regenerate src/otel_llm/semconv/, docs/semconv.md, docs/configuration.md and the
## Grafana dashboards
generate: $(VENV)/.installed
	PYTHONPATH=scripts $(VENV)/bin/python -m semconvgen
	PYTHONPATH=scripts $(VENV)/bin/python -m dashboards

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(VENV)/bin/pip install $(PIP_FLAGS) -e '.[dev]' $(SDKS)
	touch $@

$(OPENAI2_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(OPENAI2_VENV)
	$(OPENAI2_VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(OPENAI2_VENV)/bin/pip install $(PIP_FLAGS) -e '.[dev]' $(SDKS_OPENAI2)
	touch $@

$(DEMO_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(DEMO_VENV)/bin/pip install $(PIP_FLAGS) -e '.[demo]'
	touch $@

clean:
	rm -rf $(VENV) $(DEMO_VENV) $(OPENAI2_VENV) .mypy_cache .ruff_cache .pytest_cache
