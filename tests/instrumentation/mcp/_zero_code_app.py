"""An MCP client and server in one process, for `opentelemetry-instrument` (no otel-llm code)."""

import anyio
from mcp.client.client import Client

from tests.instrumentation.mcp._servers import SECRET, build_server, http_server


async def _main(url: str) -> None:
    async with Client(url, mode="legacy") as client:
        await client.session.call_tool("lookup", {"account": "a-1"})
        await client.session.call_tool("explode", {"account": SECRET})


if __name__ == "__main__":
    with http_server(build_server()) as url:
        anyio.run(_main, url)
    print("app done")
