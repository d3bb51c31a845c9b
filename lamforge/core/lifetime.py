"""Processes that end with the process that started them, even when it is SIGKILLed."""

from __future__ import annotations

import contextlib
import ctypes
import signal

PR_SET_PDEATHSIG = 1


def end_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when the thread that started it ends
    (PR_SET_PDEATHSIG, Linux). Called as a child's `preexec_fn`, or first thing in a pool
    process: no exit handler of the parent runs when it is killed, so nothing else would end
    the child."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
