"""Price GenAI calls from their token usage: genai-prices data, overridden by a user price file."""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import NamedTuple, TypeAlias

from genai_prices import Usage as PricesUsage
from genai_prices import __version__ as genai_prices_version
from genai_prices.data_snapshot import DataSnapshot, get_snapshot
from genai_prices.types import ModelInfo, ModelPrice, Provider, TieredPrices
from opentelemetry.util.types import AttributeValue

from otel_llm._errors import guarded
from otel_llm._price_file import Rates as _Rates
from otel_llm._price_file import load_overrides as _load_overrides
from otel_llm._settings import Settings
from otel_llm.config import get_settings
from otel_llm.instrumentation.types import Usage
from otel_llm.semconv.attributes import otel_llm as attrs
from otel_llm.semconv.attributes.gen_ai import GenAiProviderNameValues as Providers

__all__ = [
    "GENAI_PRICES_PROVIDERS",
    "CostBreakdown",
    "PriceBook",
    "Unpriced",
    "estimate",
    "get_price_book",
]

_Reason = attrs.OtelLlmCostUnpricedReasonValues
_Source = attrs.OtelLlmCostPriceSourceValues
_REASONS = frozenset(reason.value for reason in _Reason)

GENAI_PRICES_PROVIDERS: Mapping[str, str] = {
    Providers.OPENAI.value: "openai",
    # Azure: genai-prices' `azure` lists Azure's own models and falls back to OpenAI's (and
    # Anthropic's, DeepSeek's, xAI's) prices, so Azure OpenAI is priced like OpenAI. The model
    # must be a real model name (the response model), not a deployment name.
    Providers.AZURE_AI_OPENAI.value: "azure",
    Providers.AZURE_AI_INFERENCE.value: "azure",
    Providers.ANTHROPIC.value: "anthropic",
    Providers.AWS_BEDROCK.value: "aws",  # matches `anthropic.…`, `us.anthropic.…`, ARNs
    Providers.GCP_VERTEX_AI.value: "google",  # falls back to Anthropic for Claude on Vertex
    Providers.GCP_GEMINI.value: "google",
    Providers.MISTRAL_AI.value: "mistral",
    Providers.GROQ.value: "groq",
    Providers.DEEPSEEK.value: "deepseek",
    Providers.X_AI.value: "x-ai",
}
"""Our `gen_ai.provider.name` values -> genai-prices provider ids (explicit: genai-prices' own
fuzzy matching would price `azure.ai.openai` as OpenAI's API because the name contains openai)."""

_MTOK = Decimal(1_000_000)
_CACHE_SIZE = 1024
# What may follow an override's model name for it to match as a prefix: a dated or versioned
# snapshot (`-2024-07-18`, `-20241022`, `@20241022`, `-001`, `-v2`, `:0`, `-latest`), never
# another model (`gpt-4o` does not match `gpt-4o-mini`).
_SNAPSHOT_SUFFIX = re.compile(r"[-@:](?:\d{3,}|v\d|\d+$|latest$)")


@dataclass(frozen=True)
class CostBreakdown:
    """The price of one call, split so that input + output + cache_read + cache_write == total."""

    total: float
    input: float
    """Uncached input tokens (and cache tokens the price data has no separate rate for)."""
    output: float
    """Output tokens, reasoning tokens included (billed at the output rate)."""
    cache_read: float
    cache_write: float
    source: str
    """`genai-prices` or `override`."""
    version: str
    """The genai-prices package version, or the override file's `version`."""
    currency: str = "USD"

    def attributes(self) -> dict[str, AttributeValue]:
        """The `otel_llm.cost.*` span attributes (cache parts only when non-zero)."""
        attributes: dict[str, AttributeValue] = {
            attrs.OTEL_LLM_COST_TOTAL: self.total,
            attrs.OTEL_LLM_COST_INPUT: self.input,
            attrs.OTEL_LLM_COST_OUTPUT: self.output,
            attrs.OTEL_LLM_COST_CURRENCY: self.currency,
            attrs.OTEL_LLM_COST_PRICE_SOURCE: self.source,
            attrs.OTEL_LLM_COST_PRICE_VERSION: self.version,
        }
        if self.cache_read:
            attributes[attrs.OTEL_LLM_COST_CACHE_READ] = self.cache_read
        if self.cache_write:
            attributes[attrs.OTEL_LLM_COST_CACHE_WRITE] = self.cache_write
        return attributes


