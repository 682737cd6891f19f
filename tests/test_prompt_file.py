"""Tests for otel_llm._prompt_file: one prompt file read, each problem with its line and fix."""

import typing
from pathlib import Path

import pytest
from openai.types.chat import ChatCompletionMessageParam

from otel_llm import _prompt_file
from otel_llm.config import ConfigError


def _literal_roles(union: object) -> set[str]:
    """The `role` literals of each TypedDict in a union of message params."""
    roles: set[str] = set()
    for param in typing.get_args(union):
        role = typing.get_type_hints(param)["role"]
        while typing.get_origin(role) is not typing.Literal:
            role = typing.get_args(role)[0]
        roles.update(typing.get_args(role))
    return roles


def test_roles_are_those_a_plain_chat_message_can_have() -> None:
    """Each role a prompt file takes is an OpenAI message role that needs no tool-call id."""
    assert set(_prompt_file.ROLES) == _literal_roles(ChatCompletionMessageParam) - {
        "tool",
        "function",
    }


@pytest.mark.parametrize(
    ("name", "found"),
    [("a.yaml", True), ("a.YAML", True), ("a.Yml", True), ("a.json", False), ("a.yaml~", False)],
)
def test_prompt_files_are_told_by_extension_in_any_case(name: str, found: bool) -> None:
    """`.yaml` and `.yml` in any case are prompt files; other extensions are not."""
    assert _prompt_file.is_prompt_file(Path(name)) is found


def test_read_gives_every_field(tmp_path: Path) -> None:
    """A valid file gives its fields, the placeholder names and the template hash."""
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nversion: 3\nmessages:\n  - {role: developer, content: 'Be {tone}.'}\n"
        "  - {role: user, content: '{question} {tone}'}\nsettings: {max_tokens: 5}\n"
    )
    read = _prompt_file.read(path)
    assert (read.name, read.version, read.file) == ("p", "3", path)
    assert read.variables == ("tone", "question")
    assert dict(read.settings) == {"max_tokens": 5}
    assert read.template_hash.startswith("sha256:")


def test_problems_keep_going_past_the_first_bad_message(tmp_path: Path) -> None:
    """A bad message does not hide the next one's problem, named with its own index."""
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nversion: v1\nmessages:\n  - {role: sytem, content: a}\n"
        "  - {role: user, content: '{x'}\n"
    )
    with pytest.raises(ConfigError) as caught:
        _prompt_file.read(path)
    message = str(caught.value)
    assert "line 4: messages[0].role: 'sytem'" in message
    assert "line 5: messages[1].content: malformed placeholder" in message
