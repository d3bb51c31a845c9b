"""Counts and distributions of task-plan files: what `lamforge data stats` prints."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from lamforge.core import TaskPlan


def _dist(xs: list[int]) -> dict[str, float]:
    if not xs:
        return {"min": 0, "median": 0, "p90": 0, "max": 0, "mean": 0}
    s = sorted(xs)
    return {"min": s[0], "median": statistics.median(s), "p90": s[int(0.9 * (len(s) - 1))],
            "max": s[-1], "mean": round(statistics.fmean(s), 2)}


def source_kind(pair: TaskPlan) -> str:
    if pair.evolved_from:
        return f"evolved ({pair.meta.get('evolution', {}).get('provider', '?')})"
    return str(pair.meta.get("kind", "other"))


def compute(pairs: list[TaskPlan], reports: list[dict[str, Any]] | None = None
            ) -> dict[str, Any]:
    mined = [p for p in pairs if not p.evolved_from]
    evolved = [p for p in pairs if p.evolved_from]
    by_app: dict[str, Counter] = {}
    for p in pairs:
        by_app.setdefault(p.app, Counter())[source_kind(p)] += 1
    removed = Counter()
    for rep in reports or []:
        clean = rep.get("clean", {})
        removed["exact duplicates"] += clean.get("exact_duplicates", 0)
        removed["near duplicates"] += clean.get("near_duplicates", 0)
        for reason, n in clean.get("dropped", {}).items():
            removed[reason] += n
    return {
        "total": len(pairs),
        "mined": len(mined),
        "evolved": len(evolved),
        "evolution_ratio": round(len(evolved) / len(mined), 3) if mined else None,
        "by_app": {app: dict(c) for app, c in sorted(by_app.items())},
        "task_words": _dist([len(p.task.split()) for p in pairs]),
        "plan_steps": _dist([len(p.plan) for p in pairs]),
        "step_words": _dist([len(s.split()) for p in pairs for s in p.plan]),
        "removed_in_cleaning": dict(removed),
    }


def report_path(data: Path) -> Path:
    """The mining report written next to a mined file: mined.jsonl -> mined.report.json."""
    return data.with_suffix(".report.json")


def load_reports(files: list[Path]) -> list[dict[str, Any]]:
    return [json.loads(report_path(f).read_text()) for f in files if report_path(f).is_file()]
