"""LibreOffice process management and the UNO connection.

One `Office` is one headless `soffice.bin` with its own profile and a UNO socket on a free port.
It is kept warm across episodes. Every UNO call goes through `call()`, which runs it on a
worker thread with a time-out: a call that hangs or meets a dead bridge kills the whole process
group and raises `EnvironmentCrashed`; `restart()` then brings up a fresh instance.

Why `soffice.bin` and not `soffice`: the `soffice` shell wrapper forks, and killing the
wrapper's pid leaves the real process running. We start the binary in its own session, ask the
kernel to kill it if we die (PR_SET_PDEATHSIG), kill its process group on close, and close every
live instance at interpreter exit, so no LibreOffice outlives its owner.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, TypeVar

from lamforge.core import EnvironmentCrashed, EnvironmentUnavailable, LamforgeError, TemplateError
from lamforge.core.lifetime import end_with_parent
from lamforge.envs.base import EnvStatus
from lamforge.envs.xdg import xdg_folders

T = TypeVar("T")

SOFFICE_BIN = Path(os.environ.get("LAMFORGE_SOFFICE", "/usr/lib/libreoffice/program/soffice.bin"))
UNO_PATH = "/usr/lib/python3/dist-packages"
INPROC_SCRIPT = Path(__file__).with_name("inproc") / "lamforge_writer.py"
SCRIPT_URI = "vnd.sun.star.script:{module}.py${fn}?language=Python&location=user"

_LIVE: weakref.WeakSet[Office] = weakref.WeakSet()
ROOT_PREFIX = "lamforge-office-"
STARTED_PIDS: list[int] = []  # every soffice.bin this process started (tests check they ended)


def remove_stale_roots() -> None:
    """Delete working folders left by owners that were killed before they could clean up,
    and the IPC pipes their LibreOffices left in /tmp."""
    for root in Path(tempfile.gettempdir()).glob(f"{ROOT_PREFIX}*-*"):
        pid = root.name[len(ROOT_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            for profile in root.glob("profile*"):
                _ipc_pipe(profile).unlink(missing_ok=True)
            shutil.rmtree(root, ignore_errors=True)


def import_uno():
    """Import pyuno from Debian's python3-uno (appended, so it never shadows the venv)."""
    try:
        import uno
    except ImportError:
        if UNO_PATH not in sys.path:
            sys.path.append(UNO_PATH)
        try:
            import uno
        except ImportError as e:
            raise EnvironmentUnavailable(
                f"cannot import the UNO bridge ({e}); install python3-uno (scripts/setup.sh)"
            ) from None
    import uno

    # pyuno replaces builtins.__import__ with a hook for `from com.sun.star… import` forms,
    # which we never use; the hook breaks other packages' lazy imports (tqdm's, for one), so
    # the interpreter gets its own import back.
    original = getattr(uno, "_builtin_import", None)
    if original is not None and builtins.__import__ is not original:
        builtins.__import__ = original
    return uno


def check_installation() -> EnvStatus:
    """Check, without starting anything heavy first, what the Writer environment needs."""
    details: list[tuple[str, bool, str]] = []
    details.append(("soffice.bin", SOFFICE_BIN.is_file(), str(SOFFICE_BIN) if SOFFICE_BIN.is_file()
                    else "missing: apt-get install libreoffice-writer (scripts/setup.sh)"))
    try:
        import_uno()
        details.append(("python3-uno", True, "import uno works"))
    except EnvironmentUnavailable as e:
        details.append(("python3-uno", False, str(e)))
    provider = Path("/usr/lib/libreoffice/program/pythonscript.py").is_file()
    details.append(("script provider", provider, "pythonscript.py present" if provider else
                    "missing: apt-get install libreoffice-script-provider-python"))
    if all(ok for _, ok, _ in details):
        office = Office()
        try:
            t0 = time.perf_counter()
            office.start()
            version = office.version()
            details.append(("start", True, f"LibreOffice {version} started and answered in "
                                           f"{time.perf_counter() - t0:.1f} s"))
            details.append(_check_reader(office))
        except Exception as e:  # report any failure to start as a reason, not a traceback
            details.append(("start", False, _reason(e)))
        finally:
            office.close()
    return EnvStatus(ok=all(ok for _, ok, _ in details), details=details)


