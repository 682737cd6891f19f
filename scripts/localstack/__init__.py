"""The no-Docker local stack: Prometheus, Alertmanager and the demo, `python -m localstack`."""
