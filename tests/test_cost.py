"""Tests for otel_llm.cost: genai-prices cross-checks, breakdowns, overrides and unpriced calls."""

import logging
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import genai_prices
import pytest
from genai_prices.data_snapshot import get_snapshot
from genai_prices.types import ModelInfo, ModelPrice, PriceCalculation, Provider
from hypothesis import given, settings
from hypothesis import strategies as st

import otel_llm._errors as errors
from otel_llm import cost
from otel_llm.config import ConfigError, Settings, get_settings
from otel_llm.cost import CostBreakdown, PriceBook, Unpriced, estimate, get_price_book
from otel_llm.instrumentation.types import Usage
from otel_llm.semconv.attributes import otel_llm as attrs
from otel_llm.semconv.attributes.gen_ai import GenAiProviderNameValues

VERSION = genai_prices.__version__

# (gen_ai.provider.name, genai-prices provider id, model, usage). The genai-prices id is spelled
# out here, independently of cost.GENAI_PRICES_PROVIDERS, so the mapping is checked too.
CASES = [
    ("openai", "openai", "gpt-4o-mini", Usage(input_tokens=1200, output_tokens=300)),
    (
        "openai",
        "openai",
        "gpt-4o-mini-2024-07-18",
        Usage(input_tokens=5000, output_tokens=400, cache_read_tokens=3072),
    ),
    (
        "openai",
        "openai",
        "o3-mini",
        Usage(input_tokens=2000, output_tokens=1500, reasoning_tokens=1200),
    ),
    (
        "openai",
        "openai",
        "gpt-4o",
        Usage(input_tokens=9000, output_tokens=10, cache_read_tokens=8192),
    ),
    ("openai", "openai", "text-embedding-3-small", Usage(input_tokens=1000)),
    (
        "anthropic",
        "anthropic",
        "claude-3-5-sonnet-20241022",
        Usage(
            input_tokens=12000, output_tokens=800, cache_read_tokens=8000, cache_write_tokens=3000
        ),
    ),
    (
        "anthropic",
        "anthropic",
        "claude-sonnet-4-5",  # tiered: over 200k input tokens every part bills at the higher rate
        Usage(
            input_tokens=300_000, output_tokens=900, cache_read_tokens=4000, cache_write_tokens=2000
        ),
    ),
    (
        "aws.bedrock",
        "aws",
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        Usage(
            input_tokens=6000, output_tokens=700, cache_read_tokens=2000, cache_write_tokens=1000
        ),
    ),
    (
        "aws.bedrock",
        "aws",
        "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        Usage(input_tokens=4000, output_tokens=200),
    ),
    (
        "gcp.gemini",
        "google",
        "gemini-2.0-flash",
        Usage(input_tokens=10000, output_tokens=500, cache_read_tokens=4000),
    ),
    ("gcp.vertex_ai", "google", "gemini-2.5-pro", Usage(input_tokens=3000, output_tokens=2500)),
    (
        "azure.ai.openai",
        "azure",
        "gpt-4o-mini-2024-07-18",
        Usage(input_tokens=800, output_tokens=90),
    ),
    ("mistral_ai", "mistral", "mistral-large-latest", Usage(input_tokens=700, output_tokens=70)),
    ("groq", "groq", "llama-3.3-70b-versatile", Usage(input_tokens=700, output_tokens=70)),
    ("deepseek", "deepseek", "deepseek-chat", Usage(input_tokens=700, output_tokens=70)),
    ("x_ai", "x-ai", "grok-3", Usage(input_tokens=700, output_tokens=70)),
]
CASE_IDS = [f"{case[0]}:{case[2]}" for case in CASES]

