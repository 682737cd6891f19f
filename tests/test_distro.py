"""Zero-code setup: `opentelemetry-instrument python app.py` records both providers' calls."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otel_llm.config import EXPORTER_DEFAULTS, apply_exporter_defaults
from tests._app import API_KEY, EMAIL

RETROFIT_WARNING = "otel-llm: the OpenTelemetry SDK was set up without otel-llm's redaction"
SAFE_MODE_ERROR = "otel-llm cannot use its configuration"


def _printed(console_output: str) -> list[dict[str, Any]]:
    """The JSON objects the console exporters printed, in order."""
    decoder = json.JSONDecoder()
    found, index = [], 0
    while (start := console_output.find("{", index)) != -1:
        try:
            value, index = decoder.raw_decode(console_output, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def _spans(console_output: str) -> list[dict[str, Any]]:
    """The spans the console span exporter printed."""
    return [v for v in _printed(console_output) if "name" in v and "context" in v]


def _events(console_output: str) -> list[dict[str, Any]]:
    """The GenAI details events the console log exporter printed."""
    return [v for v in _printed(console_output) if v.get("event_name", "").startswith("gen_ai.")]


def _span_names(console_output: str) -> list[str]:
    """Names of the spans the console exporter printed (one JSON object per span)."""
    return [span["name"] for span in _spans(console_output)]


def _run(
    command: list[str], env: dict[str, str], repo_root: Path
) -> subprocess.CompletedProcess[str]:
    """Run `command` from the repository root with `env`; it must exit 0 (stderr shown if not)."""
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=repo_root, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def test_opentelemetry_instrument_records_openai_and_anthropic(repo_root: Path) -> None:
    """With only standard OTEL_* variables, both SDKs' calls become GenAI spans, once each."""
    instrument = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert instrument is not None
    env = {
        **os.environ,
        "PYTHONPATH": str(repo_root),
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": "zero-code-test",
        # The official OpenAI and Anthropic instrumentations are installed for the processor and
        # duplicate tests; like a user with both installed, switch them off by their entry-point
        # names so calls are recorded once.
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai,anthropic",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY",
    }
    result = _run([instrument, sys.executable, str(repo_root / "tests/_app.py")], env, repo_root)
    assert "app done" in result.stdout
    assert sorted(_span_names(result.stdout)) == ["chat claude-sonnet-4-6", "chat gpt-4o-mini"]
    # The processors sit in front of the exporter: content is redacted and calls are priced.
    assert "gen_ai.input.messages" in result.stdout
    assert "jane.doe@example.com" not in result.stdout
    assert "[REDACTED:email]" in result.stdout
    assert result.stdout.count('"otel_llm.cost.total"') == 2


def test_exporter_defaults_only_fill_gaps() -> None:
    """The distro defaults exporters to OTLP but never overrides what the user set."""
    environ = {"OTEL_TRACES_EXPORTER": "console"}
    apply_exporter_defaults(environ)
    assert environ == {**EXPORTER_DEFAULTS, "OTEL_TRACES_EXPORTER": "console"}


@pytest.mark.parametrize("disabled", [False, True])
def test_configure_sets_up_sdk_and_instruments(repo_root: Path, disabled: bool) -> None:
    """otel_llm.configure() does what opentelemetry-instrument does; OTEL_SDK_DISABLED stops it."""
    env = {
        **os.environ,
        "PYTHONPATH": str(repo_root),
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SDK_DISABLED": "true" if disabled else "false",
    }
    result = _run([sys.executable, str(repo_root / "tests/_app.py"), "configure"], env, repo_root)
    names = _span_names(result.stdout)
    if disabled:
        assert names == []
    else:
        assert sorted(names) == ["chat claude-sonnet-4-6", "chat gpt-4o-mini"]


_SHOW_PIPELINE = """
import os
import otel_llm
from opentelemetry import metrics, trace
otel_llm.configure()
processor = trace.get_tracer_provider()._active_span_processor._span_processors[0]
batch = processor.next  # the derived metrics run inline, in front of the batch processor
pipeline = batch._batch_processor._exporter  # the other steps run on the batch thread, at export
chain = [type(processor).__name__, type(batch).__name__]
chain += [type(step).__name__ for step in pipeline.steps]
print([*chain, type(pipeline.exporter).__name__])
provider = metrics.get_meter_provider()
print([type(r._exporter).__name__ for r in provider._metric_readers])
print([type(view._aggregation).__name__ for view in provider._sdk_config.views])
os._exit(0)  # no shutdown flush to the closed port
"""


