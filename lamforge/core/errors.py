"""One error tree for the project.

Recoverable errors (a malformed action, an unknown control) are what a model can cause: an
environment turns them into an observation (`last_action_error`) and the episode goes on.
Fatal errors (LibreOffice cannot start, a template is missing) end the command with one clear
line. The command line prints `str(err)` of any `LamforgeError` and exits non-zero, so messages
must say what was expected, what arrived and, where there is one, the fix.
"""

from __future__ import annotations


class LamforgeError(Exception):
    """Base of every error lamforge raises on purpose."""


class RecoverableError(LamforgeError):
    """A mistake in one step that the caller (a model, a user) can correct and retry."""


class FatalError(LamforgeError):
    """A problem that ends the current command or episode."""


class InvalidAction(RecoverableError):
    """The action is outside the environment's action space or its arguments are wrong."""


class UnknownControl(InvalidAction):
    """The action names a control that is not in the current observation."""


class DataError(FatalError):
    """A record in an input file is malformed; the message names `file:line`."""


class EnvironmentUnavailable(FatalError):
    """The environment cannot start here (a missing package, a binary that will not run)."""


class EnvironmentCrashed(FatalError):
    """The application died or hung during an episode; the episode is failed, the app restarted."""


class TemplateError(FatalError):
    """A template document is missing or the application cannot open it."""


class ResetNeeded(FatalError):
    """`step` or `evaluate` was called before `reset`."""


class Rejected(Exception):
    """A prefill cannot instantiate a task-plan pair; the message is the reason filed with it.
    Not a `LamforgeError`: a rejected pair is an expected outcome of the dataflow, never the
    end of a command."""
