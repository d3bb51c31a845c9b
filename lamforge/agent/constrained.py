"""Constrained decoding: the model can only write a valid action on the controls shown.

The grammar is the JSON schema of the LAM's answer for this step (one branch per function of
the action space; a control label from the shown controls where the function needs one),
compiled by llguidance and applied to each generated token as a logits mask. Greedy decoding
then picks the likeliest *valid* answer, so a small model never loses a step to a typo.
"""

from __future__ import annotations

import json
from typing import Any

from lamforge.envs.base import ActionSpec

_KEYS = ("control_label", "control_name", "function", "args", "status", "advance")
_MAX_NAME = 80
_MAX_TEXT = 256
"""A string argument's cap: BFCL's longest (a tweet, a file's content) is 205 characters."""
_MAX_ITEMS = 16
_MAX_NUMBER = 10**12
_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6",
            "uuid"}
"""String formats the grammar can enforce; any other (pydantic's `path`, `binary`) is
dropped, and the environment's validation still checks it."""


def action_schema(functions: list[ActionSpec], labels: list[str],
                  arg_schemas: dict[str, dict[str, Any]] | None = None,
                  names: dict[str, str] | None = None) -> dict[str, Any]:
    """The answer's JSON schema: keys in the trained order, labels limited to `labels`.

    A function whose arguments are the control's own (`ActionSpec.control_args`, a tools
    call) gets one branch per shown control: that label, its name as shown (`names`) and
    its own argument schema (`arg_schemas`, from `Env.control_args_schema`), so the model
    can only call a function that exists with arguments it accepts. Each tool's
    definitions (`$defs`, `definitions`) move to the root under its own prefix, so two
    tools' models of one name stay apart."""
    arg_schemas, names = arg_schemas or {}, names or {}
    branches = []
    defs: dict[str, Any] = {}
    for spec in functions:
        if spec.needs_control and not labels:
            continue
        if spec.control_args:
            for label in labels:
                params = arg_schemas.get(label)
                if params is None:
                    args: dict[str, Any] = {"type": "object"}
                else:
                    own = {**params.get("definitions", {}), **params.get("$defs", {})}
                    prefix = f"{label}__"
                    args = _bounded(_rename_refs(params, prefix))
                    defs.update({prefix + k: _bounded(_rename_refs(v, prefix))
                                 for k, v in own.items()})
                name = ({"const": names[label]} if label in names
                        else {"type": "string", "maxLength": _MAX_NAME})
                branches.append(_branch(spec, {"const": label}, name, args))
            continue
        args = {"type": "object", "required": spec.required, "additionalProperties": False,
                "properties": {k: _bounded(v) for k, v in spec.args.items()}}
        control = {"enum": labels} if spec.needs_control else {"type": "null"}
        name = ({"type": "string", "maxLength": _MAX_NAME} if spec.needs_control
                else {"type": "null"})
        branches.append(_branch(spec, control, name, args))
    schema: dict[str, Any] = {"anyOf": branches}
    if defs:
        schema["$defs"] = defs
    return schema


def open_calls(schema: dict[str, Any]) -> dict[str, Any]:
    """The same answers with any JSON object as a call's arguments: the fallback when a
    function's own schema is one the grammar cannot compile (a look-ahead pattern)."""
    out = json.loads(json.dumps(schema))
    out.pop("$defs", None)
    for branch in out["anyOf"]:
        if "const" in branch["properties"]["control_label"]:
            branch["properties"]["args"] = {"type": "object"}
    return out


