"""The command line: real runs, and bad input as one clear line with a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from .conftest import SAMPLE_TASKS


def lamforge(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LAMFORGE_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "lamforge", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.mark.writer
def test_env_check_writer_reports_ready(home) -> None:
    proc = lamforge("env", "check", "writer", home=home)
    assert proc.returncode == 0, proc.stderr
    assert "started and answered" in proc.stdout and "is ready" in proc.stdout


def test_env_check_unknown_environment(home) -> None:
    assert "unknown environment 'excel'" in one_error_line(lamforge("env", "check", "excel",
                                                                    home=home))


@pytest.mark.writer
def test_run_task_prints_verdicts_and_writes_json(home, tmp_path) -> None:
    out = tmp_path / "v.json"
    traj = tmp_path / "t.jsonl"
    proc = lamforge("env", "run-task", "--tasks", str(SAMPLE_TASKS), "--id", "bold-word",
                    "--id", "insert-table", "--json", str(out), "--out", str(traj), home=home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2/2 tasks passed" in proc.stdout
    data = json.loads(out.read_text())
    assert [t["status"] for t in data["tasks"]] == ["pass", "pass"]
    assert len(traj.read_text().splitlines()) == 2


@pytest.mark.writer
def test_run_task_exit_code_2_when_a_task_fails(home, tmp_path) -> None:
    bad = tmp_path / "t.jsonl"
    bad.write_text(json.dumps({"id": "x", "app": "writer", "request": "r", "template": "line",
                               "actions": [{"function": "finish"}],
                               "checks": [{"kind": "bold", "text": "quick"}]}) + "\n")
    proc = lamforge("env", "run-task", "--tasks", str(bad), home=home)
    assert proc.returncode == 2
    assert "0/1 tasks passed" in proc.stdout


def test_malformed_task_file_names_file_and_line(home, tmp_path) -> None:
    bad = tmp_path / "t.jsonl"
    bad.write_text(SAMPLE_TASKS.read_text().splitlines()[0] + "\n{oops\n")
    line = one_error_line(lamforge("env", "run-task", "--tasks", str(bad), home=home))
    assert f"{bad}:2: invalid JSON" in line


def test_unknown_check_kind_names_file_and_line(home, tmp_path) -> None:
    bad = tmp_path / "t.jsonl"
    bad.write_text(json.dumps({"id": "x", "app": "writer", "request": "r", "template": "line",
                               "checks": [{"kind": "sparkly"}]}) + "\n")
    line = one_error_line(lamforge("env", "run-task", "--tasks", str(bad), home=home))
    assert f"{bad}:1: task 'x': unknown check kind 'sparkly'" in line


@pytest.mark.writer
def test_missing_template_fails_that_task_with_its_reason(home, tmp_path) -> None:
    bad = tmp_path / "t.jsonl"
    good = SAMPLE_TASKS.read_text().splitlines()[0]
    bad.write_text(json.dumps({"id": "x", "app": "writer", "request": "r",
                               "template": str(tmp_path / "gone.docx")}) + "\n" + good + "\n")
    out = tmp_path / "v.json"
    proc = lamforge("env", "run-task", "--tasks", str(bad), "--json", str(out), home=home)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    tasks = json.loads(out.read_text())["tasks"]
    assert tasks[0]["status"] == "fail" and "gone.docx' does not exist" in tasks[0]["reason"]
    assert tasks[1]["status"] == "pass"  # the batch went on


def test_missing_task_file(home, tmp_path) -> None:
    line = one_error_line(lamforge("env", "run-task", "--tasks", str(tmp_path / "no.jsonl"),
                                   home=home))
    assert "no such file" in line


@pytest.mark.writer
def test_document_libreoffice_cannot_open_fails_with_its_reason(home, tmp_path) -> None:
    garbage = tmp_path / "broken.docx"
    with zipfile.ZipFile(garbage, "w") as z:  # a zip package, but not a Word document
        z.writestr("junk.bin", b"PK\x03\x04 this is not a document" * 50)
    bad = tmp_path / "t.jsonl"
    bad.write_text(json.dumps({"id": "x", "app": "writer", "request": "r",
                               "template": str(garbage)}) + "\n")
    out = tmp_path / "v.json"
    proc = lamforge("env", "run-task", "--tasks", str(bad), "--json", str(out), home=home)
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert "broken.docx: LibreOffice cannot open it" in json.loads(out.read_text())["tasks"][0]["reason"]


def test_task_file_with_invalid_utf8_names_the_line(home, tmp_path) -> None:
    bad = tmp_path / "t.jsonl"
    bad.write_bytes(SAMPLE_TASKS.read_bytes().splitlines()[0] + b"\n\xff\xfe\n")
    line = one_error_line(lamforge("env", "run-task", "--tasks", str(bad), home=home))
    assert f"{bad}:2: not UTF-8" in line


def test_check_with_a_wrongly_typed_parameter_names_file_and_line(home, tmp_path) -> None:
    bad = tmp_path / "t.jsonl"
    bad.write_text(json.dumps({"id": "x", "app": "writer", "request": "r", "template": "line",
                               "checks": [{"kind": "bold", "text": "a", "value": "false"}]}) + "\n")
    line = one_error_line(lamforge("env", "run-task", "--tasks", str(bad), home=home))
    assert f"{bad}:1: task 'x': check 'bold': value: Input should be a valid boolean" in line


@pytest.mark.writer
def test_templates_accepts_a_relative_directory(home, tmp_path) -> None:
    env = {**os.environ, "LAMFORGE_HOME": str(home), "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "lamforge", "env", "templates", "--out", "lib"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    names = {t["name"] for t in json.loads((tmp_path / "lib" / "description.json").read_text())}
    assert {"line", "report", "table", "bullets", "shape", "comments", "multipage"} <= names


def _activated(home: Path) -> dict[str, str]:
    """The environment of a shell after `source .venv/bin/activate` (the README's first step):
    VIRTUAL_ENV set and the venv's bin first on PATH."""
    venv = Path(sys.prefix)
    return {**os.environ, "LAMFORGE_HOME": str(home), "COLUMNS": "200", "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.writer
def test_commands_work_with_the_virtualenv_activated(home, tmp_path) -> None:
    """LibreOffice's embedded Python must not pick up the venv's interpreter from PATH: it
    did, and every episode failed (std::bad_alloc from getScript) while `env check` said
    ready."""
    env = _activated(home)
    exe = str(Path(sys.prefix) / "bin" / "lamforge")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=300)

    check = run("env", "check", "writer")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "in-process reader: read a new document" in check.stdout
    tasks = run("env", "run-task", "--tasks", str(SAMPLE_TASKS), "--id", "bold-word",
                "--id", "insert-table")
    assert tasks.returncode == 0, tasks.stdout + tasks.stderr
    assert "2/2 tasks passed" in tasks.stdout
    out = tmp_path / "out.docx"
    agent = run("run", "Make 'quick' bold", "--doc", "line", "--model", "rules",
                "--out", str(out), "--check", '{"kind": "bold", "text": "quick"}')
    assert agent.returncode == 0, agent.stdout + agent.stderr
    assert "pass:" in agent.stdout and out.is_file()


@pytest.mark.writer
def test_an_error_libreoffice_raises_reaches_the_user_as_one_line(home, tmp_path) -> None:
    """A UNO exception refuses new attributes; typer's wrapper (and contextlib) tried to set one
    on it, and the user saw "Couldn't convert <typer.models.DeveloperExceptionConfig …> to a
    UNO type" over three lines instead of LibreOffice's reason."""
    folder = tmp_path / "taken.docx"
    folder.mkdir()  # LibreOffice cannot store a document where a folder stands
    proc = lamforge("run", "Make 'quick' bold", "--doc", "line", "--model", "rules",
                    "--out", str(folder), home=home)
    line = one_error_line(proc)
    assert f"cannot save {folder}" in line and "IOException" in line, line
    assert "UNO type" not in line and " at ./" not in line


def test_progress_off_a_terminal_is_a_plain_line_per_tenth_and_a_last_one() -> None:
    import io

    from rich.console import Console

    from lamforge.console import Steps

    out = io.StringIO()
    console = Console(file=out, width=10_000, soft_wrap=True)
    with Steps(console, "executing", 20) as steps:
        steps.gap_s = 0.0
        for _ in range(20):
            steps.advance()
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [
        *(f"executing: {n}/20 ({n * 5}%)" for n in range(2, 20, 2)), "executing: 20/20 (100%)"]
    quick = io.StringIO()
    with Steps(Console(file=quick, width=10_000), "mining", 1000) as steps:
        for _ in range(1000):  # done well within the gap: only the last line
            steps.advance()
    assert quick.getvalue().count("\n") == 1 and "mining: 1000/1000 (100%)" in quick.getvalue()
    # a job that may not happen (phase 3 inside `train all`): its clock starts with its first
    # item, and its last line comes when it ends, not when the block around it does
    late = io.StringIO()
    with Steps(Console(file=late, width=10_000), "exploring", 2, show_at_start=False) as steps:
        time.sleep(1.2)
        steps.advance(2)
        assert late.getvalue() == "exploring: 2/2 (100%), 0 s\n"
        time.sleep(0.6)
    assert late.getvalue() == "exploring: 2/2 (100%), 0 s\n"