def test_configure_defaults_every_exporter_to_otlp_behind_the_processors(repo_root: Path) -> None:
    """With no OTEL_*_EXPORTER set, configure() exports OTLP as opentelemetry-instrument does.

    Spans go through the derived metrics (inline) and, on the batch span processor's thread,
    the content drop (capture is off), the convention upgrade, redaction and cost on their way
    to the OTLP exporter.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(PYTHONPATH=str(repo_root), OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    result = _run([sys.executable, "-c", _SHOW_PIPELINE], env, repo_root)
    spans, readers, views = result.stdout.splitlines()
    assert spans == str(
        [
            "DerivedMetricsSpanProcessor",
            "BatchSpanProcessor",
            "ContentDropSpanProcessor",
            "SemconvUpgradeSpanProcessor",
            "RedactionSpanProcessor",
            "CostSpanProcessor",
            "OTLPSpanExporter",
        ]
    )
    assert readers == str(["OTLPMetricExporter"])
    assert views == str(["GapsAggregation"])  # otel-llm's own aggregation of chunk gaps


def test_configure_without_own_aggregation_leaves_the_meter_provider_plain(
    repo_root: Path,
) -> None:
    """OTEL_LLM_OWN_AGGREGATION=false: the MeterProvider configure() builds has no View."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        PYTHONPATH=str(repo_root),
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9",
        OTEL_LLM_OWN_AGGREGATION="false",
    )
    result = _run([sys.executable, "-c", _SHOW_PIPELINE], env, repo_root)
    assert result.stdout.splitlines()[2] == "[]"


_FOREIGN_CALL_APP = """
import otel_llm
from opentelemetry import trace
otel_llm.configure()
attributes = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 100,
}
with trace.get_tracer("some.framework").start_as_current_span("chat", attributes=attributes):
    pass
print("app done")
"""


def test_a_short_lived_apps_last_foreign_call_is_in_the_spend_it_exports(repo_root: Path) -> None:
    """Spans are exported (and other libraries' calls priced) before the last metrics export.

    The SDK shuts its tracer provider down after the meter provider; without a flush first, a
    framework's call in a short script would never reach otel_llm.client.cost.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        PYTHONPATH=str(repo_root),
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="console",
        OTEL_LOGS_EXPORTER="none",
    )
    result = _run([sys.executable, "-c", _FOREIGN_CALL_APP], env, repo_root)
    assert "app done" in result.stdout
    spent = [
        point["value"]
        for printed in _printed(result.stdout)
        for resource in printed.get("resource_metrics", ())
        for scope in resource["scope_metrics"]
        for metric in scope["metrics"]
        if metric["name"] == "otel_llm.client.cost"
        for point in metric["data"]["data_points"]
    ]
    assert spent
    assert spent[-1] > 0


def _instrument() -> str:
    """The opentelemetry-instrument script of this virtualenv."""
    found = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert found is not None
    return found


def _zero_code_env(repo_root: Path, **variables: str) -> dict[str, str]:
    """The environment for the zero-code app: console exporters, no OTEL_* from the outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        PYTHONPATH=str(repo_root),
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="console",
        OTEL_SERVICE_NAME="zero-code-test",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="openai,anthropic",  # the official ones
    )
    env.update(variables)
    return env


ENTRY_POINTS = {
    # name: (configurator, distro entry-point name, distro)
    "otel_llm": (
        "otel_llm.distro:OtelLlmConfigurator",
        "otel_llm",
        "otel_llm.distro:OtelLlmDistro",
    ),
    "configurator": (
        "opentelemetry.distro:OpenTelemetryConfigurator",
        "distro",
        "opentelemetry.distro:OpenTelemetryDistro",
    ),
}


def _found_first(tmp_path: Path, name: str) -> Path:
    """A directory that, put first on PYTHONPATH, makes `name`'s configurator the first found.

    importlib.metadata lists distributions in sys.path order, so a .dist-info there declaring
    both configurators and distros (`name`'s first) comes before both real packages, whose
    order in site-packages is the file system's. The real entry points then come after, so
    opentelemetry-instrument names the one that ran when it skips them ("X already loaded").
    """
    dist_info = tmp_path / "first" / f"first_{name}-0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: first-{name}\nVersion: 0\n", encoding="utf-8"
    )
    order = sorted(ENTRY_POINTS, key=lambda n: n != name)
    configurators = "".join(f"{n} = {ENTRY_POINTS[n][0]}\n" for n in order)
    distros = "".join(f"{ENTRY_POINTS[n][1]} = {ENTRY_POINTS[n][2]}\n" for n in order)
    (dist_info / "entry_points.txt").write_text(
        f"[opentelemetry_configurator]\n{configurators}\n[opentelemetry_distro]\n{distros}",
        encoding="utf-8",
    )
    return dist_info.parent


