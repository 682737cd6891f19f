"""Tests for otel_llm.prompts: prompt files, rendering, release markers and canary routing."""

import datetime
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_llm import prompts
from otel_llm._prompt import current_prompt, prompt_span_attributes
from otel_llm.config import ConfigError, get_settings
from otel_llm.semconv.attributes import gen_ai
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.events import otel_llm as oe
from tests.conftest import Captured

SUPPORT_V9 = """
name: support_answer
version: v9
template: "Hello {customer_name}, about {topic}."
owner: support-team
change_note: First version
"""
SUPPORT_V10 = """
name: support_answer
version: v10
template: "Hi {customer_name}! {topic}?"
model: gpt-4o-mini
settings: {temperature: 0.2, max_tokens: 512}
owner: support-team
change_note: Shorter answers
eval_suite: support_answer_v1
released_at: 2026-11-20
"""
CHAT_V1 = """
name: chat
version: "1"
messages:
  - {role: system, content: "You help {customer_name}."}
  - {role: user, content: "{question}"}
"""


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    """Start each test with no cached directories and no release markers sent yet."""
    prompts.clear_cache()
    prompts._released.clear()
    yield
    prompts.clear_cache()
    prompts._released.clear()


def _write(directory: Path, relative: str, text: str) -> Path:
    path = directory / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A prompts directory with two versions of support_answer and a messages prompt."""
    _write(tmp_path, "support/v9.yaml", SUPPORT_V9)
    _write(tmp_path, "support/nested/v10.yml", SUPPORT_V10)
    _write(tmp_path, "chat.yaml", CHAT_V1)
    return tmp_path


def test_load_latest_version(library: Path) -> None:
    """Without a version, load returns the latest one, with every field from its file."""
    found = prompts.load("support_answer", directory=library)
    assert found.version == "v10"
    assert found.model == "gpt-4o-mini"
    assert found.settings == {"temperature": 0.2, "max_tokens": 512}
    assert found.owner == "support-team"
    assert found.change_note == "Shorter answers"
    assert found.eval_suite == "support_answer_v1"
    assert found.released_at == datetime.date(2026, 11, 20)
    assert found.file == library / "support/nested/v10.yml"
    assert found.variables == ("customer_name", "topic")


def test_load_specific_version(library: Path) -> None:
    """An explicit version returns exactly that version."""
    found = prompts.load("support_answer", "v9", directory=library)
    assert found.version == "v9"
    assert found.template == "Hello {customer_name}, about {topic}."
    assert found.settings == {}
    assert found.released_at is None


def test_directory_from_settings(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a directory argument, OTEL_LLM_PROMPTS_DIR is used."""
    monkeypatch.setenv("OTEL_LLM_PROMPTS_DIR", str(library))
    get_settings.cache_clear()
    try:
        assert prompts.load("chat").version == "1"
    finally:
        monkeypatch.delenv("OTEL_LLM_PROMPTS_DIR")
        get_settings.cache_clear()


