"""A crashed or hung LibreOffice fails the episode, is restarted, and never outlives its owner."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from lamforge.core import Action, Check, Task
from lamforge.envs.writer.env import WriterEnv

pytestmark = pytest.mark.writer

TASK = Task(id="t", app="writer", request="Make quick bold", template="line",
            checks=[Check(kind="bold", text="quick")])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead for our purpose
        return fh.read().split()[2] != "Z"


def test_killed_soffice_mid_episode_fails_the_episode_and_restarts(templates_dir) -> None:
    with WriterEnv(templates_dir=templates_dir) as env:
        env.reset(TASK)
        env.step(Action(function="select_text", args={"text": "quick"}))
        old_pid = env.office.proc.pid
        os.killpg(old_pid, signal.SIGKILL)
        result = env.step(Action(function="click", control_text="Bold"))
        assert not result.ok and result.done and result.info["crashed"]
        assert "crashed" in result.error and "episode failed" in result.error
        verdict = env.evaluate()
        assert verdict.status == "fail" and "crashed" in verdict.reason
        # the next episode runs on a fresh instance
        env.reset(TASK)
        assert env.office.proc.pid != old_pid
        env.step(Action(function="select_text", args={"text": "quick"}))
        env.step(Action(function="click", control_text="Bold"))
        assert env.evaluate().status == "pass"


def test_hung_soffice_times_out_instead_of_hanging(templates_dir) -> None:
    with WriterEnv(templates_dir=templates_dir, call_timeout=3) as env:
        env.reset(TASK)
        pid = env.office.proc.pid
        os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        result = env.step(Action(function="select_text", args={"text": "quick"}))
        elapsed = time.monotonic() - t0
        assert result.done and not result.ok and "did not answer" in result.error
        assert elapsed < 30
        assert not _alive(pid)
        assert env.reset(TASK).controls


def test_close_leaves_no_process_and_no_file_in_the_home(templates_dir, empty_home) -> None:
    """Headless too, LibreOffice writes dconf's cache and makes ~/.config unless given XDG
    folders of its own (which must exist, or it falls back to ~/.config)."""
    home = empty_home
    env = WriterEnv(templates_dir=templates_dir)
    env.reset(TASK)
    pid = env.office.proc.pid
    env.close()
    env.close()  # idempotent
    assert not _alive(pid)
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == []


def test_a_killed_libreoffice_leaves_no_socket_in_tmp(templates_dir, sockets_in_tmp) -> None:
    """A crash or time-out kills soffice, which then cannot remove its IPC pipe from /tmp:
    the owner does (a test run left 211 of them before)."""
    before = sockets_in_tmp()
    temp = Path(tempfile.gettempdir())
    env = WriterEnv(templates_dir=templates_dir)
    env.reset(TASK)
    assert len(sockets_in_tmp() - before) == 1  # the running instance's pipe
    env.office.kill()  # what a hung call or a crash does
    assert sockets_in_tmp() - before == set()
    env.reset(TASK)  # restarted, with a fresh profile and so a new pipe
    env.office.kill()
    env.close()
    assert sockets_in_tmp() - before == set()
    assert list(temp.glob("lu*.tmp")) == []  # its temporary folders were in its own root


def test_soffice_dies_with_a_killed_owner(tmp_path) -> None:
    """Even SIGKILL of the Python process (no atexit) takes LibreOffice down with it. What
    the owner could not clean up (its folder, soffice's IPC pipe in /tmp) goes when the next
    Office is made."""
    script = textwrap.dedent("""
        import sys, time
        from lamforge.envs.writer.office import Office
        office = Office().start()
        print(office.proc.pid, office._root, office._pipe, flush=True)
        time.sleep(120)
    """)
    # Become a subreaper so the orphaned soffice.bin is re-parented to us and can be reaped
    # (this sandbox's init does not reap zombies).
    ctypes.CDLL("libc.so.6").prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid, root, pipe = owner.stdout.readline().split()
    pid = int(pid)
    assert _alive(pid) and Path(pipe).exists()
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    assert Path(root).exists() and Path(pipe).exists()  # left behind
    from lamforge.envs.writer.office import Office

    Office().close()
    assert not Path(root).exists() and not Path(pipe).exists()


def test_a_script_the_provider_cannot_load_is_one_readable_error() -> None:
    """The in-process reader's failures arrive as lamforge errors of one line, without the
    C++ source locations pyuno appends (not as raw UNO exceptions)."""
    from lamforge.core import EnvironmentUnavailable
    from lamforge.envs.writer.office import Office

    with Office() as office:
        with pytest.raises(EnvironmentUnavailable) as err:
            office.script("no_such_function")
        message = str(err.value)
        assert "cannot load the in-process reader" in message and "\n" not in message
        assert "ScriptFrameworkErrorException" in message and " at ./" not in message
        assert office.script("state", office.new_document())["paragraphs"]  # still usable


def test_libreoffice_gets_an_environment_of_its_own(tmp_path) -> None:
    """An activated venv's or another interpreter's `python3` on PATH, VIRTUAL_ENV and
    PYTHON* never reach soffice; the system's python3 and everything else on PATH stay."""
    from lamforge.envs.writer.office import office_environment

    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python3").symlink_to(sys.executable)
    tools = tmp_path / "tools"
    tools.mkdir()
    env = office_environment({"PATH": os.pathsep.join([str(venv_bin), str(tools), "/usr/bin"]),
                              "VIRTUAL_ENV": str(venv_bin.parent), "PYTHONPATH": "/x",
                              "PYTHONHOME": "/y", "HOME": "/root"})
    assert env["PATH"].split(os.pathsep) == [str(tools), "/usr/bin"]
    assert "VIRTUAL_ENV" not in env and "PYTHONPATH" not in env and "PYTHONHOME" not in env
    assert env["HOME"] == "/root"
