# otel-llm developer commands. `make demo` and `make test` each set up their own virtualenv.
PYTHON ?= python3
VENV := .venv
DEMO_VENV := .venv-demo
OPENAI2_VENV := .venv-openai2
PIP_FLAGS := --quiet --disable-pip-version-check
# Real servers the end-to-end tests start on 127.0.0.1 (Debian/Ubuntu packages).
DEBS := prometheus prometheus-alertmanager
DEB_BINARIES := /usr/bin/promtool /usr/bin/amtool /usr/bin/prometheus /usr/bin/prometheus-alertmanager
APT_GET := apt-get
# Each apt-get step is stopped after this long, so a mirror that stops answering fails CI instead
# of hanging it.
APT_MINUTES := 10
# In CI the Collector, Jaeger and the dashboards' type checker must build; elsewhere a machine
# without Go or npm skips the tests that need them (scripts/stackbuild.sh --optional).
STACK_OPTIONAL := $(if $(filter true,$(CI)),,--optional)
# Provider SDKs the tests run against: the newest of each supported major line (and the OpenAI
# Agents SDK and pydantic-ai, which need openai 3.x, so they stay out of the openai 2.x
# virtualenv).
SDKS := openai==3.63.0 anthropic==2.17.0 google-genai==3.6.1 boto3==1.44.18 botocore==1.44.18 \
	openai-agents==0.24.0 'pydantic-ai-slim[openai]==2.78.0'
SDKS_OPENAI2 := openai==2.54.0 anthropic==2.17.0
# Frameworks whose current releases need what .venv cannot hold (older opentelemetry, mcp, openai
# or google-genai than the SDKS above): each runs its own tests in its own virtualenv,
# .venv-<name>, holding otel-llm, the framework (its own pins resolved by pip) and the test tools.
FRAMEWORKS := adk strands openlit
FRAMEWORK_PKGS_adk := google-adk==2.13.0 google-genai==2.34.0 opentelemetry-api==1.44.0 \
	opentelemetry-sdk==1.44.0 opentelemetry-exporter-otlp==1.44.0 opentelemetry-instrumentation==0.65b0
# ... and otel-llm's google-genai instrumentation on the google-genai 2.x line ADK pins.
FRAMEWORK_TESTS_adk := tests/processors/test_foreign_adk.py tests/instrumentation/google_genai/test_models.py \
	tests/instrumentation/google_genai/test_stream.py tests/instrumentation/google_genai/test_convert.py
FRAMEWORK_PKGS_strands := 'strands-agents[openai]==1.62.0' openai==2.54.0 mcp==2.1.1 \
	opentelemetry-instrumentation-threading==0.66b1 opentelemetry-instrumentation==0.66b1 \
	opentelemetry-semantic-conventions==0.66b1 opentelemetry-api==1.45.1 opentelemetry-sdk==1.45.1 \
	opentelemetry-exporter-otlp==1.45.1
FRAMEWORK_TESTS_strands := tests/processors/test_foreign_strands.py
# OpenLIT asks for openai < 3 and anthropic < 1: the openai 2.x line (as SDKS_OPENAI2), and the
# anthropic, boto3 and OpenTelemetry releases pip resolves beside it, pinned.
FRAMEWORK_PKGS_openlit := openlit==1.45.0 openai==2.54.0 anthropic==0.125.0 boto3==1.44.18 \
	botocore==1.44.18 opentelemetry-api==1.45.1 opentelemetry-sdk==1.45.1 \
	opentelemetry-instrumentation==0.66b1 opentelemetry-semantic-conventions==0.66b1 \
	opentelemetry-exporter-otlp==1.45.1
FRAMEWORK_TESTS_openlit := tests/processors/test_foreign_openlit.py

.PHONY: demo test test-fast test-slow lint typecheck pytest pytest-openai2 generate debs stack clean \
	stack-tools otelcol jaeger grafana-schema otelcol-validate

