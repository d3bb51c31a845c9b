"""`lamforge report RUN_DIR`: one run's offline and online evaluation as Markdown and HTML.

The report is built once as a list of sections (tables, figures, notes) and then written twice,
so `report.md` (for a repository or a pull request) and `report.html` (one self-contained file to
mail or archive: CSS inline, images as data URIs, nothing fetched) cannot drift apart. Every table
and figure carries a "Source:" line naming the JSON file and keys it was made from, because a
number in a report is only worth as much as one's ability to find where it came from.

Inputs, all relative to RUN_DIR: `offline.json` (`lamforge eval offline --json`), `online.json`
and its episodes file (`lamforge eval online --json`), and, when present, each trained kind's
`<kind>/lamN/metrics.json` (train/, or the demo's ranker/ and tiny/) and `flow/summary.json`.
At least one of the two evaluation files must exist.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lamforge.core import DataError
from lamforge.eval import plots
from lamforge.eval.names import short_names

PAPER = "the paper (\"Large Action Models: From Inception to Implementation\", Microsoft 2024)"
# (step success %, task success %) of the paper's offline evaluation on Word
PAPER_OFFLINE = {"lam1": (33.0, 35.6), "lam2": (83.6, 76.8), "lam3": (85.9, 79.3),
                 "lam4": (86.2, 81.2)}
# (agent, task success %, s per task, steps per task, s per step) of the paper's online evaluation
PAPER_ONLINE = [("LAM", 71.0, 30.42, 5.62, 5.41), ("GPT-4o (text only)", 63.0, None, None, None)]
PLOTS = ("offline_by_phase", "online_by_model", "latency", "success_by_family")
TOP_FAMILIES = 15


# ---- the document model: built once, written as Markdown and as HTML ----------------------

@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]
    source: str
    numeric: set[int] = field(default_factory=set)  # right-aligned columns


@dataclass
class Figure:
    name: str
    caption: str
    path: Path
    source: str


@dataclass
class Note:
    text: str


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Table | Figure | Note]


# ---- reading the run -----------------------------------------------------------------------

@dataclass
class Run:
    dir: Path
    offline: dict[str, Any] | None = None
    online: dict[str, Any] | None = None
    episodes: list[dict[str, Any]] | None = None
    episodes_file: str = "online/episodes.jsonl"
    train: dict[str, dict[str, Any]] = field(default_factory=dict)
    flow: dict[str, Any] | None = None
    skipped: list[str] = field(default_factory=list)  # optional inputs that could not be read


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read ({e})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def _checked_rows(data: dict[str, Any], path: Path) -> None:
    rows = data.get("rows")
    if not isinstance(rows, list):
        raise DataError(f"{path}: 'rows' must be a list of result rows")
    for i, r in enumerate(rows):
        if not (isinstance(r, dict) and isinstance(r.get("model"), str)
                and isinstance(r.get("split"), str)):
            raise DataError(f"{path}: rows[{i}] needs 'model' and 'split' strings")


def load(run_dir: Path) -> Run:
    """Read a run directory; malformed evaluation files are a DataError naming the file, while a
    malformed optional file (training metrics, dataflow summary) is only noted in the report, as
    it may be mid-write by a job still running."""
    if not run_dir.is_dir():
        raise DataError(f"{run_dir}: no such run directory")
    run = Run(dir=run_dir)
    if (p := run_dir / "offline.json").is_file():
        run.offline = _read_json(p)
        _checked_rows(run.offline, p)
    if (p := run_dir / "online.json").is_file():
        run.online = _read_json(p)
        _checked_rows(run.online, p)
        run.episodes_file = str(run.online.get("episodes_file") or run.episodes_file)
        if (ep := run_dir / run.episodes_file).is_file():
            run.episodes = _read_episodes(ep)
    if run.offline is None and run.online is None:
        raise DataError(f"{run_dir}: no offline.json or online.json to report")
    # each kind of model trained in the run (the demo: ranker/ and tiny/; a run of
    # `lamforge train`: train/), its phases named as in the tables when there are several
    trained = sorted(d for d in run_dir.iterdir()
                     if d.is_dir() and any(d.glob("lam[1-4]/metrics.json")))
    for d in trained:
        for phase in ("lam1", "lam2", "lam3", "lam4"):
            if (p := d / phase / "metrics.json").is_file():
                try:
                    run.train[phase if len(trained) == 1 else f"{d.name}/{phase}"] = \
                        _read_json(p)
                except DataError as e:
                    run.skipped.append(str(e))
    if (p := run_dir / "flow" / "summary.json").is_file():
        try:
            run.flow = _read_json(p)
        except DataError as e:
            run.skipped.append(str(e))
    return run


def _read_episodes(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("model"), str):
                raise DataError(f"{path}:{lineno}: expected an episode object with a 'model'")
            out.append(record)
    return out


# ---- small helpers -------------------------------------------------------------------------

def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) \
        else None


def _pct(x: Any) -> str:
    v = _num(x)
    return "-" if v is None else f"{v * 100:.1f}%"


def _fixed(x: Any, digits: int) -> str:
    v = _num(x)
    return "-" if v is None else f"{v:.{digits}f}"


def _pair(a: str, b: str) -> str:
    return "-" if a == b == "-" else f"{a} / {b}"


def _code(s: Any) -> str:
    """A JSON string inside authored text: a code span, so Markdown never interprets it."""
    return "`" + str(s).replace("`", "'").replace("\n", " ") + "`"


def order_models(names: Iterable[str]) -> list[str]:
    """rules first (the baseline to beat), then lam1..lam4 in phase order, then the rest as
    they appear."""
    def key(item: tuple[int, str]) -> tuple[int, int]:
        i, name = item
        if name == "rules":
            return (0, 0)
        m = re.fullmatch(r"lam([1-4])", name)
        return (1, int(m[1])) if m else (2, i)

    return [n for _, n in sorted(enumerate(dict.fromkeys(names)), key=key)]


def _sorted_rows(rows: list[dict[str, Any]], name: dict[str, str]) -> list[dict[str, Any]]:
    models = order_models(name[r["model"]] for r in rows)
    splits = list(dict.fromkeys(r["split"] for r in rows))
    return sorted(rows, key=lambda r: (models.index(name[r["model"]]), splits.index(r["split"])))


def _success(row: dict[str, Any]) -> str:
    tasks, passed = _num(row.get("tasks")), _num(row.get("passed"))
    if tasks is None or passed is None:
        return _pct(row.get("success_rate"))
    return f"{int(passed)}/{int(tasks)} ({_pct(passed / tasks) if tasks else '-'})"


def _rate(row: dict[str, Any]) -> float | None:
    tasks, passed = _num(row.get("tasks")), _num(row.get("passed"))
    return passed / tasks if tasks and passed is not None else _num(row.get("success_rate"))


def _latency(row: dict[str, Any], key: str) -> str:
    d = row.get(key) if isinstance(row.get(key), dict) else {}
    return _pair(_fixed(d.get("p50"), 0), _fixed(d.get("p95"), 0))


def _per_task(row: dict[str, Any]) -> str:
    tasks = _num(row.get("tasks"))
    if not tasks:
        return "-"
    return _pair(*(_fixed(v / tasks, 0) if (v := _num(row.get(k))) is not None else "-"
                   for k in ("tokens_in", "tokens_out")))


def _failures(row: dict[str, Any], top: int = 3) -> str:
    f = row.get("failures")
    if not isinstance(f, dict) or not f:
        return "-"
    kinds = sorted(((k, int(v)) for k, v in f.items() if _num(v)), key=lambda kv: -kv[1])
    text = ", ".join(f"{k} ({v})" for k, v in kinds[:top])
    return text + (f", +{len(kinds) - top} more" if len(kinds) > top else "")


# ---- the sections --------------------------------------------------------------------------

def _offline(run: Run) -> tuple[Section, list[dict[str, Any]]]:
    assert run.offline is not None
    rows = run.offline["rows"]
    name = short_names(r["model"] for r in rows)
    rows = [{**r, "short": name[r["model"]]} for r in _sorted_rows(rows, name)]
    plans = any("plan_precision" in r for r in rows)
    header = ["model", "split", "steps", "tasks", "object", "operation", "status", "step success",
              "task success", "args", "malformed"] + (["plan P / R"] if plans else [])
    body = []
    for r in rows:
        cells = [r["short"], r["split"], _fixed(r.get("steps"), 0), _fixed(r.get("tasks"), 0),
                 *(_pct(r.get(k)) for k in ("object", "operation", "status", "step_success",
                                            "task_success", "args", "malformed"))]
        if plans:
            cells.append(_pair(_pct(r.get("plan_precision")), _pct(r.get("plan_recall")))
                         if "plan_precision" in r else "-")
        body.append(cells)
    top_k = run.offline.get("top_k")
    table = Table(f"Offline step metrics per model and split (top {top_k} controls shown)"
                  if top_k is not None else "Offline step metrics per model and split (controls "
                  "shown as each model was trained)",
                  header, body,
                  "Source: `offline.json` → `rows[]`: `model` (shortened), `split`, `steps`, `tasks`, "
                  "`object`, `operation`, `status`, `step_success`, `task_success`, `args`, "
                  "`malformed`" + (", `plan_precision`, `plan_recall`" if plans else "")
                  + "; caption: `top_k`.", numeric=set(range(2, len(header))))
    return Section("offline", "Offline", [table]), rows


def _online(run: Run) -> tuple[Section, list[dict[str, Any]]]:
    assert run.online is not None
    rows = _sorted_rows(run.online["rows"], {r["model"]: r["model"] for r in run.online["rows"]})
    blocks: list[Table | Figure | Note] = []
    listing = []
    for key, kind in (("models", "model"), ("splits", "split")):
        if isinstance(run.online.get(key), dict):
            listing += [[kind, str(k), str(v)] for k, v in run.online[key].items()]
    if listing:
        blocks.append(Table("Models and splits evaluated", ["kind", "name", "path"], listing,
                            "Source: `online.json` → `models`, `splits`."))
    body = [[r["model"], r["split"], _success(r), _fixed(r.get("mean_seconds"), 2),
             _fixed(r.get("mean_steps"), 2), _latency(r, "step_latency_ms"),
             _latency(r, "model_latency_ms"), _per_task(r), _failures(r)] for r in rows]
    blocks.append(Table(
        "Online task success and cost per model and split",
        ["model", "split", "task success", "mean time (s)", "mean steps",
         "step ms p50 / p95", "model ms p50 / p95",
         "tokens in / out per task", "top failure kinds"], body,
        "Source: `online.json` → `rows[]`: `model`, `split`, `passed` / `tasks`, `mean_seconds`, "
        "`mean_steps`, `step_latency_ms.p50` / `.p95`, `model_latency_ms.p50` / `.p95`, "
        "`tokens_in` / `tokens_out` ÷ `tasks`, `failures` (the three most frequent).",
        numeric={2, 3, 4, 5, 6, 7}))
    if run.episodes is None:
        blocks.append(Note(f"No episodes file {_code(run.episodes_file)}: the per-step latency "
                           "figure is skipped."))
    else:
        seen = Counter((e["model"], e.get("split")) for e in run.episodes)
        odd = [f"{_code(r['model'])} / {_code(r['split'])}: {seen[(r['model'], r['split'])]} "
               f"episodes, {int(t)} tasks" for r in rows
               if (t := _num(r.get("tasks"))) is not None and seen[(r["model"], r["split"])] != t]
        text = (f"{len(run.episodes)} episodes read from {_code(run.episodes_file)} (one JSON object "
                "per line).")
        if odd:
            text += " The episodes do not match the table for " + "; ".join(odd) + \
                    " (is the evaluation still running?)."
        blocks.append(Note(text))
    return Section("online", "Online", blocks), rows


def _paper(offline: list[dict[str, Any]], online: list[dict[str, Any]]) -> Section:
    splits = list(dict.fromkeys(r["split"] for r in offline))
    mine = {(r["short"], r["split"]): r for r in offline}
    header = ["model", "paper: step success", "paper: task success",
              *(f"this run ({s}): step / task" for s in splits)]
    body = [[m.upper(), f"{step:.1f}%", f"{task:.1f}%",
             *(_pair(_pct(mine[(m, s)].get("step_success")), _pct(mine[(m, s)].get("task_success")))
               if (m, s) in mine else "-" for s in splits)]
            for m, (step, task) in PAPER_OFFLINE.items()]
    blocks: list[Table | Figure | Note] = [
        Note("The paper evaluated Word on Windows on its own test set; lamforge drives LibreOffice "
             "Writer, so compare the shape (the ordering of the phases, the gap between step and "
             "task success) more than the absolute values."),
        Table("Offline: the paper's LAM1–LAM4 next to this run", header, body,
              f"Source: {PAPER}, kept as `PAPER_OFFLINE` in `lamforge/eval/report.py`; this run: "
              "`offline.json` → `rows[]` `step_success`, `task_success` of lam1–lam4.",
              numeric=set(range(1, len(header))))]
    body = [["paper", agent, "-", f"{rate:.1f}%", _fixed(s, 2), _fixed(steps, 2), _fixed(per, 2)]
            for agent, rate, s, steps, per in PAPER_ONLINE]
    for r in online:
        secs, steps = _num(r.get("mean_seconds")), _num(r.get("mean_steps"))
        body.append(["this run", r["model"], r["split"], _success(r), _fixed(secs, 2), _fixed(steps, 2),
                     _fixed(secs / steps, 2) if secs is not None and steps else "-"])
    blocks.append(Table("Online: the paper's agents next to this run",
                        ["", "agent", "split", "task success", "s per task", "steps per task",
                         "s per step"], body,
                        f"Source: {PAPER}, kept as `PAPER_ONLINE` in `lamforge/eval/report.py`; this "
                        "run: `online.json` → `rows[]` `passed` / `tasks`, `mean_seconds`, "
                        "`mean_steps`, and s per step = `mean_seconds` ÷ `mean_steps`.",
                        numeric={3, 4, 5, 6}))
    return Section("paper", "Paper reference numbers", blocks)


def _figures(run: Run, offline: list[dict[str, Any]], online: list[dict[str, Any]],
             plot_dir: Path) -> Section:
    blocks: list[Table | Figure | Note] = []

    def skip(name: str, why: str) -> None:
        (plot_dir / f"{name}.png").unlink(missing_ok=True)  # never leave a stale figure behind
        blocks.append(Note(f"Figure `{name}.png` skipped: {why}."))

    step = {(r["short"], r["split"]): v for r in offline if (v := _num(r.get("step_success"))) is not None}
    task = {(r["short"], r["split"]): v for r in offline if (v := _num(r.get("task_success"))) is not None}
    if step or task:
        plots.offline_by_phase(plot_dir / "offline_by_phase.png",
                               list(dict.fromkeys(r["split"] for r in offline)),
                               order_models(r["short"] for r in offline), step, task)
        blocks.append(Figure("offline_by_phase", "Offline step and task success per model, by split",
                             plot_dir / "offline_by_phase.png",
                             "Source: `offline.json` → `rows[]` `step_success`, `task_success`, "
                             "grouped by `split`, one bar per `model`."))
    else:
        skip("offline_by_phase", "no numeric `step_success` or `task_success` in `offline.json`"
             if run.offline else "no `offline.json`")

    rate = {(r["model"], r["split"]): v for r in online if (v := _rate(r)) is not None}
    if rate:
        label = {(r["model"], r["split"]): _success(r).split(" ")[0] for r in online}
        plots.online_by_model(plot_dir / "online_by_model.png",
                              list(dict.fromkeys(r["split"] for r in online)),
                              order_models(r["model"] for r in online), rate, label)
        blocks.append(Figure("online_by_model", "Online task success per model and split",
                             plot_dir / "online_by_model.png",
                             "Source: `online.json` → `rows[]` `passed` / `tasks` per `model` and "
                             "`split` (bars labelled passed/tasks)."))
    else:
        skip("online_by_model", "no `online.json` row with `passed` / `tasks`"
             if run.online else "no `online.json`")

    step_ms: dict[str, list[float]] = defaultdict(list)
    for e in run.episodes or []:
        if isinstance(e.get("step_ms"), list):
            step_ms[e["model"]] += [v for x in e["step_ms"] if (v := _num(x)) is not None and v > 0]
    step_ms = {m: v for m, v in step_ms.items() if v}
    if step_ms:
        models = order_models(step_ms)
        log = plots.latency(plot_dir / "latency.png", models, step_ms)
        n = sum(map(len, step_ms.values()))
        blocks.append(Figure("latency", "Distribution of per-step latency per model"
                             + (" (log scale)" if log else ""), plot_dir / "latency.png",
                             f"Source: `{run.episodes_file}` → `step_ms` of every episode, pooled over "
                             f"splits per `model` ({n} steps)."))
    else:
        skip("latency", f"no per-step latencies (`step_ms`) in {_code(run.episodes_file)}"
             if run.online else "no `online.json`")

    counts, source = _family_counts(run, online)
    if counts:
        totals: Counter = Counter()
        for (_, fam), (_, n) in counts.items():
            totals[fam] += n
        families = sorted(totals, key=lambda f: (-totals[f], f))[:TOP_FAMILIES]
        models = order_models(m for m, _ in counts)
        plots.success_by_family(plot_dir / "success_by_family.png", families, models, counts)
        which = (f"the {len(families)} most frequent of {len(totals)}" if len(families) < len(totals)
                 else f"all {len(totals)}")
        blocks.append(Figure("success_by_family", f"Online success per task family ({which})",
                             plot_dir / "success_by_family.png", source))
    else:
        skip("success_by_family", "no task families in `online.json` or the episodes"
             if run.online else "no `online.json`")
    return Section("plots", "Figures", blocks)


STRIPS = 2
"""Episodes shown as strips of screenshots: the first that passed and the first that failed."""


def _step_label(k: int, action: dict[str, Any] | None) -> str:
    if action is None:
        return "start"
    args = ", ".join(f"{v}" for v in (action.get("args") or {}).values())
    what = " ".join(x for x in (action.get("function"), action.get("control"), args) if x)
    return f"{k}. {what}"[:48] + ("" if action.get("ok", True) else " (failed)")


def _screens(run: Run, plot_dir: Path) -> Section | None:
    """Episodes as strips of the screenshots an evaluation kept (`eval online
    --screenshots`): what the agent saw, step by step."""
    folder = (run.online or {}).get("screenshots_dir")
    shown = [e for e in run.episodes or [] if e.get("screenshots")]
    if not folder or not shown:
        return None
    picked = []
    for status in ("pass", "fail"):
        picked += [e for e in shown if e.get("status") == status and e["model"] != "expert"][:1] \
            or [e for e in shown if e.get("status") == status][:1]
    blocks: list[Table | Figure | Note] = []
    for n, e in enumerate(picked[:STRIPS], 1):
        actions = [None, *e.get("actions", [])]
        frames = [(run.dir / folder / name, _step_label(k, actions[k] if k < len(actions) else None))
                  for k, name in enumerate(e["screenshots"])
                  if name and (run.dir / folder / name).is_file()]
        if not frames:
            blocks.append(Note(f"The screenshots of episode `{e['task_id']}` are not in "
                               f"{_code(folder)}."))
            continue
        title = f"{e['model']} on {e['task_id']}: {e['status']} — {e.get('request', '')}"[:110]
        path = plot_dir / f"episode_{n}.png"
        plots.episode_strip(path, frames, title)
        blocks.append(Figure(f"episode_{n}", f"Episode on screen: {e['model']}, "
                             f"{e['task_id']} ({e['status']})", path,
                             f"Source: `{run.episodes_file}` → `screenshots` of the episode, files "
                             f"in {_code(folder)}; each frame is the screen after the step named "
                             "above it."))
    return Section("screens", "Episodes on screen", blocks)


def _family_counts(run: Run, online: list[dict[str, Any]]
                   ) -> tuple[dict[tuple[str, str], tuple[int, int]], str]:
    """(passed, tasks) per (model, family), summed over splits: from the rows' `by_family` when
    the evaluation wrote it, else counted from the episodes."""
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in online:
        fams = r.get("by_family")
        for fam, c in (fams.items() if isinstance(fams, dict) else []):
            if isinstance(c, dict) and (n := _num(c.get("tasks"))):
                acc[(r["model"], str(fam))][0] += int(_num(c.get("passed")) or 0)
                acc[(r["model"], str(fam))][1] += int(n)
    if acc:
        return ({k: (p, n) for k, (p, n) in acc.items()},
                "Source: `online.json` → `rows[]` `by_family.<family>.passed` / `.tasks`, summed over "
                "splits per `model`.")
    for e in run.episodes or []:
        if e.get("family"):
            acc[(e["model"], str(e["family"]))][0] += e.get("status") == "pass"
            acc[(e["model"], str(e["family"]))][1] += 1
    return ({k: (p, n) for k, (p, n) in acc.items()},
            f"Source: `{run.episodes_file}` → `family`, `status` == \"pass\" of every episode, "
            "per `model`.")


def _data(run: Run) -> Section | None:
    blocks: list[Table | Figure | Note] = []
    if run.train:
        body = []
        for phase, m in run.train.items():
            notes = []
            if isinstance(e := m.get("explore"), dict):
                notes.append(f"recovered {e.get('recovered', '-')} of {e.get('tasks', '-')} failed tasks")
            if isinstance(rm := m.get("reward_model"), dict) and "train_accuracy" in rm:
                notes.append(f"reward model fit {_pct(rm['train_accuracy'])}")
            body.append([phase, _fixed(m.get("rows"), 0), _fixed(m.get("steps"), 0),
                         _fixed(m.get("seconds"), 1),
                         _pair(_fixed(m.get("first_loss"), 3), _fixed(m.get("last_loss"), 3)),
                         "; ".join(notes) or "-"])
        blocks.append(Table("Training phases", ["phase", "rows", "steps", "time (s)",
                                                "loss first / last", "notes"], body,
                            "Source: `<run>/<kind>/lamN/metrics.json` → `rows`, `steps`, `seconds`, "
                            "`first_loss`, `last_loss`, `explore.recovered` / `.tasks`, "
                            "`reward_model.train_accuracy`.", numeric={1, 2, 3, 4}))
    if run.flow is not None:
        body = []
        for stage in ("instantiation", "execution"):
            c = run.flow.get(stage) if isinstance(run.flow.get(stage), dict) else {}
            body.append([stage, *(_fixed(c.get(k), 0) for k in ("pass", "fail", "unsure", "errors"))])
        blocks.append(Table("Task-action dataflow", ["stage", "pass", "fail", "unsure", "errors"],
                            body, "Source: `flow/summary.json` → `instantiation.pass` / `.fail`, "
                            "`execution.pass` / `.fail` / `.unsure` / `.errors`.",
                            numeric={1, 2, 3, 4}))
        if (n := _num(run.flow.get("distinct_commands_in_passing"))) is not None:
            blocks.append(Note(f"Distinct commands in passing trajectories: {int(n)} (source: "
                               "`flow/summary.json` → `distinct_commands_in_passing`)."))
    blocks += [Note(f"Skipped (could not read): {_code(s)}") for s in run.skipped]
    return Section("data", "Data and training", blocks) if blocks else None


def build(run: Run, plot_dir: Path) -> tuple[str, str, list[Section]]:
    """(title, meta line, sections); draws the figures into plot_dir on the way."""
    offline_sec, offline = _offline(run) if run.offline else (None, [])
    online_sec, online = _online(run) if run.online else (None, [])
    if offline_sec is None:
        offline_sec = Section("offline", "Offline", [Note("No `offline.json` in this run.")])
    if online_sec is None:
        online_sec = Section("online", "Online", [Note("No `online.json` in this run.")])
    sections = [offline_sec, online_sec, _paper(offline, online), _figures(run, offline, online, plot_dir)]
    if (screens := _screens(run, plot_dir)) is not None:
        sections.append(screens)
    if (data := _data(run)) is not None:
        sections.append(data)
    o = run.online or {}
    meta = (f"Run {_code(run.dir)} · environment {_code(o['env']) if o.get('env') else 'not recorded'}"
            f" · evaluated {_code(o['date']) if o.get('date') else 'on a date not recorded'}"
            f" · report generated {date.today().isoformat()} (source: `online.json` → `env`, `date`)")
    return f"lamforge report: {run.dir.resolve().name}", meta, sections


# ---- writing -------------------------------------------------------------------------------

def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def to_markdown(title: str, meta: str, sections: list[Section], out_dir: Path) -> str:
    lines = [f"# {title}", "", meta, ""]
    for sec in sections:
        lines += [f"## {sec.title}", ""]
        for b in sec.blocks:
            if isinstance(b, Note):
                lines += [b.text, ""]
            elif isinstance(b, Table):
                lines += [f"**{_md_cell(b.caption)}**", "",
                          "| " + " | ".join(map(_md_cell, b.header)) + " |",
                          "|" + "|".join("---:" if i in b.numeric else "---"
                                         for i in range(len(b.header))) + "|"]
                lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in b.rows]
                lines += ["", b.source, ""]
            else:
                rel = b.path.relative_to(out_dir).as_posix()
                lines += [f"![{_md_cell(b.caption)}]({rel})", "", b.source, ""]
    return "\n".join(lines)


def _inline(text: str) -> str:
    """Authored text to HTML: everything escaped, then `code spans` marked up."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text))


