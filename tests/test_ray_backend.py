"""`--backend ray` on real LibreOffice: a local Ray instance (2 CPUs) and an existing cluster
started with `ray start` files the same results as the local pool; killing an actor mid-run
loses no finished result and the run completes; nothing is left running afterwards."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lamforge.core import Task, Trajectory, read_jsonl
from lamforge.dataflow.flow import FlowConfig, done_ids, execute, instantiate
from lamforge.train.config import TrainConfig

from .test_flow import MISSING, PAIRS

pytestmark = [pytest.mark.writer, pytest.mark.slow, pytest.mark.ray]
RAY = Path(sys.executable).with_name("ray")


@pytest.fixture(scope="module")
def flow_tasks(tmp_path_factory, templates_dir) -> list[Task]:
    cfg = FlowConfig(out_dir=tmp_path_factory.mktemp("inst"), instances=2, selector="keywords",
                     templates_dir=templates_dir)
    tasks, _ = instantiate(PAIRS, cfg)
    return [*tasks, MISSING]


@pytest.fixture(scope="module")
def local_verdicts(flow_tasks, tmp_path_factory, templates_dir) -> dict[str, tuple]:
    out = tmp_path_factory.mktemp("local")
    cfg = FlowConfig(out_dir=out, workers=2, templates_dir=templates_dir)
    execute(flow_tasks, cfg)
    assert not (out / "execution" / "errors.jsonl").exists()  # no episode lost by the app
    return verdicts(out)


@pytest.fixture
def ray_tmp() -> Path:
    """A short RAY_TMPDIR of this test's own (Ray's socket paths must stay under 108 bytes),
    so its processes can be told apart from anyone else's."""
    path = Path(f"/tmp/lf-ray-{os.getpid()}-{time.monotonic_ns() % 10**6}")
    path.mkdir()
    yield path
    assert not running(str(path)), "Ray processes left behind"
    shutil.rmtree(path, ignore_errors=True)  # Ray's logs and sockets: nothing left in /tmp


def running(pattern: str) -> list[str]:
    out = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "pgrep" not in line]


def verdicts(out: Path) -> dict[str, tuple]:
    """task id -> (status, reason, the functions and controls of its steps)."""
    found = {}
    for kind in ("pass", "fail", "unsure"):
        path = out / "execution" / f"{kind}.jsonl"
        for t in read_jsonl(path, Trajectory) if path.is_file() else []:
            found[t.task.id] = (t.verdict.status, t.verdict.reason,
                                [(s.action.function, s.action.control_text) for s in t.steps])
    return found


def test_a_local_ray_instance_files_what_the_local_pool_files(flow_tasks, local_verdicts,
                                                              tmp_path, templates_dir,
                                                              ray_tmp, empty_home,
                                                              monkeypatch) -> None:
    monkeypatch.setenv("RAY_TMPDIR", str(ray_tmp))
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)  # the run must make its own
    out = tmp_path / "out"
    cfg = FlowConfig(out_dir=out, workers=2, templates_dir=templates_dir, backend="ray")
    counts = execute(flow_tasks, cfg)
    assert sum(counts.values()) == len(flow_tasks)
    assert verdicts(out) == local_verdicts
    assert execute(flow_tasks, cfg) == {}  # resumable as ever: nothing is run twice
    import ray

    assert not ray.is_initialized()  # the instance this run started is stopped
    assert not (empty_home / ".ray").exists()  # Ray's token for the run is not left in the home


