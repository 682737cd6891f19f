"""The user's prices file (OTEL_LLM_PRICES_FILE): read and checked, naming file and field."""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

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
    """The override file's prices; ConfigError lists every problem, each with line and field."""

    def fail(problem: str) -> ConfigError:
        return ConfigError(f"prices file {os.fspath(path)}: {problem}")

    try:
        parsed = _yaml.read(path, strict=False)
    except _yaml.YamlError as exc:
        raise fail(str(exc)) from None
    problems = list(parsed.problems)
    doc = parsed.data
    if not isinstance(doc, dict):
        raise fail("expected a mapping with `models` and/or `providers` at the top level")
    _check_keys(doc, _FILE_KEYS, (), parsed, problems)
    currency = doc.get("currency", "USD")
    if not isinstance(currency, str) or currency.upper() != "USD":
        problems.append(
            f"{_yaml.line(parsed.node('currency'))}currency: only USD is supported (the cost "
            f"metrics are in USD), got {currency!r}"
        )
    version = _version(doc, parsed, problems)
    providers = doc.get("providers") or {}
    if not isinstance(providers, dict):
        raise fail("providers: expected a mapping of gen_ai.provider.name to models")
    for name in providers:
        _check_provider(name, parsed, problems)
    overrides = Overrides(
        version=version,
        models=_parse_models(doc.get("models"), ("models",), parsed, problems),
        providers={
            name: _parse_models(models, ("providers", name), parsed, problems)
            for name, models in providers.items()
            if isinstance(name, str)
        },
    )
    if problems:
        raise fail("; ".join(problems))
    return overrides


def _version(doc: Mapping[object, object], parsed: _yaml.Document, problems: list[str]) -> str:
    version = doc.get("version")
    node = parsed.node("version")
    if version is None:
        return "sha256:" + hashlib.sha256(parsed.text.encode()).hexdigest()[:12]
    if not isinstance(version, str):
        # The version is recorded on every priced span: 1.10 must not become "1.1".
        written = _yaml.written_text(node)
        if written is None:
            problems.append(
                f"{_yaml.line(node)}version: {_yaml.not_text(node, version, 'version')}"
            )
            return ""
        version = written
    if not version:
        problems.append(f"{_yaml.line(node)}version: expected a non-empty string")
    return version


def _check_provider(name: object, parsed: _yaml.Document, problems: list[str]) -> None:
    """A `providers` key must be a gen_ai.provider.name value, or its prices would never apply."""
    if not isinstance(name, str):
        node = parsed.key_node("providers", key=name)
        problems.append(
            f"{_yaml.line(node)}providers: provider name: {_yaml.not_text(node, name, None)}"
        )
        return
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
    problems.append(
        f"{_yaml.line(parsed.key_node('providers', key=name))}providers.{name}: not a "
        f"gen_ai.provider.name value otel-llm records, so these prices would never apply; "
        f"{hint}The names are {', '.join(_PROVIDER_NAMES)}. To price a provider not listed, "
        "put its models under the top-level `models:`."
    )


def _parse_models(
    raw: object,
    where: tuple[str, ...],
    parsed: _yaml.Document,
    problems: list[str],
) -> dict[str, Rates]:
    label = ".".join(where)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(
            f"{_yaml.line(parsed.node(*where))}{label}: expected a mapping of model name to prices"
        )
        return {}
    models: dict[str, Rates] = {}
    for name, prices in raw.items():
        if not isinstance(name, str):
            node = parsed.key_node(*where, key=name)
            problems.append(
                f"{_yaml.line(node)}{label}: model name: {_yaml.not_text(node, name, None)}"
            )
            continue
        field = f"{label}.{name}"
        at = (*where, name)
        if not isinstance(prices, dict):
            problems.append(
                f"{_yaml.line(parsed.node(*at))}{field}: expected a mapping of prices (USD per "
                "1M tokens) with input and output"
            )
            continue
        _check_keys(prices, _PRICE_KEYS, at, parsed, problems)
        missing = [key for key in ("input", "output") if key not in prices]
        for key in missing:
            problems.append(
                f"{_yaml.line(parsed.node(*at))}{field}: missing `{key}` (USD per 1M tokens)"
            )
        rates: dict[str, Decimal] = {}
        for key in _PRICE_KEYS:
            rate = _price(parsed, (*at, key), problems) if key in prices else None
            if rate is not None:
                rates[key] = rate
        if name.lower() in models:
            problems.append(
                f"{_yaml.line(parsed.key_node(*where, key=name))}{field}: listed twice (model "
                "names are case-insensitive)"
            )
        if "input" in rates and "output" in rates:
            models[name.lower()] = Rates(
                input=rates["input"],
                output=rates["output"],
                cache_read=rates.get("cache_read"),
                cache_write=rates.get("cache_write"),
            )
    return models


def _price(parsed: _yaml.Document, at: tuple[str, ...], problems: list[str]) -> Decimal | None:
    """The price at `at`, read exactly from the text as written; None (and a problem) if bad.

    YAML 1.1 reads `010` as 8 and `1:30` as 90, and a float cannot hold every decimal price, so
    only a plain decimal number is taken, as a Decimal of its own digits.
    """
    node = parsed.node(*at)
    field = ".".join(at)
    value = _yaml.number(node)
    problem = None
    if value is None:
        problem = _yaml.not_number(node, at[-1])
        if problem.startswith("expected"):
            problem += " (USD per 1M tokens)"
    elif value < 0:
        problem = f"expected a non-negative number (USD per 1M tokens), got {value}"
    elif not math.isfinite(float(value)):
        problem = f"{_yaml.as_written(node, value)} is too large for a price (USD per 1M tokens)"
    if problem is not None:
        problems.append(f"{_yaml.line(node)}{field}: {problem}")
        return None
    return value


def _check_keys(
    mapping: Mapping[object, object],
    allowed: tuple[str, ...],
    at: tuple[str, ...],
    parsed: _yaml.Document,
    problems: list[str],
) -> None:
    where = "".join(f"{step}." for step in at)
    for key in mapping:
        if key in allowed:
            continue
        node = parsed.key_node(*at, key=key)
        written = _yaml.as_written(node, key)
        close = difflib.get_close_matches(str(written), allowed, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        problems.append(
            f"{_yaml.line(node)}unknown key {where}{written} ({hint}expected one of: "
            f"{', '.join(allowed)})"
        )