@pytest.mark.parametrize(
    ("chosen", "first"),
    [
        ("configurator", "otel_llm"),
        ("otel_llm", "configurator"),
        (None, "configurator"),
        (None, "otel_llm"),
    ],
    ids=["env-distro", "env-otel_llm", "unset-distro-first", "unset-otel_llm-first"],
)
def test_no_raw_content_is_exported_whichever_configurator_runs(
    repo_root: Path, tmp_path: Path, chosen: str | None, first: str
) -> None:
    """Content reaches the exporters only redacted, whoever set the SDK up; otel-llm says once.

    When opentelemetry-distro's configurator runs (chosen, or first found), otel-llm puts its
    pipeline in front of the exporters itself and logs one warning naming the fix.
    """
    env = _zero_code_env(
        repo_root,
        PYTHONPATH=os.pathsep.join([str(_found_first(tmp_path, first)), str(repo_root)]),
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="SPAN_AND_EVENT",
    )
    if chosen is not None:
        env["OTEL_PYTHON_CONFIGURATOR"] = chosen
    result = _run([_instrument(), sys.executable, str(repo_root / "tests/_app.py")], env, repo_root)
    ran = chosen or first
    # opentelemetry-instrument names the configurator that ran when it skips a later one.
    assert f"{ran} already loaded" in result.stderr, result.stderr
    output = result.stdout + result.stderr
    assert EMAIL not in output
    assert "sk-proj-" not in output
    assert API_KEY[8:] not in output
    spans, events = _spans(result.stdout), _events(result.stdout)
    assert sorted(s["name"] for s in spans) == ["chat claude-sonnet-4-6", "chat gpt-4o-mini"]
    assert len(events) == 2
    for record in [*(s["attributes"] for s in spans), *(e["attributes"] for e in events)]:
        content = json.dumps(record["gen_ai.input.messages"])
        assert "[REDACTED:email]" in content
        assert "[REDACTED:secret]" in content
    assert result.stderr.count(RETROFIT_WARNING) == (1 if ran == "configurator" else 0)


def _bad_config(tmp_path: Path, problem: str) -> tuple[dict[str, str], str]:
    """One bad setting of each kind: (the variables, what the error must name)."""
    if problem == "redaction_config":
        path = tmp_path / "redaction.yaml"
        path.write_text("detectors: [unclosed\n", encoding="utf-8")
        return {"OTEL_LLM_REDACTION_CONFIG": str(path)}, str(path)
    if problem == "prices_file":
        path = tmp_path / "missing-prices.yaml"
        return {"OTEL_LLM_PRICES_FILE": str(path)}, str(path)
    return {"OTEL_LLM_MAX_CONTENT_BYTES": "lots"}, "OTEL_LLM_MAX_CONTENT_BYTES"


@pytest.mark.parametrize("setup", ["opentelemetry-instrument", "configure"])
@pytest.mark.parametrize("problem", ["redaction_config", "prices_file", "env_value"])
def test_bad_configuration_runs_the_safe_mode_with_one_error(
    repo_root: Path, tmp_path: Path, setup: str, problem: str
) -> None:
    """A bad file or value: one ERROR naming it, and telemetry without content, never none.

    The safe mode keeps spans, events and cost (from the bundled prices) and captures no
    content, although capture was asked for; zero-code and configure() behave the same.
    """
    variables, named = _bad_config(tmp_path, problem)
    env = _zero_code_env(
        repo_root,
        OTEL_PYTHON_CONFIGURATOR="otel_llm",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="SPAN_AND_EVENT",
        **variables,
    )
    app = [sys.executable, str(repo_root / "tests/_app.py")]
    command = [_instrument(), *app] if setup == "opentelemetry-instrument" else [*app, "configure"]
    result = _run(command, env, repo_root)
    assert "app done" in result.stdout
    assert result.stderr.count(SAFE_MODE_ERROR) == 1
    error = next(line for line in result.stderr.splitlines() if SAFE_MODE_ERROR in line)
    assert named in error
    spans = _spans(result.stdout)
    assert sorted(s["name"] for s in spans) == ["chat claude-sonnet-4-6", "chat gpt-4o-mini"]
    assert all("otel_llm.cost.total" in s["attributes"] for s in spans)
    assert "gen_ai.input.messages" not in result.stdout
    assert EMAIL not in result.stdout


