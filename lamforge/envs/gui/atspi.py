"""The client of the AT-SPI server (`atspi_server.py`, run by the system Python).

Every call has a time-out: a server that does not answer in time (a hung app blocks its
accessibility calls) is killed, and the call raises `EnvironmentCrashed`, which fails the
episode and makes the environment restart the app.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

from lamforge.core import EnvironmentCrashed, EnvironmentUnavailable
from lamforge.envs.writer.office import (
    SYSTEM_PYTHON,
    _die_with_parent,
    kill_group,
    office_environment,
)

SERVER = Path(__file__).with_name("atspi_server.py")


class ActionFailed(Exception):
    """The app refused an accessibility call (no such node, no such option): the action's
    error, not the app's end."""


class Bridge:
    """One AT-SPI server process for one display."""

    def __init__(self, display_env: dict[str, str], timeout: float = 10.0) -> None:
        self.display_env = display_env
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def start(self) -> Bridge:
        if self.proc is not None and self.proc.poll() is None:
            return self
        if not SYSTEM_PYTHON.exists():
            raise EnvironmentUnavailable(f"{SYSTEM_PYTHON} not found (python3-pyatspi)")
        env = {**office_environment(), **self.display_env}
        self.proc = subprocess.Popen(
            [str(SYSTEM_PYTHON), "-u", str(SERVER)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
            start_new_session=True, preexec_fn=_die_with_parent)
        self._lines = queue.Queue()
        threading.Thread(target=self._read, args=(self.proc, self._lines), daemon=True,
                         name="atspi-reader").start()
        try:
            self.call("ping")
        except EnvironmentCrashed as e:
            self.kill()
            raise EnvironmentUnavailable(f"the AT-SPI server did not start ({e}); is "
                                         "python3-pyatspi installed? (scripts/setup.sh)") from None
        return self

    @staticmethod
    def _read(proc: subprocess.Popen, lines: queue.Queue) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def call(self, op: str, timeout: float | None = None, **args: Any) -> Any:
        """The server's answer to `op`; `ActionFailed` when it refused, `EnvironmentCrashed`
        when it hung (then it is killed) or died."""
        if self.proc is None or self.proc.poll() is not None or self.proc.stdin is None:
            raise EnvironmentCrashed("the AT-SPI server is not running")
        try:
            self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise EnvironmentCrashed("the AT-SPI server died") from None
        try:
            line = self._lines.get(timeout=timeout or self.timeout)
        except queue.Empty:
            self.kill()
            raise EnvironmentCrashed(
                f"the accessibility call '{op}' did not answer within "
                f"{timeout or self.timeout:.0f} s") from None
        if line is None:
            self.kill()
            raise EnvironmentCrashed("the AT-SPI server died")
        answer = json.loads(line)
        if not answer["ok"]:
            raise ActionFailed(answer["error"])
        return answer["result"]

    def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            kill_group(proc, timeout=5)

    close = kill