PRICES_YAML = """\
version: "2026-11-acme"
currency: USD
models:
  gpt-4o-mini: {input: 1.0, output: 2.0, cache_read: 0.5, cache_write: 0.0}
  gpt-4o: {input: 7, output: 7}
  claude-3-5-sonnet: {input: 1, output: 1}
  claude-3-5-sonnet-20241022: {input: 2, output: 2}
  my-finetune: {input: 3.0, output: 12.0}
providers:
  azure.ai.openai:
    gpt-4o-mini: {input: 3, output: 4}
"""
MILLION = 1_000_000


def genai_calc(provider_id: str, model: str, usage: Usage) -> PriceCalculation:
    """genai-prices' own calculation for `usage` (whose input_tokens is the total input)."""
    return genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
        ),
        model,
        provider_id=provider_id,
    )


def breakdown(result: CostBreakdown | Unpriced) -> CostBreakdown:
    """The result, asserted to be priced."""
    assert isinstance(result, CostBreakdown), result
    return result


@pytest.fixture(scope="module")
def book() -> PriceBook:
    """A price book with genai-prices data only."""
    return PriceBook()


@pytest.fixture
def prices_file(tmp_path: Path) -> Path:
    """An override file in the documented format."""
    path = tmp_path / "prices.yaml"
    path.write_text(PRICES_YAML)
    return path


@pytest.fixture
def fresh_defaults() -> Iterator[None]:
    """Rebuild the process-wide settings and price book around a test."""
    get_settings.cache_clear()
    get_price_book.cache_clear()
    yield
    get_settings.cache_clear()
    get_price_book.cache_clear()


@pytest.mark.parametrize(("provider", "provider_id", "model", "usage"), CASES, ids=CASE_IDS)
def test_total_matches_genai_prices(
    book: PriceBook, provider: str, provider_id: str, model: str, usage: Usage
) -> None:
    """The total equals genai-prices' own calculation, recorded with its package version."""
    result = breakdown(book.price(provider, model, usage))
    assert result.total == pytest.approx(float(genai_calc(provider_id, model, usage).total_price))
    assert (result.source, result.version, result.currency) == ("genai-prices", VERSION, "USD")


@pytest.mark.parametrize(("provider", "provider_id", "model", "usage"), CASES, ids=CASE_IDS)
def test_parts_sum_to_total(
    book: PriceBook, provider: str, provider_id: str, model: str, usage: Usage
) -> None:
    """Input, output, cache read and cache write add up to the total."""
    result = breakdown(book.price(provider, model, usage))
    parts = result.input + result.output + result.cache_read + result.cache_write
    assert abs(parts - result.total) <= 1e-12
    assert min(result.input, result.output, result.cache_read, result.cache_write) >= 0


def test_anthropic_cache_parts_use_genai_prices_rates(book: PriceBook) -> None:
    """Cache reads and writes bill at their own rates and come out of the total input."""
    usage = CASES[5][3]
    rates = genai_calc("anthropic", "claude-3-5-sonnet-20241022", usage).model_price
    result = breakdown(book.price("anthropic", "claude-3-5-sonnet-20241022", usage))

    def mtok(tokens: int, rate: object) -> float:
        assert isinstance(rate, Decimal)
        return float(tokens * rate / MILLION)

    assert result.input == pytest.approx(mtok(12000 - 8000 - 3000, rates.input_mtok))
    assert result.output == pytest.approx(mtok(800, rates.output_mtok))
    assert result.cache_read == pytest.approx(mtok(8000, rates.cache_read_mtok))
    assert result.cache_write == pytest.approx(mtok(3000, rates.cache_write_mtok))


def test_tiered_cache_parts_use_the_tier_of_the_total_input(book: PriceBook) -> None:
    """Over the long-context threshold the cache parts bill at the tier rate too."""
    long = breakdown(book.price("anthropic", "claude-sonnet-4-5", CASES[6][3]))
    short = breakdown(
        book.price(
            "anthropic",
            "claude-sonnet-4-5",
            Usage(input_tokens=10000, output_tokens=900, cache_read_tokens=4000),
        )
    )
    assert long.cache_read > short.cache_read > 0


