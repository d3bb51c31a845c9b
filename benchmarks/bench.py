"""What the pipeline benchmarks share: running a `lamforge` command from the repository, and
writing a benchmark's section of benchmarks/RESULTS.md between its markers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
LAMFORGE = [sys.executable, "-m", "lamforge"]
console = Console()


def sh(*args: str) -> float:
    """Run `lamforge ARGS` in the repository, showing the command; its wall time in seconds.
    A failed command ends the benchmark with one line."""
    t0 = time.perf_counter()
    console.print(f"[dim]$ lamforge {' '.join(args)}[/]", highlight=False)
    proc = subprocess.run([*LAMFORGE, *args], cwd=ROOT, env={**os.environ, "COLUMNS": "160"})
    if proc.returncode != 0:
        sys.exit(f"lamforge {args[0]} {args[1] if len(args) > 1 else ''} failed "
                 f"(exit {proc.returncode})")
    return time.perf_counter() - t0


def write_section(marker: str, title: str, block: str) -> None:
    """Put `block` between the `marker` markers of RESULTS.md (a run replaces the last one's),
    or at the end under `title` the first time."""
    path = ROOT / "benchmarks" / "RESULTS.md"
    text = path.read_text()
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    if start in text and end in text:
        text = text[:text.index(start) + len(start)] + "\n" + block + "\n" + text[
            text.index(end):]
    else:
        text += f"\n## {title}\n\n{start}\n{block}\n{end}\n"
    path.write_text(text)