@dataclass(frozen=True)
class Unpriced:
    """A call that could not be priced, and why (an `otel_llm.cost.unpriced_reason` value)."""

    reason: str

    def __post_init__(self) -> None:
        """Reject a reason the semantic conventions do not define."""
        if self.reason not in _REASONS:
            raise ValueError(f"unpriced reason {self.reason!r} is not one of {sorted(_REASONS)}")

    def attributes(self) -> dict[str, AttributeValue]:
        """`otel_llm.cost.unpriced` and `otel_llm.cost.unpriced_reason`."""
        return {
            attrs.OTEL_LLM_COST_UNPRICED: True,
            attrs.OTEL_LLM_COST_UNPRICED_REASON: self.reason,
        }


class _Counts(NamedTuple):
    input: int
    """Total input, cache reads and writes included (never less than their sum)."""
    output: int
    cache_read: int
    cache_write: int


_Resolution: TypeAlias = _Rates | tuple[Provider, ModelInfo] | str
"""Override rates, a genai-prices (provider, model), or an unpriced reason."""


class PriceBook:
    """Prices calls; build one at start-up (it loads the price data) and share it."""

    def __init__(self, prices_file: str | os.PathLike[str] | None = None) -> None:
        """Load the override file (ConfigError when unusable) and the genai-prices data."""
        self._overrides = _load_overrides(prices_file) if prices_file else None
        self._override_version = self._overrides.version if self._overrides else ""
        self._snapshot = get_snapshot()  # loads the bundled data (~0.3 s), at start-up
        self._resolved: dict[tuple[str, str], _Resolution] = {}
        self._flat: dict[int, tuple[ModelPrice, _Linear | None]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> PriceBook:
        """The price book for `settings.prices_file` (None: genai-prices data only)."""
        return cls(settings.prices_file)

    @guarded(Unpriced(_Reason.PRICE_ERROR.value))
    def price(
        self, provider: str, model: str | None, usage: Usage | None
    ) -> CostBreakdown | Unpriced:
        """Price one call; never raises (an internal failure gives Unpriced("price_error"))."""
        counts = _counts(usage)
        if counts is None:
            return Unpriced(_Reason.MISSING_USAGE.value)
        found = self._lookup(provider, model or "")
        if isinstance(found, str):
            return Unpriced(found)
        if isinstance(found, _Rates):
            return _override_cost(found, counts, self._override_version)
        provider_info, info = found
        linear = self._linear(provider_info, info.get_prices(datetime.now(tz=timezone.utc)))
        if linear is not None:
            return linear.cost(counts)
        return _catalogue_cost(provider_info, info, counts)

    def _linear(self, provider: Provider, prices: ModelPrice) -> _Linear | None:
        """The flat rates of `prices` (probed once per model price), None if not flat."""
        cached = self._flat.get(id(prices))
        if cached is not None and cached[0] is prices:
            return cached[1]
        linear = _linear(provider, prices)
        with self._lock:
            if len(self._flat) >= _CACHE_SIZE:
                del self._flat[next(iter(self._flat))]
            self._flat[id(prices)] = (prices, linear)
        return linear

    def _lookup(self, provider: str, model: str) -> _Resolution:
        snapshot = get_snapshot()
        if snapshot is not self._snapshot:  # genai_prices.UpdatePrices fetched new data
            with self._lock:
                self._snapshot, self._resolved, self._flat = snapshot, {}, {}
        key = (provider, model)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve(provider, model, snapshot)
            with self._lock:
                if len(self._resolved) >= _CACHE_SIZE:
                    del self._resolved[next(iter(self._resolved))]
                self._resolved[key] = found
        return found

    def _resolve(self, provider: str, model: str, snapshot: DataSnapshot) -> _Resolution:
        if not model:
            return _Reason.UNKNOWN_MODEL.value
        name = model.lower()
        if self._overrides is not None:
            for table in (self._overrides.providers.get(provider), self._overrides.models):
                if table and (rates := _match(table, name)) is not None:
                    return rates
        provider_id = GENAI_PRICES_PROVIDERS.get(provider)
        if provider_id is None:
            return _Reason.UNKNOWN_PROVIDER.value
        try:
            listed = snapshot.find_provider(None, provider_id, None)
        except LookupError:
            return _Reason.UNKNOWN_PROVIDER.value
        info = listed.find_model(name, all_providers=snapshot.providers)
        return _Reason.UNKNOWN_MODEL.value if info is None else (listed, info)


_PROBE = 1_000_000
"""Tokens per probe when reading a flat price's per-token rates out of genai-prices."""


@dataclass(frozen=True)
class _Linear:
    """A flat (untiered) model price as per-token rates, read from genai-prices' own calculator.

    genai-prices prices each call through a generic unit registry (hundreds of µs a call).
    Without tiers a price is linear in the token counts, so probing the calculator once per
    model price with one count at a time gives exactly the rates it applies. The rates are kept
    as whole multiples of 1/`scale` USD: a call is then priced with integer arithmetic, exactly,
    and each part is divided once into the nearest float, as float() of the Decimal would be.
    """

    base: tuple[int, int]
    """(total, output part) of a call with no tokens (a per-request fee, if any)."""
    rates: tuple[tuple[int, int], ...]
    """(total, output part) per token of input, output, cache read, cache write."""
    read_rate: int
    write_rate: int
    """What a cache read (write) token costs on top of being taken out of the input: the
    cache parts, 0 when the model has no such cache price."""
    scale: int
    """The power of ten every amount above is a multiple of the reciprocal of."""

    def cost(self, counts: _Counts) -> CostBreakdown:
        total, output = self.base
        for (total_rate, output_rate), count in zip(self.rates, counts, strict=True):
            if count:
                total += total_rate * count
                output += output_rate * count
        read = self.read_rate * counts.cache_read
        write = self.write_rate * counts.cache_write
        scale = self.scale
        # int / int is correctly rounded, so each part is the float nearest its exact value.
        return CostBreakdown(
            total=total / scale,
            input=(total - output - read - write) / scale,
            output=output / scale,
            cache_read=read / scale,
            cache_write=write / scale,
            source=_Source.GENAI_PRICES.value,
            version=genai_prices_version,
        )


def _linear(provider: Provider, prices: ModelPrice) -> _Linear | None:
    """The per-token rates of `prices`, or None when they are not flat (tiers, special cases)."""
    if provider.id == "groq" or any(isinstance(v, TieredPrices) for v in vars(prices).values()):
        return None

    def calc(i: int = 0, o: int = 0, r: int = 0, w: int = 0) -> tuple[Decimal, Decimal]:
        usage = PricesUsage(
            input_tokens=i, output_tokens=o, cache_read_tokens=r, cache_write_tokens=w
        )
        price = prices.calc_price(usage)
        return price["total_price"], price["output_price"]

    n = _PROBE
    base = calc()
    with_input = calc(i=n)
    probes = (with_input, calc(o=n), calc(i=n, r=n), calc(i=n, w=n))
    rates = [((total - base[0]) / n, (output - base[1]) / n) for total, output in probes]
    # Cache tokens are part of the input: their probes include n input tokens, taken back out.
    for index in (2, 3):
        total_rate, output_rate = rates[index]
        rates[index] = (total_rate - rates[0][0], output_rate - rates[0][1])
    read = rates[2][0] + rates[0][0] if _free_cache(prices, "read") is not None else Decimal(0)
    write = rates[3][0] + rates[0][0] if _free_cache(prices, "write") is not None else Decimal(0)
    scaled = _scaled([*base, *(part for rate in rates for part in rate), read, write])
    if scaled is None:
        return None
    values, scale = scaled
    pairs = tuple(zip(values[0:10:2], values[1:10:2], strict=True))
    return _Linear(pairs[0], pairs[1:], values[10], values[11], scale)


def _scaled(values: list[Decimal]) -> tuple[list[int], int] | None:
    """`values` as integers over one power of ten, exactly; None when one is not finite."""
    exponents: list[int] = []
    for value in values:
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int):
            return None  # NaN or infinity: leave it to genai-prices' own calculator
        exponents.append(exponent)
    shift = max(0, -min(exponents))
    numerators = [int(value.scaleb(shift)) for value in values]
    if any(Decimal(n).scaleb(-shift) != v for n, v in zip(numerators, values, strict=True)):
        return None
    return numerators, 10**shift


