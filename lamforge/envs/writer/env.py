"""The LibreOffice Writer environment.

Each episode opens a fresh copy of a template `.docx` in a warm headless LibreOffice. The model
sees numbered controls (the menu bar, the open submenu, the standard and formatting toolbars,
or the open dialog's fields and buttons) and a text canvas of the document. Clicking a menu
opens its submenu; clicking a command runs it through the real dispatcher or opens its dialog.
`evaluate()` saves the document as .docx, opens the saved file again and runs the task's checks
on what LibreOffice reads back, so a task passes only if its effect survives the file format.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

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
from lamforge.envs.writer import canvas, checks, keys
from lamforge.envs.writer.colors import PALETTE
from lamforge.envs.writer.dialogs import DIALOGS, FONTS, STYLES, OpenDialog
from lamforge.envs.writer.office import Office, uno_error_text
from lamforge.envs.writer.ops import DocOps
from lamforge.envs.writer.templates import resolve_template
from lamforge.envs.writer.ui import (
    APP_TOGGLES,
    BLOCKED,
    COMBOS,
    SPLIT,
    MenuNode,
    Surface,
    command_support,
)

ACTIONS = [
    ActionSpec("click", "Click a control: open a menu, run a command, press a dialog button, "
               "toggle a check box.", True, {}),
    ActionSpec("set_edit_text", "Type a value into an Edit or ComboBox control (a dialog field, "
               "the font name or size box).", True, {"text": {"type": "string"}}),
    ActionSpec("select_option", "Choose an option of a ComboBox or a colour/spacing drop-down.",
               True, {"option": {"type": "string"}}),
    ActionSpec("type_text", "Type text at the cursor in the document, replacing the selection; "
               "'\\n' starts a new paragraph.", False, {"text": {"type": "string"}}),
    ActionSpec("select_text", "Find text in the document and select it (first occurrence, or "
               "the n-th with 'occurrence').", False,
               {"text": {"type": "string"},
                "occurrence": {"type": "integer", "minimum": 1, "default": 1}}),
    ActionSpec("keyboard", "Press keys, e.g. 'ctrl+b', 'ctrl+z', 'escape', 'enter', "
               "'ctrl+home'.", False, {"keys": {"type": "string"}}),
    ActionSpec("finish", "Declare the task done.", False, {}),
]
_SPECS = {a.name: a for a in ACTIONS}

COLOR_OPTIONS = ["Automatic", *PALETTE]
SPLIT_DEFAULTS = {".uno:Color": "Dark Red 2", ".uno:FontColor": "Dark Red 2",
                  ".uno:BackColor": "Yellow", ".uno:CharBackColor": "Yellow"}
SPACING_OPTIONS = {"1.0": 100, "1.15": 115, "1.5": 150, "2.0": 200}


class WriterEnv(Env):
    """LibreOffice Writer through UNO. Kept warm across episodes; restarted after a crash."""

    name = "writer-v0"

    def __init__(self, call_timeout: float = 15.0, templates_dir: str | Path | None = None,
                 max_paragraphs: int = 40) -> None:
        self.office = Office(call_timeout=call_timeout)
        self.templates_dir = Path(templates_dir).resolve() if templates_dir else None
        self.max_paragraphs = max_paragraphs
        self._surface: Surface | None = None
        self.task: Task | None = None
        self.ops: DocOps | None = None  # type: ignore[assignment]
        self._doc: Any = None
        self._episode_dir: Path | None = None
        self._menu: list[MenuNode] = []
        self._dialog: OpenDialog | None = None
        self._controls: dict[str, tuple[Control, Any]] = {}
        self._state: dict[str, Any] = {}
        self._crashed: str | None = None
        self._notes: list[str] = []
        self._episode = 0
        self._finished = False
        self._initial_state: dict[str, Any] = {}
        self._styles: dict[str, str] | None = None
        self._app_toggles: tuple[int, dict[str, Any]] | None = None
        """LibreOffice's toggles (`APP_TOGGLES`) as the running instance started, and which
        instance (its restart count)."""
        self.effects: list[dict[str, Any]] = []
        """Per command run in this episode: whether it changed the document or its state."""
        self._pending: list[tuple[str, str | None, Any, str]] = []
        self._steps = 0
        self._closed = False

    # ---- life cycle -------------------------------------------------------------------------
    @property
    def surface(self) -> Surface:
        if self._surface is None:
            self.office.start()
            self._surface = Surface.from_json(self.office.script("ui_surface"))
        return self._surface

    def reset(self, task: Task) -> Observation:
        self._closed = False
        for c in task.checks:
            checks.validate(c)
        template = resolve_template(task.template, self.templates_dir, office=self.office)
        try:
            self._close_document()
        except EnvironmentCrashed:  # the last episode left LibreOffice dying: start afresh
            self._doc = None
        if not self.office.alive:
            self.office.restart()
            self._surface = None
        _ = self.surface
        self._episode += 1
        self._episode_dir = self.office.docs_dir / f"episode{self._episode}"
        self._episode_dir.mkdir(parents=True, exist_ok=True)
        copy = self._episode_dir / f"{Path(template).stem}.docx"
        shutil.copy(template, copy)
        try:
            self._doc = self.office.open(copy)
        except EnvironmentCrashed:
            self.office.restart()  # once: a crash may be the previous episode's doing
            self._surface = None
            _ = self.surface
            try:
                self._doc = self.office.open(copy)
            except EnvironmentCrashed as e:
                self.office.restart()
                raise TemplateError(f"{template}: LibreOffice crashed opening it ({e})") from None
        self.ops = DocOps(self.office, self._doc, self._episode_dir)
        self._restore_app_toggles()
        self.task = task
        self._menu, self._dialog, self._crashed, self._notes = [], None, None, []
        self._finished, self._styles = False, None
        self.effects, self._pending, self._steps = [], [], 0
        obs = self._observe()
        self._initial_state = self._state
        return obs

    def _restore_app_toggles(self) -> None:
        """Give every episode LibreOffice's own settings as the instance started with them: an
        earlier episode may have switched one that is not the document's (`APP_TOGGLES`)."""
        states = {c: v[1] for c, v in self.office.script(
            "command_states", self._doc, json.dumps(APP_TOGGLES)).items()}
        if self._app_toggles is None or self._app_toggles[0] != self.office.restarts:
            self._app_toggles = (self.office.restarts, states)  # a fresh instance: its defaults
            return
        for command, value in self._app_toggles[1].items():
            if isinstance(value, bool) and states.get(command) != value:
                self.ops.dispatch(command)

    def close(self) -> None:
        self._closed = True  # a step still running in another thread must not restart the app
        with contextlib.suppress(EnvironmentCrashed):
            self._close_document()
        self.office.close()

    def abort(self) -> None:
        """Kill LibreOffice now: a hung step's pending UNO calls then fail at once."""
        self._closed = True
        self._doc = None
        self.office.kill()

    def _close_document(self) -> None:
        if self._doc is not None and self.office.alive:
            self.office.close_document(self._doc)
        self._doc = None
        self.ops = None  # type: ignore[assignment]
        if self._episode_dir is not None:
            shutil.rmtree(self._episode_dir, ignore_errors=True)
            self._episode_dir = None

    @classmethod
    def validate_task(cls, task: Task) -> None:
        """Every check is a known kind with valid parameters."""
        for c in task.checks:
            try:
                checks.validate(c)
            except DataError as e:
                raise DataError(f"task '{task.id}': {e}") from None

    def action_space(self) -> list[ActionSpec]:
        return list(ACTIONS)

    @classmethod
    def candidates(cls, observation: Observation, request: str,
                   limit: int | None = None) -> list[Action]:
        """Every action a user could take here (`lamforge.envs.writer.candidates`)."""
        from lamforge.envs.writer.candidates import propose

        return propose(observation, request)[:limit]

    @classmethod
    def describe_candidate(cls, action: Action, control: Control | None) -> str:
        from lamforge.envs.writer.candidates import describe

        return describe(action, control)

    @classmethod
    def recovery_moves(cls) -> list[Action]:
        """Close the menu, cancel the dialog, undo (Writer refuses the ones that do not
        apply, e.g. Cancel with no dialog open)."""
        return [Action(function="keyboard", args={"keys": "escape"}),
                Action(function="click", control_text="Cancel"),
                Action(function="keyboard", args={"keys": "ctrl+z"})]

    def risk_rules(self) -> list[dict[str, Any]]:
        """Writer's risky actions (data/risks.yaml): deleting content, writing files,
        running macros, closing the document."""
        import yaml

        return yaml.safe_load((Path(__file__).parent / "data" / "risks.yaml").read_text())

    def save(self, path: Path) -> Path:
        """Save the episode's document to `path`; the format follows the suffix."""
        if self._doc is None:
            raise ResetNeeded("no document is open (the episode crashed or was not started)")
        filters = {".docx": "MS Word 2007 XML", ".odt": "writer8", ".pdf": "writer_pdf_Export",
                   ".rtf": "Rich Text Format", ".txt": "Text"}
        if path.suffix.lower() not in filters:
            raise TemplateError(f"cannot save as '{path.suffix}' (use one of "
                                f"{', '.join(filters)})")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.office.save_as(self._doc, path, filters[path.suffix.lower()])
        return path

    # ---- observation ------------------------------------------------------------------------
    def _visible(self) -> list[tuple[str, str, str, Any]]:
        """(name, type, kind, payload) of the controls shown now, in display order."""
        out: list[tuple[str, str, str, Any]] = []
        if self._dialog is not None:
            for f in self._dialog.spec.fields:
                out.append((f.name, f.type, "field", f))
            for b in self._dialog.spec.buttons:
                out.append((b, "Button", "button", b))
            return out
        for node in self.surface.menubar:
            out.append((node.name, "MenuItem", "menu", node))
        if self._menu:
            for node in self._menu[-1].children:
                out.append((node.name, "MenuItem", "menu", node))
        for bar in ("standardbar", "textobjectbar"):
            for item in self.surface.toolbars[bar]:
                cmd = item["command"]
                kind = "combo" if cmd in COMBOS else "split" if cmd in SPLIT else "tool"
                ctype = {"combo": "ComboBox", "split": "SplitButton", "tool": "Button"}[kind]
                out.append((self.surface.label(cmd), ctype, kind, cmd))
        return out

    def _observe(self, error: str | None = None) -> Observation:
        visible = self._visible()
        commands = sorted({self._status_url(p if isinstance(p, str) else p.command)
                           for _, _, k, p in visible if k in ("menu", "tool", "combo", "split")})
        data = self.office.script("observe", self._doc, json.dumps(commands))
        self._state = data["state"]
        # saving is an effect too, though the document itself does not change
        self._state["saved_files"] = self._saved_files()
        states = data["commands"]
        self._controls = {}
        controls: list[Control] = []
        for i, (name, ctype, kind, payload) in enumerate(visible, 1):
            label = str(i)
            value: str | None = None
            options: list[str] | None = None
            enabled = True
            if kind == "field":
                value = self._dialog.values.get(payload.name, "")  # type: ignore[union-attr]
                options = payload.options
            elif kind != "button":
                cmd = payload if isinstance(payload, str) else payload.command
                en, st = states.get(self._status_url(cmd), [True, None])
                cmd_kind = self._command_kind(cmd)
                # our dialogs and special handlers work whatever the headless dispatcher says
                enabled = cmd_kind in ("dialog", "special") or (
                    bool(en) and cmd_kind != "unsupported")
                if isinstance(payload, MenuNode) and payload.is_submenu:
                    enabled = True
                if kind == "combo":
                    value = "" if st is None else f"{st:g}" if isinstance(st, float) else str(st)
                    options = {".uno:StyleApply": STYLES, ".uno:CharFontName": FONTS}.get(cmd)
                elif kind == "split":
                    options = list(SPACING_OPTIONS) if cmd == ".uno:LineSpacing" else COLOR_OPTIONS
                elif isinstance(st, bool):
                    value = "on" if st else "off"
            group = ("dialog" if kind in ("field", "button") else
                     ("menubar" if payload in self.surface.menubar else "menu") if kind == "menu"
                     else "toolbar")
            control = Control(label=label, name=name, type=ctype, value=value, enabled=enabled,
                              options=options, group=group)
            controls.append(control)
            self._controls[label] = (control, (kind, payload))
        focus = (f"dialog: {self._dialog.spec.title}" if self._dialog else
                 f"menu: {' > '.join(n.name for n in self._menu)}" if self._menu else "document")
        text = canvas.render(self._state, self.max_paragraphs)
        if self._notes:
            text += "\n" + "\n".join(f"note: {n}" for n in self._notes)
        return Observation(controls=controls, canvas=text, focus=focus, last_action_error=error)

    def note(self, message: str) -> None:
        """A message from the app (e.g. 'replaced 3 occurrences'), shown in the next canvas."""
        self._notes.append(message)

    # ---- actions ----------------------------------------------------------------------------
    def step(self, action: Action) -> StepResult:
        if self.task is None or self._doc is None:
            if self._crashed:
                return self._crash_result(self._crashed)
            raise ResetNeeded("call reset(task) before step()")
        self._notes = []
        t0 = time.perf_counter()
        if self._finished:
            return self._failed_step("the episode has finished; call reset() for a new one", t0)
        try:
            before = _content(self._state)
            self._pending = []
            done = self._execute(action)
            self._finished = done
            obs = self._observe()
            changed = _content(self._state) != before
            for name, url, toggle, command in self._pending:
                flipped = toggle is not None and self._toggle_state(url) != toggle
                self.effects.append({"step": self._steps, "command": name, "uno": command,
                                     "changed": changed or flipped})
            self._steps += 1
            return StepResult(observation=obs, ok=True, done=done,
                              info={"latency_s": time.perf_counter() - t0, "changed": changed})
        except RecoverableError as e:
            return self._failed_step(str(e), t0)
        except EnvironmentCrashed as e:
            return self._crashed_now(str(e))
        except LamforgeError:
            raise
        except Exception as e:  # an error LibreOffice raised for this action: the model's to see
            return self._failed_step(f"LibreOffice refused the action: {uno_error_text(e)}", t0)

    def _failed_step(self, error: str, t0: float) -> StepResult:
        try:
            obs = self._observe(error=error)
        except EnvironmentCrashed as crash:
            return self._crashed_now(str(crash))
        return StepResult(observation=obs, ok=False, error=error, done=self._finished,
                          info={"latency_s": time.perf_counter() - t0})

    def _crashed_now(self, reason: str) -> StepResult:
        """LibreOffice died or hung: restart it for the next episode and fail this one."""
        self._crashed = reason
        self._doc = None
        self.ops = None  # type: ignore[assignment]
        if self._closed:
            return self._crash_result(reason)
        try:
            self.office.restart()
            self._surface = None
        except Exception as e:  # a failed restart is reported at the next reset
            reason += f"; restart failed: {e}"
        return self._crash_result(reason)

    def _crash_result(self, reason: str) -> StepResult:
        return crash_result(reason)

    def _resolve(self, action: Action) -> tuple[Control, tuple[str, Any]]:
        if action.control_label is not None:
            hit = self._controls.get(str(action.control_label))
            if hit is None:
                raise UnknownControl(
                    f"no control with label '{action.control_label}' in the current observation "
                    f"(labels 1-{len(self._controls)})")
            return hit
        if action.control_text:
            want = action.control_text.strip().lower()
            hits = [v for v in self._controls.values() if v[0].name.lower() == want]
            if not hits:
                raise UnknownControl(f"no control named '{action.control_text}' is visible now")
            return hits[0]
        raise InvalidAction(f"'{action.function}' needs a control_label")

    def _execute(self, action: Action) -> bool:
        spec = _SPECS.get(action.function)
        if spec is None:
            raise InvalidAction(f"unknown function '{action.function}'; the action space is: "
                                f"{', '.join(_SPECS)}")
        for arg in spec.required:
            if arg not in action.args:
                raise InvalidAction(f"'{action.function}' needs argument '{arg}'")
        unknown = set(action.args) - set(spec.args)
        if unknown:
            raise InvalidAction(f"'{action.function}' takes no argument(s) {sorted(unknown)}; "
                                f"it takes {sorted(spec.args) or 'none'}")
        fn = action.function
        if fn == "finish":
            return True
        if spec.needs_control:
            control, (kind, payload) = self._resolve(action)
            if not control.enabled:
                raise InvalidAction(f"control '{control.name}' is disabled")
            getattr(self, f"_do_{fn}")(control, kind, payload, action.args)
            return False
        if self._dialog is not None and fn != "keyboard":
            raise InvalidAction(f"the dialog '{self._dialog.spec.title}' is open: use its fields "
                                "and buttons, or press escape")
        if fn == "type_text":
            self._menu = []
            self.ops.type_text(str(action.args["text"]))
        elif fn == "select_text":
            self._menu = []
            occurrence = action.args.get("occurrence", 1)
            if not isinstance(occurrence, int) or isinstance(occurrence, bool) or occurrence < 1:
                raise InvalidAction(f"'occurrence' must be a positive integer, got {occurrence!r}")
            if not self.ops.select_text(str(action.args["text"]), occurrence=occurrence):
                raise InvalidAction(f"text '{action.args['text']}' not found in the document")
        elif fn == "keyboard":
            self._keyboard(str(action.args["keys"]))
        return False

    def _do_click(self, control: Control, kind: str, payload: Any, args: dict[str, Any]) -> None:
        if kind == "menu":
            node: MenuNode = payload
            if node.is_submenu:
                top = node in self.surface.menubar
                self._menu = [node] if top else [*self._menu, node]
                return
            self._menu = []
            self._run_command(node.command)
        elif kind == "split":
            # The button half applies the colour LibreOffice shows on it; the drop-down half
            # is select_option. A bare .uno:Color dispatch would kill headless soffice.
            default = SPLIT_DEFAULTS.get(payload)
            if default is None:
                raise InvalidAction(f"'{control.name}': choose a value with select_option "
                                    f"({', '.join(control.options or [])})")
            self._menu = []
            self._do_select_option(control, kind, payload, {"option": default})
        elif kind == "tool":
            self._menu = []
            self._run_command(payload)
        elif kind == "combo":
            raise InvalidAction(f"'{control.name}' is a ComboBox: use set_edit_text or "
                                "select_option")
        elif kind == "button":
            assert self._dialog is not None
            title, spec_command = self._dialog.spec.title, self._dialog.spec.command
            if self._dialog.spec.apply(self, payload, self._dialog):
                self._dialog = None
            if payload not in ("Cancel", "Close", "Find Next"):
                self._pending.append((f"{title}: {payload}", None, None, spec_command))
        elif kind == "field":
            if payload.type != "CheckBox":
                raise InvalidAction(f"'{control.name}' is a {payload.type} field: use "
                                    "set_edit_text or select_option")
            values = self._dialog.values  # type: ignore[union-attr]
            values[payload.name] = "off" if values.get(payload.name) == "on" else "on"

    def _do_set_edit_text(self, control: Control, kind: str, payload: Any,
                          args: dict[str, Any]) -> None:
        text = str(args["text"])
        if kind == "field":
            if payload.type == "CheckBox":
                raise InvalidAction(f"'{control.name}' is a CheckBox: click it")
            if payload.type == "ComboBox" and not payload.free:
                self._do_select_option(control, kind, payload, {"option": text})
                return
            self._dialog.values[payload.name] = text  # type: ignore[union-attr]
        elif kind == "combo":
            self._apply_combo(payload, text)
        else:
            raise InvalidAction(f"'{control.name}' ({control.type}) does not take text")

    def _do_select_option(self, control: Control, kind: str, payload: Any,
                          args: dict[str, Any]) -> None:
        option = str(args["option"])
        opts = control.options or []
        match = next((o for o in opts if o.lower() == option.lower()), None)
        if kind == "field":
            if payload.type != "ComboBox":
                raise InvalidAction(f"'{control.name}' has no options")
            if match is None and not (payload.free or (payload.color and option.startswith("#"))):
                raise InvalidAction(f"'{option}' is not an option of '{control.name}' "
                                    f"(options: {', '.join(opts)})")
            self._dialog.values[payload.name] = match or option  # type: ignore[union-attr]
        elif kind == "combo":
            self._apply_combo(payload, match or option)
        elif kind == "split":
            if payload == ".uno:LineSpacing":
                if match is None:
                    raise InvalidAction(f"line spacing must be one of {', '.join(opts)}")
                self.ops.line_spacing(SPACING_OPTIONS[match])
                self._pending.append((f"{control.name}: {match}", None, None, payload))
            else:
                color = match or option
                value = -1 if color == "Automatic" else self.ops.color(color)
                self._pending.append((f"{control.name}: {color}", None, None, payload))
                if payload in (".uno:Color", ".uno:FontColor"):
                    self.ops.set_selection(CharColor=value)
                else:
                    self.ops.set_selection(CharBackColor=value, CharBackTransparent=value == -1)
        else:
            raise InvalidAction(f"'{control.name}' ({control.type}) has no options")

    def _apply_combo(self, command: str, value: str) -> None:
        self._pending.append((f"{self.surface.label(command)}: {value}", None, None, command))
        if command == ".uno:FontHeight":
            try:
                size = float(value.lower().removesuffix("pt").strip())
            except ValueError:
                raise InvalidAction(f"font size must be a number, got '{value}'") from None
            if not 2 <= size <= 96:
                raise InvalidAction(f"font size must be between 2 and 96, got {size:g}")
            self.ops.dispatch(".uno:FontHeight", {"FontHeight.Height": size})
        elif command == ".uno:CharFontName":
            self.ops.dispatch(".uno:CharFontName", {"CharFontName.FamilyName": value})
        elif command == ".uno:StyleApply":
            self.ops.dispatch(".uno:StyleApply", {"Style": self._style_name(value),
                                                  "FamilyName": "ParagraphStyles"})

    def _status_url(self, command: str) -> str:
        return _base(self.surface.target(command))

    def _style_name(self, value: str) -> str:
        """A paragraph style by its programmatic or displayed name, or an error listing some."""
        if self._styles is None:
            self._styles = self.office.script("paragraph_styles", self._doc)
        want = value.strip().lower()
        for name, display in self._styles.items():
            if want in (name.lower(), display.lower()):
                return name
        shown = ", ".join(sorted(self._styles.values())[:12])
        raise InvalidAction(f"no paragraph style '{value}' (e.g. {shown}, …)")

    def _command_kind(self, command: str) -> str:
        if command in DIALOGS:
            return "dialog"
        if command in SPECIAL:
            return "special"
        if command in COMBOS or command in SPLIT:
            return "value"  # set with set_edit_text/select_option, never dispatched bare
        base = _base(command)
        if base in BLOCKED or command_support().get(base, "ok") != "ok":
            return "unsupported"
        if self.surface.is_dialog(base):
            return "unsupported"
        return "dispatch"

    def _run_command(self, command: str) -> None:
        kind = self._command_kind(command)
        label = self.surface.label(command)
        if kind == "dialog":
            spec = DIALOGS[command]
            self._dialog = OpenDialog.open(spec, self._state)
        elif kind == "special":
            SPECIAL[command](self)
            self._pending.append((label, None, None, command))
        elif kind == "value":
            raise InvalidAction(f"'{label}' takes a value: use set_edit_text or select_option")
        elif kind == "unsupported":
            raise InvalidAction(f"'{label}' ({command}) is not available in this environment")
        else:
            url = self.surface.target(command)
            before = self._toggle_state(url)
            self.ops.dispatch(url)
            self._pending.append((label, url, before, command))

    def _toggle_state(self, url: str) -> Any:
        """The command's status value if it is a toggle (a view switch has no document effect
        to look for, so its own state is the effect)."""
        states = self.office.script("command_states", self._doc, json.dumps([_base(url)]))
        value = states.get(_base(url), [True, None])[1]
        return value if isinstance(value, bool) else None

    def _keyboard(self, combo: str) -> None:
        key = keys.parse(combo)
        if key.name == "escape":
            if self._dialog is not None:
                self._dialog = None
            elif self._menu:
                self._menu = self._menu[:-1]
            return
        if self._dialog is not None:
            if key.name == "enter":
                default = self._dialog.spec.buttons[0]
                if self._dialog.spec.apply(self, default, self._dialog):
                    self._dialog = None
                return
            raise InvalidAction(f"the dialog '{self._dialog.spec.title}' is open: only enter and "
                                "escape act on it")
        self._menu = []
        if key.canonical in keys.NAVIGATION:  # keys the edit window handles itself
            self.ops.dispatch(keys.NAVIGATION[key.canonical])
            return
        command = self.surface.shortcuts.get(key.code)
        if command is None:
            raise InvalidAction(f"no command is bound to '{combo}' in Writer")
        self._run_command(command)

    # ---- evaluation -------------------------------------------------------------------------
    def final_state(self) -> dict[str, Any]:
        """Save as .docx, open the saved file again and read its state.

        The saved file is also parsed by python-docx, an independent reader, so a task can only
        pass on a .docx that other Word-format tools can open.
        """
        assert self._episode_dir is not None
        out = self._episode_dir / "final.docx"
        self.office.save_docx(self._doc, out)
        _check_docx(out)
        saved = self.office.open(out)
        try:
            state = self.office.script("state", saved)
        finally:
            self.office.close_document(saved)
        state["saved_files"] = self._saved_files()
        return state

    def _saved_files(self) -> list[str]:
        """The names of the files the episode saved (the document's `saved_files`)."""
        return [p.name for p in self.ops.saved_files] if self.ops else []

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
        results = [checks.run(c, state) for c in self.task.checks]
        failed = [r for r in results if not r.passed]
        if failed:
            return Verdict(status="fail", reason="; ".join(
                f"{r.check.kind}: {r.detail}" for r in failed), checks=results)
        if all(checks.run(c, self._initial_state).passed for c in self.task.checks):
            # e.g. "make it Liberation Serif" on text that already is: no evidence either way
            return Verdict(status="unsure", checks=results,
                           reason="all checks hold, but they already held before the task")
        idle = [e["command"] for e in self.effects if not e["changed"]]
        if idle:
            # every command the task ran must have done something; one that changed nothing
            # visible may have silently failed, so the task cannot be trusted as a sample
            return Verdict(status="unsure", checks=results, reason=(
                f"all checks hold, but {', '.join(repr(c) for c in idle)} changed nothing"))
        return Verdict(status="pass", reason="all checks hold", checks=results)


def _content(state: dict[str, Any]) -> str:
    """What a command can change: the whole state but for the modified flag."""
    return json.dumps({k: v for k, v in state.items() if k != "modified"}, sort_keys=True)


def _check_docx(path: Path) -> None:
    import docx

    try:
        docx.Document(str(path))
    except Exception as e:  # python-docx raises several kinds on a broken package
        raise TemplateError(f"{path.name} is not a valid .docx ({type(e).__name__}: {e})") from None


def _base(command: str) -> str:
    """'.uno:StyleApply?Style:string=Heading 1' -> '.uno:StyleApply'."""
    return command.split("?", 1)[0]


def _header(env: WriterEnv) -> None:
    env.ops.header_footer("Header")


def _footer(env: WriterEnv) -> None:
    env.ops.header_footer("Footer")


def _save(env: WriterEnv) -> None:
    last = env.ops.saved_files[-1].name if env.ops.saved_files else "document.docx"
    path = env.ops.save_as(last)
    env.note(f"saved {path.name}")


SPECIAL = {
    ".uno:InsertPageHeader": _header,
    ".uno:InsertPageFooter": _footer,
    ".uno:Save": _save,
}
