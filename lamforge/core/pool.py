"""Run jobs on workers that each hold one environment: in this process, a local process pool,
or Ray actors on a local instance or a cluster.

The dataflow, phase 3's exploration and the online evaluation all have the same shape: every
worker starts one app (LibreOffice, Chromium) once, then runs many short jobs against it, and
the driver writes each result to an append-only file as soon as it arrives. `run_jobs` is that
shape, once, so that `--backend ray` changes where the workers live and nothing else: the
driver still files every result itself, so the files stay resumable and crash-safe whatever the
backend.

Failures are kept apart by cause:
- a job that raises in a live worker is handed to `on_error` with its own exception;
- with Ray, a worker that dies (killed, out of memory, its node gone) has its unfinished jobs
  sent to another worker, up to `PoolConfig.max_retries` more times per job, after which the job
  goes to `on_error` as `WorkerLost` with Ray's reason; the dead worker is replaced;
- workers that cannot start at all raise `WorkersUnavailable` (one line: the cause), since every
  job would fail the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lamforge.core.errors import EnvironmentUnavailable, FatalError, LamforgeError

BACKENDS = ("local", "ray")


class WorkerLost(LamforgeError):
    """A job's worker died every time the job was tried."""


class WorkersUnavailable(FatalError):
    """The workers could not start (Ray missing or unreachable, the environment's set-up)."""


@dataclass(frozen=True)
class Worker:
    """What each worker runs: `setup(index, *args)` once, `run(*job)` per job, `teardown()` at
    the end. Module-level functions, so a process pool or Ray can ship them by reference; the
    worker's state (its environment) lives in that module's globals, one copy per process."""

    setup: Callable[..., None]
    args: tuple = ()
    run: Callable[..., Any] = print
    teardown: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class PoolConfig:
    backend: Literal["local", "ray"] = "local"
    workers: int = 1
    address: str | None = None
    """Ray only: an existing cluster (`ray://host:10001` or `host:6379`); None starts a local
    instance for the run and stops it afterwards."""
    max_retries: int = 2
    """Ray only: how many more times a job whose worker died is tried on another worker."""
    ray_init: dict[str, Any] = field(default_factory=dict)
    """Ray only: extra `ray.init` arguments (e.g. runtime_env)."""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r} (use {' or '.join(BACKENDS)})")
        if self.workers < 1 or self.max_retries < 0:
            raise ValueError("workers must be >= 1 and max_retries >= 0")
        if self.address and self.backend != "ray":
            raise ValueError("--address needs --backend ray")

    @classmethod
    def of(cls, settings: Any) -> PoolConfig:
        """The pool of a command's settings (anything with backend, workers and address)."""
        return cls(backend=settings.backend, workers=settings.workers, address=settings.address)

    @property
    def pins(self) -> bool:
        """Whether workers may pin themselves to a core: only when they all run on this machine
        and there are no more of them than cores."""
        return (self.backend == "local" or not self.address) and \
            self.workers <= len(os.sched_getaffinity(0))


OnResult = Callable[[Hashable, Any], None]
OnError = Callable[[Hashable, BaseException], None]


def run_jobs(worker: Worker, jobs: Sequence[tuple[Hashable, tuple]], pool: PoolConfig,
             on_result: OnResult, on_error: OnError, in_flight: int = 2) -> None:
    """Run every `(key, args)` job as `worker.run(*args)`; report each outcome by key as soon
    as it is known. `on_result`/`on_error` run in this process, in completion order, and may
    raise to stop the run (the workers are shut down either way). At most `in_flight` jobs per
    worker are queued, so a stop loses little work and results stream back evenly."""
    if not jobs:
        return
    if pool.backend == "ray":
        _run_ray(worker, jobs, pool, on_result, on_error, in_flight)
    elif pool.workers <= 1:
        _run_here(worker, jobs, on_result, on_error)
    else:
        _run_processes(worker, jobs, pool, on_result, on_error, in_flight)


def _run_here(worker: Worker, jobs: Sequence[tuple[Hashable, tuple]], on_result: OnResult,
              on_error: OnError) -> None:
    cpus = os.sched_getaffinity(0)
    try:
        worker.setup(0, *worker.args)
        for key, args in jobs:
            try:
                result = worker.run(*args)
            except Exception as e:  # the job's own trouble: the caller decides
                on_error(key, e)
            else:
                on_result(key, result)
    finally:
        worker.teardown()
        os.sched_setaffinity(0, cpus)  # set-up may have pinned this process


# ---- local process pool ---------------------------------------------------------------------
def _call(fn: Callable[..., Any], args: tuple) -> Any:
    """`fn(*args)` in a pool process; an exception the pool cannot send back (a UNO
    exception refuses its traceback) is sent as a RuntimeError naming it, instead of breaking
    the pool."""
    import pickle

    try:
        return fn(*args)
    except Exception as e:
        try:
            e.__traceback__ = e.__traceback__
            pickle.loads(pickle.dumps(e))
        except Exception:
            raise RuntimeError(f"{type(e).__name__}: {e}") from None
        raise


