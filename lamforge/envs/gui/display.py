"""A private virtual screen and D-Bus session for one GUI environment.

Each GUI environment (each worker) owns one `Display`: an Xvfb server on a display number
the X server picks itself (`-displayfd`, so two workers never race for `:N`), and a session
D-Bus daemon on which the AT-SPI bus is activated when the app first asks for it. Both run in
their own process groups with PR_SET_PDEATHSIG, are killed as groups on `close()` and at
interpreter exit, so nothing outlives its owner, as for `Office`.

The display also has its own XDG folders (data, config, cache, runtime), given to the D-Bus
session and so to the AT-SPI bus it activates, and to every program run on the display:
- GTK keeps the recent-files list in the data folder (`recently-used.xbel`), and
  LibreOffice adds every document it loads to it. A shared list grew to its cap of 1,000
  entries (620 KB), rewritten at every load by each worker and read back by the others. In
  one hung load, gdb showed LibreOffice parsing it on a UNO thread while the main loop
  waited.
- The AT-SPI bus puts its socket in the runtime folder (else `~/.cache/at-spi/bus_N`, left
  behind after the bus has gone), and GTK's settings back end (dconf) its files in the
  cache and config folders. With them private, an episode writes nothing in the user's
  home, and two workers never share a file.
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

from lamforge.core import EnvironmentUnavailable
from lamforge.envs.writer.office import _die_with_parent, kill_group
from lamforge.envs.xdg import xdg_folders

SCREEN = "1280x800x24"
"""The size the probe measured at; LibreOffice's dialogs fit in it."""
PROGRAMS = {"Xvfb": "xvfb", "dbus-daemon": "dbus-x11", "xdotool": "xdotool"}
"""Programs a GUI environment needs, with the Debian package of each (scripts/setup.sh)."""

_LIVE: weakref.WeakSet[Display] = weakref.WeakSet()


def missing_programs() -> list[str]:
    """The Debian packages to install before a GUI environment can start."""
    return sorted({pkg for prog, pkg in PROGRAMS.items() if shutil.which(prog) is None})


def _read_line(proc: subprocess.Popen, stream, timeout: float, what: str) -> str:
    """A line a starting server prints, or `EnvironmentUnavailable` after `timeout`."""
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise EnvironmentUnavailable(f"{what} did not start (exit code {proc.poll()})")
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 256)
            if not chunk:
                raise EnvironmentUnavailable(f"{what} closed its output during start-up")
            buf += chunk
    return buf.decode().strip()


def _remove_x_socket(number: str) -> None:
    """Remove display `number`'s socket, which Xvfb removes itself only when it ends cleanly,
    if no server answers on it: another worker's Xvfb may have taken the number over. (Run
    with -displayfd, Xvfb makes no lock file.)"""
    path = f"/tmp/.X11-unix/X{number}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
            return  # a live server has it
        except FileNotFoundError:
            return
        except OSError:  # refused: nobody listens
            pass
    Path(path).unlink(missing_ok=True)


class Display:
    """Xvfb + a session D-Bus. `env` holds the variables a program needs to use them."""

    def __init__(self, start_timeout: float = 15.0) -> None:
        self.start_timeout = start_timeout
        self.xvfb: subprocess.Popen | None = None
        self.dbus: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.home: str | None = None
        self.number: str | None = None  # the X display's number
        _LIVE.add(self)

    def start(self) -> Display:
        if self.alive:
            return self
        missing = missing_programs()
        if missing:
            raise EnvironmentUnavailable(
                f"the GUI environments need {', '.join(missing)} (scripts/setup.sh)")
        self.kill()
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", "1", "-screen", "0", SCREEN, "-nolisten", "tcp", "-noreset"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent)
        number = _read_line(self.xvfb, self.xvfb.stdout, self.start_timeout, "Xvfb")
        self.home = tempfile.mkdtemp(prefix="lamforge-display-")  # mode 0700, as runtime needs
        xdg = xdg_folders(Path(self.home), ("data", "config", "cache", "runtime"))
        self.dbus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1",
             # its socket in our runtime folder: the default (/tmp/dbus-*) outlives a SIGKILL
             f"--address=unix:dir={xdg['XDG_RUNTIME_DIR']}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, **xdg, "DISPLAY": f":{number}"},
            start_new_session=True, preexec_fn=_die_with_parent)
        address = _read_line(self.dbus, self.dbus.stdout, self.start_timeout, "dbus-daemon")
        self.env = {"DISPLAY": f":{number}", "DBUS_SESSION_BUS_ADDRESS": address, **xdg}
        self.number = number
        return self

    @property
    def alive(self) -> bool:
        return all(p is not None and p.poll() is None for p in (self.xvfb, self.dbus))

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in (self.xvfb, self.dbus) if p is not None]

    def kill(self) -> None:
        """Kill both servers' process groups (the AT-SPI bus the session activated is in the
        D-Bus daemon's)."""
        for proc in (self.dbus, self.xvfb):
            if proc is not None:
                kill_group(proc)
        self.xvfb = self.dbus = None
        self.env = {}
        if self.number is not None:
            _remove_x_socket(self.number)
            self.number = None
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

    close = kill

    def __enter__(self) -> Display:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@atexit.register
def _close_all() -> None:
    for display in list(_LIVE):
        display.kill()
