"""Benchmark mining all of LibreOffice's installed help (Writer, Calc, Impress, Draw, shared).

    .venv/bin/python benchmarks/data_mine.py [--all] [--repeats 3] [--json benchmarks/results/data_mine.json]

Prints a table (time per stage, pairs per app) and writes JSON. Target (issue 3): mining all
the installed help takes under 60 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lamforge.dataflow.clean import CleanReport, clean
from lamforge.dataflow.evolve import RulesEvolver
from lamforge.dataflow.mine import HELP_ROOT, MineReport, iter_files, mine_paths

APPS = ["swriter", "scalc", "simpress", "sdraw", "shared"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/data_mine.json"))
    ap.add_argument("--all", action="store_true",
                    help="every folder of the installed help (Basic, Chart, Base, Math too)")
    args = ap.parse_args()
    paths = sorted(p for p in HELP_ROOT.iterdir() if p.is_dir()) if args.all else [
        HELP_ROOT / a for a in APPS]
    files = list(iter_files(paths))
    times: dict[str, list[float]] = {"parse": [], "clean+dedup": [], "evolve (rules)": [],
                                     "total": []}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        report = MineReport()
        raw = list(mine_paths(paths, report=report))
        t1 = time.perf_counter()
        kept = clean(raw, report=CleanReport())
        t2 = time.perf_counter()
        variants = RulesEvolver().evolve(kept)
        t3 = time.perf_counter()
        for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            times[k].append(v)
    per_app = Counter(p.app for p in kept)
    table = Table("stage", "median s", "min s", title=f"mining {len(files)} help files "
                  f"({sum(f.stat().st_size for f in files) / 1e6:.1f} MB)")
    for k, v in times.items():
        table.add_row(k, f"{statistics.median(v):.2f}", f"{min(v):.2f}")
    Console().print(table)
    Console().print(f"raw pairs {len(raw)}, kept {len(kept)} {dict(per_app)}, "
                    f"variants {len(variants)} ({len(variants) / len(kept):.2f}x)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "date": date.today().isoformat(), "files": len(files), "repeats": args.repeats,
        "folders": [p.name for p in paths],
        "seconds": {k: {"median": statistics.median(v), "min": min(v)} for k, v in times.items()},
        "raw_pairs": len(raw), "kept": len(kept), "per_app": dict(per_app),
        "variants": len(variants)}, indent=2))


if __name__ == "__main__":
    main()
