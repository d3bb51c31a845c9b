"""A small MCP server over stdio, built with the `mcp` package, for the tools environment's
tests: a notebook with state (notes), a tool that fails, and a counter of executed calls so a
test can tell a call the client refused from one the server ran."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("notebook")
NOTES: dict[str, str] = {}
EXECUTED = {"calls": 0}


@server.tool()
def add_note(title: str, text: str, pinned: bool = False) -> str:
    """Add a note under a title (replacing one of the same title)."""
    EXECUTED["calls"] += 1
    NOTES[title] = text + (" [pinned]" if pinned else "")
    return f"saved '{title}'"


@server.tool()
def read_note(title: str) -> str:
    """The text of the note with this title."""
    EXECUTED["calls"] += 1
    if title not in NOTES:
        raise ToolError(f"no note titled '{title}'")  # an error the server lets the client read
    return NOTES[title]


@server.tool()
def count(times: int) -> int:
    """Count to a number (a tool with an integer argument)."""
    EXECUTED["calls"] += 1
    return times


@server.tool()
def executed() -> int:
    """How many calls this server has executed (not counting this one)."""
    return EXECUTED["calls"]


if __name__ == "__main__":
    server.run("stdio")
