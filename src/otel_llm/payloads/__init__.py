"""Provider payloads in the shapes the real APIs send: the one source for every simulated reply.

The demo's simulated provider, the tests' fakes, the reliability fuzzers and the benchmarks all
answer SDK calls with these bodies, stream chunks and wire framing, so a shape fixed here (a
field the API added, an event it sends in a new order) is fixed for all of them at once.

Layout
------
One module per provider API, named for the provider (``openai``, ``anthropic``; ``gemini`` and
``bedrock`` slot in beside them), and one module per wire framing that several providers share
(``sse`` for server-sent events). Import the module, not its functions, so call sites read as
``openai.chat_completion(...)`` / ``anthropic.message_events(...)``::

    from otel_llm.payloads import anthropic, sse

    body = sse.encode(anthropic.message_events(anthropic.message("Hi.")), named=True)

Conventions every payload module keeps
--------------------------------------
- **Standard library only.** A payload module never imports its provider's SDK, hypothesis or
  the rest of otel_llm (only ``otel_llm.payloads._common``), and importing it does no work: the
  demo ships it, and ``import otel_llm`` must not pull in an SDK.
- **Plain, fresh JSON.** Builders return new ``dict``/``list`` values on every call (callers
  mutate them freely); only framing modules return ``bytes``.
- **Recorded shapes.** Every field the API sends, with its type and its ``null`` s, and streams in
  the API's event order, checked against recorded traffic (tests/payloads/ validates each builder
  with the SDK's own types and reads it through a real client). Field order does not matter.
- **One canonical exchange by default.** Keyword-only arguments whose defaults describe the same
  support-desk reply ("Your order ships today.") with fixed ids, timestamps and token counts, so
  outputs are deterministic; callers that need variety (the demo) pass ids and values in.
- **Usage is explicit.** Each module has ``usage(...)`` building the provider's usage object,
  cached and reasoning/thinking tokens included; bodies take ``usage=`` (``None``: the default).
- **A stream agrees with its complete reply.** Stream builders take the text pieces (default: the
  text split into words, see ``_common.words``) and emit the deltas that add up to that reply.
- **Errors are the provider's own.** ``error(status, message=None)`` returns the body the API
  sends with that HTTP status (its error type and code); ``ERROR_TYPES`` maps statuses to types.

Adding a provider: add ``payloads/<provider>.py`` keeping the conventions above (a framing the
others do not share, such as AWS event-stream encoding, lives in the provider's module or in its
own framing module), and ``tests/payloads/test_<provider>.py`` validating it with the SDK.
"""