def test_reasoning_tokens_bill_once_at_the_output_rate(book: PriceBook) -> None:
    """Reasoning tokens are part of output_tokens and are not added again."""
    usage = Usage(input_tokens=2000, output_tokens=1500, reasoning_tokens=1200)
    rate = genai_calc("openai", "o3-mini", usage).model_price.output_mtok
    assert isinstance(rate, Decimal)
    result = breakdown(book.price("openai", "o3-mini", usage))
    assert result.output == pytest.approx(float(1500 * rate / MILLION))


def test_inconsistent_cache_counts_never_make_input_negative(book: PriceBook) -> None:
    """Cache tokens above the reported input leave the uncached input at zero, not below."""
    usage = Usage(input_tokens=100, output_tokens=10, cache_read_tokens=500)
    result = breakdown(book.price("openai", "gpt-4o", usage))
    assert result.input == 0
    assert result.cache_read > 0


def test_attributes_carry_cache_parts_only_when_non_zero(book: PriceBook) -> None:
    """Cache attributes appear only for calls that read or wrote the cache."""
    plain = breakdown(book.price("openai", "gpt-4o-mini", CASES[0][3])).attributes()
    usage = Usage(input_tokens=900, output_tokens=9, cache_read_tokens=500, cache_write_tokens=300)
    cached = breakdown(book.price("anthropic", "claude-3-5-haiku-latest", usage)).attributes()
    assert plain == {
        attrs.OTEL_LLM_COST_TOTAL: plain[attrs.OTEL_LLM_COST_TOTAL],
        attrs.OTEL_LLM_COST_INPUT: plain[attrs.OTEL_LLM_COST_INPUT],
        attrs.OTEL_LLM_COST_OUTPUT: plain[attrs.OTEL_LLM_COST_OUTPUT],
        attrs.OTEL_LLM_COST_CURRENCY: "USD",
        attrs.OTEL_LLM_COST_PRICE_SOURCE: "genai-prices",
        attrs.OTEL_LLM_COST_PRICE_VERSION: VERSION,
    }
    assert attrs.OTEL_LLM_COST_CACHE_READ in cached
    assert attrs.OTEL_LLM_COST_CACHE_WRITE in cached


def test_override_exact_match_wins(prices_file: Path) -> None:
    """An override entry replaces genai-prices' price and records its source and version."""
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION, cache_read_tokens=200_000)
    result = breakdown(PriceBook(prices_file).price("openai", "gpt-4o-mini", usage))
    parts = (result.total, result.input, result.output, result.cache_read, result.cache_write)
    assert parts == pytest.approx((2.9, 0.8, 2.0, 0.1, 0.0))
    assert (result.source, result.version, result.currency) == ("override", "2026-11-acme", "USD")
    assert result.attributes()[attrs.OTEL_LLM_COST_PRICE_SOURCE] == "override"
    assert result.attributes()[attrs.OTEL_LLM_COST_PRICE_VERSION] == "2026-11-acme"


@pytest.mark.parametrize(
    ("model", "total"),
    [
        ("gpt-4o-mini-2024-07-18", 3.0),  # dated snapshot of gpt-4o-mini
        ("GPT-4o-Mini", 3.0),  # names are case-insensitive
        ("claude-3-5-sonnet-20241022-v2:0", 4.0),  # longest prefix wins
        ("claude-3-5-sonnet-latest", 2.0),
        ("my-finetune-v2", 15.0),
    ],
)
def test_override_prefix_matches_snapshots(prices_file: Path, model: str, total: float) -> None:
    """A dated or versioned snapshot of an override model takes the longest matching entry."""
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION)
    result = breakdown(PriceBook(prices_file).price("openai", model, usage))
    assert result.source == "override"
    assert result.total == pytest.approx(total)


def test_override_prefix_never_matches_another_model(prices_file: Path) -> None:
    """An override for `gpt-4o` does not catch a sibling model; genai-prices prices it."""
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION)
    result = breakdown(PriceBook(prices_file).price("openai", "gpt-4o-audio-preview", usage))
    assert result.source == "genai-prices"