_LEAKY_APP = """
import json
import logging
import sys

import openai

import otel_llm
from tests.instrumentation import _fakes as fakes

EMAIL, MARK = sys.argv[1], sys.argv[2]
PROMPT = [{"role": "user", "content": f"hi {EMAIL} {MARK}"}]


def echo(request):
    body = json.loads(request.content)
    error = {"message": f"bad {body['messages'][0]['content']}", "type": "invalid_request_error"}
    return fakes.http.Response(400, json={"error": error})


fakes.openai_client(fakes.respond_json(fakes.chat_completion())).chat.completions.create(
    model="gpt-4o-mini", messages=PROMPT
)
try:
    fakes.openai_client(echo).chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
except openai.BadRequestError:
    pass
log = logging.getLogger("app")
log.warning("user wrote %s %s", EMAIL, MARK)
try:
    raise ValueError(f"bad {EMAIL} {MARK}")
except ValueError:
    log.exception("failed")
otel_llm.record_feedback(trace_id="0" * 31 + "1", score=-1, label=EMAIL, comment=MARK)
otel_llm.record_evaluation("judge", score=0.0, label=EMAIL, explanation=f"{EMAIL} {MARK}")
print("app done")
"""
MARK = "CONTENTMARKERQQ"


PEER_INSTRUMENTATIONS = (
    "opentelemetry-instrumentation-openai",
    "openinference-instrumentation-openai",
)
"""OpenLLMetry's and OpenInference's OpenAI instrumentations, installed for the processor tests.
Their entry points share the official one's name ("openai"), so disabling it by name would
disable all three."""


def _without_peers(tmp_path: Path) -> Path:
    """A directory that, first on PYTHONPATH, hides the peers' entry points from the process.

    importlib.metadata lists one distribution per name, the first found on sys.path: an empty
    .dist-info of the same name there shadows the installed package's entry points.
    """
    root = tmp_path / "without_peers"
    for name in PEER_INSTRUMENTATIONS:
        dist_info = root / f"{name.replace('-', '_')}-0.dist-info"
        dist_info.mkdir(parents=True, exist_ok=True)
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 0\n", encoding="utf-8"
        )
    return root


def _run_leaky_app(
    repo_root: Path, tmp_path: Path, *, peers: bool = False, **variables: str
) -> Any:
    """The app above under opentelemetry-instrument, with console span and log exporters.

    Of the other OpenAI instrumentations installed, only the official one can load (unless
    `peers`): the tests that enable it are about it, and the peers would add spans and
    warnings of their own.
    """
    app = tmp_path / "leaky_app.py"
    app.write_text(_LEAKY_APP, encoding="utf-8")
    env = _zero_code_env(
        repo_root,
        PYTHONPATH=os.pathsep.join(
            [str(repo_root)] if peers else [str(_without_peers(tmp_path)), str(repo_root)]
        ),
        OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED="true",
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_BLRP_SCHEDULE_DELAY="50",
        **variables,
    )
    command = [_instrument(), sys.executable, str(app), EMAIL, MARK]
    result = _run(command, env, repo_root)
    assert "app done" in result.stdout
    return result


@pytest.mark.parametrize("capture", ["NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY"])
def test_under_another_configurator_everything_exported_is_redacted(
    repo_root: Path, tmp_path: Path, capture: str
) -> None:
    """opentelemetry-distro's configurator: logs, exceptions and labels are redacted anyway.

    With or without content capture, otel-llm puts its pipeline in front of both signals'
    processors when it instruments, so application log bodies, `exception.message` and the
    evaluation and feedback labels reach the console exporters redacted; the evaluation's
    explanation (content) only with capture on events.
    """
    result = _run_leaky_app(
        repo_root,
        tmp_path,
        OTEL_PYTHON_CONFIGURATOR="configurator",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=capture,
    )
    assert EMAIL not in result.stdout
    # Logging is instrumented: otel-llm's warning is exported as a log record, not printed.
    assert (result.stdout + result.stderr).count(RETROFIT_WARNING) == 1
    printed = _printed(result.stdout)
    bodies = [p["body"] for p in printed if isinstance(p.get("body"), str)]
    assert f"user wrote [REDACTED:email] {MARK}" in bodies
    (evaluation,) = [p for p in printed if p.get("event_name") == "gen_ai.evaluation.result"]
    attributes = evaluation["attributes"]
    assert attributes["gen_ai.evaluation.score.label"] == "[REDACTED:email]"
    explanation = attributes.get("gen_ai.evaluation.explanation")
    assert explanation == (f"[REDACTED:email] {MARK}" if capture == "EVENT_ONLY" else None)
    (feedback,) = [s for s in _spans(result.stdout) if s["name"] == "user_feedback"]
    assert feedback["attributes"]["otel_llm.feedback.label"] == "[REDACTED:email]"


