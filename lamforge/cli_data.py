"""`lamforge data …`: mine help pages, evolve harder variants, show statistics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lamforge.cli_options import Address, Backend, check_backend
from lamforge.console import Steps, make_console
from lamforge.core import DataError, Task, TaskPlan, read_jsonl, write_jsonl

data_app = typer.Typer(no_args_is_help=True, help="Task-plan data: mine, evolve, stats.")
console = make_console()
err = make_console(stderr=True)
DEFAULT_APPS = ["swriter", "scalc", "simpress", "sdraw", "shared"]


@data_app.command("mine")
def mine(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="HTML/Markdown files or folders (default: LibreOffice's installed help for "
             "Writer, Calc, Impress, Draw and the shared pages)")] = None,
    out: Annotated[Path, typer.Option(help="Output JSONL of TaskPlan")] = Path("data/mined.jsonl"),
    app: Annotated[str | None, typer.Option(help="App tag for every pair (default: from the "
                                                  "help folder: writer, calc, …)")] = None,
    near_dup: Annotated[float, typer.Option(min=0.5, max=1.0, help="Jaccard similarity from "
                                                 "which two pairs are near duplicates")] = 0.85,
    functions: Annotated[str | None, typer.Option(
        help="Mine function documentation instead of help pages: bfcl (BFCL's back ends) or "
             "support (the customer-service service's OpenAPI document)")] = None,
) -> None:
    """Mine task-plan pairs from help pages (or function docs), clean and deduplicate them."""
    from lamforge.dataflow.clean import CleanConfig, CleanReport, clean
    from lamforge.dataflow.mine import HELP_ROOT, MineReport, iter_files, mine_paths
    from lamforge.dataflow.stats import report_path

    _check_out(out)
    if functions:
        from lamforge.envs.tools.mine import mine_source

        if paths:
            raise DataError("give help pages or --functions, not both")
        raw = mine_source(functions)
        kept = clean(raw, CleanConfig(near_dup_threshold=near_dup), creport := CleanReport())
        write_jsonl(out, kept)
        report_path(out).write_text(json.dumps({"functions": functions, "raw_pairs": len(raw),
                                                "clean": creport.as_dict()}, indent=2))
        console.print(f"{out}: {len(kept)} pairs from {len(raw)} documented functions "
                      f"({functions}); dropped {sum(creport.dropped.values())} "
                      f"({dict(creport.dropped)})", highlight=False)
        return
    sources = paths or [HELP_ROOT / d for d in DEFAULT_APPS]
    missing = [str(p) for p in sources if not p.exists()]
    if missing:
        raise DataError(f"no such file or folder: {', '.join(missing)}"
                        + (" (install libreoffice-help-en-us)" if not paths else ""))
    files = list(iter_files(sources))
    mreport, creport = MineReport(), CleanReport()
    with Steps(console, "mining help pages", len(files)) as progress:

        def tick_files():
            for f in files:
                progress.advance()
                yield f

        raw = list(mine_paths(list(tick_files()), app=app, report=mreport))
    kept = clean(raw, CleanConfig(near_dup_threshold=near_dup), creport)
    write_jsonl(out, kept)
    report = {"files_read": mreport.files, "files_skipped": len(mreport.skipped),
              "skipped": mreport.skipped, "found": mreport.found, "raw_pairs": len(raw),
              "clean": creport.as_dict()}
    report_path(out).write_text(json.dumps(report, indent=2))
    if mreport.skipped:
        reasons: dict[str, int] = {}
        for why in mreport.skipped.values():
            reasons[why] = reasons.get(why, 0) + 1
        err.print(f"warning: skipped {len(mreport.skipped)} file(s): "
                  + ", ".join(f"{n} {why}" for why, n in reasons.items()), highlight=False)
    table = Table("app", "pairs", title=f"{out} ({len(kept)} pairs from {mreport.files} pages)")
    for a, n in sorted(_count(kept).items()):
        table.add_row(a, str(n))
    console.print(table)
    console.print(f"found {len(raw)} raw pairs ({mreport.found}); dropped "
                  f"{sum(creport.dropped.values())} ({dict(creport.dropped)}), "
                  f"{creport.exact_duplicates} exact and {creport.near_duplicates} near "
                  f"duplicates; report: {report_path(out)}", highlight=False)


def _check_out(out: Path) -> None:
    if out.is_dir():
        raise DataError(f"--out {out} is a directory; give a file name such as {out}/pairs.jsonl")


def _count(pairs: list[TaskPlan]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in pairs:
        out[p.app] = out.get(p.app, 0) + 1
    return out


BaseUrl = Annotated[str | None, typer.Option(help="LLM: OpenAI-compatible base URL "
                                                   "[env LAMFORGE_LLM_BASE_URL]")]
Model = Annotated[str | None, typer.Option(help="LLM: model name [env LAMFORGE_LLM_MODEL]")]
ApiKey = Annotated[str | None, typer.Option(help="LLM: API key [env LAMFORGE_LLM_API_KEY]")]
Concurrency = Annotated[int, typer.Option(min=1, help="LLM: requests in flight")]


@data_app.command("evolve")
def evolve(
    inp: Annotated[Path, typer.Option("--in", help="Mined TaskPlan JSONL")] = Path(
        "data/mined.jsonl"),
    out: Annotated[Path, typer.Option(help="Output JSONL of evolved variants")] = Path(
        "data/evolved.jsonl"),
    provider: Annotated[str, typer.Option(help="rules (offline) or llm")] = "rules",
    per_pair: Annotated[int, typer.Option(min=1, help="Variants to make per pair")] = 2,
    seed: Annotated[int, typer.Option(help="Seed (rules; sent to the LLM endpoint too)")] = 0,
    app: Annotated[list[str] | None, typer.Option(help="Only pairs of these apps")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N pairs")] = None,
    base_url: BaseUrl = None,
    model: Model = None,
    api_key: ApiKey = None,
    temperature: Annotated[float | None, typer.Option(help="LLM: sampling temperature")] = None,
    timeout: Annotated[float | None, typer.Option(min=0.1, help="LLM: seconds per request")]
    = None,
    retries: Annotated[int | None, typer.Option(min=0, help="LLM: retries per request")] = None,
    concurrency: Concurrency = 4,
) -> None:
    """Make harder variants of mined pairs (constraints, compositions); keep provenance.

    The output is written only when every variant is made: a failing endpoint leaves no
    partial file.
    """
    from lamforge.dataflow.evolve import LLMEvolver, RulesEvolver

    _check_out(out)
    pairs = read_jsonl(inp, TaskPlan)
    if app:
        pairs = [p for p in pairs if p.app in app]
    pairs = pairs[:limit] if limit else pairs
    if provider == "rules":
        evolver = RulesEvolver(per_pair=per_pair, seed=seed)
        total = len(pairs)
    elif provider == "llm":
        from lamforge.llm.client import LLMConfig, OpenAIClient

        cfg = LLMConfig.from_env(base_url=base_url, model=model, api_key=api_key,
                                 temperature=temperature, timeout_s=timeout, retries=retries,
                                 concurrency=concurrency, seed=seed)
        evolver = LLMEvolver(OpenAIClient(cfg), per_pair=per_pair, concurrency=cfg.concurrency,
                             attempts=cfg.json_attempts)
        total = len(pairs) * per_pair
    else:
        raise DataError(f"unknown provider '{provider}' (use rules or llm)")
    with Steps(console, f"evolving ({provider})", total) as progress:
        variants = evolver.evolve(pairs, on_done=progress.advance)
    write_jsonl(out, variants)
    ratio = len(variants) / len(pairs) if pairs else 0.0
    console.print(f"{len(variants)} variants of {len(pairs)} pairs ({ratio:.2f}x) -> {out}")


@data_app.command("stats")
def stats(
    files: Annotated[list[Path], typer.Argument(help="TaskPlan JSONL files")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the stats here")] = None,
) -> None:
    """Counts per app and source, length distributions, removed duplicates, evolution ratio."""
    from lamforge.dataflow.stats import compute, load_reports

    pairs = [p for f in files for p in read_jsonl(f, TaskPlan)]
    result = compute(pairs, load_reports(files))
    kinds = sorted({k for c in result["by_app"].values() for k in c})
    table = Table("app", *kinds, "total", title=f"{result['total']} task-plan pairs")
    for a, c in result["by_app"].items():
        table.add_row(a, *(str(c.get(k, 0)) for k in kinds), str(sum(c.values())))
    console.print(table)
    lengths = Table("length", "min", "median", "p90", "max", "mean")
    for name in ("task_words", "plan_steps", "step_words"):
        d = result[name]
        lengths.add_row(name.replace("_", " "), *(f"{d[k]:g}" for k in
                                                  ("min", "median", "p90", "max", "mean")))
    console.print(lengths)
    console.print(f"mined {result['mined']}, evolved {result['evolved']}, evolution ratio "
                  f"{result['evolution_ratio']}; removed in cleaning: "
                  f"{result['removed_in_cleaning'] or 'no report found'}", highlight=False)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))


def _flow_config(out_dir: Path, instances: int, seed: int, match: str, threshold: float,
                 workers: int, selector: str, prefill: str = "rules",
                 llm: dict | None = None, backend: str = "local", address: str | None = None):
    from lamforge.dataflow.flow import FlowConfig
    from lamforge.envs.match import MODES
    from lamforge.llm.client import LLMConfig

    if match not in MODES:
        raise DataError(f"unknown match mode '{match}' (use {', '.join(MODES)})")
    check_backend(backend, address)
    llm_cfg = None
    if "llm" in (selector, prefill):
        llm_cfg = LLMConfig.from_env(seed=seed, max_tokens=2048, **(llm or {}))  # long answers
    return FlowConfig(out_dir=out_dir, instances=instances, seed=seed, match=match,
                      threshold=threshold, workers=workers, selector=selector, prefill=prefill,
                      llm=llm_cfg, backend=backend, address=address)


def _pairs(files: list[Path], app: str = "writer") -> tuple[list[TaskPlan], list[str]]:
    """The app's pairs of all files, and the malformed lines (filed under fail, not fatal)."""
    from lamforge.core import read_jsonl_lenient

    pairs: list[TaskPlan] = []
    bad: list[str] = []
    for f in files:
        good, errors = read_jsonl_lenient(f, TaskPlan)
        pairs += [p for p in good if p.app in (app, "shared")]
        bad += errors
    if bad:
        err.print(f"warning: {len(bad)} malformed record(s) filed under instantiation/fail "
                  f"(first: {bad[0]})", highlight=False)
    return pairs, bad