def _catalogue_cost(provider: Provider, info: ModelInfo, counts: _Counts) -> CostBreakdown:
    # genai-prices' input_tokens is the TOTAL input; it takes the cache tokens out of it itself.
    # Reasoning tokens are left inside output_tokens, so they bill at the output rate.
    usage = PricesUsage(
        input_tokens=counts.input,
        output_tokens=counts.output,
        cache_read_tokens=counts.cache_read,
        cache_write_tokens=counts.cache_write,
    )
    calc = info.calc_price(usage, provider)
    parts = {"read": Decimal(0), "write": Decimal(0)}
    for part, tokens in (("read", counts.cache_read), ("write", counts.cache_write)):
        # A cache part costs what the call would save were those tokens free: pricing the same
        # usage again keeps genai-prices' tier rules (tiers depend on the total input).
        if tokens and (free := _free_cache(calc.model_price, part)) is not None:
            parts[part] = calc.total_price - free.calc_price(usage)["total_price"]
    # Input takes whatever is not output or cache (a per-request fee included), so the parts
    # add up to genai-prices' total exactly.
    uncached = calc.total_price - calc.output_price - parts["read"] - parts["write"]
    version = genai_prices_version
    if calc.auto_update_timestamp is not None:  # prices fetched by genai_prices.UpdatePrices
        version += f"+data.{calc.auto_update_timestamp:%Y%m%dT%H%M%S}"
    read, write = parts["read"], parts["write"]
    source = _Source.GENAI_PRICES
    return _breakdown(uncached, calc.output_price, read, write, source=source, version=version)


