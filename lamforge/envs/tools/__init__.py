"""Typed functions as an action space (function calling, MCP, BFCL multi-turn)."""