def _official_and_ours(result: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The chat spans the official instrumentation and otel-llm exported: (theirs, ours)."""
    chats = [s for s in _spans(result.stdout) if s["name"] == "chat gpt-4o-mini"]
    # otel-llm records which OpenAI API was called; the official instrumentation does not.
    ours = [s for s in chats if "openai.api.type" in s["attributes"]]
    theirs = [s for s in chats if "openai.api.type" not in s["attributes"]]
    return theirs, ours


def test_otel_llms_distro_keeps_the_official_openai_instrumentation_out(
    repo_root: Path, tmp_path: Path
) -> None:
    """With both installed and otel-llm's distro running, each call is recorded once, said once."""
    result = _run_leaky_app(
        repo_root,
        tmp_path,
        OTEL_PYTHON_DISTRO="otel_llm",
        OTEL_PYTHON_CONFIGURATOR="otel_llm",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="",
    )
    theirs, ours = _official_and_ours(result)
    assert (len(theirs), len(ours)) == (0, 2)
    output = (result.stdout + result.stderr).splitlines()
    warnings = [line for line in output if "record the same calls" in line]
    assert len(warnings) == 1
    # The official Anthropic instrumentation (a dev dependency too) is kept out in the same
    # warning; OTel's botocore instrumentation stays (Bedrock is taken out of its hands).
    assert (
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=otel_llm_anthropic,otel_llm_openai." in warnings[0]
    )


@pytest.mark.parametrize("configurator", ["configurator", "otel_llm"])
def test_with_both_recording_the_official_failure_text_is_dropped(
    repo_root: Path, tmp_path: Path, configurator: str
) -> None:
    """Another distro loads both: a WARNING names the fix; their 400 span keeps no prompt text.

    With capture off the official instrumentation's status description carries the echoed
    prompt; the redaction processor drops it and keeps `error.type`.
    """
    result = _run_leaky_app(
        repo_root,
        tmp_path,
        OTEL_PYTHON_DISTRO="distro",
        OTEL_PYTHON_CONFIGURATOR=configurator,
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="",
    )
    theirs, ours = _official_and_ours(result)
    assert (len(theirs), len(ours)) == (2, 2)
    for span in theirs + ours:
        assert MARK not in json.dumps(span)
        assert EMAIL not in json.dumps(span)
    (failed,) = [s for s in theirs if s["status"]["status_code"] == "ERROR"]
    assert "description" not in failed["status"]
    assert failed["attributes"]["error.type"] == "openai.BadRequestError"
    output = (result.stdout + result.stderr).splitlines()
    warnings = [line for line in output if "each openai call is recorded twice" in line]
    assert len(warnings) == 1
    assert "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=openai to keep otel-llm's" in warnings[0]
    # The official Anthropic instrumentation (a dev dependency too) is named in its own warning;
    # OTel's botocore instrumentation wraps Bedrock's hook too, but records no GenAI telemetry.
    assert sum("each anthropic call is recorded twice" in line for line in output) == 1
    assert not [line for line in output if "Bedrock Runtime (botocore)" in line]


@pytest.mark.parametrize("distro", ["otel_llm", "distro"])
def test_openllmetry_and_openinference_installed_too_are_kept_out_or_reported(
    repo_root: Path, tmp_path: Path, distro: str
) -> None:
    """Peers installed beside ours: otel-llm's distro keeps them out; another distro's run says so.

    All three other OpenAI instrumentations are the entry point `openai`: otel-llm's distro
    disables the name and names every package; under opentelemetry-distro they all load and
    one WARNING names OpenLLMetry and OpenInference with the official one, and the prompts
    they captured (their default) are dropped from their spans, capture being off.
    """
    result = _run_leaky_app(
        repo_root,
        tmp_path,
        peers=True,
        OTEL_PYTHON_DISTRO=distro,
        OTEL_PYTHON_CONFIGURATOR="otel_llm",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="",
    )
    names = set(_span_names(result.stdout))
    peers = {"openai.chat", "ChatCompletion"}  # OpenLLMetry's and OpenInference's chat spans
    output = (result.stdout + result.stderr).splitlines()
    if distro == "otel_llm":
        assert not names & peers
        (warning,) = [line for line in output if "record the same calls" in line]
        for package in PEER_INSTRUMENTATIONS:
            assert package in warning
    else:
        assert names >= peers
        # They captured the prompt (their default); capture is off here, so it was dropped.
        assert not [span for span in _spans(result.stdout) if MARK in json.dumps(span)]
        (warning,) = [line for line in output if "each openai call is recorded twice" in line]
        for package in PEER_INSTRUMENTATIONS:
            assert f"openai ({package})" in warning
        assert "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=openai to keep otel-llm's" in warning


def _instrumentors_first(tmp_path: Path, ours_first: bool) -> Path:
    """A directory that, first on PYTHONPATH, orders the two Bedrock instrumentors' entry points.

    They come first in `opentelemetry-instrument`'s order, otel-llm's first or second (as
    _found_first does for configurators); the real entry points come after, already loaded.
    """
    dist_info = tmp_path / "order" / "first_instrumentors-0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: first-instrumentors\nVersion: 0\n", encoding="utf-8"
    )
    points = [
        "otel_llm_bedrock = otel_llm.instrumentation.bedrock:BedrockInstrumentor",
        "botocore = opentelemetry.instrumentation.botocore:BotocoreInstrumentor",
    ]
    lines = "\n".join(points if ours_first else points[::-1])
    (dist_info / "entry_points.txt").write_text(
        f"[opentelemetry_instrumentor]\n{lines}\n", encoding="utf-8"
    )
    return dist_info.parent