def _end_with_driver(driver: int) -> None:
    """A pool process ends when the driver does, even killed (SIGKILL, a scheduler's
    SIGTERM): without this it went on with the jobs already queued to it, and its app
    (Xvfb, D-Bus, LibreOffice) stayed up for good. The kernel sends SIGTERM on the driver's
    death (PR_SET_PDEATHSIG). The process runs its exit handlers (they stop its app and
    remove its profile) and ends at once: a SystemExit would be caught by the pool's job
    loop, sent back as the job's result, and the process would wait for the next job
    forever (every pool process holds both ends of the job queue)."""
    import atexit
    import signal
    import sys

    from lamforge.core.lifetime import end_with_parent

    def leave(signum: int, _frame: Any) -> None:
        atexit._run_exitfuncs()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, leave)
    end_with_parent(signal.SIGTERM)
    if os.getppid() != driver:  # the driver died before the line above: nobody will signal
        sys.exit(0)


def _pool_init(driver: int, counter: Any, setup: Callable[..., None],
               teardown: Callable[[], None], args: tuple) -> None:
    from multiprocessing import util

    _end_with_driver(driver)
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    setup(index, *args)
    # the worker's teardown when its process ends with the pool: a pool process leaves by
    # os._exit, past the atexit handlers, but runs multiprocessing's finalizers (a web
    # worker's Chromium folder stayed in /tmp after every `eval online --workers 2`)
    util.Finalize(None, teardown, exitpriority=10)


def _run_processes(worker: Worker, jobs: Sequence[tuple[Hashable, tuple]], pool: PoolConfig,
                   on_result: OnResult, on_error: OnError, in_flight: int) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn, not fork: the driver may hold threads (torch), and forking a threaded process can
    # deadlock the child
    context = multiprocessing.get_context("spawn")
    queue = list(reversed(jobs))
    with ProcessPoolExecutor(max_workers=pool.workers, mp_context=context,
                             initializer=_pool_init,
                             initargs=(os.getpid(), context.Value("i", 0), worker.setup,
                                       worker.teardown, worker.args)
                             ) as executor:
        pending: dict = {}

        def submit() -> None:
            while queue and len(pending) < in_flight * pool.workers:
                key, args = queue.pop()
                pending[executor.submit(_call, worker.run, args)] = key

        submit()
        try:
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in done:
                    key = pending.pop(fut)
                    try:
                        result = fut.result()
                    except Exception as e:  # a dead process breaks the pool: every job left
                        on_error(key, e)    # fails the same way and a rerun retries them
                    else:
                        on_result(key, result)
                submit()
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


# ---- Ray actors -----------------------------------------------------------------------------
class _Actor:
    """One worker as a Ray actor: its set-up runs in the constructor, in the actor's process."""

    def __init__(self, index: int, setup: Callable[..., None], args: tuple) -> None:
        self._pid = os.getpid()
        setup(index, *args)

    def ready(self) -> int:
        return self._pid

    def run(self, fn: Callable[..., Any], args: tuple) -> Any:
        return fn(*args)

    def close(self, teardown: Callable[[], None]) -> None:
        teardown()


def start_ray(pool: PoolConfig) -> bool:
    """Connect to `pool.address`, or start a local instance sized for the workers. Returns
    whether this call started Ray (so the caller stops it)."""
    try:
        import ray
    except ImportError as e:
        raise WorkersUnavailable("--backend ray needs Ray: pip install 'lamforge[ray]' "
                                 f"({e})") from e
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no calls home from a closed network
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                              "log_to_driver": False, **pool.ray_init}
    try:
        if pool.address:
            # a cluster started by `ray start` requires its token (~/.ray/auth_token), but a
            # driver with RAY_AUTH_MODE unset connects without sending it and is refused
            _reachable(pool.address)  # Ray itself waits minutes for an address nobody answers
            if "RAY_AUTH_MODE" not in os.environ and (
                    os.environ.get("RAY_AUTH_TOKEN") or (Path.home() / ".ray" / "auth_token"
                                                         ).is_file()):
                os.environ["RAY_AUTH_MODE"] = "token"
            ray.init(address=pool.address, **kwargs)
        else:  # one CPU per worker; the object store holds only small JSON results
            _own_token()
            ray.init(address="local", num_cpus=max(pool.workers, len(os.sched_getaffinity(0))),
                     object_store_memory=kwargs.pop("object_store_memory", 200 * 2**20),
                     **kwargs)
    except WorkersUnavailable:
        raise
    except Exception as e:
        where = f"the Ray cluster at {pool.address}" if pool.address else "a local Ray instance"
        raise WorkersUnavailable(f"cannot start {where}: {type(e).__name__}: "
                                 f"{str(e).strip().splitlines()[0] if str(e).strip() else ''}"
                                 ) from e
    return True


