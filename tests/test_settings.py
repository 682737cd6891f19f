"""The variable declarations and their parsing, public through otel_llm.config."""

from otel_llm import _settings, config


def test_config_exports_every_public_name_of_the_declarations() -> None:
    """otel_llm.config re-exports the declarations unchanged, and adds get_settings."""
    for name in _settings.__all__:
        assert getattr(config, name) is getattr(_settings, name), name
    assert set(config.__all__) >= {*_settings.__all__, "get_settings"}
    declared = {v.name for v in config.ENV_VARS}
    assert config.PRICES_FILE.name in declared


def test_parsing_reads_only_the_variables_it_is_given() -> None:
    """parse_settings works on a mapping, not the process environment, and reports errors."""
    settings, errors = _settings.parse_settings({"OTEL_LLM_MAX_CONTENT_BYTES": "12"})
    assert errors
    assert settings.max_content_bytes == _settings.MAX_CONTENT_BYTES.default