def _genai_metric_scopes(console_output: str) -> list[str]:
    """The scope of each gen_ai metric the console metric exporter printed."""
    return [
        scope["scope"]["name"]
        for printed in _printed(console_output)
        for resource in printed.get("resource_metrics", ())
        for scope in resource["scope_metrics"]
        for metric in scope["metrics"]
        if metric["name"].startswith("gen_ai.")
    ]


@pytest.mark.parametrize("ours_first", [True, False], ids=["ours-first", "botocore-first"])
@pytest.mark.parametrize("distro", ["otel_llm", "distro"])
def test_bedrock_is_recorded_once_beside_botocores_instrumentation(
    repo_root: Path, tmp_path: Path, ours_first: bool, distro: str
) -> None:
    """Whichever distro and order: a Bedrock call's GenAI span and metrics are otel-llm's alone.

    Every AWS call (Bedrock's and SQS's) keeps OTel's botocore span.
    """
    env = _zero_code_env(
        repo_root,
        PYTHONPATH=os.pathsep.join(
            [str(_instrumentors_first(tmp_path, ours_first)), str(repo_root)]
        ),
        OTEL_PYTHON_DISTRO=distro,
        OTEL_PYTHON_CONFIGURATOR="otel_llm",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="",
        OTEL_METRICS_EXPORTER="console",
        OTEL_LOGS_EXPORTER="console",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="EVENT_ONLY",
    )
    command = [_instrument(), sys.executable, str(repo_root / "tests/_aws_app.py")]
    result = _run(command, env, repo_root)
    assert "app done" in result.stdout
    spans = _spans(result.stdout)
    genai = [s for s in spans if any(k.startswith("gen_ai.") for k in s["attributes"])]
    assert sorted(s["name"] for s in genai) == ["chat amazon.nova-micro-v1:0"] * 2
    assert not [s for s in genai if "rpc.system" in s["attributes"]]  # not OTel botocore's
    plain = sorted(s["name"] for s in spans if s["attributes"].get("rpc.system") == "aws-api")
    assert plain == [
        "Bedrock Runtime.Converse",
        "Bedrock Runtime.ConverseStream",
        "SQS.ListQueues",
    ]
    scopes = _genai_metric_scopes(result.stdout)
    assert scopes
    assert set(scopes) == {"otel_llm"}
    assert len(_events(result.stdout)) == 2  # otel-llm's details event per call, no others
    assert "Bedrock Runtime (botocore)" not in result.stdout + result.stderr