InFiles = Annotated[list[Path], typer.Option("--in", help="TaskPlan JSONL (mined, evolved)")]
OutDir = Annotated[Path, typer.Option(help="Run directory")]
Instances = Annotated[int, typer.Option(min=1, help="Instances per pair")]
Selector = Annotated[str, typer.Option(help="Template choice: minilm, keywords or llm")]
Prefill = Annotated[str, typer.Option(help="Prefill provider: rules (offline) or llm")]
Match = Annotated[str, typer.Option(help="exact, contains, fuzzy or regex")]
Workers = Annotated[int, typer.Option(min=1, help="Workers, each with its own app "
                                                   "(LibreOffice, Chromium)")]


@data_app.command("instantiate")
def instantiate_cmd(
    inp: InFiles, out_dir: OutDir = Path("runs/flow"),
    instances: Instances = 2,
    seed: int = 0,
    selector: Selector = "minilm",
    prefill: Prefill = "rules",
    base_url: BaseUrl = None, model: Model = None, api_key: ApiKey = None,
    concurrency: Concurrency = 4,
) -> None:
    """Choose templates, prefill actions and checks, filter what cannot be grounded."""
    cfg = _flow_config(out_dir, instances, seed, "exact", 85.0, 1, selector, prefill, dict(
        base_url=base_url, model=model, api_key=api_key, concurrency=concurrency))
    tasks, failed = _instantiate(cfg, inp)
    console.print(f"instantiation: {len(tasks)} task instances (pass), {len(failed)} pairs "
                  f"filtered (fail) -> {out_dir / 'instantiation'}")