## demo: set up .venv-demo and run the main job: the instrumented support chatbot for ~20 s
demo: $(DEMO_VENV)/.installed
	$(DEMO_VENV)/bin/otel-llm demo

## test: check Prometheus and Alertmanager are installed (see debs), build our Collector and
## Jaeger with Go and install @grafana/schema with npm (see stack-tools), set up .venv and run
## ruff (lint + format check), mypy --strict, `otelcol-llm validate` on every Collector config
## and pytest; then the OpenAI tests again against the openai 2.x line (which still talks
## through httpx), and each framework of FRAMEWORKS in its own virtualenv
test: debs stack-tools lint typecheck otelcol-validate pytest pytest-openai2 pytest-frameworks

## test-fast: ruff, mypy, otelcol-llm validate and pytest without the end-to-end tests marked
## slow (pytest -m "not slow"); no second run against openai 2.x
test-fast: debs stack-tools lint typecheck otelcol-validate $(VENV)/.installed
	$(VENV)/bin/pytest -m "not slow"

## test-slow: only the end-to-end tests marked slow: demos through the Collectors to Jaeger,
## Prometheus and Alertmanager, scale-out, Collector faults, make stack (pytest -m slow)
test-slow: debs stack-tools $(VENV)/.installed
	$(VENV)/bin/pytest -m slow

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed debs stack-tools
	$(VENV)/bin/pytest

## stack-tools: build/bin/otelcol-llm (our Collector distribution), build/bin/jaeger and the
## dashboards' type checker (build/grafana-typecheck), each built once per version and cached in
## ~/.cache/otel-llm (OTEL_LLM_CACHE). Without Go or npm, outside CI, the tests that need them are
## skipped, saying why; in CI (CI=true) a missing tool is an error. Every Go and npm step has a
## time limit and fails naming the step (STACKBUILD_FETCH_MINUTES, STACKBUILD_BUILD_MINUTES).
stack-tools:
	@scripts/stackbuild.sh $(STACK_OPTIONAL) otelcol
	@scripts/stackbuild.sh $(STACK_OPTIONAL) jaeger
	@scripts/stackbuild.sh $(STACK_OPTIONAL) grafana-schema

## otelcol: build build/bin/otelcol-llm from collector-config/otelcol/builder-config.yaml (Go)
otelcol:
	@scripts/stackbuild.sh otelcol

## jaeger: build build/bin/jaeger from the tool module collector-config/jaeger (Go)
jaeger:
	@scripts/stackbuild.sh jaeger

## grafana-schema: npm-install @grafana/schema and tsc into build/grafana-typecheck
grafana-schema:
	@scripts/stackbuild.sh grafana-schema

## otelcol-validate: `otelcol-llm validate` every Collector config (agent with redaction.yaml)
otelcol-validate: stack-tools
	@if [ -x build/bin/otelcol-llm ]; then \
	  cd collector-config/otelcol && set -e && \
	  ../../build/bin/otelcol-llm validate --config=agent.yaml --config=redaction.yaml && \
	  ../../build/bin/otelcol-llm validate --config=gateway.yaml && \
	  HOSTNAME=$${HOSTNAME:-otel-gateway-0} ../../build/bin/otelcol-llm validate --config=gateway-ha.yaml && \
	  echo "otelcol-llm validate: agent.yaml + redaction.yaml, gateway.yaml, gateway-ha.yaml OK"; \
	else echo "otelcol-validate: skipped, no build/bin/otelcol-llm (no Go: see make otelcol)" >&2; fi

## stack: Prometheus + Alertmanager (Debian packages) + the demo on 127.0.0.1, no Docker, and
## with Go also our Collector tier (agent, gateway) and Jaeger (built once, see stack-tools);
## demo flags via ARGS="--fault errors=0.08"; Ctrl-C stops everything
stack: $(VENV)/.installed debs
	@scripts/stackbuild.sh --optional otelcol
	@scripts/stackbuild.sh --optional jaeger
	PYTHONPATH=scripts $(VENV)/bin/python -m localstack $(ARGS)