def test_per_provider_override_wins_over_top_level(prices_file: Path) -> None:
    """A provider's own entry beats the top-level one; other providers keep the top-level one."""
    book = PriceBook(prices_file)
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION)
    assert breakdown(book.price("azure.ai.openai", "gpt-4o-mini", usage)).total == 7.0
    assert breakdown(book.price("openai", "gpt-4o-mini", usage)).total == 3.0


def test_top_level_override_prices_any_provider(prices_file: Path) -> None:
    """A top-level entry applies to providers genai-prices does not know."""
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION)
    result = breakdown(PriceBook(prices_file).price("vllm", "my-finetune", usage))
    assert (result.source, result.total) == ("override", 15.0)


def test_override_without_cache_rates_bills_cache_tokens_as_input(prices_file: Path) -> None:
    """With no cache rates, cache tokens are ordinary input and no cache part is recorded."""
    usage = Usage(input_tokens=MILLION, output_tokens=0, cache_read_tokens=MILLION // 2)
    result = breakdown(PriceBook(prices_file).price("openai", "my-finetune", usage))
    assert (result.input, result.cache_read, result.total) == (3.0, 0.0, 3.0)


def test_override_version_defaults_to_a_content_hash(tmp_path: Path) -> None:
    """A file without `version` is identified by a hash of its content."""
    path = tmp_path / "prices.yaml"
    path.write_text("models:\n  m: {input: 1, output: 1}\n")
    result = breakdown(PriceBook(path).price("openai", "m", Usage(input_tokens=1)))
    assert re.fullmatch(r"sha256:[0-9a-f]{12}", result.version)


def test_from_settings_loads_the_prices_file(prices_file: Path) -> None:
    """PriceBook.from_settings uses OTEL_LLM_PRICES_FILE's parsed value."""
    book = PriceBook.from_settings(Settings(prices_file=str(prices_file)))
    result = breakdown(book.price("openai", "my-finetune", Usage(input_tokens=MILLION)))
    assert result.source == "override"


@pytest.mark.parametrize(
    ("provider", "model", "usage", "reason"),
    [
        ("openai", "gpt-99-ultra", Usage(input_tokens=1), "unknown_model"),
        ("azure.ai.openai", "my-prod-deployment", Usage(input_tokens=1), "unknown_model"),
        ("openai", None, Usage(input_tokens=1), "unknown_model"),
        ("ollama", "llama3", Usage(input_tokens=1), "unknown_provider"),
        ("openai", "gpt-4o-mini", None, "missing_usage"),
        ("openai", "gpt-4o-mini", Usage(cache_read_tokens=5), "missing_usage"),
    ],
)
def test_unpriced_reasons(
    book: PriceBook, provider: str, model: str | None, usage: Usage | None, reason: str
) -> None:
    """Calls that cannot be priced say why instead of recording a cost."""
    result = book.price(provider, model, usage)
    assert result == Unpriced(reason)
    assert result.attributes() == {
        attrs.OTEL_LLM_COST_UNPRICED: True,
        attrs.OTEL_LLM_COST_UNPRICED_REASON: reason,
    }


def test_unpriced_rejects_undefined_reasons() -> None:
    """Only the reasons the semantic conventions define are accepted."""
    with pytest.raises(ValueError, match="not one of"):
        Unpriced("too_expensive")


def _broken_calculation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make genai-prices' price lookup fail, as a bad price snapshot would."""

    def fail(*args: object, **kwargs: object) -> None:
        raise ValueError("price calculation failed")

    monkeypatch.setattr(ModelInfo, "get_prices", fail)


def test_price_errors_raise_under_pytest(book: PriceBook, monkeypatch: pytest.MonkeyPatch) -> None:
    """An internal failure (here in the price calculation) surfaces in tests."""
    _broken_calculation(monkeypatch)
    with pytest.raises(ValueError, match="price calculation failed"):
        book.price("openai", "gpt-4o-mini", Usage(input_tokens=10))


def test_price_errors_become_unpriced_in_production(
    book: PriceBook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Outside pytest an internal failure gives Unpriced("price_error") and one log record."""
    _broken_calculation(monkeypatch)
    monkeypatch.setattr(errors, "_under_pytest", lambda: False)
    monkeypatch.setattr(errors, "_reported", set())
    with caplog.at_level(logging.ERROR, logger="otel_llm"):
        result = book.price("openai", "gpt-4o-mini", Usage(input_tokens=10))
    assert result == Unpriced("price_error")
    assert len(caplog.records) == 1


def test_models_resolve_once_per_provider_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated calls reuse the resolved model, and the cache stays bounded."""
    book = PriceBook()
    calls: list[tuple[str, str]] = []
    resolve = book._resolve

    def counting(provider: str, model: str, snapshot: object) -> object:
        calls.append((provider, model))
        return resolve(provider, model, snapshot)  # type: ignore[arg-type]

    monkeypatch.setattr(book, "_resolve", counting)
    monkeypatch.setattr(cost, "_CACHE_SIZE", 2)
    for _ in range(3):
        book.price("openai", "gpt-4o-mini", Usage(input_tokens=10))
        book.price("openai", "gpt-99-ultra", Usage(input_tokens=10))
    assert calls == [("openai", "gpt-4o-mini"), ("openai", "gpt-99-ultra")]
    book.price("anthropic", "claude-3-5-haiku-latest", Usage(input_tokens=10))
    assert len(book._resolved) == 2


@pytest.mark.usefixtures("fresh_defaults")
def test_estimate_prices_with_the_default_book(monkeypatch: pytest.MonkeyPatch) -> None:
    """estimate() accepts a Usage or a mapping and returns None when the call is unpriced."""
    monkeypatch.delenv("OTEL_LLM_PRICES_FILE", raising=False)
    usage = Usage(input_tokens=1000, output_tokens=100)
    expected = PriceBook().price("openai", "gpt-4o-mini", usage)
    assert estimate("openai", "gpt-4o-mini", usage) == expected
    assert estimate("openai", "gpt-4o-mini", {"input_tokens": 1000, "output_tokens": 100}) == (
        expected
    )
    assert estimate("openai", "gpt-99-ultra", usage) is None
    assert estimate("ollama", "llama3", usage) is None
    assert estimate("openai", "gpt-4o-mini", {}) is None
    with pytest.raises(TypeError):
        estimate("openai", "gpt-4o-mini", {"prompt_tokens": 1})


@pytest.mark.usefixtures("fresh_defaults")
def test_estimate_uses_the_configured_prices_file(
    monkeypatch: pytest.MonkeyPatch, prices_file: Path
) -> None:
    """The default book reads OTEL_LLM_PRICES_FILE."""
    monkeypatch.setenv("OTEL_LLM_PRICES_FILE", str(prices_file))
    result = estimate("openai", "my-finetune", {"input_tokens": MILLION})
    assert result is not None
    assert (result.source, result.version, result.total) == ("override", "2026-11-acme", 3.0)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot be read"),
        ("models: {gpt-4o: {input: 1, output: [}", "invalid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("model:\n  m: {input: 1, output: 1}\n", "unknown key model"),
        ("models:\n  m: {inptu: 1, output: 1}\n", "unknown key models.m.inptu"),
        ("models:\n  m: {input: -1, output: 1}\n", "models.m.input: expected a non-negative"),
        ("models:\n  m: {input: cheap, output: 1}\n", "models.m.input: expected a number"),
        ("models:\n  m: {input: .nan, output: 1}\n", "models.m.input: expected a finite number"),
        ("models:\n  m: {input: 1}\n", "models.m: missing `output`"),
        ("models:\n  m: 1.5\n", "models.m: expected a mapping"),
        ("models: [m]\n", "models: expected a mapping"),
        ("models:\n  m: {input: 1, output: 1}\n  M: {input: 1, output: 1}\n", "listed twice"),
        ("providers:\n  openai:\n    m: {input: 1, output: true}\n", "providers.openai.m.output"),
        ("providers: [openai]\n", "providers: expected a mapping"),
        ("currency: EUR\nmodels: {}\n", "currency: only USD"),
        ("version: [1]\nmodels: {}\n", "version: expected"),
    ],
)
def test_bad_prices_files_raise_config_error(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    """A missing or malformed override file stops start-up, naming the file and the field."""
    path = tmp_path / "prices.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(str(path))) as caught:
        PriceBook(path)
    assert problem in str(caught.value)


def test_flat_prices_take_the_fast_path_with_genai_prices_own_result(
    book: PriceBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Untiered prices are probed once; later calls skip the calculator, same Decimal result."""
    usage = Usage(input_tokens=12_345, output_tokens=678, cache_read_tokens=4_096)
    first = book.price("openai", "gpt-4o-mini", usage)
    calls: list[object] = []
    original = ModelPrice.calc_price

    def counting(self: ModelPrice, prices_usage: object) -> object:
        calls.append(prices_usage)
        return original(self, prices_usage)

    monkeypatch.setattr(ModelPrice, "calc_price", counting)
    again = book.price("openai", "gpt-4o-mini", usage)
    assert again == first
    assert calls == []  # Priced from the cached rates.
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=12_345, output_tokens=678, cache_read_tokens=4_096),
        model_ref="gpt-4o-mini",
        provider_id="openai",
    )
    assert isinstance(again, CostBreakdown)
    assert again.total == float(expected.total_price)
    assert again.output == float(expected.output_price)


def _flat_models() -> list[tuple[Provider, ModelInfo]]:
    """Every genai-prices model whose current price is flat (the fast path prices it)."""
    now = datetime.now(tz=timezone.utc)
    return [
        (provider, info)
        for provider in get_snapshot().providers
        for info in provider.models
        if cost._linear(provider, info.get_prices(now)) is not None
    ]


FLAT_MODELS = _flat_models()
TOKENS = st.integers(min_value=0, max_value=2_000_000)


@settings(max_examples=400, deadline=None)
@given(
    model=st.sampled_from(FLAT_MODELS),
    input_tokens=TOKENS,
    output_tokens=TOKENS,
    cache_read=TOKENS,
    cache_write=TOKENS,
)
def test_the_fast_path_prices_every_flat_model_exactly_as_genai_prices(
    model: tuple[Provider, ModelInfo],
    input_tokens: int,
    output_tokens: int,
    cache_read: int,
    cache_write: int,
) -> None:
    """Per-token rates give the very breakdown genai-prices' calculator gives, for any counts."""
    provider, info = model
    counts = cost._counts(
        Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
        )
    )
    assert counts is not None
    linear = cost._linear(provider, info.get_prices(datetime.now(tz=timezone.utc)))
    assert linear is not None
    assert linear.cost(counts) == cost._catalogue_cost(provider, info, counts)


def test_there_are_flat_models_to_check() -> None:
    """The property above runs over hundreds of real models, not a handful."""
    assert len(FLAT_MODELS) > 300


@pytest.mark.parametrize(
    ("provider", "suggested"),
    [
        ("opneai", "did you mean openai?"),
        ("azure", "did you mean azure.ai.openai or azure.ai.inference?"),
        ("OpenAI", "did you mean openai?"),
        ("bedrock", "did you mean aws.bedrock?"),
        ("xai", "did you mean x_ai?"),
        ("ollama", "The names are openai, anthropic, azure.ai.openai"),
    ],
)
def test_a_provider_key_that_is_not_a_provider_name_is_refused(
    tmp_path: Path, provider: str, suggested: str
) -> None:
    """Prices under a provider otel-llm never records would never apply: an error with the fix."""
    path = tmp_path / "prices.yaml"
    path.write_text(f"providers:\n  {provider}:\n    gpt-4o: {{input: 1, output: 1}}\n")
    with pytest.raises(ConfigError) as caught:
        PriceBook(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"providers.{provider}: not a gen_ai.provider.name value" in message
    assert suggested in message
    assert "top-level `models:`" in message


def test_every_provider_name_is_accepted(tmp_path: Path) -> None:
    """Each gen_ai.provider.name value otel-llm records can carry its own prices."""
    path = tmp_path / "prices.yaml"
    names = [provider.value for provider in GenAiProviderNameValues]
    path.write_text(
        "providers:\n" + "".join(f"  {name}:\n    m: {{input: 1, output: 1}}\n" for name in names)
    )
    book = PriceBook(path)
    for name in names:
        assert breakdown(book.price(name, "m", Usage(input_tokens=MILLION))).total == 1.0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("models:\n  m: {input: 1, output: 1}\n  m: {input: 2, output: 2}\n", "models.m: the key"),
        ("models:\n  m: {input: 1, output: 1, input: 9}\n", "models.m.input: the key"),
        ("version: a\nversion: b\n", "version: the key"),
        (
            "providers:\n  openai:\n    m: {input: 1, output: 1}\n"
            "  openai:\n    n: {input: 1, output: 1}\n",
            "providers.openai: the key",
        ),
    ],
)
def test_a_key_given_twice_in_a_prices_file_is_refused(
    tmp_path: Path, content: str, problem: str
) -> None:
    """YAML keeps the last of two equal keys silently; a prices file with one fails at load."""
    path = tmp_path / "prices.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        PriceBook(path)
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)
    assert "given twice" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("version: 1.10\nmodels: {}\n", "version: YAML reads 1.10 as the number 1.1"),
        ("version: 010\nmodels: {}\n", 'quote it: version: "010"'),
        ("models:\n  1.5: {input: 1, output: 1}\n", "models: model name: YAML reads 1.5"),
        ("providers:\n  1: {}\n", "providers: provider name: YAML reads 1 as the number 1"),
    ],
)
def test_values_yaml_misreads_in_a_prices_file_say_to_quote(
    tmp_path: Path, content: str, problem: str
) -> None:
    """A version or name YAML turns into a number is refused with the quoting fix."""
    path = tmp_path / "prices.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        PriceBook(path)
    assert problem in str(caught.value)


