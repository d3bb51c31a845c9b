"""A registry of declarative check kinds for one app (Writer, Calc, Impress).

A check is `{"kind": ..., **params}`; each kind is a function `fn(state, **params) -> (holds,
detail)` registered with `@CheckSet.check`. Its signature is its schema: parameters are
validated (pydantic, strict types, no unknown names) when tasks are loaded, before any
episode runs, and `run` never raises on a state that lacks what a check looks for.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from lamforge.core import Check, CheckResult, DataError

CheckFn = Callable[..., tuple[bool, str]]


class CheckSet:
    """The check kinds of one app. `nonempty`: parameters that must not be empty strings;
    `needs_one_of`: kinds whose optional parameters mean nothing unless one is given."""

    def __init__(self, app: str, nonempty: tuple[str, ...] = (),
                 needs_one_of: dict[str, tuple[str, ...]] | None = None) -> None:
        self.app = app
        self.kinds: dict[str, CheckFn] = {}
        self.nonempty = nonempty
        self.needs_one_of = needs_one_of or {}
        self._model = cache(self._param_model)

    def check(self, fn: CheckFn) -> CheckFn:
        self.kinds[fn.__name__] = fn
        return fn

    def _param_model(self, kind: str) -> type[BaseModel]:
        fn = self.kinds[kind]
        hints = get_type_hints(fn)
        fields: dict[str, Any] = {}
        for name, p in list(inspect.signature(fn).parameters.items())[1:]:
            default = ... if p.default is inspect.Parameter.empty else p.default
            fields[name] = (hints[name], default)
        return create_model(f"{kind}_params", __config__=ConfigDict(extra="forbid", strict=True),
                            **fields)

    def validate(self, c: Check) -> dict[str, Any]:
        """Check kind and parameter types before any episode; return the typed parameters.

        Raises `DataError` naming the parameter and what was expected, e.g.
        `check 'bold': value: Input should be a valid boolean`.
        """
        if c.kind not in self.kinds:
            raise DataError(f"unknown check kind '{c.kind}' ({self.app} knows: "
                            f"{', '.join(sorted(self.kinds))})")
        try:
            params = self._model(c.kind).model_validate(c.params).model_dump()
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(x) for x in err['loc']) or 'parameters'}: "
                f"{'unknown parameter' if err['type'] == 'extra_forbidden' else err['msg']}"
                for err in e.errors())
            raise DataError(f"check '{c.kind}': {problems}") from None
        for key in self.nonempty:
            if params.get(key) == "":
                raise DataError(f"check '{c.kind}': {key} must not be empty")
        needs = self.needs_one_of.get(c.kind)
        if needs and all(params.get(n) is None for n in needs):
            raise DataError(f"check '{c.kind}': give at least one of {', '.join(needs)}")
        return params

    def run(self, c: Check, state: dict[str, Any]) -> CheckResult:
        params = self.validate(c)
        try:
            ok, detail = self.kinds[c.kind](state, **params)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            ok, detail = False, f"check could not be evaluated: {type(e).__name__}: {e}"
        except Exception as e:  # e.g. an unknown colour name in the check itself
            ok, detail = False, f"check could not be evaluated: {e}"
        return CheckResult(check=c, passed=ok, detail=detail)
