"""Dispatch every command of Writer's menus and toolbars headless and record what happens.

    .venv/bin/python scripts/probe_commands.py [--write]

Each command runs on a fresh copy of the `report` template with a word selected. A command
that kills or hangs soffice is recorded so the environment never dispatches it again (it shows
as disabled); `--write` stores the result in lamforge/envs/writer/data/command_support.json
and prints the summary used in docs/writer.md. Commands that LibreOffice marks as opening a
dialog ("...") are not dispatched: without our own description of the dialog they do nothing
useful headless.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import track

from lamforge.core import EnvironmentCrashed, Task
from lamforge.envs.writer.dialogs import DIALOGS
from lamforge.envs.writer.env import SPECIAL, WriterEnv, _base
from lamforge.envs.writer.ui import BLOCKED, COMBOS, DATA, SPLIT

console = Console()


def classify(env: WriterEnv, command: str) -> str:
    base = _base(env.surface.target(command))
    if command in DIALOGS:
        return "dialog (ours)"
    if command in SPECIAL:
        return "special"
    if command in COMBOS or command in SPLIT:
        return "value (ours)"
    if base in BLOCKED or command in BLOCKED:
        return "blocked"
    if env.surface.is_dialog(command) or env.surface.is_dialog(base):
        return "dialog (not described)"
    return "dispatch"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--timeout", type=float, default=8.0)
    args = ap.parse_args()
    task = Task(id="probe", app="writer", request="probe", template="report")
    rows: dict[str, dict[str, str]] = {}
    support: dict[str, str] = {}
    with WriterEnv(templates_dir=Path(tempfile.mkdtemp()), call_timeout=args.timeout) as env:
        env.reset(task)
        commands: dict[str, str] = {}
        for path, node in env.surface.walk():
            if not node.is_submenu:
                commands.setdefault(node.command, " > ".join(path))
        for bar, items in env.surface.toolbars.items():
            for item in items:
                commands.setdefault(item["command"], f"{bar}: {env.surface.label(item['command'])}")
        for command, where in track(sorted(commands.items()), description="probing commands"):
            kind = classify(env, command)
            outcome = kind
            if kind == "dispatch":
                env.reset(task)
                env.ops.select_text("Revenue")
                try:
                    env.ops.dispatch(env.surface.target(command))
                    env._observe()
                    env.final_state()  # saving and reloading lays the document out again
                    env._close_document()  # some commands only crash LibreOffice on close
                    outcome = "ok"
                except EnvironmentCrashed as e:
                    outcome = "hang" if "did not answer" in str(e) else "crash"
                    env._doc = None
                    env.office.restart()
                    env._surface = None
                except Exception as e:  # an error from the dispatcher is not a crash
                    outcome = f"error: {type(e).__name__}"
                support[_base(env.surface.target(command))] = (
                    "ok" if outcome == "ok" or outcome.startswith("error") else outcome)
            rows[command] = {"where": where, "outcome": outcome}
    counts = Counter(r["outcome"].split(":")[0] for r in rows.values())
    console.print(f"{len(rows)} commands in Writer's menus and toolbars")
    for outcome, count in counts.most_common():
        console.print(f"  {outcome}: {count}")
    bad = {c: r for c, r in rows.items() if r["outcome"] in ("crash", "hang")}
    for command, r in sorted(bad.items()):
        console.print(f"  {r['outcome']}: {command} ({r['where']})")
    if args.write:
        DATA.mkdir(exist_ok=True)
        (DATA / "command_support.json").write_text(json.dumps(
            {"generated_by": "scripts/probe_commands.py", "summary": dict(counts),
             "commands": {c: s for c, s in sorted(support.items()) if s != "ok"},
             "all": rows}, indent=1, sort_keys=True))
        console.print(f"wrote {DATA / 'command_support.json'}")


if __name__ == "__main__":
    main()
