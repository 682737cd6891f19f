"""The shared provider suite once more, on Vertex AI clients (`gcp.vertex_ai`, regional host).

Every check of tests/instrumentation/test_providers.py that takes a provider's fixtures runs
here with `VertexFixtures`: the same calls, Vertex's payload shapes (usage only in the last
stream chunk, no candidate index) and its error bodies.
"""

from __future__ import annotations

import inspect

import pytest

from tests.instrumentation import test_providers as suite
from tests.instrumentation._suite import ProviderFixtures
from tests.instrumentation.google_genai.conformance import VertexFixtures

globals().update(
    {
        name: check
        for name, check in vars(suite).items()
        if name.startswith("test_") and "fixtures" in inspect.signature(check).parameters
    }
)


@pytest.fixture
def fixtures() -> ProviderFixtures:
    """Vertex AI's fixtures, in place of each registered provider's."""
    return VertexFixtures()
