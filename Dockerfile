# The otel-llm demo app (support chatbot + simulated provider) for docker-compose.yml.
# It sends traces, metrics and logs over OTLP to the agent named in OTEL_EXPORTER_OTLP_ENDPOINT.
#
#   docker build -t otel-llm-demo .    (docker compose builds it for you)
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/app

# Only what the wheel needs: the package, its metadata and the README it declares.
COPY pyproject.toml README.md /tmp/build/
COPY src /tmp/build/src
RUN pip install "/tmp/build[demo]" && rm -rf /tmp/build \
    && mkdir /app && chown 10001:10001 /app

# The demo writes its OTLP JSON files to the working directory: one the app user owns.
WORKDIR /app
USER 10001:10001
# Runs until stopped; the compose file sets the OTLP endpoint and resource attributes.
CMD ["otel-llm", "demo", "--forever", "--no-files", "--quiet"]
