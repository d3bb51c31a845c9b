"""The task-action dataflow on real LibreOffice: file results, replay, resume, workers, crash."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lamforge.core import Action, Task, TaskPlan, Trajectory, read_jsonl
from lamforge.dataflow.flow import (
    FlowConfig,
    done_ids,
    execute,
    instantiate,
    postprocess,
    summarise,
)
from lamforge.envs.episode import run_actions
from lamforge.envs.writer.env import WriterEnv

pytestmark = pytest.mark.writer


def pair(i: int, task: str, plan: list[str], app: str = "writer") -> TaskPlan:
    return TaskPlan(id=f"p{i}", app=app, task=task, plan=plan,
                    source=f"swriter/guide/page{i}.html#h{i}")


PAIRS = [
    pair(1, "Make the text bold", ["Select the text.", "Click Bold on the Formatting bar."]),
    pair(2, "Italicize the text, with the text coloured red", [
        "Select the text.", "Press Ctrl+I.",
        "On the Formatting bar, open Font Color and choose Red."]),
    pair(3, "Center the paragraph", ["Click in the paragraph.",
                                     "Click Center on the Formatting bar."]),
    pair(4, "Insert a table with 3 columns", [
        "Choose Table - Insert Table, set Columns to 3 and Rows to 4, and click Insert."]),
    pair(5, "Use sparkles, and make the text bold", [  # a menu that does not exist
        "Select the text.", "Choose Format - Sparkle.", "Click Bold on the Formatting bar."]),
    pair(6, "Tidy up", ["Set the options that you want."]),  # cannot be grounded
    pair(7, "Sort the cells", ["Choose Data - Sort."], app="calc"),
    pair(8, "Set the size, with the text at 16 pt", [
        "Select the text.", "Choose Format - Character, set Size to 16 pt and click OK."]),
    pair(9, "Insert a table of contents", [  # a dialog the plan leaves for the instance to fill
        "Choose Insert - Table of Contents and Index - Table of Contents, Index or "
        "Bibliography."]),
    pair(10, "Number the lines", ["Choose Tools - Line Numbering.", "Select Show numbering.",
                                  "Click OK."]),
]
# a task whose template the library does not have: filed under fail, the run goes on
MISSING = Task(id="missing-template", app="writer", request="Make it bold", template="nope",
               actions=[Action(function="finish")],
               checks=[{"kind": "text_present", "text": "x"}])


# passes in the app, but its request never names the header's text: the agent's grounding
# would type the quoted text instead, so the flow must not keep it
UNNAMED = Task(id="unnamed-header", app="writer", request="Add a header above 'quick brown fox'",
               template="line", actions=[
                   Action(function="click", control_text="Insert"),
                   Action(function="click", control_text="Header and Footer"),
                   Action(function="click", control_text="Header"),
                   Action(function="type_text", args={"text": "Quarterly report"}),
                   Action(function="finish")],
               checks=[{"kind": "header_text", "text": "Quarterly report"}])


@pytest.fixture(scope="module")
def run(tmp_path_factory, templates_dir) -> FlowConfig:
    cfg = FlowConfig(out_dir=tmp_path_factory.mktemp("flow"), instances=2, selector="keywords",
                     templates_dir=templates_dir, test_instance=0.3, test_family=0.3)
    tasks, failed = instantiate(PAIRS, cfg)
    execute([*tasks, MISSING, UNNAMED], cfg)
    postprocess(cfg)
    summarise(cfg, failed)
    return cfg


def _filed(cfg: FlowConfig, kind: str) -> list[Trajectory]:
    path = cfg.out_dir / "execution" / f"{kind}.jsonl"
    return read_jsonl(path, Trajectory) if path.is_file() else []


def test_results_are_filed_with_reasons(run: FlowConfig) -> None:
    failed_inst = [json.loads(x) for x in
                   (run.out_dir / "instantiation" / "fail.jsonl").read_text().splitlines()]
    assert {f["pair"]: f["reason"].split(":")[0] for f in failed_inst} == {
        "p6": "cannot ground step 1", "p7": "not a Writer task (app calc)"}
    passed = _filed(run, "pass")
    assert {t.task.meta["pair"] for t in passed} == {"p1", "p2", "p3", "p4", "p8", "p9", "p10"}
    failed = _filed(run, "fail")
    assert {t.task.meta.get("pair", t.task.id) for t in failed} == {
        "p5", "missing-template", "unnamed-header"}
    reasons = {t.task.meta.get("pair", t.task.id): t.verdict.reason for t in failed}
    assert "no control matches 'Sparkle'" in reasons["p5"]
    assert "unknown template 'nope'" in reasons["missing-template"]
    assert reasons["unnamed-header"] == (
        "passed, but the agent would not replay it: step 4 (type_text): the agent's grounding "
        "changes text 'Quarterly report' to 'quick brown fox' (the request does not name it)")
    summary = json.loads((run.out_dir / "summary.json").read_text())
    assert summary["execution"]["pass"] == len(passed)
    assert summary["distinct_commands_in_passing"] >= 5
    assert set(summary["mean_stage_s"]) == {"instantiate_s", "execute_s", "evaluate_s"}


def test_passing_trajectories_replay_and_a_corrupted_action_fails(run, templates_dir) -> None:
    passed = _filed(run, "pass")
    with WriterEnv(templates_dir=templates_dir) as env:
        for traj in passed:
            again = run_actions(env, traj.task, match="exact")
            assert again.verdict.status == "pass", (traj.task.id, again.verdict.reason)
        bold = next(t for t in passed if t.task.meta["pair"] == "p1").task
        actions = [a if a.control_text != "Bold" else Action(function="click",
                                                             control_text="Underline")
                   for a in bold.actions]
        assert run_actions(env, bold, actions=actions, match="exact").verdict.status == "fail"


def test_rerun_skips_finished_tasks(run: FlowConfig) -> None:
    tasks = read_jsonl(run.out_dir / "instantiation" / "pass.jsonl", Task)
    before = (run.out_dir / "execution" / "pass.jsonl").read_bytes()
    assert execute(tasks, run) == {}
    assert (run.out_dir / "execution" / "pass.jsonl").read_bytes() == before
    assert done_ids(run.out_dir) == {t.id for t in tasks} | {MISSING.id, UNNAMED.id}


def test_samples_splits_and_dataset(run: FlowConfig) -> None:
    from datasets import load_from_disk

    ids = {}
    for split in ("train", "test_instance", "test_family"):
        samples = [json.loads(x) for x in
                   (run.out_dir / "samples" / f"{split}.jsonl").read_text().splitlines()]
        ids[split] = {s["task_id"] for s in samples}
        for s in samples:
            assert s["function"] and "controls" in s and "previous_actions" in s
    assert not (ids["train"] & ids["test_instance"]) and not (ids["train"] & ids["test_family"])
    assert not (ids["test_instance"] & ids["test_family"])
    dataset = load_from_disk(str(run.out_dir / "datasets"))
    total = sum(len(dataset[s]) for s in dataset)
    assert total == sum(len(t.steps) for t in _filed(run, "pass"))
    row = dataset["train"][0] if len(dataset["train"]) else dataset["test_instance"][0]
    assert json.loads(row["output"])["status"] in ("CONTINUE", "FINISH")


def test_two_workers_give_the_same_verdicts(run, tmp_path, templates_dir) -> None:
    tasks = read_jsonl(run.out_dir / "instantiation" / "pass.jsonl", Task)
    cfg = FlowConfig(out_dir=tmp_path, workers=2, templates_dir=templates_dir)
    execute([*tasks, MISSING, UNNAMED], cfg)
    one = {t.task.id: t.verdict.status for k in ("pass", "fail", "unsure")
           for t in _filed(run, k)}
    two = {t.task.id: t.verdict.status for k in ("pass", "fail", "unsure")
           for t in _filed(cfg, k)}
    assert one == two


def execution_dir(run: FlowConfig, tmp_path: Path) -> tuple[list[Task], Path, dict[str, str]]:
    """A copy of the run's instances in `tmp_path`, for `data execute` to run there with its
    own temporary folder (where its LibreOffice profiles go): the tasks, that folder and the
    command's environment."""
    tasks = read_jsonl(run.out_dir / "instantiation" / "pass.jsonl", Task)
    (tmp_path / "instantiation").mkdir()
    (tmp_path / "instantiation" / "pass.jsonl").write_text(
        "".join(t.model_dump_json() + "\n" for t in tasks))
    sub_tmp = tmp_path / "tmp"
    sub_tmp.mkdir()
    return tasks, sub_tmp, {**os.environ, "TMPDIR": str(sub_tmp),
                            "LAMFORGE_HOME": str(tmp_path / "home")}