def test_a_whole_number_or_date_version_is_kept_as_written(tmp_path: Path) -> None:
    """`version: 7` and `version: 2026-11-20` are recorded as the text written."""
    path = tmp_path / "prices.yaml"
    for written in ("7", "2026-11-20"):
        path.write_text(f"version: {written}\nmodels:\n  m: {{input: 1, output: 1}}\n")
        result = breakdown(PriceBook(path).price("openai", "m", Usage(input_tokens=1)))
        assert result.version == written


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("010", "YAML reads 010 as the octal number 8, not 10; write it in plain decimal digits: "),
        ("1:30", "YAML reads 1:30 as the base-60 number 90; write a number in plain decimal"),
        ("0x1A", "YAML reads 0x1A as the hexadecimal number 26"),
        ("1_000", "YAML reads 1_000 as the number 1000; write it in plain decimal digits"),
        ("'2.5'", "the number is quoted, so it is text: write input: 2.5"),
        (".inf", "expected a finite number"),
    ],
)
def test_a_price_yaml_would_misread_is_refused_with_line_field_and_fix(
    tmp_path: Path, written: str, problem: str
) -> None:
    """`input: 010` is 8 to YAML and 10 to a reader: refused, naming file, line, field and fix."""
    path = tmp_path / "prices.yaml"
    path.write_text(f"providers:\n  openai:\n    gpt-4o-mini: {{input: {written}, output: 2}}\n")
    with pytest.raises(ConfigError) as caught:
        PriceBook(path)
    assert str(caught.value).startswith(
        f"prices file {path}: line 3: providers.openai.gpt-4o-mini.input: {problem}"
    )


