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
_MAX_TEXT = 80


def action_schema(functions: list[ActionSpec], labels: list[str]) -> dict[str, Any]:
    """The answer's JSON schema: keys in the trained order, labels limited to `labels`."""
    branches = []
    for spec in functions:
        if spec.needs_control and not labels:
            continue
        args = {k: _bounded(v) for k, v in spec.args.items()}
        props = {
            "control_label": {"enum": labels} if spec.needs_control else {"type": "null"},
            "control_name": ({"type": "string", "maxLength": _MAX_TEXT} if spec.needs_control
                             else {"type": "null"}),
            "function": {"const": spec.name},
            "args": {"type": "object", "properties": args, "required": spec.required,
                     "additionalProperties": False},
            "status": {"const": "FINISH" if spec.name == "finish" else "CONTINUE"},
            "advance": {"type": "integer", "minimum": 0, "maximum": 9},
        }
        branches.append({"type": "object", "properties": props, "required": list(_KEYS),
                         "additionalProperties": False})
    return {"anyOf": branches}


def _bounded(arg: dict[str, Any]) -> dict[str, Any]:
    """Strings get a length cap, so a model cannot loop inside a value until the token limit."""
    out = {k: v for k, v in arg.items() if k != "default"}
    if out.get("type") == "string":
        out["maxLength"] = _MAX_TEXT
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
