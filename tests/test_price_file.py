"""The user's prices file: rates per million tokens, by model and by provider, or a named error."""

from decimal import Decimal
from pathlib import Path

import pytest

from otel_llm._price_file import Rates, load_overrides
from otel_llm.config import ConfigError

PRICES = """\
version: 2026-11-acme
models:
  gpt-4o-mini: {input: 0.8, output: 2.0, cache_read: 0.5}
providers:
  azure.ai.openai:
    my-deployment: {input: 1, output: 4}
"""


def test_models_and_provider_models_are_read(tmp_path: Path) -> None:
    """Rates per model (lower-cased), per provider, with the file's version."""
    path = tmp_path / "prices.yaml"
    path.write_text(PRICES)
    overrides = load_overrides(path)
    assert overrides.version == "2026-11-acme"
    assert overrides.models["gpt-4o-mini"] == Rates(
        Decimal("0.8"), Decimal("2.0"), Decimal("0.5"), None
    )
    assert overrides.providers["azure.ai.openai"]["my-deployment"].output == Decimal(4)


def test_a_file_without_a_version_is_identified_by_its_content(tmp_path: Path) -> None:
    """No `version`: a hash of the text, so two different files never share one."""
    path = tmp_path / "prices.yaml"
    path.write_text("models:\n  m: {input: 1, output: 1}\n")
    assert load_overrides(path).version.startswith("sha256:")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("providers:\n  opneai:\n    m: {input: 1, output: 1}\n", "opneai"),
        ("models:\n  m: {input: -1, output: 1}\n", "models.m.input"),
        ("currency: EUR\n", "currency"),
        ("[1, 2]\n", "top level"),
    ],
)
def test_an_unusable_file_raises_naming_the_file_and_field(
    tmp_path: Path, text: str, field: str
) -> None:
    """Each problem is a ConfigError with the file's path and the field at fault."""
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=str(path)) as excinfo:
        load_overrides(path)
    assert field in str(excinfo.value)