def test_prices_are_read_exactly_as_written(tmp_path: Path) -> None:
    """Prices are Decimals of their own digits (no float between), `1e3` and `.5` included."""
    path = tmp_path / "prices.yaml"
    path.write_text(
        "models:\n"
        "  exact: {input: 0.1234567890123456789, output: 1e3, cache_read: .5, cache_write: 0}\n"
    )
    [rates] = PriceBook(path)._overrides.models.values()  # type: ignore[union-attr]
    assert rates.input == Decimal("0.1234567890123456789")
    assert (rates.output, rates.cache_read, rates.cache_write) == (1000, Decimal("0.5"), 0)
    priced = breakdown(
        PriceBook(path).price("openai", "exact", Usage(input_tokens=MILLION, output_tokens=1))
    )
    assert priced.output == 0.001


def test_two_merged_price_mappings_with_a_common_key_are_refused(tmp_path: Path) -> None:
    """`<<: [*p1, *p2]` would keep p1's prices silently: an error naming both lines and the fix."""
    path = tmp_path / "prices.yaml"
    path.write_text(
        "models:\n"
        "  a: &p1 {input: 1.0, output: 2.0}\n"
        "  b: &p2 {input: 5.0, output: 6.0}\n"
        "  c:\n"
        "    <<: [*p1, *p2]\n"
    )
    with pytest.raises(ConfigError) as caught:
        PriceBook(path)
    message = str(caught.value)
    assert (
        "models.c.input: given by two of the mappings merged here (line 2: 1.0; line 3: 5.0)"
        in (message)
    )
    assert "models.c.output: given by two" in message
    assert "write input in models.c itself, or merge only one of them" in message


