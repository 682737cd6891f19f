"""The test server over stdio, run as a subprocess by test_transport.py (not instrumented)."""

from tests.instrumentation.mcp._servers import build_server

if __name__ == "__main__":
    build_server().run("stdio")