def _rename_refs(schema: Any, prefix: str) -> Any:
    """`#/$defs/X` and `#/definitions/X` as `#/$defs/<prefix>X`, at any depth."""
    if isinstance(schema, list):
        return [_rename_refs(s, prefix) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k in ("$defs", "definitions"):
            continue
        if k == "$ref" and isinstance(v, str):
            for head in ("#/$defs/", "#/definitions/"):
                if v.startswith(head):
                    v = "#/$defs/" + prefix + v[len(head):]
        out[k] = _rename_refs(v, prefix)
    return out


def _branch(spec: ActionSpec, control: dict[str, Any], name: dict[str, Any],
            args: dict[str, Any]) -> dict[str, Any]:
    props = {
        "control_label": control,
        "control_name": name,
        "function": {"const": spec.name},
        "args": args,
        "status": {"const": "FINISH" if spec.name == "finish" else "CONTINUE"},
        "advance": {"type": "integer", "minimum": 0, "maximum": 9},
    }
    return {"type": "object", "properties": props, "required": list(_KEYS),
            "additionalProperties": False}


_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMAS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")


def _bounded(schema: dict[str, Any]) -> dict[str, Any]:
    """Strings get a length cap, arrays an item cap and numbers bounds, at every depth, so
    a model cannot loop inside a value until the token limit; an object of named properties
    takes no others (a model would invent keys). A cap never contradicts the schema's own
    minimum, defaults and titles are dropped (the model writes what it means), and string
    formats the grammar does not know are left to the environment's validation."""
    out: dict[str, Any] = {}
    for k, v in schema.items():
        if k in ("default", "$defs", "definitions", "title"):
            continue
        if k in ("properties", "patternProperties") and isinstance(v, dict):
            out[k] = {p: _bounded(s) if isinstance(s, dict) else s for p, s in v.items()}
        elif k in _SUBSCHEMAS and isinstance(v, dict):
            out[k] = _bounded(v)
        elif k in (*_SUBSCHEMA_LISTS, "items") and isinstance(v, list):
            out[k] = [_bounded(s) if isinstance(s, dict) else s for s in v]
        elif k == "format" and v not in _FORMATS:
            continue
        else:
            out[k] = v
    if "const" in out or "enum" in out or "$ref" in out:
        return out
    kinds = out.get("type") if isinstance(out.get("type"), list) else [out.get("type")]
    if "string" in kinds and "pattern" not in out:
        out.setdefault("maxLength", max(_MAX_TEXT, out.get("minLength", 0)))
    if "array" in kinds:
        out.setdefault("maxItems", max(_MAX_ITEMS, out.get("minItems", 0)))
    if "integer" in kinds or "number" in kinds:  # bounds cap the digits before any point
        low = out.get("minimum", out.get("exclusiveMinimum"))
        high = out.get("maximum", out.get("exclusiveMaximum"))
        if low is None:
            out["minimum"] = min(-_MAX_NUMBER, high if high is not None else 0)
        if high is None:
            out["maximum"] = max(_MAX_NUMBER, low if low is not None else 0)
    if ("object" in kinds and out.get("properties")
            and not any(k in out for k in (*_SUBSCHEMA_LISTS, "patternProperties"))):
        out.setdefault("additionalProperties", False)
    return out


class JsonConstraint:
    """A logits processor for `generate()` that allows only tokens continuing a valid answer."""

    def __init__(self, tokenizer: Any, schema: dict[str, Any], prompt_len: int,
                 lead: str = " ") -> None:
        import llguidance
        import llguidance.hf

        options = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
        grammar = (f'start: "{lead}" answer\nanswer: %json '
                   + json.dumps({**schema, "x-guidance": options}))
        self.matcher = llguidance.LLMatcher(_lltokenizer(tokenizer), grammar)
        if self.matcher.is_error():
            raise ValueError(f"bad action grammar: {self.matcher.get_error()}")
        self.prompt_len = prompt_len

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import numpy as np
        import torch

        ids = input_ids[0]
        if ids.shape[0] > self.prompt_len:
            self.matcher.consume_token(int(ids[-1]))
        bits = np.unpackbits(np.frombuffer(self.matcher.compute_bitmask(), dtype=np.uint8),
                             bitorder="little")[:scores.shape[1]].astype(bool)
        out = scores.clone()
        out[0, ~torch.from_numpy(bits)] = float("-inf")
        return out


_TOKENIZERS: dict[int, Any] = {}


def _lltokenizer(tokenizer: Any) -> Any:
    """llguidance's view of a HF tokenizer (about 1 s to build, so built once per tokenizer)."""
    import llguidance.hf

    key = id(tokenizer)
    if key not in _TOKENIZERS:
        _TOKENIZERS[key] = llguidance.hf.from_tokenizer(tokenizer)
    return _TOKENIZERS[key]


def json_object_constraint(tokenizer: Any, prompt_len: int) -> JsonConstraint:
    """Any JSON object (the server's `response_format: json_object`)."""
    return JsonConstraint(tokenizer, {"type": "object"}, prompt_len, lead="")
