"""Scratch folders for a benchmark run, removed when the run ends (even on an error), so
benchmarks leave no template libraries or flow outputs in /tmp."""

from __future__ import annotations

import tempfile
from pathlib import Path

_RUN = tempfile.TemporaryDirectory(prefix="lamforge-bench-")  # removed at interpreter exit


def scratch_dir() -> Path:
    """A new empty folder inside this run's scratch folder."""
    return Path(tempfile.mkdtemp(dir=_RUN.name))
