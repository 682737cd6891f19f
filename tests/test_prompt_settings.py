"""Tests for otel_llm._prompt_settings: a prompt file's request settings, named and typed."""

import inspect

import yaml
from anthropic.resources.messages import Messages
from openai.resources.chat.completions import Completions
from openai.resources.responses import Responses

from otel_llm import _prompt_settings, _yaml


def test_every_setting_is_a_parameter_an_sdk_call_takes() -> None:
    """Each setting name is a parameter of chat.completions, responses or messages.create."""
    parameters: set[str] = set()
    for create in (Completions.create, Responses.create, Messages.create):
        parameters.update(inspect.signature(create).parameters)
    # top_k: Anthropic's Messages API; the SDK line installed here dropped it from create().
    assert set(_prompt_settings.SETTINGS) - parameters == {"top_k"}


def test_read_reports_each_problem_and_keeps_the_good_settings() -> None:
    """Every bad setting is reported through `add`; the good ones are returned, numbers exact."""
    document = _yaml.load(
        "settings:\n  temperature: 0.70\n  max_tokens: -1\n  topp: 1\n  stop: END\n"
    )
    found: list[tuple[str, str, int | None]] = []

    def add(field: str, problem: str, node: yaml.Node | None) -> None:
        found.append((field, problem, None if node is None else node.start_mark.line + 1))

    settings = _prompt_settings.read(document, add)
    assert settings == {"temperature": 0.7, "stop": "END"}
    assert found == [
        (
            "settings.max_tokens",
            "-1 is out of range: expected a whole number of at least 1",
            3,
        ),
        ("settings.topp", "unknown setting; did you mean top_p?", 4),
    ]
