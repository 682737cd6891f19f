"""The prompt template in use, carried in context so every LLM call made under it is attributed."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import ParamSpec, TypeVar, cast

from opentelemetry.util.types import AttributeValue

from otel_llm._budget import Redact, fit_text
from otel_llm._errors import internal_errors
from otel_llm.config import MAX_CONTENT_BYTES
from otel_llm.instrumentation.hooks import CallHook, CallRecord
from otel_llm.semconv.attributes import gen_ai
from otel_llm.semconv.attributes import otel_llm as ol

__all__ = [
    "PromptHook",
    "PromptInfo",
    "PromptScope",
    "current_prompt",
    "prompt",
    "prompt_metric_attributes",
    "prompt_span_attributes",
    "prompt_variable_attributes",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True)
class PromptInfo:
    """A named (and optionally versioned) prompt template and the variables it was rendered with."""

    name: str
    version: str | None = None
    variables: Mapping[str, str] | None = None
    template_hash: str | None = None
    """Hash of the template text (`sha256:<16 hex>`), so an edit without a version bump shows."""


_current: ContextVar[PromptInfo | None] = ContextVar("otel_llm_prompt", default=None)
# The tokens of `with` blocks still open in this context, innermost last. They live in a
# ContextVar rather than on the PromptScope so one scope object (say a module-level
# `SUPPORT = prompt(...)`) can be entered concurrently from many tasks and threads: each
# context then restores its own previous prompt.
_open_tokens: ContextVar[tuple[Token[PromptInfo | None], ...]] = ContextVar(
    "otel_llm_prompt_tokens", default=()
)


def current_prompt() -> PromptInfo | None:
    """The prompt of the innermost enclosing `prompt(...)` block or decorated call, if any."""
    # Read on every LLM call, so this stays a single ContextVar lookup.
    return _current.get()


class PromptScope:
    """Sets the current prompt: use it as `with`/`async with` block or as a function decorator.

    Inside, `current_prompt()` returns this prompt; an inner scope replaces an outer one and the
    outer is restored when the inner ends. The prompt follows `contextvars`, so asyncio tasks
    created inside the block (`asyncio.gather`, `create_task`, `asyncio.to_thread`) see it. Plain
    threads and `concurrent.futures` executors (and `loop.run_in_executor`) do not copy the
    context: submit `contextvars.copy_context().run` with your function to carry the prompt over,
    e.g. `executor.submit(contextvars.copy_context().run, work, arg)`.
    """

    __slots__ = ("info",)

    def __init__(self, info: PromptInfo) -> None:
        self.info = info

    def __repr__(self) -> str:
        return f"PromptScope({self.info!r})"

    def __enter__(self) -> PromptInfo:
        with internal_errors("otel_llm._prompt.PromptScope.__enter__"):
            token = _current.set(self.info)
            _open_tokens.set((*_open_tokens.get(), token))
        return self.info

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Guarded: an exception escaping __exit__ would replace the user's own exception.
        with internal_errors("otel_llm._prompt.PromptScope.__exit__"):
            tokens = _open_tokens.get()
            if tokens:
                _open_tokens.set(tokens[:-1])
                _current.reset(tokens[-1])

    async def __aenter__(self) -> PromptInfo:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, traceback)

    def __call__(self, func: Callable[_P, _R]) -> Callable[_P, _R]:
        """Decorate a sync or async function so each call runs under this prompt."""
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            # The prompt would be set only while the generator object is created, not while
            # it runs, so every LLM call it makes would silently go unattributed.
            raise TypeError(
                f"prompt(...) cannot decorate generator function {func.__qualname__}; "
                "use `with prompt(...):` inside it instead"
            )
        info = self.info

        if inspect.iscoroutinefunction(func):

            async def run_async(*args: _P.args, **kwargs: _P.kwargs) -> object:
                # A token local to this call, so concurrent calls cannot restore each other's.
                token = _current.set(info)
                try:
                    return await func(*args, **kwargs)
                finally:
                    _current.reset(token)

            return cast(Callable[_P, _R], functools.wraps(func)(run_async))

        @functools.wraps(func)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            token = _current.set(info)
            try:
                return func(*args, **kwargs)
            finally:
                _current.reset(token)

        return run


def prompt(
    name: str,
    version: str | None = None,
    variables: Mapping[str, object] | None = None,
    *,
    template_hash: str | None = None,
) -> PromptScope:
    """Name the prompt template that LLM calls in a block or function are rendered from.

    `variables` are the values substituted into the template; they are stringified here and
    recorded (as `gen_ai.prompt.variable.<name>`) only when message content capture is on.

        with otel_llm.prompt("support_answer", version="v42", variables={"tier": "gold"}):
            client.chat.completions.create(...)

        @otel_llm.prompt("summarise", version="3")
        async def summarise(text: str) -> str: ...

    `template_hash` identifies the template text (see `otel_llm.prompts`); it goes on spans as
    `otel_llm.prompt.template_hash`, never on metrics.
    """
    frozen = (
        None
        if variables is None
        else MappingProxyType({str(key): str(value) for key, value in variables.items()})
    )
    return PromptScope(
        PromptInfo(name=name, version=version, variables=frozen, template_hash=template_hash)
    )


def prompt_span_attributes(
    info: PromptInfo,
    capture_content: bool,
    max_bytes: int = MAX_CONTENT_BYTES.default,
    redact: Redact | None = None,
) -> dict[str, AttributeValue]:
    """Span attributes for `info`; the template variables only when content capture is on.

    Each variable's value is cut to `max_bytes` (redacted by `redact` first when it is cut).
    """
    attributes: dict[str, AttributeValue] = {gen_ai.GEN_AI_PROMPT_NAME: info.name}
    if info.version is not None:
        attributes[gen_ai.GEN_AI_PROMPT_VERSION] = info.version
    if info.template_hash is not None:
        attributes[ol.OTEL_LLM_PROMPT_TEMPLATE_HASH] = info.template_hash
    if capture_content:
        attributes.update(prompt_variable_attributes(info, max_bytes, redact))
    return attributes


def prompt_variable_attributes(
    info: PromptInfo, max_bytes: int = MAX_CONTENT_BYTES.default, redact: Redact | None = None
) -> dict[str, AttributeValue]:
    """The template variables of `info` as span attributes, each cut to `max_bytes`.

    Variable values are user content (names, questions): recorded only when content is
    captured, like messages.
    """
    prefix = gen_ai.GEN_AI_PROMPT_VARIABLE
    variables = info.variables or {}
    return {
        f"{prefix}.{key}": fit_text(value, max_bytes, redact) for key, value in variables.items()
    }


def prompt_metric_attributes(info: PromptInfo) -> dict[str, AttributeValue]:
    """Metric attributes for `info`: name and version only, never the variables or template hash."""
    attributes: dict[str, AttributeValue] = {gen_ai.GEN_AI_PROMPT_NAME: info.name}
    if info.version is not None:
        attributes[gen_ai.GEN_AI_PROMPT_VERSION] = info.version
    return attributes


class PromptHook(CallHook):
    """Attributes every LLM call made under `prompt(...)` to it, on its span and its metrics."""

    __slots__ = ()

    def start(self, call: CallRecord) -> bool:
        """Add the prompt's span and metric attributes (variables only if content is captured).

        The variables are content: they go on the span once it has started (see CallRecord).
        """
        info = _current.get()
        if info is not None:
            call.attributes.update(prompt_span_attributes(info, capture_content=False))
            if call.capture.on_spans and info.variables:
                telemetry = call.telemetry
                call.content_attributes.update(
                    prompt_variable_attributes(
                        info, telemetry.settings.max_content_bytes, telemetry.redact_part
                    )
                )
            call.metric_attributes.update(prompt_metric_attributes(info))
        return False
