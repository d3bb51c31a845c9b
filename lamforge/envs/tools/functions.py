"""Typed functions as an action space: one `Tool` per callable, with a JSON schema its
arguments are validated against before it runs.

Tools come from wherever a user has them — Python callables (`from_callables`), the tools of
an MCP server (`lamforge.envs.tools.mcp_tools`), BFCL's back-end classes
(`lamforge.envs.tools.bfcl`) — and look the same to the environment and the agent: a name, a
description, a parameter schema, and a call that returns text.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lamforge.core import LamforgeError


class ToolError(LamforgeError):
    """A call the environment refused (unknown function, arguments against the schema) or
    one that raised: its message goes back to the model as the step's error."""


@dataclass
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    """A JSON schema of type object: properties, required, additionalProperties."""
    call: Callable[[dict[str, Any]], Any]

    def signature(self) -> str:
        """`name(a: string, b?: integer)`: what a model needs to write a call, short."""
        props = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", []))
        parts = [f"{k}{'' if k in required else '?'}: {_type_name(v)}" for k, v in props.items()]
        return f"{self.name}({', '.join(parts)})"

    def validate(self, args: dict[str, Any]) -> None:
        """Raise ToolError naming the first argument that breaks the schema."""
        from jsonschema import Draft202012Validator

        if not isinstance(args, dict):
            raise ToolError(f"{self.name}: arguments must be a JSON object, not {args!r}")
        errors = sorted(Draft202012Validator(self.parameters).iter_errors(args),
                        key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = ".".join(str(p) for p in e.path)
            raise ToolError(f"{self.name}: {'argument ' + repr(where) + ': ' if where else ''}"
                            f"{e.message} (signature: {self.signature()})")

    def __call__(self, args: dict[str, Any]) -> str:
        self.validate(args)
        try:
            result = self.call(args)
        except LamforgeError:  # refused, or the app is gone (EnvironmentCrashed)
            raise
        except Exception as e:  # the function's own failure is the model's to read
            raise ToolError(f"{self.name} failed: {type(e).__name__}: {e}") from None
        return result if isinstance(result, str) else json.dumps(result, default=str)


def _type_name(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "|".join(map(repr, schema["enum"]))
    if "$ref" in schema:  # a definition (a nested model): its name says what it is
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return "|".join(kind)
    if kind == "array" and isinstance(schema.get("items"), dict):
        return f"array[{_type_name(schema['items'])}]"
    return str(kind)


class Toolset:
    """The tools of one episode, by name; `state()` is what end-state checks read."""

    def __init__(self, tools: Iterable[Tool], state: Callable[[], dict[str, Any]] | None = None,
                 close: Callable[[], None] | None = None) -> None:
        self.tools = {t.name: t for t in tools}
        self._state = state
        self._close = close

    def get(self, name: str) -> Tool:
        if name not in self.tools:
            known = ", ".join(sorted(self.tools))
            raise ToolError(f"unknown function '{name}' (known: {known})")
        return self.tools[name]

    def state(self) -> dict[str, Any]:
        return self._state() if self._state else {}

    def close(self) -> None:
        if self._close:
            self._close()


def from_callables(functions: Iterable[Callable[..., Any]]) -> list[Tool]:
    """Python functions (or bound methods) as tools: the schema from their signature and type
    hints (pydantic), the description from the docstring's first paragraph."""
    return [_from_callable(f) for f in functions]


def _from_callable(fn: Callable[..., Any]) -> Tool:
    from pydantic import ConfigDict, create_model

    sig = inspect.signature(fn)
    hints = inspect.get_annotations(fn, eval_str=True)
    fields: dict[str, Any] = {}
    for name, p in sig.parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        fields[name] = (hints.get(name, Any), ... if p.default is p.empty else p.default)
    model = create_model(f"{fn.__name__}_args", __config__=ConfigDict(extra="forbid"),
                         **fields)
    schema = model.model_json_schema()
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    params = {"type": "object", "properties": schema.get("properties", {}),
              "required": schema.get("required", []), "additionalProperties": False}
    if "$defs" in schema:
        params["$defs"] = schema["$defs"]
    doc = inspect.getdoc(fn) or ""
    return Tool(name=fn.__name__, description=doc.split("\n\n")[0].replace("\n", " "),
                parameters=params, call=lambda args: fn(**_typed(model, args)))


def _typed(model: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The JSON arguments as the function's own types (a nested model arrives as that model,
    not a dict), only those given, so the function's defaults stand."""
    parsed = model.model_validate(args)
    return {k: getattr(parsed, k) for k in args}


def call_text(name: str, args: dict[str, Any]) -> str:
    """A call as Python source, `mv(source='a', destination='b')` (BFCL's answer format, and
    a readable line in a canvas)."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})"
