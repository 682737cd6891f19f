"""LiteLLM calls and a Router fallback, for `opentelemetry-instrument` (no otel-llm code)."""

import litellm
from litellm.router import Router

from otel_llm.demo.provider import Behaviour, SimulatedProvider

FAST = {"seed": 7, "latency_median_s": 0.002, "latency_sigma": 0.0, "ttft_s": 0.0}
MESSAGES = [{"role": "user", "content": "Where is my order 1042?"}]

if __name__ == "__main__":
    with (
        SimulatedProvider(Behaviour(**FAST)) as good,  # type: ignore[arg-type]
        SimulatedProvider(Behaviour(error_rate=1.0, **FAST)) as bad,  # type: ignore[arg-type]
    ):
        litellm.completion(
            model="openai/gpt-4o-mini",
            messages=MESSAGES,
            api_base=good.base_url_openai,
            api_key="sk-test",
        )
        router = Router(
            model_list=[
                {
                    "model_name": "primary",
                    "litellm_params": {
                        "model": "openai/gpt-4o-mini",
                        "api_base": bad.base_url_openai,
                        "api_key": "sk-test",
                        "max_retries": 0,
                    },
                },
                {
                    "model_name": "backup",
                    "litellm_params": {
                        "model": "anthropic/claude-sonnet-4-6",
                        "api_base": good.base_url_anthropic,
                        "api_key": "sk-ant-test",
                    },
                },
            ],
            fallbacks=[{"primary": ["backup"]}],
        )
        router.completion(model="primary", messages=MESSAGES)
    print("app done")