def test_killing_an_actor_mid_run_loses_nothing(flow_tasks, local_verdicts, tmp_path, ray_tmp
                                                ) -> None:
    (tmp_path / "instantiation").mkdir()
    (tmp_path / "instantiation" / "pass.jsonl").write_text(
        "".join(t.model_dump_json() + "\n" for t in flow_tasks if t.id != MISSING.id))
    sub_tmp = tmp_path / "tmp"
    sub_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(sub_tmp), "RAY_TMPDIR": str(ray_tmp),
           "LAMFORGE_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "lamforge", "data", "execute", "--out-dir", str(tmp_path),
           "--backend", "ray", "--workers", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(done_ids(tmp_path)) < 2 and proc.poll() is None:
        time.sleep(0.05)
    filed_before = len(done_ids(tmp_path))
    assert filed_before >= 2, proc.stderr.read().decode()[-800:] if proc.poll() else "none"
    actors = [int(line.split()[0]) for line in running("ray::_Actor")]
    assert len(actors) == 2, actors
    os.kill(actors[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr.decode()[-1500:]
    # one run, no rerun: the killed worker's tasks went to another worker (or its replacement)
    want = {t.id for t in flow_tasks if t.id != MISSING.id}
    assert done_ids(tmp_path) == want
    lines = sum(len((tmp_path / "execution" / f"{k}.jsonl").read_text().splitlines())
                for k in ("pass", "fail", "unsure")
                if (tmp_path / "execution" / f"{k}.jsonl").is_file())
    assert lines == len(want)  # filed once each
    assert {k: v[0] for k, v in verdicts(tmp_path).items()} == \
        {k: v[0] for k, v in local_verdicts.items() if k in want}
    assert not running(f"soffice.bin.*{sub_tmp}")  # the killed worker's LibreOffice died too


@pytest.fixture
def cluster(ray_tmp, monkeypatch) -> str:
    """A Ray cluster of its own (`ray start --head`, 2 CPUs), stopped afterwards. Its token is
    given in the environment, as an admin may, so `ray start` writes none into the home; the
    one this process may already hold is kept (Ray's loader caches it)."""
    monkeypatch.setenv("RAY_AUTH_TOKEN", os.environ.get("RAY_AUTH_TOKEN") or secrets.token_hex(32))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "RAY_TMPDIR": str(ray_tmp)}
    subprocess.run([str(RAY), "start", "--head", "--num-cpus", "2", "--port", str(port),
                    "--include-dashboard=false", "--disable-usage-stats"], env=env,
                   check=True, capture_output=True, timeout=120)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True,
                       timeout=120)


def test_eval_online_and_exploration_on_an_existing_cluster(cluster, trained: Path, tmp_path,
                                                            templates_dir) -> None:
    from lamforge.train.explore import explore
    from lamforge.train.phases import expert_failures

    from .test_eval_online import episodes, lamforge
    from .tiny_lams import TASKS

    tasks = [t for t in read_jsonl(Path(__file__).parent.parent / "examples/writer/tasks.jsonl",
                                   Task) if t.id in TASKS]
    task_file = tmp_path / "tasks.jsonl"
    task_file.write_text("".join(t.model_dump_json() + "\n" for t in tasks))
    home = templates_dir.parent / "home-ray"
    runs = {}
    for backend in ("local", "ray"):
        out = tmp_path / f"{backend}.json"
        extra = ["--backend", "ray", "--address", cluster] if backend == "ray" else []
        proc = lamforge("eval", "online", "--model", str(trained / "lam3" / "model"),
                        "--model", "expert", "--tasks", str(task_file), "--workers", "2",
                        "--json", str(out), *extra, cwd=tmp_path, home=home)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        runs[backend] = {k: r["status"] for k, r in episodes(
            out.with_suffix("") / "episodes.jsonl").items()}
    assert runs["ray"] == runs["local"] and len(runs["ray"]) == 2 * len(tasks)
    assert json.loads((tmp_path / "ray.json").read_text())["settings"]["backend"] == "ray"

    # phase 3's exploration: the same seeded attempts on the cluster as in this process
    cfg = TrainConfig.load(trained.parent / "tiny.yaml")
    failed = [t.task for t in expert_failures(cfg)]
    assert failed
    summaries, attempts = {}, {}
    for backend in ("local", "ray"):
        out = tmp_path / f"explore-{backend}"
        settings = cfg.phase3.explore.model_copy(update={
            "workers": 2, "backend": backend, "address": cluster if backend == "ray" else None})
        summaries[backend] = explore(failed, trained / "lam2" / "model", settings,
                                     cfg.controls_top_k, out, cfg.seed, "writer",
                                     {"templates_dir": str(templates_dir)})
        attempts[backend] = sorted(
            (t.task.id, t.meta["attempt"], t.verdict.status,
             [(s.action.function, s.action.control_text) for s in t.steps])
            for t in read_jsonl(out / "attempts.jsonl", Trajectory))
    assert summaries["ray"]["errors"] == 0 and summaries["ray"] == summaries["local"]
    assert attempts["ray"] == attempts["local"]


def test_bad_backend_options_are_one_line(tmp_path) -> None:
    from .test_eval_online import lamforge

    (tmp_path / "instantiation").mkdir()
    (tmp_path / "instantiation" / "pass.jsonl").write_text(MISSING.model_dump_json() + "\n")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for args, message in [
        (["--address", f"127.0.0.1:{port}"], "--address names a Ray cluster"),
        (["--backend", "dask"], "unknown backend 'dask'"),
        (["--backend", "ray", "--address", f"127.0.0.1:{port}"],
         f"cannot start the Ray cluster at 127.0.0.1:{port}"),
    ]:
        proc = lamforge("data", "execute", "--out-dir", str(tmp_path), *args, cwd=tmp_path,
                        home=tmp_path / "home")
        assert proc.returncode != 0
        errors = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
        assert len(errors) == 1 and message in errors[0], proc.stderr[-1500:]
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "execution" / "pass.jsonl").exists()
