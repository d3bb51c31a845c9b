"""`lamforge eval offline …` and `lamforge eval online …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lamforge.cli_options import Address, ApiKey, Backend, check_backend
from lamforge.console import Steps, make_console
from lamforge.core import DataError, StepSample, Task, read_jsonl

console = make_console()
eval_app = typer.Typer(no_args_is_help=True, help="Evaluate models offline and online.")


@eval_app.command("offline")
def offline(
    model: Annotated[list[str], typer.Option(help="A checkpoint directory (save_pretrained), or "
                                                  "'rules' for the rule baseline; repeat to "
                                                  "compare models")],
    data: Annotated[list[Path], typer.Option(help="StepSample JSONL (a held-out split); "
                                                  "repeat for several splits")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics here")]
    = None,
    top_k: Annotated[int | None, typer.Option(min=1, help="Controls shown to the model "
                                                          "(default: as in its training)")]
    = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N steps")] = None,
    plans: Annotated[bool, typer.Option(help="Also score the plans each model writes for the "
                                             "split's tasks (<flow>/tasks/<split>.jsonl)")]
    = True,
) -> None:
    """The paper's offline metrics in one table: object, operation, args and status accuracy,
    step and task success per model and split; plan step precision/recall where a model
    writes plans."""
    from lamforge.eval.names import portable, short_names
    from lamforge.eval.offline import evaluate, evaluate_model, evaluate_plans, write
    from lamforge.train.sft import DEFAULT_TOP_K, trained_top_k

    for m in model:
        if m != "rules" and not (Path(m) / "config.json").is_file():
            raise DataError(f"{m}: not a checkpoint directory (no config.json)")
    splits = {d: read_jsonl(d, StepSample)[:limit] for d in data}
    rows = []
    for m in model:
        k = top_k or (DEFAULT_TOP_K if m == "rules" else trained_top_k(m))
        for d, samples in splits.items():
            if m == "rules":
                from lamforge.eval.baseline import rule_answers

                result = evaluate(samples, rule_answers(samples, k))
            else:
                result = evaluate_model(Path(m), samples, k)
                task_file = d.parent.parent / "tasks" / d.name
                if plans and task_file.is_file():
                    result |= evaluate_plans(Path(m), read_jsonl(task_file, Task)[:limit])
            rows.append({"model": portable(m), "split": d.stem, "top_k": k, **result})

    names = short_names(r["model"] for r in rows)
    table = Table("model", "split", "object", "operation", "args", "status", "step success",
                  "task success", "malformed", "plan P / R", title="offline evaluation")
    for r in rows:
        plan = (f"{r['plan_precision']:.1%} / {r['plan_recall']:.1%}" if "plan_precision" in r
                else "-")
        table.add_row(names[r["model"]], f"{r['split']} ({r['steps']})",
                      *(f"{r[k]:.1%}" for k in ("object", "operation", "args", "status",
                                                "step_success", "task_success", "malformed")),
                      plan)
    console.print(table)
    if json_out:
        write({"top_k": top_k, "rows": rows}, json_out)


@eval_app.command("online")
def online(
    model: Annotated[list[str], typer.Option(help="A checkpoint directory, 'rules', 'expert' "
                                                  "(the tasks' own actions replayed: the "
                                                  "harness's ceiling), or a model name served "
                                                  "at --endpoint; repeat to compare models")],
    tasks: Annotated[list[Path] | None, typer.Option(help="Task JSONL (checks define "
                                                          "success; actions only feed "
                                                          "'expert'); repeat for several "
                                                          "splits")] = None,
    env_name: Annotated[str, typer.Option("--env", help="Environment")] = "writer",
    suite: Annotated[str | None, typer.Option(help="Tasks from the environment's suite (e.g. "
                                                   "miniwob) instead of --tasks")] = None,
    subset: Annotated[str | None, typer.Option(help="A subset of the suite (e.g. lit56)")]
    = None,
    task: Annotated[list[str] | None, typer.Option("--task", help="Only these suite tasks")]
    = None,
    seeds: Annotated[str, typer.Option(help="Seeds of every suite task ('A:B' or '1,2'); "
                                            "keep them apart from the training seeds")]
    = "1000:1020",
    json_out: Annotated[Path, typer.Option("--json", help="Write the summary here; episodes "
                                                          "go to <name>/episodes.jsonl beside "
                                                          "it")] = Path("runs/online.json"),
    workers: Annotated[int, typer.Option(min=1, help="Workers (episodes at once), each with "
                                                     "its own environment")] = 1,
    endpoint: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL for model "
                                                      "names")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N tasks per file")]
    = None,
    sample: Annotated[int | None, typer.Option(min=1, help="A random sample of N tasks per "
                                                           "file (seeded by --seed)")] = None,
    seed: Annotated[int, typer.Option(help="Seed of --sample")] = 0,
    plans: Annotated[bool, typer.Option(help="Give the agent each task's plan")] = True,
    max_steps: Annotated[int, typer.Option(min=1, help="Step budget per task")] = 15,
    max_seconds: Annotated[float, typer.Option(min=1, help="Time budget per task")] = 120.0,
    top_k: Annotated[int | None, typer.Option(min=1, help="Controls shown to the model "
                                                          "(default: as in its training)")]
    = None,
    constrained: Annotated[bool, typer.Option(help="Constrained decoding (local models)")]
    = False,
    timeout: Annotated[float, typer.Option(help="Endpoint time-out per request, s")] = 60.0,
    api_key: ApiKey = None,
    backend: Backend = "local",
    address: Address = None,
    screenshots: Annotated[bool, typer.Option(help="Keep a screenshot of every step (GUI "
                                              "environments) beside the episodes; the report "
                                              "shows episodes as strips of them")] = False,
) -> None:
    """Run the agent live on every task, judge by the task's checks, and compare models: task
    success, completion time, steps, step latency p50/p95, tokens, failure kinds. Resumable:
    a rerun with the same --json does only the episodes not filed yet."""
    from lamforge.core.pool import describe
    from lamforge.envs.registry import resolve
    from lamforge.eval.online import (
        OnlineConfig,
        display_names,
        evaluate_online,
        sample_tasks,
        write_summary,
    )

    resolve(env_name)  # an unknown environment is one line before anything starts
    check_backend(backend, address)
    if endpoint is None:
        for m in model:
            if m not in ("rules", "expert") and not (Path(m) / "config.json").is_file():
                raise DataError(f"{m}: not a checkpoint directory (no config.json); give "
                                "--endpoint to use a served model name")
    if suite:
        if tasks:
            raise DataError("give --tasks (task files) or --suite (a benchmark), not both")
        from lamforge.envs.base import parse_seeds
        from lamforge.envs.registry import suite as get_suite

        split = subset or suite
        splits = {split: sample_tasks(get_suite(env_name, suite).tasks(
            parse_seeds(seeds), subset, task)[:limit], sample, seed)}
        sources = {split: f"{resolve(env_name).id}:{suite}"
                   + (f"/{subset}" if subset else "") + f"@{seeds}"}
    elif not tasks:
        raise DataError("no tasks: give --tasks (task JSONL) or --suite (an environment's "
                        "suite)")
    else:
        splits = {_split_name(t, tasks): sample_tasks(_load_online_tasks(t, env_name)[:limit],
                                                      sample, seed) for t in tasks}
        sources = dict(zip(splits, map(str, tasks), strict=True))
    cfg = OnlineConfig(env=env_name, workers=workers, endpoint=endpoint, top_k=top_k,
                       plans=plans, max_steps=max_steps, max_seconds=max_seconds,
                       constrained=constrained, timeout_s=timeout, api_key=api_key,
                       backend=backend, address=address)
    names = display_names(model)
    episodes_file = json_out.with_suffix("") / "episodes.jsonl"
    if screenshots:
        cfg.env_kwargs["screenshots"] = str(_screenshots_dir(env_name, episodes_file))
    total = len(names) * sum(len(v) for v in splits.values())
    with Steps(console, f"online evaluation ({describe(cfg.pool)})", total) as progress:
        episodes = evaluate_online(model, splits, cfg, episodes_file,
                                   on_done=lambda rec: progress.advance())
    result = write_summary(json_out, cfg, names, sources,
                           episodes_file, list(episodes.values()))
    console.print(online_table(result["rows"]))
    console.print(f"wrote {json_out} and {episodes_file}")


def online_table(rows: list[dict]) -> Table:
    table = Table("model", "split", "task success", "time / task", "steps", "step p50 / p95",
                  "tokens in / out per task", "top failure", title="online evaluation")
    for r in rows:
        top = next(iter(r["failures"].items()), None)
        lat = r["step_latency_ms"]
        table.add_row(r["model"], r["split"],
                      f"{r['passed']}/{r['tasks']} ({r['success_rate']:.1%})",
                      f"{r['mean_seconds']:.2f} s", f"{r['mean_steps']:.1f}",
                      f"{lat['p50'] or 0:.0f} / {lat['p95'] or 0:.0f} ms",
                      f"{r['tokens_in'] / r['tasks']:.0f} / {r['tokens_out'] / r['tasks']:.0f}",
                      f"{top[0]} ({top[1]})" if top else "-")
    return table


def _screenshots_dir(env_name: str, episodes_file: Path) -> Path:
    """Where an evaluation keeps its screenshots; a one-line error for an environment that
    cannot take them."""
    import inspect

    from lamforge.envs.registry import env_class

    if "screenshots" not in inspect.signature(env_class(env_name)).parameters:
        raise DataError(f"--screenshots needs a GUI environment (writer-gui, calc-gui, "
                        f"impress-gui); '{env_name}' has no screen to take")
    return episodes_file.parent / "screenshots"


def _split_name(path: Path, all_paths: list[Path]) -> str:
    """test_instance.jsonl -> test_instance; two files of one name keep their folder."""
    same = [p for p in all_paths if p.stem == path.stem]
    return path.stem if len(same) == 1 else f"{path.parent.name}/{path.stem}"


def _load_online_tasks(path: Path, env_name: str = "writer") -> list[Task]:
    """Tasks their environment accepts (valid checks, a known page)."""
    from lamforge.cli import _load_tasks

    if not path.is_file():
        raise DataError(f"{path}: no such task file")
    tasks = _load_tasks(path, None, env_name)
    if not tasks:
        raise DataError(f"{path}: no tasks in the file")
    return tasks