def test_killing_libreoffice_mid_run_loses_nothing(run, tmp_path, templates_dir) -> None:
    tasks, sub_tmp, env = execution_dir(run, tmp_path)
    cmd = [sys.executable, "-m", "lamforge", "data", "execute", "--out-dir", str(tmp_path)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    results = tmp_path / "execution"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(done_ids(tmp_path)) < 2:
        time.sleep(0.05)
    filed_before = len(done_ids(tmp_path))
    assert filed_before >= 2, proc.stderr.read().decode()[-500:] if proc.poll() else "no result"
    pids = subprocess.run(["pgrep", "-f", f"soffice.bin.*{sub_tmp}"], capture_output=True,
                          text=True).stdout.split()
    for pid in pids:
        os.kill(int(pid), signal.SIGKILL)
    proc.wait(timeout=300)
    assert proc.returncode == 0, proc.stderr.read().decode()[-800:]
    assert len(done_ids(tmp_path)) >= filed_before  # nothing finished was lost
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-800:]
    assert done_ids(tmp_path) == {t.id for t in tasks}  # the rerun completed the rest
    lines = sum(len((results / f"{k}.jsonl").read_text().splitlines())
                for k in ("pass", "fail", "unsure") if (results / f"{k}.jsonl").is_file())
    assert lines == len(tasks)  # and filed nothing twice