@data_app.command("execute")
def execute_cmd(
    out_dir: OutDir = Path("runs/flow"),
    match: Match = "exact",
    threshold: Annotated[float, typer.Option(help="fuzzy score needed (0-100)")] = 85.0,
    workers: Workers = 1,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N tasks")] = None,
    backend: Backend = "local",
    address: Address = None,
) -> None:
    """Execute the instantiated tasks in Writer and file each result (resumable)."""
    from lamforge.core import read_jsonl_lenient
    from lamforge.dataflow.flow import (
        done_ids,
        execute,
        file_bad_records,
        load_settings,
        postprocess,
        summarise,
    )

    cfg = load_settings(_flow_config(out_dir, 1, 0, match, threshold, workers, "keywords",
                                     backend=backend, address=address))
    tasks, bad = read_jsonl_lenient(out_dir / "instantiation" / "pass.jsonl", Task)
    known = done_ids(out_dir)
    new_bad = [b for b in bad if f"malformed:{b.split(': ')[0]}" not in known]
    if new_bad:
        err.print(f"warning: {len(new_bad)} malformed task record(s) filed under "
                  f"execution/fail (first: {new_bad[0]})", highlight=False)
        file_bad_records(out_dir, new_bad)
    tasks = tasks[:limit]
    _run_execution(cfg, tasks, execute)
    postprocess(cfg)
    _print_summary(summarise(cfg))


