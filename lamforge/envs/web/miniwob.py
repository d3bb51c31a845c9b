"""The MiniWoB++ suite: every task page the `miniwob` package ships, as lamforge tasks.

A task is a page and a seed; the page writes its own instruction (the utterance) when the
episode starts, so a task's `request` is filled from the page at reset (`WebEnv.utterance`).
"""

from __future__ import annotations

from lamforge.core import Task
from lamforge.envs.web.env import miniwob_dir


def task_names() -> list[str]:
    """All MiniWoB++ task pages of the installed package, sorted."""
    return sorted(p.stem for p in miniwob_dir().glob("*.html"))


def make_task(name: str, seed: int = 0) -> Task:
    """The task `name` at `seed` (the same seed gives the same instance)."""
    return Task(id=f"{name}#{seed}", app="web", request=f"(the page's instruction: {name})",
                template=f"miniwob/{name}", meta={"seed": seed, "family": name,
                                                 "suite": "miniwob"})
