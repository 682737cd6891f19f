"""A tiny LLM app for the setup tests: one OpenAI and one Anthropic call over mock transports.

Run as a script (`python tests/_app.py [configure]`), with PYTHONPATH at the repository root.
Both prompts hold an e-mail address and an OpenAI project key, which must never be exported raw.
"""

import sys

from tests.instrumentation import _fakes as fakes

EMAIL = "jane.doe@example.com"
API_KEY = "sk-proj-T3stK3y4Redaction9x8y7z6w5v4u3t2s1"
PROMPT = f"I am {EMAIL}, my key is {API_KEY}"

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "configure":
        import otel_llm

        otel_llm.configure()
        otel_llm.configure()  # idempotent

    openai_client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}]
    )
    anthropic_client = fakes.anthropic_client(fakes.anthropic_respond(fakes.anthropic_message()))
    anthropic_client.messages.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": PROMPT}]
    )
    print("app done")