## debs: install Prometheus and Alertmanager from the distribution when missing (Debian/Ubuntu,
## as root: `sudo make debs`); without root or apt it stops at once and says what to install
debs:
	@missing=""; for b in $(DEB_BINARIES); do [ -x $$b ] || missing="$$missing $$b"; done; \
	[ -z "$$missing" ] && exit 0; \
	if ! command -v $(APT_GET) >/dev/null 2>&1; then \
	  echo "make debs: missing:$$missing" >&2; \
	  echo "  The tests and make stack run Prometheus (2.42 or later) and Alertmanager (0.25 or" >&2; \
	  echo "  later) from these paths. There is no $(APT_GET) here (not Debian/Ubuntu): install" >&2; \
	  echo "  both from https://prometheus.io/download/ and link their binaries to these paths" >&2; \
	  echo "  (alertmanager as /usr/bin/prometheus-alertmanager)." >&2; \
	  exit 1; \
	fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "make debs: missing:$$missing" >&2; \
	  echo "  The tests and make stack need Prometheus and Alertmanager; installing them takes" >&2; \
	  echo "  root. Run once:  sudo $(APT_GET) install $(DEBS)" >&2; \
	  echo "  (or: sudo make debs), then make test again as yourself." >&2; \
	  exit 1; \
	fi; \
	echo "make debs: installing $(DEBS) with $(APT_GET) (missing:$$missing)" >&2; \
	export DEBIAN_FRONTEND=noninteractive; \
	timeout --kill-after=30s $(APT_MINUTES)m $(APT_GET) update -qq \
	  && timeout --kill-after=30s $(APT_MINUTES)m $(APT_GET) install -y -qq --no-install-recommends $(DEBS) >/dev/null \
	  || { echo "make debs: $(APT_GET) install $(DEBS) failed or took over $(APT_MINUTES) minutes (see above)" >&2; exit 1; }; \
	for b in $(DEB_BINARIES); do \
	  [ -x $$b ] || { echo "make debs: $$b still missing after installing $(DEBS)" >&2; exit 1; }; \
	done

pytest-openai2: $(OPENAI2_VENV)/.installed
	$(OPENAI2_VENV)/bin/pytest -q tests/instrumentation/test_openai.py tests/instrumentation/test_conformance.py tests/instrumentation/test_providers.py tests/instrumentation/openai tests/instrumentation/test_fit.py tests/instrumentation/test_stainless.py tests/instrumentation/test_stainless_raw.py

## pytest-frameworks: each framework of FRAMEWORKS (Google ADK, Strands, OpenLIT) in its own
## virtualenv .venv-<name>, against its own tests
pytest-frameworks: $(foreach f,$(FRAMEWORKS),.venv-$(f)/.installed)
	@set -e; for f in $(FRAMEWORKS); do \
	  echo "pytest-frameworks: $$f (.venv-$$f)"; \
	  case $$f in \
	    adk) tests="$(FRAMEWORK_TESTS_adk)";; \
	    strands) tests="$(FRAMEWORK_TESTS_strands)";; \
	    openlit) tests="$(FRAMEWORK_TESTS_openlit)";; \
	  esac; \
	  .venv-$$f/bin/pytest -q -p no:cacheprovider $$tests; \
	done

.venv-%/.installed: pyproject.toml
	$(PYTHON) -m venv .venv-$*
	.venv-$*/bin/pip install $(PIP_FLAGS) --upgrade pip
	.venv-$*/bin/pip install $(PIP_FLAGS) -e '.[test]' $(FRAMEWORK_PKGS_$*)
	touch $@

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
	rm -rf $(VENV) $(DEMO_VENV) $(OPENAI2_VENV) $(foreach f,$(FRAMEWORKS),.venv-$(f)) .mypy_cache .ruff_cache .pytest_cache build