def _own_token() -> None:
    """Give a local instance a token of this process's own, in the environment its Ray
    processes inherit. Ray (2.5x) turns token authentication on for a new local instance and,
    with no token set, writes one into `~/.ray/auth_token`: a file in the user's home that
    outlives the run. A token the user has (`RAY_AUTH_TOKEN`, `RAY_AUTH_TOKEN_PATH` or that
    file) is used as it is. Ray's loader caches the token it read, so it is told to read
    again. The token stays in this process's environment: a cluster this same process joins
    later (`--address`) is sent it too, so such a cluster needs `RAY_AUTH_TOKEN` set before
    the first run (docs/scaling.md). A CLI run is one process and one instance."""
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH") or (
            Path.home() / ".ray" / "auth_token").is_file():
        return
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    with contextlib.suppress(ImportError, AttributeError):  # a Ray without token auth
        from ray._raylet import AuthenticationTokenLoader

        AuthenticationTokenLoader.instance().reset_cache()


def _reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail in seconds, with one line, when nothing listens at a cluster's host:port."""
    import socket

    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise WorkersUnavailable(f"cannot start the Ray cluster at {address}: give it as "
                                 "host:port or ray://host:port")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise WorkersUnavailable(f"cannot start the Ray cluster at {address}: nothing answers "
                                 f"there ({e.strerror or e})") from e


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def _run_ray(worker: Worker, jobs: Sequence[tuple[Hashable, tuple]], pool: PoolConfig,
             on_result: OnResult, on_error: OnError, in_flight: int) -> None:
    started = start_ray(pool)
    import ray
    from ray.exceptions import RayActorError, RayTaskError

    remote = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_Actor)
    actors: dict[int, Any] = {}
    replacements = 0
    max_replacements = pool.workers * (pool.max_retries + 1)

    def spawn(slot: int) -> None:
        actors[slot] = remote.remote(slot, worker.setup, worker.args)

    try:
        for slot in range(pool.workers):
            spawn(slot)
        # every worker must start before any job goes out: a set-up that fails is one line
        for slot, actor in list(actors.items()):
            try:
                ray.get(actor.ready.remote())
            except RayActorError as e:
                raise WorkersUnavailable(f"worker {slot} could not start: "
                                         f"{_creation_error(e)}") from e
        queue = [(key, args, 0) for key, args in reversed(jobs)]
        # ref -> (slot, the actor it went to, key, args, tries)
        pending: dict[Any, tuple[int, Any, Hashable, tuple, int]] = {}
        load = dict.fromkeys(actors, 0)

        def submit() -> None:
            while queue:
                slot = min(load, key=load.__getitem__)
                if load[slot] >= in_flight:
                    return
                key, args, tries = queue.pop()
                actor = actors[slot]
                pending[actor.run.remote(worker.run, args)] = (slot, actor, key, args, tries)
                load[slot] += 1

        submit()
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            ref = ready[0]
            slot, actor, key, args, tries = pending.pop(ref)
            load[slot] -= 1
            try:
                result = ray.get(ref)
            except RayActorError as e:  # the worker died: its jobs go to another one
                if tries < pool.max_retries:
                    queue.append((key, args, tries + 1))
                else:
                    on_error(key, WorkerLost(f"worker lost {tries + 1} times: {_reason(e)}"))
                if actors[slot] is actor:  # not replaced yet (it may have had several jobs)
                    if replacements >= max_replacements:
                        raise WorkersUnavailable(f"{replacements} workers died; giving up: "
                                                 f"{_reason(e)}") from e
                    replacements += 1
                    spawn(slot)
            except RayTaskError as e:  # the job raised in a live worker: its own exception
                cause = getattr(e, "cause", None)
                on_error(key, cause if isinstance(cause, BaseException) else
                         e.as_instanceof_cause())
            else:
                on_result(key, result)
            submit()
    finally:
        _stop_actors(actors, worker)
        if started:
            ray.shutdown()


def _creation_error(error: BaseException) -> str:
    """The cause of an actor that failed in its constructor: the last line of the traceback
    Ray quotes (`lamforge.core.errors.EnvironmentUnavailable: soffice not found`)."""
    lines = [x.strip() for x in str(error).splitlines() if x.strip()]
    causes = [x for x in lines if ": " in x and x.split(": ")[0].replace(".", "").isidentifier()
              and x.split(": ")[0].rsplit(".", 1)[-1][:1].isupper()]
    return causes[-1] if causes else _reason(error)


def _stop_actors(actors: dict[int, Any], worker: Worker) -> None:
    """Close every worker's environment (LibreOffice, Chromium), then end the actors."""
    import ray

    refs = {actor.close.remote(worker.teardown): actor for actor in actors.values()}
    with contextlib.suppress(Exception):  # an actor already gone has nothing to close
        ray.wait(list(refs), num_returns=len(refs), timeout=60)
    for actor in actors.values():
        with contextlib.suppress(Exception):
            ray.kill(actor)


def describe(pool: PoolConfig) -> str:
    """'2 local worker(s)', '2 Ray worker(s) on a local instance', … for progress lines."""
    if pool.backend == "ray":
        return f"{pool.workers} Ray worker(s) on " + (pool.address or "a local instance")
    return f"{pool.workers} worker(s)"


__all__ = ["BACKENDS", "EnvironmentUnavailable", "PoolConfig", "Worker", "WorkerLost",
           "WorkersUnavailable", "describe", "run_jobs", "start_ray"]
