"""The MiniWoB++ suite: every task page the `miniwob` package ships, as lamforge tasks.

A task is a page and a seed; the page writes its own instruction (the utterance) when the
episode starts, so a task's `request` is a placeholder and the agent reads the page's
(`WebEnv.instruction()`).
"""

from __future__ import annotations

from typing import ClassVar

from lamforge.core import Task
from lamforge.envs.base import Suite
from lamforge.envs.web.env import miniwob_dir

LIT56 = [
    "book-flight", "choose-date", "choose-date-easy", "choose-date-medium", "choose-list",
    "click-button", "click-button-sequence", "click-checkboxes", "click-checkboxes-large",
    "click-checkboxes-soft", "click-checkboxes-transfer", "click-collapsible",
    "click-collapsible-2", "click-color", "click-dialog", "click-dialog-2", "click-link",
    "click-menu", "click-option", "click-pie", "click-scroll-list", "click-shades",
    "click-shape", "click-tab", "click-tab-2", "click-tab-2-hard", "click-test",
    "click-test-2", "click-widget", "count-shape", "email-inbox", "email-inbox-forward-nl",
    "email-inbox-forward-nl-turk", "email-inbox-nl-turk", "enter-date", "enter-password",
    "enter-text", "enter-text-dynamic", "enter-time", "focus-text", "focus-text-2",
    "grid-coordinate", "guess-number", "identify-shape", "login-user", "login-user-popup",
    "multi-layouts", "multi-orderings", "navigate-tree", "search-engine", "social-media",
    "social-media-all", "social-media-some", "tic-tac-toe", "use-autocomplete", "use-spinner",
]
"""The 56 tasks the fine-tuned literature reports on (CC-Net, WebN-T5, HTML-T5, WebGUM: the
per-task tables of Gur et al. 2022 and Furuta et al. 2023), so a mean over them compares with
HTML-T5-XL's 67.1% and WebGUM's 94.2%."""


def task_names() -> list[str]:
    """All MiniWoB++ task pages of the installed package, sorted."""
    return sorted(p.stem for p in miniwob_dir().glob("*.html"))


def make_task(name: str, seed: int = 0) -> Task:
    """The task `name` at `seed` (the same seed gives the same instance)."""
    return Task(id=f"{name}#{seed}", app="web", request=f"(the page's instruction: {name})",
                template=f"miniwob/{name}", meta={"seed": seed, "family": name,
                                                 "suite": "miniwob"})


class MiniWoB(Suite):
    """MiniWoB++ (Liu et al. 2018): 100+ pages, each with its instruction generator and
    reward; `lit56` is the subset the fine-tuned literature reports."""

    name = "miniwob"
    subsets: ClassVar[dict[str, list[str]]] = {"lit56": LIT56}

    def names(self) -> list[str]:
        return task_names()

    def task(self, name: str, seed: int) -> Task:
        return make_task(name, seed)
