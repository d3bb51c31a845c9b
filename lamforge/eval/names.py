"""Display names of models in tables and reports: `runs/demo/train/lam2/model` is `lam2`.

One rule for every table (offline, online, report, the demo's): a checkpoint saved by
`lamforge train` is `<phase>/model`, so it is named by its phase; any other name (`rules`,
`expert`, a served model name, another path) is kept as given. Two checkpoints that would get
the same name keep as much more of their path as tells them apart.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath


def _parts(model: str) -> tuple[str, ...]:
    p = PurePosixPath(model.replace("\\", "/").rstrip("/"))
    return p.parts[:-1] if p.name == "model" and len(p.parts) > 1 else ()


def short_name(model: str, depth: int = 1) -> str:
    parts = _parts(model)
    return "/".join(parts[-depth:]) if parts else model


def short_names(models: Iterable[str]) -> dict[str, str]:
    """Model → display name, unique among `models` (in their order)."""
    out: dict[str, str] = {}
    for model in dict.fromkeys(models):
        depth = 1
        while short_name(model, depth) in out.values() and depth < len(_parts(model)):
            depth += 1
        out[model] = short_name(model, depth)
    return out


def portable(model: str | os.PathLike[str], root: Path | None = None) -> str:
    """A model as results record it, the same on every machine: a path inside `root` (the
    working directory by default; the repository, for the benchmarks) relative to it, another
    absolute path cut to its last parts from the phase (`/tmp/x/lam3/model` is `lam3/model`, so
    `short_name` still reads it), anything else (`rules`, a served name) as given."""
    text = os.fspath(model)
    path = Path(text)
    if not path.is_absolute():
        return text
    base = (root or Path.cwd()).resolve()
    resolved = path.resolve()
    if resolved.is_relative_to(base):
        return resolved.relative_to(base).as_posix()
    keep = 2 if path.name == "model" else 1
    return PurePosixPath(*path.parts[-keep:]).as_posix()