def test_default_directory_is_prompts_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With neither argument nor setting, ./prompts in the working directory is used."""
    _write(tmp_path, "prompts/chat.yaml", CHAT_V1)
    monkeypatch.delenv("OTEL_LLM_PROMPTS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        assert prompts.load("chat").file == tmp_path / "prompts/chat.yaml"
    finally:
        get_settings.cache_clear()


def test_natural_version_order() -> None:
    """Versions compare by their numbers, not as text, and a prefix is the older version."""
    scrambled = ["v42", "v100", "1", "v10", "v9", "v2"]
    assert sorted(scrambled, key=prompts.version_key) == ["1", "v2", "v9", "v10", "v42", "v100"]
    dotted = ["1.10", "2.0", "1.0.1", "1.0", "1.2"]
    assert sorted(dotted, key=prompts.version_key) == ["1.0", "1.0.1", "1.2", "1.10", "2.0"]


def test_latest_uses_natural_order(tmp_path: Path) -> None:
    """v42 is newer than v9 and v10 even though it sorts between them as text."""
    for version in ("v9", "v42", "v10"):
        _write(tmp_path, f"{version}.yaml", f"name: p\nversion: {version}\ntemplate: t\n")
    assert prompts.load("p", directory=tmp_path).version == "v42"


def test_unknown_name_lists_available(library: Path) -> None:
    """An unknown prompt name raises LookupError naming the prompts that exist."""
    with pytest.raises(LookupError, match=r"'nope'.*available: chat, support_answer"):
        prompts.load("nope", directory=library)


def test_unknown_version_lists_available(library: Path) -> None:
    """An unknown version raises LookupError naming the versions that exist, oldest first."""
    with pytest.raises(LookupError, match=r"'v11'.*available: v9, v10"):
        prompts.load("support_answer", "v11", directory=library)


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    """A prompts directory that does not exist raises ConfigError naming it."""
    with pytest.raises(ConfigError, match="absent"):
        prompts.load("p", directory=tmp_path / "absent")


def test_files_are_cached_until_clear_cache(library: Path) -> None:
    """Files are read once per directory; clear_cache() makes the next load read them again."""
    assert prompts.load("support_answer", directory=library).version == "v10"
    _write(library, "v11.yaml", SUPPORT_V10.replace("v10", "v11"))
    assert prompts.load("support_answer", directory=library).version == "v10"
    prompts.clear_cache()
    assert prompts.load("support_answer", directory=library).version == "v11"


def test_render_text(library: Path) -> None:
    """A text template renders with its variables; extra variables are ignored."""
    rendered = prompts.load("support_answer", "v9", directory=library).render(
        customer_name="Ada", topic="billing", unused=1
    )
    assert rendered.text == "Hello Ada, about billing."
    assert rendered.messages is None
    assert rendered.variables == {"customer_name": "Ada", "topic": "billing"}


def test_render_messages(library: Path) -> None:
    """A messages prompt renders each content, keeping the roles."""
    rendered = prompts.load("chat", directory=library).render(customer_name="Ada", question=42)
    assert rendered.text is None
    assert rendered.messages == [
        {"role": "system", "content": "You help Ada."},
        {"role": "user", "content": "42"},
    ]
    assert rendered.variables == {"customer_name": "Ada", "question": "42"}


def test_render_missing_variable(library: Path) -> None:
    """A missing variable raises KeyError naming it."""
    loaded = prompts.load("support_answer", directory=library)
    with pytest.raises(KeyError, match="topic"):
        loaded.render(customer_name="Ada")


def test_literal_braces_and_format_specs(tmp_path: Path) -> None:
    """Doubled braces render as braces, and format specs apply to the values given."""
    _write(tmp_path, "p.yaml", 'name: p\nversion: "1"\ntemplate: "{{\\"n\\": {n:>3}}}"\n')
    loaded = prompts.load("p", directory=tmp_path)
    assert loaded.variables == ("n",)
    assert loaded.render(n=7).text == '{"n":   7}'


def test_template_hash_is_stable_and_tracks_the_template(tmp_path: Path) -> None:
    """The hash depends only on the template: same text, same hash; edited text, new hash."""
    _write(tmp_path, "a/p.yaml", "name: p\nversion: v1\ntemplate: Hello {x}\nowner: a\n")
    _write(tmp_path, "a/q.yaml", "name: q\nversion: v7\ntemplate: Hello {x}\n")
    _write(tmp_path, "a/r.yaml", "name: r\nversion: v1\ntemplate: Hello, {x}\n")
    first = prompts.load("p", directory=tmp_path / "a")
    # Pinned: the hash is SHA-256 of canonical JSON, the same in every process and release.
    assert first.template_hash == "sha256:e022204483dc556d"
    assert first.template_hash == prompts.load("q", directory=tmp_path / "a").template_hash
    assert first.template_hash != prompts.load("r", directory=tmp_path / "a").template_hash
    prompts.clear_cache()
    assert prompts.load("p", directory=tmp_path / "a").template_hash == first.template_hash


def test_release_marker_once_per_version(library: Path, captured: Captured) -> None:
    """The first render of each version emits one release event with owner and change note."""
    v10 = prompts.load("support_answer", directory=library)
    v9 = prompts.load("support_answer", "v9", directory=library)
    for _ in range(3):
        v10.render(customer_name="Ada", topic="x")
        v9.render(customer_name="Bob", topic="y")
    prompts.clear_cache()  # a reload is still the same version in the same process
    prompts.load("support_answer", directory=library).render(customer_name="C", topic="z")
    events = captured.events(oe.OTEL_LLM_PROMPT_RELEASE)
    assert len(events) == 2
    first = events[0]
    assert first.severity_number.value == oe.OTEL_LLM_PROMPT_RELEASE_SEVERITY_NUMBER
    assert dict(first.attributes) == {
        gen_ai.GEN_AI_PROMPT_NAME: "support_answer",
        gen_ai.GEN_AI_PROMPT_VERSION: "v10",
        ol.OTEL_LLM_PROMPT_TEMPLATE_HASH: v10.template_hash,
        ol.OTEL_LLM_PROMPT_OWNER: "support-team",
        ol.OTEL_LLM_PROMPT_CHANGE_NOTE: "Shorter answers",
    }
    assert events[1].attributes[gen_ai.GEN_AI_PROMPT_VERSION] == "v9"
    assert set(first.attributes) <= oe.OTEL_LLM_PROMPT_RELEASE_ATTRIBUTES


def test_release_marker_without_owner(library: Path, captured: Captured) -> None:
    """A prompt without owner or change note emits the marker with the required keys only."""
    prompts.load("chat", directory=library).render(customer_name="A", question="q")
    (event,) = captured.events(oe.OTEL_LLM_PROMPT_RELEASE)
    assert set(event.attributes) == {
        gen_ai.GEN_AI_PROMPT_NAME,
        gen_ai.GEN_AI_PROMPT_VERSION,
        ol.OTEL_LLM_PROMPT_TEMPLATE_HASH,
    }


def test_context_stamps_spans(library: Path, captured: Captured) -> None:
    """Spans made inside rendered.context() carry the prompt name, version and template hash."""
    loaded = prompts.load("support_answer", directory=library)
    rendered = loaded.render(customer_name="Ada", topic="billing")
    with rendered.context():
        info = current_prompt()
        assert info is not None
        with captured.telemetry.tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attributes(prompt_span_attributes(info, capture_content=True))
    assert current_prompt() is None
    (finished,) = captured.finished_spans()
    assert finished.attributes[gen_ai.GEN_AI_PROMPT_NAME] == "support_answer"
    assert finished.attributes[gen_ai.GEN_AI_PROMPT_VERSION] == "v10"
    assert finished.attributes[ol.OTEL_LLM_PROMPT_TEMPLATE_HASH] == loaded.template_hash
    assert finished.attributes["gen_ai.prompt.variable.customer_name"] == "Ada"


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    """A directory with a stable and a candidate version of prompt p."""
    _write(tmp_path, "stable.yaml", "name: p\nversion: stable\ntemplate: old\n")
    _write(tmp_path, "candidate.yaml", "name: p\nversion: candidate\ntemplate: new\n")
    return tmp_path


def _route(directory: Path, key: str | None, percent: float = 10) -> str:
    return prompts.canary(
        "p", stable="stable", candidate="candidate", percent=percent, key=key, directory=directory
    ).version


def test_canary_split_within_tolerance(two_versions: Path) -> None:
    """About 10% of 10,000 distinct keys get the candidate."""
    chosen = [_route(two_versions, f"user-{i}") for i in range(10_000)]
    assert 850 <= chosen.count("candidate") <= 1150


def test_canary_is_sticky_per_key(two_versions: Path) -> None:
    """The same key gets the same version on every call, also after clear_cache()."""
    first = {key: _route(two_versions, key) for key in (f"k{i}" for i in range(300))}
    prompts.clear_cache()
    assert {key: _route(two_versions, key) for key in first} == first
    assert set(first.values()) == {"stable", "candidate"}


def test_canary_raising_percent_only_moves_keys_to_candidate(two_versions: Path) -> None:
    """Keys on the candidate at 10% stay on it at 50%, and 0%/100% send all keys one way."""
    keys = [f"k{i}" for i in range(1000)]
    at_10 = {k for k in keys if _route(two_versions, k, 10) == "candidate"}
    at_50 = {k for k in keys if _route(two_versions, k, 50) == "candidate"}
    assert at_10 < at_50
    assert {_route(two_versions, k, 0) for k in keys} == {"stable"}
    assert {_route(two_versions, k, 100) for k in keys} == {"candidate"}


def test_canary_without_key_is_random(two_versions: Path) -> None:
    """With no key each call chooses at random, in proportion to the percentage."""
    chosen = [_route(two_versions, None, 50) for _ in range(2000)]
    assert 800 <= chosen.count("candidate") <= 1200


@pytest.mark.parametrize("percent", [-1, 100.5, float("nan"), True])
def test_canary_rejects_invalid_percent(two_versions: Path, percent: float) -> None:
    """A percentage outside 0..100 (or not a number) raises ValueError."""
    with pytest.raises(ValueError, match="percent"):
        _route(two_versions, "k", percent)


def test_canary_unknown_version(two_versions: Path) -> None:
    """A canary naming a version that does not exist raises LookupError."""
    with pytest.raises(LookupError, match="'nope'"):
        prompts.canary(
            "p", stable="stable", candidate="nope", percent=5, key="k", directory=two_versions
        )


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: p\nversion: v1\ntemplate: t\ntempalte: t\n", "tempalte"),
        ("version: v1\ntemplate: t\n", "name"),
        ("name: p\ntemplate: t\n", "version"),
        ("name: p\nversion: v1\n", "template"),
        ("name: Bad Name\nversion: v1\ntemplate: t\n", "name"),
        ("name: p\nversion: 1.5\ntemplate: t\n", "version"),
        ("name: p\nversion: v1\ntemplate: [a]\n", "template"),
        ("name: p\nversion: v1\ntemplate: t\nowner: 3\n", "owner"),
        ("name: p\nversion: v1\ntemplate: t\nsettings: [1]\n", "settings"),
        ("name: p\nversion: v1\ntemplate: t\nreleased_at: soon\n", "released_at"),
        ("name: p\nversion: v1\ntemplate: t\nmessages: [{role: user, content: c}]\n", "messages"),
        ("name: p\nversion: v1\nmessages: hello\n", "messages"),
        ("name: p\nversion: v1\nmessages: [{role: user}]\n", "messages[0]"),
        ("name: p\nversion: v1\nmessages: [{role: user, content: 5}]\n", "messages[0].content"),
        ("name: p\nversion: v1\ntemplate: 'Hi {name'\n", "template"),
        ("name: p\nversion: v1\ntemplate: 'Hi name}'\n", "template"),
        ("name: p\nversion: v1\ntemplate: 'Hi {}'\n", "template"),
        ("name: p\nversion: v1\ntemplate: 'Hi {user.name}'\n", "template"),
        ("name: p\nversion: v1\ntemplate: 'Hi {a!x}'\n", "template"),
        ("name: p\nversion: v1\ntemplate: '{\"json\": 1}'\n", "template"),
        ("name: p\nversion: v1\nmessages: [{role: user, content: '{'}]\n", "messages[0].content"),
    ],
)
def test_malformed_file_names_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    """Each kind of malformed prompt file fails with a ConfigError naming the file and field."""
    path = _write(tmp_path, "sub/bad.yaml", text)
    _write(tmp_path, "good.yaml", "name: good\nversion: v1\ntemplate: t\n")
    with pytest.raises(ConfigError) as caught:
        prompts.load("good", directory=tmp_path)
    assert str(path) in str(caught.value)
    assert f"{field}:" in str(caught.value)


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    """Invalid YAML fails with a ConfigError naming the file and the line of the problem."""
    path = _write(tmp_path, "bad.yml", "name: p\nversion: v1\ntemplate: [unclosed\nowner: x\n")
    with pytest.raises(ConfigError) as caught:
        prompts.load("p", directory=tmp_path)
    assert str(path) in str(caught.value)
    assert "line 4" in str(caught.value)


def test_non_mapping_file(tmp_path: Path) -> None:
    """A file whose top level is not a mapping (an empty one included) names the file."""
    path = _write(tmp_path, "empty.yaml", "")
    with pytest.raises(ConfigError, match="expected a mapping") as caught:
        prompts.load("p", directory=tmp_path)
    assert str(path) in str(caught.value)


def test_duplicate_version_names_both_files(tmp_path: Path) -> None:
    """Two files with the same name and version fail with a ConfigError naming both files."""
    first = _write(tmp_path, "a.yaml", "name: p\nversion: v1\ntemplate: one\n")
    second = _write(tmp_path, "b/a.yaml", "name: p\nversion: v1\ntemplate: two\n")
    with pytest.raises(ConfigError) as caught:
        prompts.load("p", directory=tmp_path)
    message = str(caught.value)
    assert str(first) in message
    assert str(second) in message
    assert "version" in message


def test_integer_version_is_read_as_text(tmp_path: Path) -> None:
    """An unquoted whole-number version is accepted as its text."""
    _write(tmp_path, "p.yaml", "name: p\nversion: 3\ntemplate: t\n")
    assert prompts.load("p", "3", directory=tmp_path).version == "3"


@pytest.mark.parametrize(
    ("written", "read_as"),
    [
        ("010", "octal number 8"),
        ("1:30", "base-60 number 90"),
        ("0x2A", "hexadecimal number 42"),
        ("1.10", "number 1.1"),
        ("1.0", "number 1.0"),
        ("2026-11-20 10:30:00", "time 2026-11-20T10:30:00"),
        ("+3", "number 3"),
        ("1_000", "number 1000"),
        ("yes", "boolean True"),
    ],
)
def test_version_yaml_misreads_is_refused_with_the_quoted_fix(
    tmp_path: Path, written: str, read_as: str
) -> None:
    """A version YAML turns into a number, time or boolean fails, showing how to quote it."""
    path = _write(tmp_path, "p.yaml", f"name: p\nversion: {written}\ntemplate: t\n")
    with pytest.raises(ConfigError) as caught:
        prompts.load("p", directory=tmp_path)
    message = str(caught.value)
    assert str(path) in message
    assert f"version: YAML reads {written} as the {read_as}" in message
    assert f'quote it: version: "{written}"' in message


def test_quoted_versions_keep_their_text(tmp_path: Path) -> None:
    """Quoted, the same versions load as written; a plain whole number or ISO date as its text."""
    written = ("010", "1:30", "0x2A", "1.10")
    for index, version in enumerate(written):
        _write(tmp_path, f"p{index}.yaml", f"name: p\nversion: '{version}'\ntemplate: t\n")
    _write(tmp_path, "plain.yaml", "name: p\nversion: 7\ntemplate: t\n")
    _write(tmp_path, "date.yaml", "name: p\nversion: 2026-11-20\ntemplate: t\n")
    for version in (*written, "7", "2026-11-20"):
        assert prompts.load("p", version, directory=tmp_path).version == version


@pytest.mark.parametrize(
    ("text", "field", "written"),
    [
        ("name: 010\nversion: v1\ntemplate: t\n", "name", "010"),
        ("name: p\nversion: v1\ntemplate: t\nmodel: 4.1\n", "model", "4.1"),
        ("name: p\nversion: v1\ntemplate: 2026-01-01\n", "template", "2026-01-01"),
        (
            "name: p\nversion: v1\nmessages: [{role: user, content: 1:30}]\n",
            "messages[0].content",
            "1:30",
        ),
        ("name: p\nversion: v1\nmessages: [{role: no, content: c}]\n", "messages[0].role", "no"),
    ],
)
def test_other_text_fields_misread_by_yaml_say_to_quote(
    tmp_path: Path, text: str, field: str, written: str
) -> None:
    """Every text field YAML would turn into a number, date or boolean names the quoting fix."""
    _write(tmp_path, "p.yaml", text)
    with pytest.raises(ConfigError) as caught:
        prompts.load("p", directory=tmp_path)
    assert f"{field}: YAML reads {written} as" in str(caught.value)
    assert f'"{written}"' in str(caught.value)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: p\nversion: v1\nversion: v2\ntemplate: t\n", "version: the key is given twice"),
        (
            "name: p\nversion: v1\nmessages:\n  - {role: user, content: a, content: b}\n",
            "messages[0].content: the key is given twice",
        ),
        ("name: p\nversion: v1\ntemplate: t\nsettings: {top_p: 1, top_p: 0.5}\n", "settings.top_p"),
    ],
)
def test_duplicate_keys_in_a_prompt_file_are_refused(tmp_path: Path, text: str, where: str) -> None:
    """A key given twice (YAML would keep the last silently) fails, naming it and both lines."""
    path = _write(tmp_path, "p.yaml", text)
    with pytest.raises(ConfigError) as caught:
        prompts.load("p", directory=tmp_path)
    assert str(path) in str(caught.value)
    assert where in str(caught.value)
    assert "line" in str(caught.value)


def _problem_of(directory: Path) -> str:
    """The ConfigError message loading `directory` raises."""
    with pytest.raises(ConfigError) as caught:
        prompts.load("p", directory=directory)
    return str(caught.value)


MESSAGES = "name: p\nversion: v1\nmessages:\n  - role: {role}\n    content: c\n"


@pytest.mark.parametrize(
    ("role", "hint"),
    [
        ("sytem", "'sytem': did you mean system?"),
        ("asistant", "'asistant': did you mean assistant?"),
        ("System", "'System': did you mean system? Roles are lower-case"),
        (
            "tool",
            "'tool': a tool result answers one tool call and needs its id, which a prompt file "
            "cannot know; append tool messages in code",
        ),
        ("human", "'human': not a role the providers take"),
    ],
)
def test_a_role_the_providers_do_not_take_is_refused(tmp_path: Path, role: str, hint: str) -> None:
    """A misspelt or unusable role fails at load with its line and the closest valid role."""
    path = _write(tmp_path, "p.yaml", MESSAGES.format(role=role))
    assert _problem_of(tmp_path) == (
        f"prompt file {path}: line 4: messages[0].role: {hint} (the roles are system, "
        "developer, user, assistant)"
    )


def test_every_valid_role_loads(tmp_path: Path) -> None:
    """system, developer, user and assistant messages load as written."""
    roles = ("system", "developer", "user", "assistant")
    body = "".join(f"  - {{role: {role}, content: '{role} {{x}}'}}\n" for role in roles)
    _write(tmp_path, "p.yaml", f"name: p\nversion: v1\nmessages:\n{body}")
    rendered = prompts.load("p", directory=tmp_path).render(x="!")
    assert rendered.messages == [{"role": role, "content": f"{role} !"} for role in roles]


SETTINGS = "name: p\nversion: v1\ntemplate: t\nsettings:\n  {setting}\n"


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("temprature: 0.2", "settings.temprature: unknown setting; did you mean temperature?"),
        ("Max_Tokens: 5", "settings.Max_Tokens: unknown setting; did you mean max_tokens?"),
        ("model: gpt-4o", "settings.model: not a setting: the model is the prompt file's own"),
        ("wibble: 1", "settings.wibble: unknown setting (the settings are temperature, top_p,"),
        ("max_tokens: '256'", "settings.max_tokens: the number is quoted, so it is text: write "),
        ("max_tokens: 0", "settings.max_tokens: 0 is out of range: expected a whole number of at"),
        ("max_tokens: 256.5", "settings.max_tokens: expected a whole number, got 256.5"),
        ("max_tokens: 010", "settings.max_tokens: YAML reads 010 as the octal number 8, not 10"),
        ("temperature: 3", "settings.temperature: 3 is out of range: expected a number from 0 to"),
        ("temperature: yes", "settings.temperature: expected a number, got yes, which YAML reads"),
        ("top_p: 1:30", "settings.top_p: YAML reads 1:30 as the base-60 number 90"),
        ("stream: 'true'", "settings.stream: expected true or false, got the quoted text 'true'"),
        ("stop: [END, 1.5]", "settings.stop: [1]: YAML reads 1.5 as the number 1.5, not as the"),
        ("reasoning_effort: [low]", "settings.reasoning_effort: expected a string, got list"),
        ("response_format: json", "settings.response_format: expected a mapping, got str 'json'"),
        ("1: x", "settings: setting name: YAML reads 1 as the number 1"),
    ],
)
def test_settings_are_known_names_with_values_of_their_type(
    tmp_path: Path, setting: str, problem: str
) -> None:
    """An unknown setting names the closest one; numbers must be numbers in range, and so on."""
    path = _write(tmp_path, "p.yaml", SETTINGS.format(setting=setting))
    message = _problem_of(tmp_path)
    assert message.startswith(f"prompt file {path}: line 5: {problem}")


def test_valid_settings_load_with_the_values_the_sdks_take(tmp_path: Path) -> None:
    """Numbers are read exactly as written (as int or float), the rest as YAML gives them."""
    _write(
        tmp_path,
        "p.yaml",
        SETTINGS.format(
            setting="{temperature: 1e-1, top_p: 1, max_tokens: 256, seed: -3, stop: [END], "
            "response_format: {type: json_object}, extra_body: {top_k: 5}, stream: false}"
        ),
    )
    settings = dict(prompts.load("p", directory=tmp_path).settings)
    assert settings == {
        "temperature": 0.1,
        "top_p": 1,
        "max_tokens": 256,
        "seed": -3,
        "stop": ["END"],
        "response_format": {"type": "json_object"},
        "extra_body": {"top_k": 5},
        "stream": False,
    }
    assert [type(settings[k]) for k in ("temperature", "top_p", "max_tokens")] == [
        float,
        int,
        int,
    ]


def test_every_problem_in_a_prompt_file_is_reported_in_line_order(tmp_path: Path) -> None:
    """A file with several problems lists them all, by line, in one error."""
    path = _write(
        tmp_path,
        "p.yaml",
        """\
        name: support
        version: v3
        model: gpt-4o-mini
        settings:
          temprature: 0.2
          max_tokens: "256"
        messages:
          - role: sytem
            content: You are helpful.
          - role: user
            content: "Hi {customer"
        owner: 5
        """,
    )
    message = _problem_of(tmp_path)
    assert message.startswith(f"prompt file {path}: line 5: settings.temprature: ")
    lines = [int(part.split(":")[0]) for part in message.split("; line ")[1:]]
    assert lines == [6, 8, 11, 12]


@pytest.mark.parametrize("name", ["p.YAML", "p.Yml", "p.yMl"])
def test_prompt_files_are_found_whatever_the_case_of_their_extension(
    tmp_path: Path, name: str
) -> None:
    """`.YAML` and `.Yml` files are prompt files too, not silently skipped."""
    _write(tmp_path, name, "name: p\nversion: v1\ntemplate: t\n")
    assert prompts.load("p", directory=tmp_path).file == tmp_path / name


def test_every_bad_file_of_the_directory_is_named(tmp_path: Path) -> None:
    """load() names each bad file, not only the first one it read."""
    first = _write(tmp_path, "a.yaml", "name: p\nversion: v1\ntemplate: t\nownr: x\n")
    second = _write(tmp_path, "b.yml", "name: q\nversion: 1.10\ntemplate: t\n")
    message = _problem_of(tmp_path)
    assert f"prompt file {first}: line 4: ownr: unknown field (did you mean owner? " in message
    assert f"prompt file {second}: line 2: version: YAML reads 1.10" in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty; expected a mapping with name, version and template"),
        (b"# just a comment\n", "the file is empty; expected a mapping"),
        (
            b"name: p\nversion: v1\ntemplate: caf\xe9\n",
            "is not UTF-8 text (byte 0xe9 at line 3, column 14); save the file as UTF-8",
        ),
        (
            b"name: p\nversion: v1\ntemplate: |\n\tHi\n",
            "invalid YAML at line 4, column 1: a tab character; YAML indents with spaces only",
        ),
        (
            b"name: p\nversion: ' v1'\ntemplate: t\n",
            "line 2: version: ' v1' starts or ends with spaces, so load(name, 'v1') would not",
        ),
        (
            b"a: &a {role: user, content: x}\nb: &b {role: system, content: y}\n"
            b"name: p\nversion: v1\nmessages:\n  - <<: [*a, *b]\n",
            "messages[0].role: given by two of the mappings merged here",
        ),
    ],
)
def test_files_yaml_reads_differently_than_written_are_refused(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    """Empty, non-UTF-8, tab-indented, space-padded and merge-conflicted files are named."""
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    message = _problem_of(tmp_path)
    assert message.startswith(f"prompt file {path}: ")
    assert problem in message


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_field(tmp_path: Path) -> None:
    """A file saved with a BOM loads like the same file without it."""
    (tmp_path / "p.yaml").write_bytes("\ufeffname: p\nversion: v1\ntemplate: t\n".encode())
    assert prompts.load("p", directory=tmp_path).name == "p"


def test_a_dangling_link_named_like_a_prompt_file_is_reported(tmp_path: Path) -> None:
    """A *.yaml link to nothing is a file that cannot be read, not a file silently skipped."""
    link = tmp_path / "p.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    assert _problem_of(tmp_path) == f"prompt file {link}: cannot be read: No such file or directory"
