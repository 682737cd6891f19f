"""Reading payloads with the providers' own SDK types: which fields an SDK does not know."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def unknown_fields(value: Any, path: str = "") -> list[str]:
    """Paths of the fields in a validated SDK object that its types do not declare.

    The SDKs keep undeclared fields as pydantic extras; a payload field the SDK does not know
    is either newer than the SDK or made up, so tests list the real ones they expect.
    """
    found: list[str] = []
    if isinstance(value, BaseModel):
        found += [f"{path}.{name}".lstrip(".") for name in value.model_extra or {}]
        for name in type(value).model_fields:
            found += unknown_fields(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for item in value:
            found += unknown_fields(item, f"{path}[]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += unknown_fields(item, f"{path}.{key}")
    return found
