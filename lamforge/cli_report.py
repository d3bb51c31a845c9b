"""`lamforge report RUN_DIR`: the run's evaluation as report.md and a self-contained report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lamforge.console import make_console

console = make_console()


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory with offline.json and/or "
                                                 "online.json (and online/episodes.jsonl)")],
    out: Annotated[Path | None, typer.Option(help="Write the report here instead of RUN_DIR")]
    = None,
) -> None:
    """Write report.md, report.html (one file, images inline, nothing fetched) and plots/*.png
    from a run's evaluation results; every table and figure names the JSON keys it came from."""
    from lamforge.eval.report import load, summary, write

    run = load(run_dir)
    paths = write(run, out)
    title, header, rows = summary(run)
    table = Table(*header, title=title)
    for r in rows:
        table.add_row(*map(escape, r))
    console.print(table)
    figures = [k for k in paths if k not in ("markdown", "html")]
    console.print(f"wrote {escape(str(paths['markdown']))}", highlight=False)
    console.print(f"wrote {escape(str(paths['html']))}", highlight=False)
    console.print(f"figures: {', '.join(figures) or 'none'}", highlight=False)
