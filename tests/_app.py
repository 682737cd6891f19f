"""A tiny LLM app for the setup tests: one OpenAI and one Anthropic call over mock transports.

Run as a script (`python tests/_app.py [configure]`), with PYTHONPATH at the repository root.
"""

import sys

from tests.instrumentation import _fakes as fakes

if len(sys.argv) > 1 and sys.argv[1] == "configure":
    import otel_llm

    otel_llm.configure()
    otel_llm.configure()  # idempotent

openai_client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
openai_client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "I am jane.doe@example.com"}]
)
anthropic_client = fakes.anthropic_client(fakes.anthropic_respond(fakes.anthropic_message()))
anthropic_client.messages.create(
    model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
)
print("app done")
