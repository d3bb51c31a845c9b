"""The command line: real runs, and bad input as one clear line with a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
def test_missing_template_is_one_clear_error(home, tmp_path) -> None:
    bad = tmp_path / "t.jsonl"
    bad.write_text(json.dumps({"id": "x", "app": "writer", "request": "r",
                               "template": str(tmp_path / "gone.docx")}) + "\n")
    line = one_error_line(lamforge("env", "run-task", "--tasks", str(bad), home=home))
    assert "gone.docx' does not exist" in line


def test_missing_task_file(home, tmp_path) -> None:
    line = one_error_line(lamforge("env", "run-task", "--tasks", str(tmp_path / "no.jsonl"),
                                   home=home))
    assert "no such file" in line


@pytest.mark.writer
def test_document_libreoffice_cannot_open_is_one_clear_error(home, tmp_path) -> None:
    garbage = tmp_path / "broken.docx"
    garbage.write_bytes(b"PK\x03\x04 this is not really a zip" * 50)
    bad = tmp_path / "t.jsonl"
    bad.write_text(json.dumps({"id": "x", "app": "writer", "request": "r",
                               "template": str(garbage)}) + "\n")
    line = one_error_line(lamforge("env", "run-task", "--tasks", str(bad), home=home))
    assert "broken.docx: LibreOffice cannot open it" in line
