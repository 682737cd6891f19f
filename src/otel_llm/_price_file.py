"""The user's prices file (OTEL_LLM_PRICES_FILE): read and checked, naming file and field."""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from otel_llm import _yaml
from otel_llm._settings import ConfigError
from otel_llm.semconv.attributes.gen_ai import GenAiProviderNameValues as Providers

__all__ = ["Overrides", "Rates", "load_overrides"]

_FILE_KEYS = ("version", "currency", "models", "providers")
_PROVIDER_NAMES = tuple(provider.value for provider in Providers)
_PRICE_KEYS = ("input", "output", "cache_read", "cache_write")


@dataclass(frozen=True)
class Rates:
    """One model's override prices in USD per million tokens (None: billed as input)."""

    input: Decimal
    output: Decimal
    cache_read: Decimal | None
    cache_write: Decimal | None


@dataclass(frozen=True)
class Overrides:
    """The prices a file sets: for any provider's model, or for one provider's."""

    version: str
    models: Mapping[str, Rates]
    providers: Mapping[str, Mapping[str, Rates]]


def load_overrides(path: str | os.PathLike[str]) -> Overrides:
    """The prices in file `path`; a ConfigError naming the file and field when unusable."""

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"prices file {os.fspath(path)}: {problem}")

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot be read: {exc}") from None
    try:
        parsed = _yaml.load(text)
    except _yaml.YamlError as exc:
        raise fail(str(exc)) from None
    doc = parsed.data
    if not isinstance(doc, dict):
        raise fail("expected a mapping with `models` and/or `providers` at the top level")
    _check_keys(doc, _FILE_KEYS, "", fail)
    currency = doc.get("currency", "USD")
    if not isinstance(currency, str) or currency.upper() != "USD":
        raise fail(
            f"currency: only USD is supported (the cost metrics are in USD), got {currency!r}"
        )
    version = doc.get("version")
    if version is None:
        version = "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12]
    elif not isinstance(version, str):
        # The version is recorded on every priced span: 1.10 must not become "1.1".
        version = _yaml.written_text(parsed.node("version"))
        if version is None:
            raise fail(
                f"version: {_yaml.not_text(parsed.node('version'), doc['version'], 'version')}"
            )
    if not version:
        raise fail("version: expected a non-empty string")
    providers = doc.get("providers") or {}
    if not isinstance(providers, dict):
        raise fail("providers: expected a mapping of gen_ai.provider.name to models")
    for name in providers:
        _check_provider(name, parsed, fail)
    return Overrides(
        version=version,
        models=_parse_models(doc.get("models"), ("models",), parsed, fail),
        providers={
            name: _parse_models(models, ("providers", name), parsed, fail)
            for name, models in providers.items()
        },
    )


def _check_provider(
    name: object, parsed: _yaml.Document, fail: Callable[[str], ConfigError]
) -> None:
    """A `providers` key must be a gen_ai.provider.name value, or its prices would never apply."""
    if not isinstance(name, str):
        node = parsed.key_node("providers", key=name)
        raise fail(f"providers: provider name: {_yaml.not_text(node, name, None)}")
    if name in _PROVIDER_NAMES:
        return
    lowered = name.lower()
    # A case slip, else "azure" -> both Azure names, "bedrock" -> aws.bedrock, then difflib
    # for typos ("opneai").
    closest = [lowered] if lowered in _PROVIDER_NAMES else []
    if not closest:
        parts = [
            v for v in _PROVIDER_NAMES if lowered in re.split(r"[._]", v) or v.startswith(lowered)
        ]
        close = difflib.get_close_matches(lowered, _PROVIDER_NAMES, n=3, cutoff=0.6)
        closest = list(dict.fromkeys([*parts, *close]))[:3] or difflib.get_close_matches(
            lowered, _PROVIDER_NAMES, n=3, cutoff=0.3
        )
    hint = f"did you mean {' or '.join(closest)}? " if closest else ""
    raise fail(
        f"providers.{name}: not a gen_ai.provider.name value otel-llm records, so these prices "
        f"would never apply; {hint}The names are {', '.join(_PROVIDER_NAMES)}. To price a "
        "provider not listed, put its models under the top-level `models:`."
    )


def _parse_models(
    raw: object,
    where: tuple[str, ...],
    parsed: _yaml.Document,
    fail: Callable[[str], ConfigError],
) -> dict[str, Rates]:
    label = ".".join(where)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail(f"{label}: expected a mapping of model name to prices")
    models: dict[str, Rates] = {}
    for name, prices in raw.items():
        if not isinstance(name, str):
            node = parsed.key_node(*where, key=name)
            raise fail(f"{label}: model name: {_yaml.not_text(node, name, None)}")
        field = f"{label}.{name}"
        if not isinstance(prices, dict):
            raise fail(f"{field}: expected a mapping of prices (USD per 1M tokens)")
        _check_keys(prices, _PRICE_KEYS, f"{field}.", fail)
        for required in ("input", "output"):
            if prices.get(required) is None:
                raise fail(f"{field}: missing `{required}` (USD per 1M tokens)")
        rates = {key: _price(prices[key], f"{field}.{key}", fail) for key in prices}
        if name.lower() in models:
            raise fail(f"{field}: listed twice (model names are case-insensitive)")
        models[name.lower()] = Rates(
            input=rates["input"],
            output=rates["output"],
            cache_read=rates.get("cache_read"),
            cache_write=rates.get("cache_write"),
        )
    return models


def _price(value: object, field: str, fail: Callable[[str], ConfigError]) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(f"{field}: expected a number (USD per 1M tokens), got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise fail(f"{field}: expected a non-negative number, got {value!r}")
    return Decimal(str(value))


def _check_keys(
    mapping: Mapping[object, object],
    allowed: tuple[str, ...],
    where: str,
    fail: Callable[[str], ConfigError],
) -> None:
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        raise fail(f"unknown key {where}{unknown[0]} (expected one of: {', '.join(allowed)})")