def test_a_merged_price_overridden_in_place_applies(tmp_path: Path) -> None:
    """`<<: *base` with `output:` written again takes base's input and the new output."""
    path = tmp_path / "prices.yaml"
    path.write_text(
        "models:\n  base: &b {input: 1, output: 2}\n  variant:\n    <<: *b\n    output: 4\n"
    )
    result = breakdown(
        PriceBook(path).price(
            "openai", "variant", Usage(input_tokens=MILLION, output_tokens=MILLION)
        )
    )
    assert (result.input, result.output) == (1.0, 4.0)


def test_every_problem_of_a_prices_file_is_reported_at_once(tmp_path: Path) -> None:
    """One error lists each bad price, unknown key and provider, so one fix round is enough."""
    path = tmp_path / "prices.yaml"
    path.write_text(
        "models:\n"
        "  m: {input: 010, output: 1:30}\n"
        "  n: {input: 1, outptu: 2}\n"
        "providers:\n"
        "  opneai:\n"
        "    x: {input: 1, output: 1}\n"
    )
    with pytest.raises(ConfigError) as caught:
        PriceBook(path)
    message = str(caught.value)
    for problem in (
        "line 2: models.m.input: YAML reads 010",
        "line 2: models.m.output: YAML reads 1:30",
        "line 3: unknown key models.n.outptu (did you mean output? ",
        "line 3: models.n: missing `output`",
        "line 5: providers.opneai: not a gen_ai.provider.name value",
    ):
        assert problem in message


def test_the_readme_prices_example_loads(repo_root: Path, tmp_path: Path) -> None:
    """The prices file shown in the README's configuration section is a valid one."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "prices.yaml"
    path.write_text(example)
    usage = Usage(input_tokens=MILLION, output_tokens=MILLION, cache_read_tokens=MILLION)
    result = breakdown(PriceBook(path).price("openai", "gpt-4o-mini", usage))
    assert (result.cache_read, result.output, result.version) == (0.075, 0.6, "2026-12")
