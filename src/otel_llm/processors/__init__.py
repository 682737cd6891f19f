"""Span and log-record processors that transform telemetry before any exporter sees it.

Each wraps the next processor: `RedactionSpanProcessor(CostSpanProcessor(BatchSpanProcessor(e)))`.
`pipeline.build_span_pipeline` composes the default chain; configure() and the zero-code
configurator install it around every configured exporter.
"""
