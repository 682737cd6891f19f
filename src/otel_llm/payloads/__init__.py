"""Provider payloads in the shapes the real APIs send: the one source for every simulated reply.

The demo's simulated provider, the tests' fakes, the reliability fuzzers and the benchmarks all
answer SDK calls with these bodies, stream chunks and wire framing, so a shape fixed here (a
field the API added, an event it sends in a new order) is fixed for all of them at once.

Layout
------
One module per provider API, named for the provider: ``openai`` (Chat Completions, embeddings,
Azure OpenAI), ``openai_responses`` (the Responses API), ``anthropic`` (Messages), ``bedrock``
(AWS Bedrock's Converse) and ``bedrock_invoke`` (its InvokeModel bodies, one per model family);
``gemini`` slots in beside them. One module per wire framing: ``sse`` for server-sent events,
``bedrock_eventstream`` for AWS event-stream encoding. Import the module, not its functions,
so call sites read as ``openai.chat_completion(...)`` or ``anthropic.message_events(...)``::

    from otel_llm.payloads import anthropic, sse

    body = sse.encode(anthropic.message_events(anthropic.message("Hi.")), named=True)

Conventions every payload module keeps
--------------------------------------
- **Standard library only.** A payload module never imports its provider's SDK, hypothesis or
  the rest of otel_llm (only ``otel_llm.payloads._common``), and importing it does no work: the
  demo ships it, and ``import otel_llm`` must not pull in an SDK.
- **Plain, fresh JSON.** Builders return new ``dict``/``list`` values on every call (callers
  mutate them freely); only framing modules return ``bytes``.
- **Recorded shapes.** Every field the API sends, with its type and its nulls, and streams in
  the API's event order, checked against recorded traffic (tests/payloads/ validates each builder
  with the SDK's own types and reads it through a real client). Field order does not matter.
- **One canonical exchange by default.** Every argument has a default; together they describe
  one support-desk reply ("Your order ships today.") with fixed ids, timestamps and token
  counts, so outputs are deterministic. Callers that need variety (the demo) pass values in.
- **Usage is explicit.** Each module has ``usage(...)`` building the provider's usage object,
  cached and reasoning/thinking tokens included; bodies take ``usage=`` (``None``: the default).
- **A stream agrees with its complete reply.** A stream builder takes the complete body (or its
  text) and the text pieces (default: its words, ``_common.words``), and emits the events that
  add up to exactly that body, as the SDK's own stream helpers assemble it.
- **Errors are the provider's own.** ``error(status, message=None)`` returns the body the API
  sends with that HTTP status (its error type and code); ``ERROR_TYPES`` maps statuses to types.

Adding a provider: add ``payloads/<provider>.py`` keeping the conventions above (a framing the
others do not share, such as AWS event-stream encoding, goes in a framing module of its own) and
``tests/payloads/test_<provider>.py`` reading every builder back with the provider's SDK
(tests/payloads/_sdk.py lists fields an SDK does not declare; tests/payloads/test_package.py
checks the conventions for every module here). The demo's simulated provider serves a provider
API from one ``_Api`` entry in otel_llm/demo/provider.py (Bedrock, whose paths name the
model, from otel_llm/demo/bedrock.py); the tests' fakes
(tests/instrumentation/_fakes.py) and the fuzzers (tests/reliability/_payloads.py) take their
bodies from here too.
"""