def _instantiate(cfg, inp: list[Path]):
    from lamforge.dataflow.flow import instantiate

    pairs, bad = _pairs(inp)
    with Steps(console, "instantiating", len(pairs)) as progress:
        return instantiate(pairs, cfg, on_done=progress.advance, bad_records=bad)


def _instantiate_in_env(cfg, inp: list[Path], seeds: list[int]):
    """Pairs instantiated by the environment itself (tools: a back end's state and argument
    values it accepts), one instance per pair and seed."""
    from lamforge.dataflow.flow import add_tasks
    from lamforge.envs.registry import instantiate

    pairs, bad = _pairs(inp, app=cfg.env.split("-v")[0].removesuffix("-gui"))
    if not pairs and not bad:
        raise DataError(f"no {cfg.env} pairs in {', '.join(map(str, inp))}")
    tasks, failed = instantiate(cfg.env, pairs, seeds)
    failed = [{"pair": None, "task": None, "reason": r} for r in bad] + failed
    add_tasks(cfg, tasks, failed)
    console.print(f"instantiation: {len(tasks)} task instances from {len(pairs)} pairs at "
                  f"{len(seeds)} seed(s); {len(failed)} filed as failed")
    return tasks, failed


def _run_execution(cfg, tasks, execute) -> None:
    from lamforge.core.pool import describe
    from lamforge.dataflow.flow import done_ids

    todo = len([t for t in tasks if t.id not in done_ids(cfg.out_dir)])
    what = "exploring" if cfg.suite else "executing"
    with Steps(console, f"{what} ({describe(cfg.pool)})", todo) as progress:
        execute(tasks, cfg, on_done=lambda kind: progress.advance())


EnvName = Annotated[str, typer.Option("--env", help="Environment (writer, web, …)")]
SuiteName = Annotated[str | None, typer.Option(help="Tasks from the environment's suite "
                                                     "(e.g. miniwob) instead of --in")]
Subset = Annotated[str | None, typer.Option(help="A subset of the suite (e.g. lit56)")]
SuiteTask = Annotated[list[str] | None, typer.Option("--task", help="Only these tasks of the "
                                                                    "suite; repeatable")]
Seeds = Annotated[str, typer.Option(help="Seeds of every suite task, or of every pair an "
                                         "environment instantiates itself (tools): 'A:B' "
                                         "(B excluded) or '1,2,3'")]


