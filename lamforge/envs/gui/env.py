"""The real-GUI environment of a LibreOffice app that has no headless twin (Calc, Impress).

An app package says what differs: its document kind (UNO service, file format, template
library), how its document's state is read over UNO, how that state is shown as the canvas,
and its check kinds. Everything a user does goes through the app's real windows
(`GuiSession`); the state and the checks are read from the document saved and opened again,
as for Writer, so a task passes only if its effect survives the file format.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from lamforge.core import (
    Action,
    Control,
    DataError,
    EnvironmentCrashed,
    InvalidAction,
    LamforgeError,
    Observation,
    RecoverableError,
    ResetNeeded,
    StepResult,
    Task,
    TemplateError,
    UnknownControl,
    Verdict,
)
from lamforge.envs.base import ActionSpec, Env, crash_result
from lamforge.envs.checkset import CheckSet
from lamforge.envs.doclib import TemplateLibrary
from lamforge.envs.gui.session import LOAD_TRIES, GuiSession
from lamforge.envs.writer.office import Office

SCROLL = ActionSpec("scroll", "Scroll the document (the page, the sheet, the slide) with the "
                    "mouse wheel: dy notches of about three lines, down when positive, up when "
                    "negative.", False, {"dy": {"type": "integer", "default": 3}})
"""The GUI's own action (the headless Writer has no view to scroll); Writer's adds it too."""

ACTIONS = [
    ActionSpec("click", "Click a control: open a menu, run a command, press a button, choose "
               "a tab, toggle a check box.", True, {}),
    ActionSpec("set_edit_text", "Put a value into a field (a dialog's box, the font size box, "
               "the Name Box).", True, {"text": {"type": "string"}}),
    ActionSpec("select_option", "Choose an option of a list or combo box.", True,
               {"option": {"type": "string"}}),
    ActionSpec("type_text", "Type text where the keyboard focus is; '\\n' presses Enter.",
               False, {"text": {"type": "string"}}),
    ActionSpec("keyboard", "Press keys, e.g. 'ctrl+b', 'enter', 'escape', 'tab'.", False,
               {"keys": {"type": "string"}}),
    SCROLL,
    ActionSpec("finish", "Declare the task done.", False, {}),
]
_SPECS = {a.name: a for a in ACTIONS}
MAX_SCROLL = 50
"""The most wheel notches one scroll turns (a model's '10000' is no user's)."""


def scroll_notches(args: dict[str, Any]) -> int:
    """A scroll action's notches, checked: a whole number, not 0, at most `MAX_SCROLL`, and
    no other argument."""
    unknown = set(args) - set(SCROLL.args)
    if unknown:
        raise InvalidAction(f"'scroll' takes ['dy'] (unknown {sorted(unknown)})")
    dy = args.get("dy", 3)
    if isinstance(dy, bool) or not isinstance(dy, int) or not 0 < abs(dy) <= MAX_SCROLL:
        raise InvalidAction(f"scroll's dy is a whole number of wheel notches from "
                            f"-{MAX_SCROLL} to {MAX_SCROLL}, not 0 (got {dy!r})")
    return dy


class OfficeGuiEnv(Env):
    """A LibreOffice app through its real windows; subclasses fill in the class attributes
    and `read_state` / `render`."""
    pinned = False
    """Not on one core: soffice, Xvfb, the AT-SPI server and the buses take turns on every
    step, and kept on one core with its worker, 1 document load in 4 hung for 15 s."""

    service: ClassVar[str]
    """The UNO service of the app's documents."""
    save_filter: ClassVar[str]
    suffix: ClassVar[str]
    library: ClassVar[TemplateLibrary]
    checks: ClassVar[CheckSet]
    boxes: ClassVar[dict[tuple[str, int], str]] = {}
    """Names of the app's nameless toolbar boxes (`GuiSession`)."""
    inproc: ClassVar[tuple[Path, ...]] = ()
    """The app's in-process readers, installed in LibreOffice's profile (`Office.script`)."""

    def __init__(self, call_timeout: float = 15.0, templates_dir: str | Path | None = None,
                 atspi_timeout: float = 10.0, screenshots: str | Path | None = None) -> None:
        """`screenshots`: a folder to keep a PNG of every observation in (its name is the
        observation's `screenshot`)."""
        self.office = Office(call_timeout=call_timeout, scripts=self.inproc)
        self.gui = GuiSession(self.office, atspi_timeout, boxes=self.boxes,
                              screenshots=screenshots)
        # one folder per app: a caller may pass the same folder to Writer, Calc and Impress
        self.templates_dir = Path(templates_dir).resolve() / self.library.app \
            if templates_dir else None
        self.task: Task | None = None
        self._doc: Any = None
        self._dir: Path | None = None
        self._episode = 0
        self._nodes: dict[str, dict[str, Any]] = {}
        self._controls: dict[str, Control] = {}
        self._state: dict[str, Any] = {}
        self._initial: dict[str, Any] = {}
        self._crashed: str | None = None
        self._finished = False
        self._closed = False

    @abstractmethod
    def read_state(self, doc: Any) -> dict[str, Any]:
        """The document's state over UNO, as the checks read it."""

    @abstractmethod
    def render(self, state: dict[str, Any]) -> str:
        """The canvas: a compact text view of the document for the model."""

    def box_taken(self, control: Control, text: str) -> Callable[[], bool] | None:
        """The app's sign that a toolbar box has acted on `text` (`GuiSession.set_text`
        waits for it before the next keys), or None when the app gives none."""
        return None

    # ---- life cycle -------------------------------------------------------------------------
    @classmethod
    def validate_task(cls, task: Task) -> None:
        for c in task.checks:
            try:
                cls.checks.validate(c)
            except DataError as e:
                raise DataError(f"task '{task.id}': {e}") from None

    def action_space(self) -> list[ActionSpec]:
        return list(ACTIONS)

    @classmethod
    def candidates(cls, observation: Observation, request: str,
                   limit: int | None = None) -> list[Action]:
        """Every action a user could take here (`lamforge.envs.gui.candidates`)."""
        from lamforge.envs.gui.candidates import propose

        return propose(observation, request)[:limit]

    @classmethod
    def describe_candidate(cls, action: Action, control: Control | None) -> str:
        from lamforge.envs.gui.candidates import describe

        return describe(action, control)

    @classmethod
    def recovery_moves(cls) -> list[Action]:
        """Close the menu or dialog, then undo."""
        return [Action(function="keyboard", args={"keys": "escape"}),
                Action(function="keyboard", args={"keys": "ctrl+z"})]

    def reset(self, task: Task) -> Observation:
        self.validate_task(task)
        self._closed = False
        self.gui.clear()
        self._close_document()
        self.gui.start()
        template = self.library.resolve(task.template, self.templates_dir, office=self.office)
        self._episode += 1
        self._dir = self.office.docs_dir / f"episode{self._episode}"
        self._dir.mkdir(parents=True, exist_ok=True)
        copy = self._dir / f"{template.stem}{template.suffix}"
        shutil.copy(template, copy)
        try:
            self._doc = self.gui.open(copy, self.service)
        except EnvironmentCrashed as e:  # every try: not the template's fault, the app's
            self.gui.kill_app()
            raise EnvironmentCrashed(f"LibreOffice crashed or hung opening {template.name} "
                                     f"{LOAD_TRIES} times ({e})") from None
        self.task, self._crashed, self._finished = task, None, False
        obs = self._observe()
        self._initial = self._state
        return obs

    def _close_document(self) -> None:
        if self._doc is not None and self.office.alive:
            with contextlib.suppress(EnvironmentCrashed):
                self.office.close_document(self._doc)
        self._doc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def close(self) -> None:
        self._closed = True
        self._close_document()
        self.office.close()
        self.gui.close()

    def abort(self) -> None:
        self._closed = True
        self._doc = None
        self.gui.kill_app()

    def reground(self, action: Action, obs: Observation) -> list[Action] | None:
        """Read the real dialog for what a prefilled action meant (`gui.reground`)."""
        from lamforge.envs.gui.reground import reground

        return reground(self, action, obs)

    # ---- observation ------------------------------------------------------------------------
    def _observe(self, error: str | None = None) -> Observation:
        seen = self.gui.observe()
        self._nodes = seen.nodes
        self._controls = {c.label: c for c in seen.controls}
        self._state = self.read_state(self._doc)
        return Observation(controls=seen.controls, canvas=self.render(self._state),
                           focus=seen.focus, last_action_error=error,
                           screenshot=self.gui.shoot(f"{self.task.id}-e{self._episode}")
                           if self.task else None)

    # ---- actions ----------------------------------------------------------------------------
    def step(self, action: Action) -> StepResult:
        if self.task is None or self._doc is None:
            if self._crashed:
                return self._crash_result(self._crashed)
            raise ResetNeeded("call reset(task) before step()")
        t0 = time.perf_counter()
        if self._finished:
            return self._failed("the episode has finished; call reset() for a new one", t0)
        try:
            done = self._execute(action)
            self._finished = done
            return StepResult(observation=self._observe(), ok=True, done=done,
                              info={"latency_s": time.perf_counter() - t0})
        except RecoverableError as e:
            return self._failed(str(e), t0)
        except EnvironmentCrashed as e:
            return self._crashed_now(str(e))
        except LamforgeError:
            raise

    def _resolve(self, action: Action) -> Control:
        if action.control_label is not None:
            control = self._controls.get(str(action.control_label))
            if control is None:
                raise UnknownControl(f"no control with label '{action.control_label}' in the "
                                     "current observation")
            return control
        if action.control_text:
            want = action.control_text.strip().lower()
            hits = [c for c in self._controls.values() if c.name.lower() == want]
            if not hits:
                raise UnknownControl(f"no control named '{action.control_text}' is visible now")
            return hits[0]
        raise InvalidAction(f"'{action.function}' needs a control_label")

    def _execute(self, action: Action) -> bool:
        spec = _SPECS.get(action.function)
        if spec is None:
            raise InvalidAction(f"unknown function '{action.function}'; the action space is: "
                                f"{', '.join(_SPECS)}")
        missing = [a for a in spec.required if a not in action.args]
        unknown = set(action.args) - set(spec.args)
        if missing or unknown:
            raise InvalidAction(f"'{action.function}' takes {sorted(spec.args) or 'nothing'}"
                                f" (missing {missing}, unknown {sorted(unknown)})")
        fn = action.function
        if fn == "finish":
            return True
        if fn == "type_text":
            self.gui.type(str(action.args["text"]))
            return False
        if fn == "keyboard":
            self.gui.key(str(action.args["keys"]))
            return False
        if fn == "scroll":
            self.gui.scroll(scroll_notches(action.args))
            return False
        control = self._resolve(action)
        if not control.enabled:
            raise InvalidAction(f"control '{control.name}' is disabled")
        node = self._nodes[control.label]
        if fn == "click":
            self.gui.click(control, node)
        elif fn == "set_edit_text":
            text = str(action.args["text"])
            self.gui.set_text(control, node, text, taken=self.box_taken(control, text))
        else:
            self.gui.select_option(control, node, str(action.args["option"]))
        return False

    def _failed(self, error: str, t0: float) -> StepResult:
        try:
            obs = self._observe(error=error)
        except EnvironmentCrashed as crash:
            return self._crashed_now(str(crash))
        return StepResult(observation=obs, ok=False, error=error, done=self._finished,
                          info={"latency_s": time.perf_counter() - t0})

    def _crashed_now(self, reason: str) -> StepResult:
        """LibreOffice died or hung: fail the episode and bring up a fresh instance."""
        self._crashed, self._doc = reason, None
        if not self._closed:
            self.gui.kill_app()
            try:
                self.gui.start()
            except Exception as e:  # reported again at the next reset
                reason += f"; restart failed: {e}"
        return self._crash_result(reason)

    @staticmethod
    def _crash_result(reason: str) -> StepResult:
        return crash_result(reason)

    # ---- evaluation -------------------------------------------------------------------------
    def save(self, path: Path) -> Path:
        if self._doc is None:
            raise ResetNeeded("no document is open (the episode crashed or was not started)")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.office.save_as(self._doc, path, self.save_filter)
        return path

    def final_state(self) -> dict[str, Any]:
        """Save in the app's file format, open the saved file again and read it."""
        assert self._dir is not None
        out = self.save(self._dir / f"final{self.suffix}")
        saved = self.office.open(out, hidden=True, service=self.service)
        try:
            return self.read_state(saved)
        finally:
            self.office.close_document(saved)

    def evaluate(self) -> Verdict:
        if self._crashed:
            return Verdict(status="fail", reason=f"environment crashed: {self._crashed}")
        if self.task is None or self._doc is None:
            raise ResetNeeded("call reset(task) before evaluate()")
        if not self.task.checks:
            return Verdict(status="unsure", reason="the task has no checks")
        try:
            state = self.final_state()
        except EnvironmentCrashed as e:
            self._crashed_now(str(e))
            return Verdict(status="fail", reason=f"environment crashed while saving: {e}")
        except TemplateError as e:
            return Verdict(status="fail", reason=f"the saved document is unusable: {e}")
        results = [self.checks.run(c, state) for c in self.task.checks]
        failed = [r for r in results if not r.passed]
        if failed:
            return Verdict(status="fail", checks=results, reason="; ".join(
                f"{r.check.kind}: {r.detail}" for r in failed))
        if all(self.checks.run(c, self._initial).passed for c in self.task.checks):
            return Verdict(status="unsure", checks=results,
                           reason="all checks hold, but they already held before the task")
        return Verdict(status="pass", reason="all checks hold", checks=results)