def test_a_killed_driver_takes_its_workers_and_their_apps_with_it(run, tmp_path) -> None:
    """SIGKILL to `data execute --workers 2` (a scheduler ending a job): its pool processes
    went on with the jobs queued to them, and kept their LibreOffice running for good. Now
    they end with it, and their exit handlers stop LibreOffice and remove its profile."""
    _, sub_tmp, env = execution_dir(run, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "lamforge", "data", "execute", "--out-dir",
                             str(tmp_path), "--workers", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(done_ids(tmp_path)) < 1:
        time.sleep(0.05)
    assert done_ids(tmp_path), "no result"

    def ours() -> list[str]:  # the pool processes and the apps they started
        found = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                               text=True).stdout.split()
        return found + subprocess.run(["pgrep", "-f", f"soffice.bin.*{sub_tmp}"],
                                      capture_output=True, text=True).stdout.split()

    def alive(pid: str) -> bool:  # an orphan's zombie is not reaped in every container
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    workers = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "spawn_main"],
                             capture_output=True, text=True).stdout.split()
    assert len(workers) == 2 and ours()
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and ([w for w in workers if alive(w)] or ours()):
        time.sleep(0.2)
    assert not [w for w in workers if alive(w)]
    assert not [pid for pid in ours() if alive(pid)]
    assert not list(sub_tmp.glob("lamforge-office-*"))  # the profiles went with them


def test_minilm_chooses_templates_by_meaning(templates_dir) -> None:
    from lamforge.dataflow.select import MiniLMSelector
    from lamforge.envs.writer.templates import library

    selector = MiniLMSelector(library(templates_dir))
    ranked = selector.rank([
        pair(1, "Insert rows into a table", ["Choose Table - Insert - Rows Above."]),
        pair(2, "Add a comment to the selected text", ["Choose Insert - Comment."]),
        pair(3, "Change the bullet symbols of a list", ["Choose Format - Bullets."]),
    ])
    assert [r[0] for r in ranked] == ["table", "comments", "bullets"]