@data_app.command("flow")
def flow_cmd(
    inp: Annotated[list[Path] | None, typer.Option(
        "--in", help="TaskPlan JSONL (mined, evolved); not with --suite")] = None,
    out_dir: OutDir = Path("runs/flow"),
    instances: Instances = 2,
    seed: int = 0,
    selector: Selector = "minilm",
    prefill: Prefill = "rules",
    match: Match = "exact",
    threshold: float = 85.0,
    workers: Workers = 1,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N task instances")]
    = None,
    env_name: EnvName = "writer",
    suite: SuiteName = None,
    subset: Subset = None,
    task: SuiteTask = None,
    seeds: Seeds = "0:10",
    episodes: Annotated[int, typer.Option(min=1, help="Suite tasks: episodes the verified "
                                                      "search may spend per instance")] = 120,
    test_instance: Annotated[float, typer.Option(min=0, max=1, help="Share of tasks held "
                                                                    "out as test_instance")]
    = 0.1,
    test_family: Annotated[float, typer.Option(min=0, max=1, help="Share of families (help "
                                                                  "pages, suite tasks) held "
                                                                  "out as test_family")] = 0.1,
    base_url: BaseUrl = None, model: Model = None, api_key: ApiKey = None,
    concurrency: Concurrency = 4,
    backend: Backend = "local",
    address: Address = None,
) -> None:
    """instantiate -> execute -> evaluate -> post-process, resumable; prints a summary.

    With --suite, the tasks come from the environment's suite at --seeds; a suite without
    demonstrations (miniwob) is executed by verified exploration (the app's reward as the
    verifier), one with an expert's actions (bfcl, support) by replaying and verifying them.
    With --in outside Writer, the environment instantiates the pairs itself at --seeds
    (tools: a back end's state and argument values it accepts)."""
    from lamforge.dataflow.flow import execute, postprocess, suite_tasks, summarise
    from lamforge.envs.base import parse_seeds
    from lamforge.envs.registry import resolve

    cfg = _flow_config(out_dir, instances, seed, match, threshold, workers, selector, prefill,
                       dict(base_url=base_url, model=model, api_key=api_key,
                            concurrency=concurrency), backend, address)
    cfg.env, cfg.test_instance, cfg.test_family = resolve(env_name).id, test_instance, test_family
    if suite:
        if inp:
            raise DataError("give --in (task-plan pairs) or --suite (a benchmark's tasks), "
                            "not both")
        cfg.suite, cfg.search = suite, {"episodes": episodes}
        tasks = suite_tasks(cfg, parse_seeds(seeds), subset, task)
    elif not inp:
        raise DataError("no tasks: give --in with task-plan pairs (lamforge data mine) or "
                        "--suite with an environment's suite")
    elif cfg.env not in ("writer-v0", "writer-gui-v0"):  # Writer's own prefill, both modes
        tasks, _ = _instantiate_in_env(cfg, inp, parse_seeds(seeds))
    else:
        tasks, _ = _instantiate(cfg, inp)
    _run_execution(cfg, tasks[:limit], execute)
    sizes = postprocess(cfg)
    # the run's instantiation as filed (a suite or more seeds add to earlier calls')
    _print_summary(summarise(cfg))
    console.print(f"step samples: {sizes}; datasets: {out_dir / 'datasets'}")


def _print_summary(s: dict) -> None:
    table = Table("stage", "pass", "fail", "unsure", "errors", title="dataflow")
    inst = s["instantiation"]
    table.add_row("instantiation", str(inst["pass"]), str(inst["fail"]), "", "")
    ex = s["execution"]
    table.add_row("execution", str(ex["pass"]), str(ex["fail"]), str(ex["unsure"]),
                  str(ex["errors"]))
    console.print(table)
    console.print(f"distinct commands in passing trajectories: "
                  f"{s['distinct_commands_in_passing']}; mean time per task: "
                  + ", ".join(f"{k.removesuffix('_s')} {v:.3f} s"
                              for k, v in s["mean_stage_s"].items()))
    reasons = Table("top failure reasons", "count")
    for reason, n in s["top_failure_reasons"][:8]:
        reasons.add_row(reason, str(n))
    for reason, n in s["instantiation"].get("top_reasons", [])[:4]:
        reasons.add_row(f"instantiation: {reason}", str(n))
    console.print(reasons)