def _check_reader(office: Office) -> tuple[str, bool, str]:
    """Read a new document through the in-process reader, as every episode does: a Python
    script provider that cannot run (an inherited virtualenv, a missing package) fails here
    rather than in the first episode."""
    try:
        t0 = time.perf_counter()
        doc = office.new_document()
        try:
            state = office.script("state", doc)
        finally:
            office.close_document(doc)
        return ("in-process reader", True, f"read a new document's state "
                                           f"({len(state['paragraphs'])} paragraph) in "
                                           f"{time.perf_counter() - t0:.2f} s")
    except Exception as e:
        return ("in-process reader", False, _reason(e))


def _reason(e: BaseException) -> str:
    return str(e) if isinstance(e, LamforgeError) else uno_error_text(e)


# Variables that point an embedded interpreter at another Python's files.
_PYTHON_VARS = ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONUSERBASE",
                "PYTHONEXECUTABLE", "PYTHONSAFEPATH", "__PYVENV_LAUNCHER__", "CONDA_PREFIX",
                "CONDA_DEFAULT_ENV")
SYSTEM_PYTHON = Path("/usr/bin/python3")


def office_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment LibreOffice runs in: the caller's, minus everything that would make its
    embedded Python load another Python's standard library.

    Why: Debian's LibreOffice embeds the system libpython3.11, which finds its prefix by
    looking `python3` up on PATH. An activated virtualenv (or a pyenv/conda interpreter first
    on PATH) answers with a Python of another build and its site-packages; the embedded
    interpreter then fails on its first script call (`std::bad_alloc` from `getScript`,
    later "can't import __main__ module"). So `VIRTUAL_ENV` and `PYTHON*` go, and PATH keeps
    only directories whose `python3`, if they have one, is the system's.
    """
    env = dict(os.environ if environ is None else environ)
    for name in _PYTHON_VARS:
        env.pop(name, None)
    system = SYSTEM_PYTHON.resolve() if SYSTEM_PYTHON.exists() else None
    kept = []
    for entry in env.get("PATH", "").split(os.pathsep):
        candidate = Path(entry or ".") / "python3"
        if candidate.exists() and candidate.resolve() != system:
            continue
        kept.append(entry)
    env["PATH"] = os.pathsep.join(kept) or "/usr/bin:/bin"
    return env


class OfficeError(Exception):
    """LibreOffice refused a call: a UNO exception turned into a plain one of one readable line.

    Why not let UNO exceptions travel: pyuno's exception objects refuse new attributes, so the
    first `with` block or library that sets one (`__traceback__` in contextlib, typer's tag)
    replaces the real cause with "Couldn't convert … to a UNO type"."""

    def __init__(self, message: str, uno_type: str) -> None:
        super().__init__(message)
        self.uno_type = uno_type


def uno_error_text(e: BaseException) -> str:
    """One readable line for an exception from LibreOffice: its UNO type's short name and the
    first line of its message, without the C++ source locations pyuno appends."""
    if isinstance(e, OfficeError):
        return str(e)
    message = str(getattr(e, "Message", "") or e).strip()
    first = next((line for line in message.splitlines() if line.strip()), "")
    first = re.sub(r"\s+at \./\S+:\d+", "", first).strip()
    first = re.sub(r"\bSt\d+(\w+): std::\1\b", r"std::\1", first)  # a mangled C++ type name
    name = type(e).__name__.rsplit(".", 1)[-1]
    return f"{name}: {first}" if first else name


def _is_uno(e: BaseException) -> bool:
    return type(e).__module__ == "uno" or "com.sun.star." in type(e).__name__


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ipc_pipe(profile: Path) -> Path:
    """The socket an soffice with this profile listens on for a second start of the same
    profile. LibreOffice names it from the MD5 of the profile's URL (UTF-16, each byte in hex
    without padding), always under /tmp, whatever TMPDIR says."""
    digest = hashlib.md5(profile.as_uri().encode("utf-16-le")).digest()
    return Path(f"/tmp/OSL_PIPE_{os.getuid()}_SingleOfficeIPC_{''.join(f'{b:x}' for b in digest)}")


def kill_group(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGKILL a child's whole process group (it may be hung: no graceful path), reap it and
    close its pipes. Every process lamforge starts is a group leader (start_new_session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            if stream is not None:
                stream.close()


def _die_with_parent() -> None:
    """preexec_fn: the child gets SIGKILL when the thread that started it dies."""
    end_with_parent(signal.SIGKILL)


class _Worker:
    """A daemon thread that runs UNO calls, so the caller can stop waiting after a time-out."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._job: tuple[Callable[[], Any], Future] | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="uno-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Let the thread end once its current call (if any) returns."""
        with self._lock:
            self._stopped = True
            self._lock.notify()

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._job is None and not self._stopped:
                    self._lock.wait()
                if self._stopped:
                    return
                fn, fut = self._job
                self._job = None
            try:
                fut.set_result(fn())
            except BaseException as e:
                fut.set_exception(e)

    def submit(self, fn: Callable[[], T]) -> Future:
        fut: Future = Future()
        with self._lock:
            self._job = (fn, fut)
            self._lock.notify()
        return fut


class Office:
    """A warm headless LibreOffice with a UNO connection. Use as a context manager."""

    def __init__(self, call_timeout: float = 15.0, start_timeout: float = 60.0,
                 display: dict[str, str] | None = None, scripts: tuple[Path, ...] = ()
                 ) -> None:
        """`display`: the variables of a virtual display and D-Bus session
        (`lamforge.envs.gui.display`) to show LibreOffice's real windows on, with the gtk3
        plugin that exposes them to AT-SPI; None runs it headless. `scripts`: in-process
        readers of other apps (Calc's, Impress's), installed beside Writer's (`script`)."""
        self.call_timeout = call_timeout
        self.inproc = (INPROC_SCRIPT, *scripts)
        self.display = display
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.ctx: Any = None
        self.desktop: Any = None
        self.restarts = 0
        self._started = False
        self._worker: _Worker | None = None
        self._scripts: dict[tuple[str, str], Any] = {}
        self._pipe: Path | None = None
        remove_stale_roots()
        self._root = Path(tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}-"))
        self.docs_dir = self._root / "docs"
        self.docs_dir.mkdir()
        _LIVE.add(self)

    # ---- life cycle -------------------------------------------------------------------------
    def start(self) -> Office:
        if self.alive:
            return self
        uno = import_uno()
        if not SOFFICE_BIN.is_file():
            raise EnvironmentUnavailable(
                f"{SOFFICE_BIN} not found; install libreoffice-writer (scripts/setup.sh)")
        profile = self._root / f"profile{self.restarts}"
        scripts = profile / "user" / "Scripts" / "python"
        scripts.mkdir(parents=True, exist_ok=True)
        for script in self.inproc:
            shutil.copy(script, scripts / script.name)
        port = _free_port()
        shown = [] if self.display else ["--headless", "--invisible"]
        argv = [str(SOFFICE_BIN), *shown, "--nologo", "--norestore",
                "--nodefault", "--nolockcheck", "--nofirststartwizard",
                f"-env:UserInstallation={profile.as_uri()}",
                f"--accept=socket,host=127.0.0.1,port={port};urp;"]
        self.proc = self._spawn(argv)
        STARTED_PIDS.append(self.proc.pid)
        self._pipe = _ipc_pipe(profile)
        self._started = True
        self._worker = _Worker()
        self._scripts = {}
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self.proc.poll()  # once: an exit between two reads took 81 for a failure
            if code == 81:
                # A new profile makes soffice.bin exit with 81 and ask to be started again
                # (the `soffice` wrapper does this for interactive users).
                self.proc = self._spawn(argv)
                STARTED_PIDS.append(self.proc.pid)
                continue
            if code is not None:
                raise EnvironmentUnavailable(
                    f"soffice.bin exited with code {code} during start-up")
            try:
                # through the worker: a connect that hangs must not hang us
                self.ctx = self._worker.submit(lambda: resolver.resolve(url)).result(
                    timeout=max(1.0, deadline - time.monotonic()))
                break
            except Exception:
                if time.monotonic() > deadline:
                    self.kill()
                    raise EnvironmentUnavailable(
                        f"LibreOffice did not accept a UNO connection within {self.start_timeout:.0f} s"
                    ) from None
                time.sleep(0.05)
        smgr = self.ctx.ServiceManager
        self.desktop = self.call(
            lambda: smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx))
        self._dispatcher = self.call(
            lambda: smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", self.ctx))
        if self.display:  # the real file dialogs start in the Work folder: ours, not $HOME
            work = self.docs_dir.as_uri()
            self.call(lambda: setattr(smgr.createInstanceWithContext(
                "com.sun.star.util.PathSettings", self.ctx), "Work", work))
        return self

    def _spawn(self, argv: list[str]) -> subprocess.Popen:
        """Start soffice with its own XDG folders under the instance's root (a display brings
        its own): even headless, LibreOffice writes GTK's settings cache (dconf) and makes
        ~/.config in the user's home otherwise. They must exist: LibreOffice falls back to
        ~/.config when XDG_CONFIG_HOME names no folder."""
        env = {**office_environment(), **xdg_folders(self._root / "xdg")}
        # its temporary folder (lu*.tmp) too, which a killed soffice leaves behind
        (self._root / "tmp").mkdir(exist_ok=True)
        env["TMPDIR"] = str(self._root / "tmp")
        if self.display:
            env.update(self.display, SAL_USE_VCLPLUGIN="gtk3")
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, start_new_session=True, preexec_fn=_die_with_parent,
        )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.ctx is not None

    def kill(self) -> None:
        """End the whole process group at once (no graceful path: it may be hung)."""
        proc, self.proc = self.proc, None
        self.ctx = self.desktop = None
        self._scripts = {}
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        if proc is not None:
            kill_group(proc)
        if self._pipe is not None:  # soffice removes it itself only when it ends cleanly
            self._pipe.unlink(missing_ok=True)
            self._pipe = None

    def restart(self) -> Office:
        """Start a fresh instance with a fresh profile (the old one may be damaged)."""
        self.kill()
        if self._started:
            self.restarts += 1
        return self.start()

    def close(self) -> None:
        """Terminate LibreOffice gracefully if it answers, then make sure the group is gone."""
        if self.alive:
            desktop = self.desktop
            try:
                fut = self._worker.submit(desktop.terminate)  # type: ignore[union-attr]
                fut.result(timeout=5)
                self.proc.wait(timeout=5)  # type: ignore[union-attr]
            except Exception:
                pass
        self.kill()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> Office:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- calls ------------------------------------------------------------------------------
    def call(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Run a UNO call with a time-out; a hang or dead bridge becomes `EnvironmentCrashed`."""
        if self.proc is None or self._worker is None:
            raise EnvironmentCrashed("LibreOffice is not running")
        fut = self._worker.submit(fn)
        try:
            return fut.result(timeout=timeout or self.call_timeout)
        except FutureTimeout:
            self.kill()  # the blocked call fails once the bridge is gone; its thread then ends
            raise EnvironmentCrashed(
                f"LibreOffice did not answer within {timeout or self.call_timeout:.0f} s "
                "and was killed") from None
        except Exception as e:
            if self.proc is not None and self.proc.poll() is not None:
                code = self.proc.returncode
                self.kill()
                raise EnvironmentCrashed(f"LibreOffice died (exit code {code})") from None
            name = type(e).__name__
            if "Disposed" in name or "bridge disposed" in str(e).lower() or "Bridge" in name:
                self.kill()
                raise EnvironmentCrashed(f"the UNO bridge to LibreOffice was lost ({name})") from None
            if _is_uno(e):
                raise OfficeError(uno_error_text(e), name) from None
            raise

    def script(self, fn: str, *args: Any, timeout: float | None = None,
               module: str = INPROC_SCRIPT.stem) -> Any:
        """Call a function of an in-process reader (Writer's unless `module` names another
        installed one) and decode its JSON answer.

        A provider that cannot load the script is a set-up fault (`EnvironmentUnavailable`);
        a script that fails on a document ends the episode (`EnvironmentCrashed`). Either way
        the caller gets one readable line, never a raw UNO exception."""
        if (module, fn) not in self._scripts:
            smgr = self.ctx.ServiceManager
            try:
                factory = self.call(lambda: smgr.createInstanceWithContext(
                    "com.sun.star.script.provider.MasterScriptProviderFactory", self.ctx))
                provider = self.call(lambda: factory.createScriptProvider(""))
                uri = SCRIPT_URI.format(module=module, fn=fn)
                self._scripts[module, fn] = self.call(lambda: provider.getScript(uri))
            except LamforgeError:
                raise
            except Exception as e:
                app = module.removeprefix("lamforge_")  # lamforge_calc.py: calc-gui's reader
                env = "writer" if app == "writer" else f"{app}-gui"
                raise EnvironmentUnavailable(
                    f"LibreOffice's Python script provider cannot load the in-process reader "
                    f"{module}.py ({uno_error_text(e)}); run `lamforge env check {env}`"
                    ) from None
        script = self._scripts[module, fn]
        try:
            out = self.call(lambda: script.invoke(tuple(args), (), ()), timeout=timeout)
        except LamforgeError:
            raise
        except Exception as e:
            raise EnvironmentCrashed(
                f"the in-process reader failed in {fn}() ({uno_error_text(e)})") from None
        return json.loads(out[0])

    def dispatch(self, frame: Any, command: str, args: dict[str, Any] | None = None) -> Any:
        """Run a `.uno:` command through the real dispatcher, with typed arguments."""
        props = self.props(**(args or {}))
        helper = self._dispatcher
        return self.call(lambda: helper.executeDispatch(frame, command, "", 0, props))

    def props(self, **kwargs: Any) -> tuple:
        uno = import_uno()
        return tuple(uno.createUnoStruct("com.sun.star.beans.PropertyValue", k, 0, v, 0)
                     for k, v in kwargs.items())

    # ---- documents --------------------------------------------------------------------------
    def open(self, path: Path, hidden: bool = True,
             service: str = "com.sun.star.text.TextDocument") -> Any:
        """Open a document of the kind `service` names (a text document unless said); a
        `None` from LibreOffice becomes a `TemplateError` with the reason."""
        path = path.resolve()
        if not path.is_file():
            raise TemplateError(f"{path}: no such document")
        desktop = self.desktop
        props = self.props(Hidden=hidden, ReadOnly=False)
        try:
            doc = self.call(lambda: desktop.loadComponentFromURL(path.as_uri(), "_blank", 0, props))
        except EnvironmentCrashed:
            raise
        except Exception as e:
            raise TemplateError(f"{path}: LibreOffice cannot open it ({type(e).__name__})") from None
        if doc is None or not self.call(lambda: doc.supportsService(service)):
            if doc is not None:
                self.call(lambda: doc.close(True))
            kind = {"TextDocument": "text document", "SpreadsheetDocument": "spreadsheet",
                    "PresentationDocument": "presentation"}.get(service.rsplit(".", 1)[-1],
                                                                service)
            raise TemplateError(f"{path}: LibreOffice cannot open it as a {kind}")
        return doc

    def new_document(self) -> Any:
        desktop = self.desktop
        props = self.props(Hidden=True)
        return self.call(lambda: desktop.loadComponentFromURL(
            "private:factory/swriter", "_blank", 0, props))

    def save_docx(self, doc: Any, path: Path) -> None:
        self.save_as(doc, path, "MS Word 2007 XML")

    def save_as(self, doc: Any, path: Path, filter_name: str) -> None:
        """Store a copy of `doc` at `path` with an export filter (the open document keeps its
        own location, as 'Save a Copy' does)."""
        props = self.props(FilterName=filter_name, Overwrite=True)
        uri = path.resolve().as_uri()
        try:
            self.call(lambda: doc.storeToURL(uri, props))
        except OfficeError as e:
            raise OfficeError(f"cannot save {path}: {e}", e.uno_type) from None

    def close_document(self, doc: Any) -> None:
        try:
            self.call(lambda: doc.close(True), timeout=10)
        except EnvironmentCrashed:
            raise
        except Exception:
            pass

    def version(self) -> str:
        smgr = self.ctx.ServiceManager
        ctx = self.ctx

        def read() -> str:
            cp = smgr.createInstanceWithContext(
                "com.sun.star.configuration.ConfigurationProvider", ctx)
            uno = import_uno()
            arg = uno.createUnoStruct("com.sun.star.beans.PropertyValue", "nodepath", 0,
                                      "/org.openoffice.Setup/Product", 0)
            node = cp.createInstanceWithArguments(
                "com.sun.star.configuration.ConfigurationAccess", (arg,))
            return str(node.getByName("ooSetupVersionAboutBox"))

        return self.call(read)


@atexit.register
def _close_all() -> None:
    for office in list(_LIVE):
        office.kill()
        shutil.rmtree(office._root, ignore_errors=True)
