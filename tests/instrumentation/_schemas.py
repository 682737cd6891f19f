"""Shared by the content tests: the upstream JSON schemas, and small builders of values."""

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

SCHEMAS = Path(__file__).resolve().parents[2] / "semconv" / "upstream" / "schemas"
INPUT, OUTPUT, SYSTEM, TOOLS = (
    "input-messages",
    "output-messages",
    "system-instructions",
    "tool-definitions",
)
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image bytes").decode()
WEATHER_ARGS = '{"location": "Paris, France", "unit": "celsius"}'


@cache
def validator(kind: str) -> Validator:
    schema = json.loads((SCHEMAS / f"gen-ai-{kind}.json").read_text(encoding="utf-8"))
    # The schemas declare no $schema today; their pydantic generator emits Draft 2020-12.
    validator_class = validator_for(schema, default=Draft202012Validator)
    validator_class.check_schema(schema)
    return validator_class(schema)


def assert_valid(kind: str, value: Any) -> None:
    """Fail with every schema error if `value` does not match upstream schema `kind`."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(kind).iter_errors(value)]
    assert not errors, errors


def size(text: str) -> int:
    """UTF-8 size of `text`."""
    return len(text.encode())


def compact(value: Any) -> str:
    """The compact JSON fit_json produces when nothing needs cutting."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def text_part(content: str) -> dict[str, Any]:
    """An upstream text part."""
    return {"type": "text", "content": content}
