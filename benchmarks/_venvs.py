"""One virtualenv per instrumentation under benchmarks/.venvs/, all on the same openai and SDK."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
VENVS = ROOT / ".venvs"

OPENAI = "openai==2.54.0"
"""The newest openai every peer accepts: OpenLIT 1.45 requires openai < 3."""
COMMON = (
    OPENAI,
    "httpx==0.28.1",  # openai 2.x talks through httpx; the mock transport is httpx's
    # 1.45.1/0.66b1, not the newest 1.45.2: OpenLIT's contrib dependencies resolve only there.
    "opentelemetry-api==1.45.1",
    "opentelemetry-sdk==1.45.1",
    "opentelemetry-instrumentation==0.66b1",
    "opentelemetry-semantic-conventions==0.66b1",
)
"""Pinned in every virtualenv, so only the instrumentation differs."""


@dataclass(frozen=True)
class Peer:
    """One instrumentation under test and what its virtualenv needs."""

    name: str
    label: str
    packages: tuple[str, ...]
    distribution: str
    """The distribution whose version the report prints."""
    venv: str = ""
    """The peer whose virtualenv this one shares (another configuration of the same package)."""

    @property
    def home(self) -> Path:
        """Its virtualenv's directory."""
        return VENVS / (self.venv or self.name)


PEERS = (
    Peer("bare", "uninstrumented openai client", (), "openai"),
    Peer("otel-llm", "otel-llm (this repo)", (f"-e{REPO}",), "otel-llm"),
    # Feature for feature: no peer redacts, and of these only OpenLIT prices calls.
    Peer(
        "otel-llm-core",
        "otel-llm, redaction and cost off",
        (f"-e{REPO}",),
        "otel-llm",
        venv="otel-llm",
    ),
    Peer(
        "genai-openai",
        "OTel official (opentelemetry-instrumentation-genai-openai)",
        ("opentelemetry-instrumentation-genai-openai==1.3b0",),
        "opentelemetry-instrumentation-genai-openai",
    ),
    Peer(
        "openai-v2",
        "OTel contrib (opentelemetry-instrumentation-openai-v2)",
        # util-genai 1.x dropped the `instruments` module 2.4b0 imports; 0.4b0 is its release.
        ("opentelemetry-instrumentation-openai-v2==2.4b0", "opentelemetry-util-genai==0.4b0"),
        "opentelemetry-instrumentation-openai-v2",
    ),
    Peer(
        "openllmetry",
        "OpenLLMetry (opentelemetry-instrumentation-openai)",
        ("opentelemetry-instrumentation-openai==0.62.4",),
        "opentelemetry-instrumentation-openai",
    ),
    Peer("openlit", "OpenLIT (openlit)", ("openlit==1.45.0",), "openlit"),
    Peer(
        "openinference",
        "OpenInference (openinference-instrumentation-openai)",
        ("openinference-instrumentation-openai==0.1.66",),
        "openinference-instrumentation-openai",
    ),
)
PEERS_BY_NAME = {peer.name: peer for peer in PEERS}
ALL = tuple(PEERS_BY_NAME)
"""Every peer name, the uninstrumented client first."""


def python(peer: Peer) -> Path:
    """The interpreter of `peer`'s virtualenv."""
    return peer.home / "bin" / "python"


def _stamp(peer: Peer) -> str:
    return json.dumps([*COMMON, *peer.packages])


def ensure(peer: Peer, *, log: bool = True) -> Path:
    """Create (or reuse, when its pins are unchanged) `peer`'s virtualenv; its interpreter."""
    home = peer.home
    stamp = home / ".benchmark-installed"
    if stamp.exists() and stamp.read_text(encoding="utf-8") == _stamp(peer):
        return python(peer)
    if log:
        print(f"  installing the {peer.name} virtualenv ...", file=sys.stderr, flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    pip = [str(python(peer)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *COMMON, *peer.packages], check=True)
    stamp.write_text(_stamp(peer), encoding="utf-8")
    return python(peer)


def checkout(ref: str) -> tuple[str, Path]:
    """The commit `ref` names and a copy of its tree under .venvs/trees/ (made once).

    An `otel-llm@REF` peer imports that tree's `src/` in otel-llm's virtualenv.
    """
    git = ["git", "-C", str(REPO)]
    commit = subprocess.run(
        [*git, "rev-parse", "--short", f"{ref}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    tree = VENVS / "trees" / commit
    if not (tree / "src" / "otel_llm").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            [*git, "archive", "--format=tar", commit, "src"], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
    return commit, tree


def versions(peer: Peer) -> dict[str, str]:
    """Installed versions of openai, the SDK and the peer's own distribution, in its virtualenv."""
    names = ["openai", "opentelemetry-sdk", peer.distribution]
    code = (
        "import json, sys\n"
        "from importlib.metadata import version\n"
        "print(json.dumps({n: version(n) for n in sys.argv[1:]}))"
    )
    out = subprocess.run(
        [str(python(peer)), "-c", code, *dict.fromkeys(names)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, str] = json.loads(out.stdout)
    return result


if __name__ == "__main__":
    for each in PEERS:
        ensure(each)
        print(each.name, versions(each))