CSS = """
body{margin:0;background:#f6f7f9;color:#1d2330;font:15px/1.5 system-ui,-apple-system,"Segoe UI",
"DejaVu Sans","Liberation Sans",sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 12px;padding-bottom:4px;
border-bottom:2px solid #e3e6eb}
nav a{margin-right:14px;color:#0b5cad;text-decoration:none}.meta{color:#566072;margin:0 0 10px}
code{font:13px ui-monospace,"DejaVu Sans Mono","Liberation Mono",monospace;background:#f0f2f5;
padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
.scroll{overflow-x:auto;margin:8px 0 4px}
table{border-collapse:collapse;font-size:13.5px;min-width:50%}
caption{text-align:left;font-weight:600;padding:4px 0 8px;color:#1d2330}
th,td{padding:5px 10px;border-bottom:1px solid #e3e6eb;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600;vertical-align:bottom}td.n,th.n{text-align:right;
font-variant-numeric:tabular-nums;white-space:nowrap}tbody tr:nth-child(even){background:#fafbfc}
.source{color:#566072;font-size:12.5px;margin:4px 0 18px}
.note{background:#fff8e6;border-left:3px solid #e6a700;padding:6px 10px;margin:10px 0}
figure{margin:18px 0 26px}figure img{max-width:100%;height:auto;border:1px solid #e3e6eb}
figcaption{font-weight:600;margin:6px 0 2px}
"""


