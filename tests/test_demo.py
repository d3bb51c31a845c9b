"""`lamforge demo --size small`: the whole workflow end to end (mine → evolve → flow → train
LAM1–LAM4 of both kinds → offline and online evaluation, the plain-words requests → report) in
real LibreOffice, in a few minutes; a rerun resumes instead of redoing anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.writer, pytest.mark.slow]

STAGES = ["mine", "evolve", "flow", "train-ranker", "train-generative", "offline", "online",
          "plain", "report"]
PHASES = ["lam1", "lam2", "lam3", "lam4"]
OFFLINE = ["rules", *(f"{kind}/{p}" for kind in ("ranker", "tiny") for p in PHASES)]
ONLINE = ["rules", "ranker/lam2", "ranker/lam4", "tiny/lam4", "expert"]
SPLITS = ["test_instance", "test_family"]


def demo(run: Path, home: Path) -> subprocess.CompletedProcess:
    """The demo as `make demo > log 2>&1` runs it: off a terminal, no COLUMNS; its output
    (both streams, interleaved as a log file holds them) is the result's stdout."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"LAMFORGE_HOME": str(home)}
    log = run.parent / f"demo-{len(list(run.parent.glob('demo-*.log')))}.log"
    with log.open("w") as fh:
        proc = subprocess.run([sys.executable, "-m", "lamforge", "demo", "--size", "small",
                               "--run-dir", str(run)], stdout=fh, stderr=subprocess.STDOUT,
                              env=env, timeout=1200)
    return subprocess.CompletedProcess(proc.args, proc.returncode, log.read_text(), "")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("demo")
    run, home = root / "run", root / "home"
    proc = demo(run, home)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return run, home, proc


def test_the_log_off_a_terminal_reads_plainly(demo_run) -> None:
    """`make demo > log` wrapped paths at 80 columns in the middle of a word, cut table cells
    to `test…` and printed hundreds of raw trainer dicts and redrawn progress bars."""
    run, _, proc = demo_run
    log = proc.stdout
    assert "\r" not in log  # no bar redrawn in place
    lines = log.splitlines()
    assert not [line for line in lines if line.lstrip().startswith("{'")]  # no trainer dicts
    # every path is whole on its line: joining the lines finds it no more often
    assert log.count(str(run)) == log.replace("\n", "").count(str(run)) > 5
    assert "test_i…" not in log and "test…" not in log
    assert sum(line.startswith("| rules ") or line.startswith("│ rules ") for line in lines)
    # training reports plain progress lines per phase
    for phase in PHASES:
        assert sum(line.startswith(f"{phase}: done, ") for line in lines) == 2, phase


def test_demo_runs_every_stage_and_reports_all_models_on_both_splits(demo_run) -> None:
    run, _, proc = demo_run
    assert sorted(p.name for p in (run / ".done").iterdir()) == sorted(STAGES)
    for phase in PHASES:
        assert (run / "tiny" / phase / "model" / "config.json").is_file()
        meta = json.loads((run / "ranker" / phase / "model" / "lamforge.json").read_text())
        assert meta["kind"] == "ranker"
    offline = json.loads((run / "offline.json").read_text())["rows"]
    online = json.loads((run / "online.json").read_text())["rows"]
    short = {"/".join(Path(r["model"]).parts[-3:-1]) if r["model"] != "rules" else "rules"
             for r in offline}
    assert short == set(OFFLINE)
    assert {(r["model"], r["split"]) for r in online} == {(m, s) for m in ONLINE
                                                          for s in SPLITS}
    assert all(r["tasks"] > 0 for r in online)
    plain = json.loads((run / "plain.json").read_text())["rows"]
    assert {r["model"] for r in plain} == {"rules", "ranker/lam4", "tiny/lam4"}
    assert all(r["tasks"] == 6 for r in plain)
    report = (run / "report.md").read_text()
    for name in OFFLINE:
        assert f"| {name} | test_instance |" in report and f"| {name} | test_family |" in report
    assert (run / "report.html").is_file() and list((run / "plots").glob("*.png"))
    # the final table in the terminal, and the stage timings
    assert "lamforge demo" in proc.stdout and "stage times:" in proc.stdout
    timings = json.loads((run / "demo.json").read_text())["stage_seconds"]
    assert list(timings) == STAGES and all(v >= 0 for v in timings.values())


def test_a_rerun_resumes_and_redoes_nothing(demo_run) -> None:
    run, home, _ = demo_run
    model = run / "tiny" / "lam4" / "model" / "model.safetensors"
    before = model.stat().st_mtime_ns, (run / "online" / "episodes.jsonl").read_text()
    proc = demo(run, home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("done in an earlier run") == len(STAGES)
    assert (model.stat().st_mtime_ns, (run / "online" / "episodes.jsonl").read_text()) == before


def test_an_interrupted_stage_is_resumed_by_the_next_run(demo_run) -> None:
    """Forget the online stage and half of its episodes, as if the run had been killed
    there: the rerun does only the missing episodes, then the report again."""
    run, home, _ = demo_run
    log = run / "online" / "episodes.jsonl"
    lines = log.read_text().splitlines()
    kept = lines[: len(lines) // 2]
    log.write_text("".join(line + "\n" for line in kept))
    (run / ".done" / "online").unlink()
    (run / ".done" / "report").unlink()
    proc = demo(run, home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = log.read_text().splitlines()
    assert after[: len(kept)] == kept and len(after) == len(lines)
    assert proc.stdout.count("done in an earlier run") == len(STAGES) - 2
