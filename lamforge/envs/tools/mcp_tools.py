"""The tools of any MCP server as an action space, through the `mcp` package's client.

The server is started over stdio for the episode (its command line from the task) and its
`tools/list` becomes the toolset: each tool's name, description and input schema as they are,
so nothing here knows any particular server. The MCP client is asynchronous and the
environment is not, so the session lives on an event loop in a thread of its own and each call
waits for its answer (with a time-out).
"""

from __future__ import annotations

import asyncio
import json
import threading
from contextlib import AsyncExitStack, suppress
from typing import Any

from lamforge.core import EnvironmentUnavailable
from lamforge.envs.tools.functions import Tool, ToolError, Toolset

CALL_TIMEOUT_S = 30.0


class McpConnection:
    """One stdio MCP server and a client session on it, driven from synchronous code."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None,
                 timeout_s: float = CALL_TIMEOUT_S) -> None:
        self.command = command
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="mcp-client")
        self._thread.start()
        self._stack: AsyncExitStack | None = None
        self._session: Any = None
        try:
            self._run(self._open(env), timeout_s)
        except Exception as e:
            self.close()
            raise EnvironmentUnavailable(f"MCP server {' '.join(command)} did not start "
                                         f"({type(e).__name__}: {e})") from None

    def _run(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _open(self, env: dict[str, str] | None) -> None:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        self._stack = AsyncExitStack()
        params = StdioServerParameters(command=self.command[0], args=self.command[1:], env=env)
        read, write = await self._stack.enter_async_context(stdio_client(params))
        self._session = await self._stack.enter_async_context(ClientSession(read, write))
        await self._session.initialize()

    def tools(self) -> list[Tool]:
        listed = self._run(self._session.list_tools(), self.timeout_s)
        out = []
        for t in listed.tools:
            schema = dict(getattr(t, "input_schema", None) or getattr(t, "inputSchema", None)
                          or {"type": "object"})
            schema.setdefault("properties", {})
            out.append(Tool(name=t.name, description=t.description or "", parameters=schema,
                            call=lambda args, name=t.name: self.call(name, args)))
        return out

    def call(self, name: str, args: dict[str, Any]) -> str:
        try:
            result = self._run(self._session.call_tool(name, args), self.timeout_s)
        except TimeoutError:
            raise ToolError(f"{name}: the MCP server did not answer in "
                            f"{self.timeout_s:.0f} s") from None
        texts = [getattr(c, "text", None) or json.dumps(c.model_dump(), default=str)
                 for c in result.content]
        structured = getattr(result, "structured_content", None) or \
            getattr(result, "structuredContent", None)
        text = "\n".join(texts) if texts else json.dumps(structured, default=str)
        if getattr(result, "is_error", None) or getattr(result, "isError", None):
            raise ToolError(f"{name} failed: {text}")
        return text

    def close(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            with suppress(Exception):  # a server that died leaves nothing to close cleanly
                self._run(stack.aclose(), 10)
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


def toolset(command: list[str], env: dict[str, str] | None = None) -> Toolset:
    """A started MCP server's tools; closing the toolset stops the server."""
    conn = McpConnection(list(command), env)
    return Toolset(conn.tools(), close=conn.close)