def to_html(title: str, meta: str, sections: list[Section]) -> str:
    nav = " ".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body><main>",
             f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{_inline(meta)}</p>',
             f"<nav>{nav}</nav>"]
    for sec in sections:
        parts.append(f'<section id="{sec.id}"><h2>{html.escape(sec.title)}</h2>')
        for b in sec.blocks:
            if isinstance(b, Note):
                parts.append(f'<p class="note">{_inline(b.text)}</p>')
            elif isinstance(b, Table):
                def cell(tag: str, i: int, s: str, numeric: set[int] = b.numeric) -> str:
                    cls = ' class="n"' if i in numeric else ""
                    return f"<{tag}{cls}>{html.escape(s)}</{tag}>"

                head = "".join(cell("th", i, h) for i, h in enumerate(b.header))
                rows = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>"
                               for r in b.rows)
                parts.append(f'<div class="scroll"><table><caption>{html.escape(b.caption)}</caption>'
                             f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
                             f'<p class="source">{_inline(b.source)}</p>')
            else:
                data = base64.b64encode(b.path.read_bytes()).decode("ascii")
                parts.append(f'<figure id="fig-{b.name}"><img alt="{html.escape(b.caption)}" '
                             f'src="data:image/png;base64,{data}"><figcaption>'
                             f'{html.escape(b.caption)}</figcaption><p class="source">'
                             f"{_inline(b.source)}</p></figure>")
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def write(run: Run, out_dir: Path | None = None) -> dict[str, Path]:
    out = out_dir or run.dir
    out.mkdir(parents=True, exist_ok=True)
    title, meta, sections = build(run, out / "plots")
    paths = {"markdown": out / "report.md", "html": out / "report.html"}
    paths["markdown"].write_text(to_markdown(title, meta, sections, out), encoding="utf-8")
    paths["html"].write_text(to_html(title, meta, sections), encoding="utf-8")
    for sec in sections:
        paths |= {b.name: b.path for b in sec.blocks if isinstance(b, Figure)}
    return paths


def render(run_dir: Path, out_dir: Path | None = None) -> dict[str, Path]:
    """Write report.md, report.html and plots/*.png for RUN_DIR (into out_dir if given);
    returns {"markdown": …, "html": …, <plot name>: …} for what was written."""
    return write(load(run_dir), out_dir)


def summary(run: Run) -> tuple[str, list[str], list[list[str]]]:
    """(title, header, rows) for the terminal: the online rows, or the offline ones without."""
    if run.online:
        rows = _sorted_rows(run.online["rows"], {r["model"]: r["model"] for r in run.online["rows"]})
        return ("online evaluation", ["model", "split", "task success", "mean s", "mean steps",
                                      "step p50 / p95 ms"],
                [[r["model"], r["split"], _success(r), _fixed(r.get("mean_seconds"), 2),
                  _fixed(r.get("mean_steps"), 2), _latency(r, "step_latency_ms")] for r in rows])
    assert run.offline is not None
    name = short_names(r["model"] for r in run.offline["rows"])
    return ("offline evaluation", ["model", "split", "step success", "task success"],
            [[name[r["model"]], r["split"], _pct(r.get("step_success")), _pct(r.get("task_success"))]
             for r in _sorted_rows(run.offline["rows"], name)])
