"""The `lamforge` command line. Every error is one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lamforge.cli_agent import audit_app, run, serve, sessions_cmd
from lamforge.cli_data import data_app
from lamforge.cli_eval import eval_app
from lamforge.cli_report import report
from lamforge.cli_train import train
from lamforge.console import Steps, make_console
from lamforge.core import CONTRACTS, DataError, LamforgeError, Task, read_jsonl

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Build Large Action Models end to end.")
env_app = typer.Typer(no_args_is_help=True, help="Environments: check, run tasks, templates.")
app.add_typer(env_app, name="env")
app.add_typer(data_app, name="data")
app.command("train")(train)
app.add_typer(eval_app, name="eval")
app.command("run")(run)
app.command("serve")(serve)
app.command("sessions")(sessions_cmd)
app.add_typer(audit_app, name="audit")
app.command("report")(report)
console = make_console()
err = make_console(stderr=True)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def fail(message: str, code: int = 1) -> None:
    _error_line(message)
    raise typer.Exit(code)


@app.command()
def schema(name: Annotated[str | None, typer.Argument(help="One contract, e.g. Task")] = None
           ) -> None:
    """Print the JSON Schema of the data contracts."""
    if name is not None and name not in CONTRACTS:
        fail(f"unknown contract '{name}' (known: {', '.join(CONTRACTS)})")
    out = ({name: CONTRACTS[name].model_json_schema()} if name else
           {k: m.model_json_schema() for k, m in CONTRACTS.items()})
    print(json.dumps(out, indent=2))


@env_app.command("list")
def env_list() -> None:
    """List registered environments."""
    from lamforge.envs import registered

    table = Table("id", "description")
    for e in registered():
        table.add_row(e.id, e.description)
    console.print(table)


@env_app.command("check")
def env_check(name: str = typer.Argument("writer")) -> None:
    """Say whether an environment can start here, and why not."""
    from lamforge.envs import check

    status = check(name)
    for item, ok, detail in status.details:
        mark = "[green]ok[/]" if ok else "[red]missing[/]"
        console.print(f"{mark:>20}  {item}: {detail}", highlight=False)
    if not status.ok:
        fail(f"environment '{name}' cannot start here (see above)")
    console.print(f"[green]environment '{name}' is ready[/]")


@env_app.command("templates")
def env_templates(out: Annotated[Path | None, typer.Option(help="Library directory")] = None,
                  rebuild: bool = False) -> None:
    """Build (if needed) and list the Writer template library."""
    import shutil

    from lamforge.envs.writer.templates import default_dir, library

    target = out or default_dir()
    if rebuild and target.exists():
        shutil.rmtree(target)
    lib = library(target)
    table = Table("name", "file", "description", title=str(lib))
    for t in json.loads((lib / "description.json").read_text()):
        table.add_row(t["name"], t["file"], t["description"])
    console.print(table)


def _load_tasks(path: Path, ids: list[str] | None, env_name: str = "writer") -> list[Task]:
    """The tasks of a file, each checked by its environment before any app starts; an error
    names the file and line."""
    from lamforge.envs.registry import env_class

    env_cls = env_class(env_name)
    tasks = read_jsonl(path, Task)
    with path.open(encoding="utf-8") as fh:
        linenos = [i for i, line in enumerate(fh, 1) if line.strip()]
    for task, lineno in zip(tasks, linenos, strict=True):
        try:
            env_cls.validate_task(task)
        except DataError as e:
            raise DataError(f"{path}:{lineno}: {e}") from None
    if ids:
        known = {t.id for t in tasks}
        missing = [i for i in ids if i not in known]
        if missing:
            raise DataError(f"{path}: no task with id {', '.join(missing)}")
        tasks = [t for t in tasks if t.id in ids]
    return tasks


@env_app.command("run-task")
def env_run_task(
    tasks: Annotated[Path, typer.Option("--tasks", help="Tasks JSONL with actions and checks")]
    = EXAMPLES / "writer" / "tasks.jsonl",
    task_id: Annotated[list[str] | None, typer.Option("--id", help="Only these task ids")] = None,
    env_name: Annotated[str, typer.Option("--env")] = "writer",
    out: Annotated[Path | None, typer.Option(help="Write trajectories JSONL here")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write verdicts as JSON")] = None,
    verbose: Annotated[bool, typer.Option("-v", help="Show every check")] = False,
) -> None:
    """Execute each task's action list in the environment and print the verdicts.

    Exits 0 when every task passes, 2 when some fail, 1 on an error.
    """
    from lamforge.core import append_jsonl
    from lamforge.envs import make
    from lamforge.envs.episode import run_actions

    selected = _load_tasks(tasks, task_id, env_name)
    table = Table("task", "verdict", "steps", "time", "reason", title=str(tasks))
    results = []
    with make(env_name) as env, Steps(console, "running tasks", len(selected)) as progress:
        for task in selected:
            traj = run_actions(env, task)
            v = traj.verdict
            assert v is not None
            colour = {"pass": "green", "fail": "red", "unsure": "yellow"}[v.status]
            table.add_row(task.id, f"[{colour}]{v.status}[/]", str(len(traj.steps)),
                          f"{traj.timings['total_s']:.2f}s", v.reason)
            if verbose:
                for r in v.checks:
                    table.add_row("", "  ok" if r.passed else "  FAIL", "", "",
                                  f"{r.check.kind}: {r.detail}")
            results.append({"id": task.id, "status": v.status, "reason": v.reason,
                            "steps": len(traj.steps), "seconds": traj.timings["total_s"],
                            "checks": [r.model_dump() for r in v.checks]})
            if out:
                append_jsonl(out, [traj])
            progress.advance()
    console.print(table)
    passed = sum(r["status"] == "pass" for r in results)
    console.print(f"{passed}/{len(results)} tasks passed")
    if json_out:
        json_out.write_text(json.dumps({"tasks": results, "passed": passed,
                                        "total": len(results)}, indent=2))
    if passed != len(results):
        raise typer.Exit(2)


@app.command()
def demo(
    run_dir: Annotated[Path, typer.Option(help="Everything goes here; a rerun resumes")]
    = Path("runs/demo"),
    size: Annotated[str, typer.Option(help="default (about 20 minutes on 2 cores) or small "
                                           "(a few minutes, the same stages)")] = "default",
    workers: Annotated[int, typer.Option(min=1, help="Processes for the flow, exploration and "
                                                     "online evaluation")] = 2,
    fresh: Annotated[bool, typer.Option(help="Delete the run directory first")] = False,
    kind: Annotated[str, typer.Option(help="The LAMs trained and compared: both, ranker (the "
                                           "CPU LAM: MiniLM choosing among the app's "
                                           "actions) or generative (the tiny preset)")]
    = "both",
) -> None:
    """The main job: the whole workflow end to end with no network — mine Writer's help,
    evolve, dataflow, train LAM1-LAM4 (a ranker and a generative LAM), evaluate offline and
    online against the rule baseline and on plain-words requests, and write a report
    (docs/demo in the README)."""
    import shutil

    from lamforge.demo import (
        KINDS,
        Demo,
        DemoSettings,
        ranker_config,
        small_settings,
        train_config,
    )

    if size not in ("default", "small"):
        fail(f"unknown size '{size}' (use default or small)")
    if kind not in ("both", *KINDS):
        fail(f"unknown kind '{kind}' (use both, ranker or generative)")
    if fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    settings = small_settings(run_dir) if size == "small" else DemoSettings(run_dir=run_dir)
    settings.workers = workers
    settings.kinds = KINDS if kind == "both" else (kind,)
    settings.train = train_config(settings, small=size == "small")
    settings.ranker = ranker_config(settings, small=size == "small")
    Demo(settings, console).go()


def main() -> None:
    try:
        # the click command itself, not `app(...)`: typer's wrapper tags every exception with
        # an attribute, which a UNO exception refuses, hiding the cause behind its own error
        code = typer.main.get_command(app)(standalone_mode=False)
    except typer.Exit as e:
        code = e.exit_code
    except LamforgeError as e:
        code = _error_line(str(e))
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        code = 130
    except Exception as e:  # usage errors and anything unforeseen: one line, no traceback
        if hasattr(e, "show") and hasattr(e, "exit_code"):  # a usage error from typer/click
            e.show()
            code = e.exit_code
        else:
            first = next((line for line in str(e).splitlines() if line.strip()), "")
            code = _error_line(f"{type(e).__name__}: {first}".rstrip(": "))
    sys.exit(code if isinstance(code, int) else 0)


def _error_line(message: str) -> int:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return 1