def test_step_samples_track_the_plan(run: FlowConfig) -> None:
    from lamforge.dataflow.flow import step_samples

    traj = next(t for t in _filed(run, "pass") if t.task.meta["pair"] == "p2")
    samples = step_samples(traj)
    assert samples[0].previous_plan == traj.task.plan
    for before, after in itertools.pairwise(samples):
        assert after.previous_plan == before.plan
        assert len(after.previous_actions) == len(before.previous_actions) + 1
    assert samples[-1].status == "FINISH" and samples[-1].plan == []
    assert samples[-2].plan == traj.task.plan[-1:]  # the colour step is the last plan step


def test_lost_episodes_are_retried_then_failed(tmp_path) -> None:
    from lamforge.core import Verdict
    from lamforge.dataflow.flow import file_result

    task = Task(id="t", app="writer", request="r", template="line")
    lost = Trajectory(task=task, verdict=Verdict(status="fail", reason="step 2 failed: boom"),
                      meta={"crashed": True})
    assert file_result(tmp_path, lost) == "errors"
    assert done_ids(tmp_path) == set()  # a rerun tries it again
    assert file_result(tmp_path, lost) == "fail"
    assert "lost 2 times" in _filed(FlowConfig(out_dir=tmp_path), "fail")[0].verdict.reason


def test_a_composed_task_is_held_out_with_either_page() -> None:
    from lamforge.dataflow.flow import _bucket, split_of

    pages = [f"page{i}.html" for i in range(40)]
    ranked = sorted(pages, key=lambda p: _bucket("family:" + p, 0))
    low, high = ranked[0], ranked[-1]
    cfg = FlowConfig(out_dir=Path("."), test_family=(_bucket("family:" + low, 0)
                                                     + _bucket("family:" + ranked[1], 0)) / 2,
                     test_instance=0.0)
    single = Task(id="a", app="writer", request="r", template="line",
                  meta={"pair": "x", "family": high, "families": [high]})
    composed = single.model_copy(update={"meta": {"pair": "x", "family": high,
                                                  "families": [high, low]}})
    assert split_of(single, cfg) == "train"
    assert split_of(composed, cfg) == "test_family"


def test_malformed_records_are_filed_and_the_run_goes_on(tmp_path) -> None:
    good = PAIRS[0].model_dump_json()
    src = tmp_path / "pairs.jsonl"
    src.write_text(good + "\n{broken\n" + json.dumps({"id": "x"}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "lamforge", "data", "instantiate", "--in",
                           str(src), "--out-dir", str(tmp_path / "run"), "--selector",
                           "keywords"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    fails = [json.loads(x) for x in
             (tmp_path / "run" / "instantiation" / "fail.jsonl").read_text().splitlines()]
    assert [f["reason"].split(": ")[0] for f in fails] == [f"{src}:2", f"{src}:3"]
    assert len(read_jsonl(tmp_path / "run" / "instantiation" / "pass.jsonl", Task)) == 2


def test_a_file_of_malformed_records_only_is_filed_not_a_crash(tmp_path) -> None:
    """The template selector was given no pairs at all and failed on an empty matrix
    ("error: ValueError: matmul: …"); the records are filed and nothing is instantiated."""
    src = tmp_path / "pairs.jsonl"
    src.write_text(json.dumps({"id": "x", "app": "writer", "task": 1}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "lamforge", "data", "instantiate", "--in",
                           str(src), "--out-dir", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "ValueError" not in proc.stderr + proc.stdout
    fails = (tmp_path / "run" / "instantiation" / "fail.jsonl").read_text().splitlines()
    assert [json.loads(f)["reason"].split(": ")[0] for f in fails] == [f"{src}:1"]
    assert not read_jsonl(tmp_path / "run" / "instantiation" / "pass.jsonl", Task)
