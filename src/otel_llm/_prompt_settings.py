"""A prompt file's request settings: known names only, values of the type the providers take."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, cast

import yaml

from otel_llm import _yaml

_Kind = Literal[
    "number",
    "whole",
    "bool",
    "text",
    "texts",
    "text_or_texts",
    "mapping",
    "list",
    "text_or_mapping",
]
_EXPECTED: Mapping[_Kind, str] = {
    "bool": "true or false",
    "text": "a string",
    "texts": "a list of strings",
    "text_or_texts": "a string or a list of strings",
    "mapping": "a mapping",
    "list": "a list",
    "text_or_mapping": "a string or a mapping",
}


@dataclass(frozen=True)
class Setting:
    """What one setting takes: its kind and, for numbers, the range every provider accepts."""

    kind: _Kind
    low: int | None = None
    high: int | None = None


SETTINGS: Mapping[str, Setting] = {
    # Sampling. temperature: OpenAI takes 0 to 2, Anthropic 0 to 1.
    "temperature": Setting("number", 0, 2),
    "top_p": Setting("number", 0, 1),
    "top_k": Setting("whole", 0),
    "frequency_penalty": Setting("number", -2, 2),
    "presence_penalty": Setting("number", -2, 2),
    "seed": Setting("whole"),
    "n": Setting("whole", 1, 128),
    "logprobs": Setting("bool"),
    "top_logprobs": Setting("whole", 0, 20),
    "logit_bias": Setting("mapping"),
    # Length and stopping.
    "max_tokens": Setting("whole", 1),
    "max_completion_tokens": Setting("whole", 1),
    "max_output_tokens": Setting("whole", 1),
    "max_tool_calls": Setting("whole", 1),
    "stop": Setting("text_or_texts"),
    "stop_sequences": Setting("texts"),
    # Reasoning and output shape.
    "reasoning_effort": Setting("text"),
    "reasoning": Setting("mapping"),
    "thinking": Setting("mapping"),
    "output_config": Setting("mapping"),
    "verbosity": Setting("text"),
    "response_format": Setting("mapping"),
    "text": Setting("mapping"),
    "modalities": Setting("texts"),
    "audio": Setting("mapping"),
    "prediction": Setting("mapping"),
    # Tools.
    "tools": Setting("list"),
    "tool_choice": Setting("text_or_mapping"),
    "parallel_tool_calls": Setting("bool"),
    "web_search_options": Setting("mapping"),
    # Service, storage, streaming.
    "service_tier": Setting("text"),
    "store": Setting("bool"),
    "metadata": Setting("mapping"),
    "user": Setting("text"),
    "safety_identifier": Setting("text"),
    "prompt_cache_key": Setting("text"),
    "prompt_cache_retention": Setting("text"),
    "prompt_cache_options": Setting("mapping"),
    "cache_control": Setting("mapping"),
    "context_management": Setting("mapping"),
    "speed": Setting("text"),
    "inference_geo": Setting("text"),
    "truncation": Setting("text"),
    "include": Setting("texts"),
    "stream": Setting("bool"),
    "stream_options": Setting("mapping"),
    # Anything else the API takes, sent as is by both SDKs.
    "extra_body": Setting("mapping"),
}
"""The request parameters of Chat Completions, Responses and Anthropic Messages a prompt file
may set (the union: each call takes its own), with the type each takes."""

_ELSEWHERE = {
    "model": "the model is the prompt file's own top-level field: write model: at the top level",
    "messages": "the messages are the prompt file's own top-level field",
    "input": "the input is the prompt's template or messages",
    "system": "write the instructions as a message with role: system",
    "instructions": "write the instructions as a message with role: system",
}

_Add = Callable[[str, str, "yaml.Node | None"], None]


def read(parsed: _yaml.Document, add: _Add) -> dict[str, object]:
    """The `settings` mapping of a prompt file, each name and value checked.

    Problems go to `add(field, problem, node)`; the settings returned are those that passed,
    numbers read exactly as written (`1e-1` is 0.1, never YAML's text).
    """
    raw = cast(dict[str, object], parsed.data).get("settings")
    node = parsed.node("settings")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        add(
            "settings",
            f"expected a mapping of setting names to values, such as {{temperature: 0.2, "
            f"max_tokens: 256}}, got {raw!r}",
            node,
        )
        return {}
    settings: dict[str, object] = {}
    for name, value in raw.items():
        key_node = parsed.key_node("settings", key=name)
        if not isinstance(name, str):
            add("settings", f"setting name: {_yaml.not_text(key_node, name, None)}", key_node)
            continue
        field = f"settings.{name}"
        setting = SETTINGS.get(name)
        if setting is None:
            add(field, _unknown(name), key_node)
            continue
        value_node = parsed.node("settings", name)
        problem, checked = _check(setting, name, value, value_node)
        if problem is not None:
            add(field, problem, value_node)
        else:
            settings[name] = checked
    return settings


def _unknown(name: str) -> str:
    elsewhere = _ELSEWHERE.get(name.lower())
    if elsewhere is not None:
        return f"not a setting: {elsewhere}"
    close = difflib.get_close_matches(name.lower(), SETTINGS, n=1, cutoff=0.7)
    if close:
        return f"unknown setting; did you mean {close[0]}?"
    return (
        f"unknown setting (the settings are {', '.join(SETTINGS)}); put a parameter not listed "
        "under extra_body"
    )


_TYPES: Mapping[_Kind, type | tuple[type, ...]] = {
    "bool": bool,
    "text": str,
    "text_or_texts": str,
    "mapping": dict,
    "list": list,
    "text_or_mapping": (str, dict),
}


def _check(
    setting: Setting, name: str, value: object, node: yaml.Node | None
) -> tuple[str | None, object]:
    """(problem, None) or (None, the value to send)."""
    kind = setting.kind
    if kind in ("number", "whole"):
        return _number(setting, name, node)
    if kind in ("texts", "text_or_texts") and isinstance(value, list):
        return _texts(value, node), value
    if kind != "texts" and isinstance(value, _TYPES[kind]):
        return None, value
    expected = _EXPECTED[kind]
    if "string" in expected and not isinstance(value, dict | list):
        return _yaml.not_text(node, value, name).replace("a string", expected, 1), None
    if isinstance(node, yaml.ScalarNode) and node.style is not None:
        return f"expected {expected}, got the quoted text {node.value!r}", None
    return f"expected {expected}, got {type(value).__name__} {value!r}", None


def _texts(value: list[object], node: yaml.Node | None) -> str | None:
    items = node.value if isinstance(node, yaml.SequenceNode) else [None] * len(value)
    for index, (item, item_node) in enumerate(zip(value, items, strict=True)):
        if not isinstance(item, str):
            return f"[{index}]: {_yaml.not_text(item_node, item, None)}"
    return None


def _number(setting: Setting, name: str, node: yaml.Node | None) -> tuple[str | None, object]:
    whole = setting.kind == "whole"
    exact = _yaml.number(node, whole=whole)
    if exact is None:
        return _yaml.not_number(node, name, whole=whole), None
    low, high = setting.low, setting.high
    if (low is not None and exact < low) or (high is not None and exact > high):
        wanted = "a whole number" if whole else "a number"
        if high is None:
            bounds = f"{wanted} of at least {low}"
        elif low is None:
            bounds = f"{wanted} of at most {high}"
        else:
            bounds = f"{wanted} from {low} to {high}"
        return f"{node.value if node else exact} is out of range: expected {bounds}", None
    if _yaml.number(node, whole=True) is not None:
        return None, int(exact)
    return None, float(exact)
