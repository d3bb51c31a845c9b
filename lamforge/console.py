"""How lamforge prints: one console for every command, one progress display, one heading.

On a terminal these are rich's, as they were. Off a terminal (`make demo > log`, CI, a pipe)
rich would wrap every line at 80 columns, in the middle of a path (`runs/demo/data/mine` /
`d.jsonl`), and squeeze tables until their cells read `test…`; a progress bar redrawn in place
would be either silent or noise. So a log gets lines that are never wrapped, tables as wide as
their content, and a plain progress line now and then.
"""

from __future__ import annotations

import os
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.rule import Rule

LOG_WIDTH = 10_000
"""Off a terminal: wide enough that no table is squeezed and no line wrapped (tables take
their natural width; nothing here expands to the console's width but `heading`)."""
HEADING_WIDTH = 100


def make_console(stderr: bool = False) -> Console:
    """A console for a command's output: rich's own on a terminal; off one, lines that are
    never wrapped and tables that are never cut (an explicit COLUMNS still counts when it is
    wider)."""
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    columns = os.environ.get("COLUMNS", "")
    width = max(LOG_WIDTH, int(columns) if columns.isdigit() else 0)
    return Console(stderr=stderr, width=width, soft_wrap=True)


def heading(console: Console, text: str) -> None:
    """A rule with a title, as wide as the terminal, or `HEADING_WIDTH` in a log."""
    width = console.width if console.is_terminal else HEADING_WIDTH
    console.print(Rule(text), width=min(console.width, width))


class Steps:
    """The progress of one long job of `total` items.

    On a terminal: a rich bar (gone when the job ends). Off one: a plain line when another
    tenth of the job is done (at most one per `gap_s` seconds, so a quick job prints only its
    last line), or every `every_s` seconds for a job of unknown size, and a last line with the
    count and time, e.g. `executing (2 worker(s)): 412/1641 (25%), 61 s`.
    """

    gap_s = 5.0

    def __init__(self, console: Console, description: str, total: int | None = None,
                 every_s: float = 30.0, show_at_start: bool = True) -> None:
        self.console = console
        self.show_at_start = show_at_start
        """False: the bar appears with the first item done (a job that may not happen)."""
        self.description = description
        self.total = total
        self.every_s = every_s
        self.done = 0
        self._t0 = time.perf_counter()
        self._last_line = self._t0
        self._tenth = 0
        self._finished = False
        self._bar: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> Steps:
        self._t0 = self._last_line = time.perf_counter()
        if self.console.is_terminal:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=self.console,
                                 transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.description, total=self.total,
                                            visible=self.show_at_start)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif self.done and exc[0] is None and not self._finished:
            self._line()

    def advance(self, n: int = 1) -> None:
        if not self.done and not self.show_at_start:
            self._t0 = self._last_line = time.perf_counter()  # the job starts with its first item
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, advance=n, visible=True)
            return
        now = time.perf_counter()
        if self.total and self.done >= self.total and not self._finished:
            self._finished = True  # the last line when the job ends, not when its block does
            self._line()
        elif self.total:
            tenth = min(10, self.done * 10 // self.total)
            if tenth > self._tenth and self.done < self.total and \
                    now - self._last_line >= self.gap_s:
                self._tenth = tenth
                self._line()
        elif now - self._last_line >= self.every_s:
            self._line()

    def _line(self) -> None:
        self._last_line = now = time.perf_counter()
        count = (f"{self.done}/{self.total} ({self.done / self.total:.0%})" if self.total
                 else str(self.done))
        self.console.print(f"{self.description}: {count}, {now - self._t0:.0f} s",
                           highlight=False, markup=False)