def _free_cache(prices: ModelPrice, part: str) -> ModelPrice | None:
    """`prices` with every cache `part` (read or write) rate at zero; None if it has none."""
    rates = {key: value for key, value in vars(prices).items() if value is not None}
    keys = [key for key in rates if key.startswith("cache_") and f"_{part}" in key]
    if not keys:
        return None
    return ModelPrice(**{**rates, **dict.fromkeys(keys, Decimal(0))})


def _override_cost(rates: _Rates, counts: _Counts, version: str) -> CostBreakdown:
    input_tokens = counts.input
    cache_read = cache_write = Decimal(0)
    if rates.cache_read is not None:
        input_tokens -= counts.cache_read
        cache_read = counts.cache_read * rates.cache_read / _MTOK
    if rates.cache_write is not None:
        input_tokens -= counts.cache_write
        cache_write = counts.cache_write * rates.cache_write / _MTOK
    uncached = input_tokens * rates.input / _MTOK
    output = counts.output * rates.output / _MTOK
    return _breakdown(
        uncached, output, cache_read, cache_write, source=_Source.OVERRIDE, version=version
    )


def _breakdown(
    uncached: Decimal,
    output: Decimal,
    cache_read: Decimal,
    cache_write: Decimal,
    *,
    source: attrs.OtelLlmCostPriceSourceValues,
    version: str,
) -> CostBreakdown:
    return CostBreakdown(
        total=float(uncached + output + cache_read + cache_write),
        input=float(uncached),
        output=float(output),
        cache_read=float(cache_read),
        cache_write=float(cache_write),
        source=source.value,
        version=version,
    )


def _counts(usage: Usage | None) -> _Counts | None:
    """Billable counts, or None when the call reported no input or output count at all."""
    if usage is None or (usage.input_tokens is None and usage.output_tokens is None):
        return None
    # Usage keeps only plausible counts (non-negative ints), so no sign check is needed here.
    input_tokens, output = usage.input_tokens or 0, usage.output_tokens or 0
    cache_read, cache_write = usage.cache_read_tokens or 0, usage.cache_write_tokens or 0
    # Input includes the cache tokens, so uncached input = input - cache_read - cache_write;
    # never let it go negative on inconsistent counts.
    return _Counts(max(input_tokens, cache_read + cache_write), output, cache_read, cache_write)


def _match(table: Mapping[str, _Rates], model: str) -> _Rates | None:
    """The exact entry for `model`, else the longest name that `model` is a snapshot of."""
    if (rates := table.get(model)) is not None:
        return rates
    prefixes = [name for name in table if model.startswith(name)]
    for name in sorted(prefixes, key=len, reverse=True):
        if _SNAPSHOT_SUFFIX.match(model, len(name)):
            return table[name]
    return None


@functools.cache
def get_price_book() -> PriceBook:
    """The process-wide price book, built from get_settings() on first use."""
    return PriceBook.from_settings(get_settings())


def estimate(provider: str, model: str, usage: Usage | Mapping[str, int]) -> CostBreakdown | None:
    """The cost of a call (None when it cannot be priced).

    `provider` is a `gen_ai.provider.name` value; `usage` a Usage or a mapping of its field
    names (input_tokens is the total input, cache tokens included); other keys raise TypeError.
    """
    if isinstance(usage, Mapping):
        usage = Usage(**usage)
    result = get_price_book().price(provider, model, usage)
    return result if isinstance(result, CostBreakdown) else None
