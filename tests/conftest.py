"""Shared fixtures. Writer tests start a real LibreOffice; one warm instance serves the module."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TASKS = ROOT / "examples" / "writer" / "tasks.jsonl"
SERVE_KEY = "lamforge-test-key"
"""The `served` LAM's API key (a deployment has one, as vLLM's --api-key)."""


_SESSION_TMP: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Give this run its own temp folder, so the leak check below sees only our LibreOffices
    (the subprocesses of CLI tests inherit TMPDIR) and never touches anyone else's; and its
    own LAMFORGE_HOME in it, so a test that does not name one never builds templates or
    caches menus in the user's ~/.cache/lamforge (and matplotlib's cache in it too)."""
    global _SESSION_TMP
    _SESSION_TMP = tempfile.mkdtemp(prefix="lamforge-tests-")
    os.environ["TMPDIR"] = _SESSION_TMP
    os.environ["LAMFORGE_HOME"] = os.path.join(_SESSION_TMP, "lamforge-home")
    os.environ["MPLCONFIGDIR"] = os.path.join(_SESSION_TMP, "matplotlib")  # its font cache
    tempfile.tempdir = None


def _our_office_pids() -> list[str]:
    out = subprocess.run(["pgrep", "-f", f"soffice.bin.*{_SESSION_TMP}/"], capture_output=True,
                         text=True).stdout
    return out.split()


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME with no XDG variables, for tests that check nothing is written there.
    Debian's pyuno makes ~/.config when first imported, in the caller's own process: it is
    imported before HOME moves."""
    from lamforge.envs.writer.office import import_uno

    import_uno()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def sockets_in_tmp():
    """A function listing what LibreOffice, Xvfb and D-Bus put in /tmp whatever TMPDIR says:
    their sockets and X's lock files, which outlive a killed owner unless it removes them."""
    patterns = ("OSL_PIPE_*", "dbus-*", ".X*-lock", ".X11-unix/X*")
    return lambda: {str(p) for pattern in patterns for p in Path("/tmp").glob(pattern)}


@pytest.fixture(scope="session")
def templates_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template library built by this test session (not the user's cache)."""
    return tmp_path_factory.mktemp("templates")


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, templates_dir: Path) -> Path:
    """A tiny LAM trained through all four phases on real Writer runs of two sample tasks
    (about a minute), shared by the training and the agent tests; returns the output
    directory (lam1/ … lam4/)."""
    from .tiny_lams import train_all

    return train_all(tmp_path_factory.mktemp("phases"), templates_dir)


class Server:
    """`lamforge serve` of `model` on a free 127.0.0.1 port, started and waited for; its
    output goes to `log` (a pipe nobody reads would fill up and block the server)."""

    def __init__(self, model: Path, log: Path, api_key: str = SERVE_KEY) -> None:
        self.log = log.open("w+")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        self.proc = subprocess.Popen([sys.executable, "-m", "lamforge", "serve", "--model",
                                      str(model), "--port", str(port), "--api-key", api_key],
                                     stdout=self.log, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "COLUMNS": "200"})
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1)
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    self.log.seek(0)
                    raise AssertionError(self.log.read()[-2000:]) from None
                time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture(scope="session")
def served(trained: Path, tmp_path_factory: pytest.TempPathFactory):
    """`lamforge serve` of the trained tiny LAM3; its /v1 URL."""
    server = Server(trained / "lam3" / "model", tmp_path_factory.mktemp("serve") / "serve.log")
    yield server.url + "/v1"
    server.stop()


@pytest.fixture(scope="module")
def writer_env(templates_dir: Path):
    from lamforge.envs.writer.env import WriterEnv

    env = WriterEnv(templates_dir=templates_dir)
    yield env
    env.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any LibreOffice started by lamforge outlived the tests. Then remove
    what the LibreOffices of killed owners (tests that kill a CLI run) left: their folders
    here and their IPC pipes in /tmp."""
    from lamforge.envs.writer.office import remove_stale_roots

    left = _our_office_pids()
    if left:
        print(f"\nERROR: LibreOffice processes left after the tests: {left}")
        for pid in left:
            subprocess.run(["kill", "-9", pid], check=False)
        session.exitstatus = 1
    remove_stale_roots()
    shutil.rmtree(_SESSION_TMP or "", ignore_errors=True)
