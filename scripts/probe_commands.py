"""Dispatch every command of Writer's menus and toolbars headless and record what happens.

    .venv/bin/python scripts/probe_commands.py [--write | --docs]

Each command runs on a fresh copy of the `report` template with a word selected. A command
that kills or hangs soffice is recorded so the environment never dispatches it again (it shows
as disabled); `--write` stores the result in lamforge/envs/writer/data/command_support.json
and prints the summary used in docs/writer.md; it also stores Writer's menu paths, toolbar
items and shortcuts in surface.json, the control surface the offline prefill grounds plans
in. Commands that LibreOffice marks as opening a dialog ("...") are not dispatched: without
our own description of the dialog they do nothing useful headless.
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


MEANING = {
    "ok": "dispatched through the real dispatcher without arguments; LibreOffice stayed up",
    "dialog (ours)": "opens a dialog described by lamforge (fields + buttons as controls), "
                     "applied through the dispatcher or the document model",
    "value (ours)": "a toolbar box or colour/spacing drop-down: set with "
                    "`set_edit_text`/`select_option`, dispatched with its argument",
    "special": "handled by lamforge (Header/Footer switch the part on and move the cursor "
               "there; Save writes .docx)",
    "dialog (not described)": "LibreOffice marks it as opening a dialog (`...`); no "
                              "description yet, so it shows disabled",
    "blocked": "ends or leaves the episode, needs the clipboard, another app, a printer or a "
               "display: shows disabled",
    "crash": "kills headless soffice when dispatched: shows disabled",
}
LISTED = {"dialog (not described)": "Dialogs not described yet", "blocked": "Blocked",
          "crash": "Crash headless soffice"}
DOCS = Path(__file__).resolve().parent.parent / "docs" / "writer.md"


def _replace(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- generated:{name} -->", f"<!-- end:{name} -->"
    i, j = text.index(begin) + len(begin), text.index(end)
    return f"{text[:i]}\n{body}\n{text[j:]}"


def write_docs() -> None:
    """The dialog table and the probe's outcome tables of docs/writer.md, from the code and
    command_support.json, so the page cannot drift from what the environment does."""
    rows = json.loads((DATA / "command_support.json").read_text())["all"]
    seen, dialogs = set(), ["| command | dialog | fields | buttons |", "|---|---|---|---|"]
    for command, spec in DIALOGS.items():
        also = [c for c, s in DIALOGS.items() if s is spec and c != command]
        if id(spec) in seen:
            continue
        seen.add(id(spec))
        names = ", ".join(f"`{c}`" for c in [command, *also])
        dialogs.append(f"| {names} | {spec.title} | {', '.join(f.name for f in spec.fields)} | "
                       f"{', '.join(spec.buttons)} |")
    counts = Counter(r["outcome"].split(":")[0] for r in rows.values())
    runs = sum(n for k, n in counts.items() if k in ("ok", "dialog (ours)", "value (ours)",
                                                       "special"))
    probe = ["| outcome | commands | meaning |", "|---|---:|---|"]
    probe += [f"| {k} | {counts.get(k, 0)} | {v} |" for k, v in MEANING.items()]
    probe += ["", f"**{runs} of {len(rows)}** commands in Writer's menus and toolbars are "
              f"executable; {len(rows) - runs} are not."]
    for outcome, title in LISTED.items():
        items = sorted((r["where"], c) for c, r in rows.items() if r["outcome"] == outcome)
        probe += ["", f"<details><summary>{title} ({len(items)})</summary>", ""]
        probe += [f"- {where} (`{c}`)" for where, c in items]
        probe += ["", "</details>"]
    text = _replace(DOCS.read_text(), "dialogs", "\n".join(dialogs))
    DOCS.write_text(_replace(text, "probe", "\n".join(probe)))
    console.print(f"wrote the tables of {DOCS}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--docs", action="store_true",
                    help="only rewrite the tables of docs/writer.md from the stored results")
    ap.add_argument("--timeout", type=float, default=8.0)
    args = ap.parse_args()
    if args.docs:
        write_docs()
        return
    task = Task(id="probe", app="writer", request="probe", template="report")
    rows: dict[str, dict[str, str]] = {}
    support: dict[str, str] = {}
    with WriterEnv(templates_dir=Path(tempfile.mkdtemp()), call_timeout=args.timeout) as env:
        env.reset(task)
        surface = {
            "generated_by": "scripts/probe_commands.py",
            "menus": [[path, node.command] for path, node in env.surface.walk()
                      if not node.is_submenu],
            "toolbars": {bar: [[env.surface.label(i["command"]), i["command"]] for i in items]
                         for bar, items in env.surface.toolbars.items()},
            "shortcuts": env.surface.shortcuts}
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
        (DATA / "surface.json").write_text(json.dumps(surface, indent=0, sort_keys=True))
        console.print(f"wrote {DATA / 'command_support.json'} and {DATA / 'surface.json'}")
        write_docs()


if __name__ == "__main__":
    main()
