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
    """Model → display name, unique among `models` (in their order). When two checkpoints'
    names would clash, every checkpoint keeps the same, least, depth of path that tells them
    all apart (`ranker/lam1` … `ranker/lam4` beside `tiny/lam4`, not `lam1` beside
    `tiny/lam4`)."""
    models = list(dict.fromkeys(models))
    deepest = max((len(_parts(m)) for m in models), default=1)
    names = [short_name(m) for m in models]
    for depth in range(2, deepest + 1):
        if len(set(names)) == len(names):
            break
        names = [short_name(m, depth) for m in models]
    return dict(zip(models, names, strict=True))


def portable(model: str | os.PathLike[str], root: Path | None = None) -> str:
    """A model as results record it, the same on every machine: a path inside `root` (the
    working directory by default; the repository, for the benchmarks) relative to it, another
    absolute path cut to its last three parts (`/tmp/x/ranker/lam3/model` is
    `ranker/lam3/model`, so `short_name` still reads it and tells a run's kinds apart),
    anything else (`rules`, a served name) as given."""
    text = os.fspath(model)
    path = Path(text)
    if not path.is_absolute():
        return text
    base = (root or Path.cwd()).resolve()
    resolved = path.resolve()
    if resolved.is_relative_to(base):
        return resolved.relative_to(base).as_posix()
    keep = 3 if path.name == "model" else 1  # <kind>/<phase>/model: ranker/ beside tiny/
    return PurePosixPath(*path.parts[-keep:]).as_posix()
