"""Writer's real GUI: LibreOffice's own windows on a virtual screen, read and driven through the
accessibility tree (AT-SPI), as UFO reads Windows UI Automation and OSWorld reads AT-SPI.

The headless environment (`env.py`) knows Writer's menus from its UI configuration and its
dialogs from hand-written descriptions. Here every control is one LibreOffice draws: the
native menu bar and its open menus, the toolbars, and any dialog with all its fields, tabs and
buttons. A click runs the control's own accessibility action, a field is set through its
editable text, keys go to the focused window through xdotool.

What stays UNO (the document model, as a user's eyes and the file): the canvas (the document's
text and formatting), `select_text` (Find's search), opening the task's document, and
`evaluate()`, which saves, reopens and checks exactly as the headless environment does, so a
task means the same in both modes.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from lamforge.core import (
    Control,
    EnvironmentCrashed,
    InvalidAction,
    Observation,
    Task,
    TemplateError,
)
from lamforge.envs.base import EnvStatus
from lamforge.envs.gui.atspi import ActionFailed, Bridge
from lamforge.envs.gui.display import SCREEN, Display, missing_programs
from lamforge.envs.writer import canvas, checks, keys
from lamforge.envs.writer.env import WriterEnv
from lamforge.envs.writer.office import SYSTEM_PYTHON
from lamforge.envs.writer.ops import DocOps
from lamforge.envs.writer.templates import resolve_template

GTK_PLUGIN = Path("/usr/lib/libreoffice/program/libvclplug_gtk3lo.so")
ACTIONABLE = {"Menu": "MenuItem", "MenuItem": "MenuItem", "Button": "Button",
              "ToggleButton": "Button", "CheckBox": "CheckBox", "RadioButton": "RadioButton",
              "Edit": "Edit", "ComboBox": "ComboBox", "TabItem": "TabItem",
              "ListItem": "ListItem"}
"""AT-SPI node types the model acts on, as the headless environment names them."""
TOGGLES = {"ToggleButton", "CheckBox", "RadioButton"}
XDOTOOL_KEYS = {"enter": "Return", "escape": "Escape", "tab": "Tab", "backspace": "BackSpace",
                "delete": "Delete", "insert": "Insert", "space": "space", "home": "Home",
                "end": "End", "pageup": "Prior", "pagedown": "Next", "left": "Left",
                "right": "Right", "up": "Up", "down": "Down"}
SETTLE = 0.08
"""Seconds an action is given to show its effect (a menu's items show ~50 ms after a click)."""
WINDOW_WAIT = 3.0
"""Seconds a click that opens or closes a window (a dialog) is given to do it."""
KEY_WAIT = 0.5
"""The same for a key that may (Enter, Escape, a shortcut): a dialog shows in ~0.4 s."""


def check_installation() -> EnvStatus:
    """Whether the real-GUI Writer can start here, without starting it."""
    from lamforge.envs.writer.office import check_installation as headless

    details = list(headless().details)
    missing = missing_programs()
    details.append(("Xvfb, D-Bus, xdotool", not missing,
                    "found" if not missing else f"install {', '.join(missing)}"))
    details.append(("LibreOffice gtk3 plugin", GTK_PLUGIN.is_file(),
                    str(GTK_PLUGIN) if GTK_PLUGIN.is_file() else "install libreoffice-gtk3"))
    ok = subprocess.run([str(SYSTEM_PYTHON), "-c", "import pyatspi"], capture_output=True,
                        timeout=30).returncode == 0 if SYSTEM_PYTHON.exists() else False
    details.append(("pyatspi (system Python)", ok, "found" if ok else "install python3-pyatspi"))
    return EnvStatus(ok=all(d[1] for d in details), details=details)


class WriterGuiEnv(WriterEnv):
    """LibreOffice Writer's real windows on Xvfb, through AT-SPI. Each instance owns its
    display, D-Bus session, LibreOffice and AT-SPI server; `close()` ends all four."""

    name = "writer-gui-v0"

    def __init__(self, call_timeout: float = 15.0, templates_dir: str | Path | None = None,
                 max_paragraphs: int = 40, atspi_timeout: float = 10.0) -> None:
        super().__init__(call_timeout=call_timeout, templates_dir=templates_dir,
                         max_paragraphs=max_paragraphs)
        self.display = Display()
        self.bridge: Bridge | None = None
        self.atspi_timeout = atspi_timeout
        self._title = ""
        self._labels: dict[tuple, str] = {}
        self._window = ""
        self._focus = "document"

    # ---- life cycle -------------------------------------------------------------------------
    def _start_app(self) -> None:
        """Display, LibreOffice on it and the AT-SPI server: whichever is not running."""
        if not self.display.alive:
            self.office.kill()
            self._kill_bridge()
            self.display.start()
        self.office.display = self.display.env
        if not self.office.alive:
            self._kill_bridge()
            self.office.restart()
        if self.bridge is None:
            self.bridge = Bridge(self.display.env, timeout=self.atspi_timeout).start()

    def _kill_bridge(self) -> None:
        if self.bridge is not None:
            self.bridge.kill()
            self.bridge = None

    def reset(self, task: Task) -> Observation:
        self._closed = False
        for c in task.checks:
            checks.validate(c)
        try:
            self._close_document()
        except EnvironmentCrashed:
            self._doc = None
        self._start_app()
        template = resolve_template(task.template, self.templates_dir, office=self.office)
        self._episode += 1
        self._episode_dir = self.office.docs_dir / f"episode{self._episode}"
        self._episode_dir.mkdir(parents=True, exist_ok=True)
        copy = self._episode_dir / f"{Path(template).stem}.docx"
        shutil.copy(template, copy)
        try:
            self._doc = self.office.open(copy, hidden=False)
            self._show_frame(copy.name)
        except EnvironmentCrashed as e:
            self.office.kill()
            self._kill_bridge()
            raise TemplateError(f"{template}: LibreOffice crashed or hung opening it ({e})") \
                from None
        self.ops = DocOps(self.office, self._doc, self._episode_dir)
        self.task = task
        self._menu, self._dialog, self._crashed, self._notes = [], None, None, []
        self._finished, self._styles = False, None
        self.effects, self._pending, self._steps = [], [], 0
        self._labels = {}
        obs = self._observe()
        self._initial_state = self._state
        return obs

    def _show_frame(self, filename: str) -> None:
        """Fill the screen with the document's window (there is no window manager to do it) and
        wait until its frame is on the accessibility bus."""
        doc = self._doc
        width, height = (int(x) for x in SCREEN.split("x")[:2])
        window = self.office.call(lambda: doc.getCurrentController().getFrame()
                                  .getContainerWindow())
        self.office.call(lambda: window.setPosSize(0, 0, width, height, 15))
        self._title = filename
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                shown = self._call("windows", pid=self.office.proc.pid)
            except ActionFailed:  # the app is not on the bus yet
                shown = []
            if any(w["role"] == "frame" and w["showing"] and filename in w["name"]
                   for w in shown):
                self._drawn(limit=10, reads=4)  # the toolbars fill in after the frame shows
                return
            time.sleep(0.1)
        raise EnvironmentCrashed(f"the window of {filename} did not appear on the "
                                 "accessibility bus within 15 s")

    def close(self) -> None:
        super().close()
        self._kill_bridge()
        self.display.close()

    def abort(self) -> None:
        super().abort()
        self._kill_bridge()

    def _crashed_now(self, reason: str):
        self._kill_bridge()
        if not self._closed and self.office.alive:
            self.office.kill()  # a hung accessibility call: the app may be hung too
        result = super()._crashed_now(reason)
        if not self._closed:
            try:
                self._start_app()
            except Exception as e:  # reported at the next reset
                result.observation.last_action_error = f"{result.error}; restart failed: {e}"
        return result

    # ---- the accessibility server -----------------------------------------------------------
    def _call(self, op: str, **args: Any) -> Any:
        """An AT-SPI call; `EnvironmentCrashed` when LibreOffice is gone (a refused call is
        often the first sign) or the call hung."""
        self._check_alive()
        if self.bridge is None:
            raise EnvironmentCrashed("the AT-SPI server is not running")
        try:
            return self.bridge.call(op, **args)
        except ActionFailed:
            self._check_alive(wait=0.3)
            raise

    def _check_alive(self, wait: float = 0.0) -> None:
        proc = self.office.proc
        if proc is not None and wait:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=wait)
        if proc is None or proc.poll() is not None:
            code = None if proc is None else proc.returncode
            raise EnvironmentCrashed(f"LibreOffice died (exit code {code})")

    # ---- observation ------------------------------------------------------------------------
    def _observe(self, error: str | None = None) -> Observation:
        try:
            tree = self._call("observe", pid=self.office.proc.pid, title=self._title)
        except ActionFailed as e:  # LibreOffice runs but shows no window it can be read from
            raise EnvironmentCrashed(f"LibreOffice's windows cannot be read ({e})") from None
        window = tree["window"]
        in_dialog = window["role"] in ("dialog", "alert", "file chooser")
        self._window = window["name"]
        self._controls = {}
        controls: list[Control] = []
        seen: dict[tuple, int] = {}
        menus: list[str] = []
        for node in tree["nodes"]:
            ctype = ACTIONABLE.get(node["type"])
            if ctype is None or not node["name"]:
                continue
            if node["type"] == "Edit" and node["within"] == "ToolBar":
                ctype = "ComboBox"  # the font, size and style boxes
            if node["type"] == "ToggleButton" and controls and \
                    controls[-1].name == node["name"] and controls[-1].type in ("Edit", "ComboBox"):
                continue  # the arrow that drops the box's list down: the box takes the value
            base = (window["name"], node["path"], node["type"], node["name"])
            seen[base] = seen.get(base, 0) + 1
            key = (*base, seen[base])
            label = self._labels.setdefault(key, str(len(self._labels) + 1))
            value = node.get("text")
            if node["type"] in TOGGLES:
                value = "on" if node["checked"] else "off"
            group = ("dialog" if in_dialog else
                     {"MenuBar": "menubar", "Menu": "menu", "ToolBar": "toolbar"}.get(
                         node["within"], "window"))
            if node["type"] in ("Menu", "MenuItem") and node["within"] == "Menu":
                parent = node["path"].rsplit("/", 1)[-1]
                if parent not in menus:
                    menus.append(parent)
            control = Control(label=label, name=node["name"], type=ctype, value=value,
                              enabled=node["enabled"], group=group)
            controls.append(control)
            self._controls[label] = (control, ("node", node))
        data = self.office.script("observe", self._doc, "[]")
        self._state = data["state"]
        self._state["saved_files"] = [p.name for p in self.ops.saved_files] if self.ops else []
        focus = (f"dialog: {window['name']}" if in_dialog else
                 f"menu: {' > '.join(menus)}" if menus else "document")
        self._focus = focus
        text = canvas.render(self._state, self.max_paragraphs)
        if self._notes:
            text += "\n" + "\n".join(f"note: {n}" for n in self._notes)
        return Observation(controls=controls, canvas=text, focus=focus, last_action_error=error)

    # ---- actions ----------------------------------------------------------------------------
    def _windows(self) -> list[tuple[str, str]]:
        return [(w["role"], w["name"]) for w in
                self._call("windows", pid=self.office.proc.pid) if w["showing"]]

    def _settle(self, before: list[tuple[str, str]], wait: float) -> None:
        """Give the action time to show: one that may open or close a window waits until the
        set of windows changes (at most `wait` seconds), then until it has drawn."""
        time.sleep(SETTLE)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self._windows() != before:
                self._drawn()
                return
            time.sleep(0.04)

    def _drawn(self, limit: float = 2.0, reads: int = 3) -> None:
        """Wait until the window on top shows the same number of nodes `reads` times in a row
        (a dialog fills in its fields after its window appears)."""
        seen: list = []
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            seen.append(self._call("count", pid=self.office.proc.pid, title=self._title))
            if len(seen) >= reads and seen[-1][1] > 1 and all(x == seen[-1]
                                                               for x in seen[-reads:]):
                return
            time.sleep(0.04)

    def _node_call(self, op: str, node: dict[str, Any], **args: Any) -> Any:
        try:
            return self._call(op, ref=node["ref"], **args)
        except ActionFailed as e:
            raise InvalidAction(f"LibreOffice refused it: {e}") from None

    def _do_click(self, control: Control, kind: str, node: Any, args: dict[str, Any]) -> None:
        before = self._windows()
        opens = control.name.endswith(("...", "…")) or (
            control.group == "dialog" and control.type == "Button")
        self._node_call("act", node)
        self._settle(before, WINDOW_WAIT if opens else 0.0)

    def _do_set_edit_text(self, control: Control, kind: str, node: Any,
                          args: dict[str, Any]) -> None:
        if control.type not in ("Edit", "ComboBox"):
            raise InvalidAction(f"'{control.name}' is a {control.type}, not a field to type in")
        self._node_call("set_text", node, text=str(args["text"]))
        if control.group == "toolbar":  # a toolbar box applies its value on Enter
            self._node_call("focus", node)
            self._xdotool("key", "Return")
        time.sleep(SETTLE)

    def _do_select_option(self, control: Control, kind: str, node: Any,
                          args: dict[str, Any]) -> None:
        option = str(args["option"])
        if control.type in ("Edit", "ComboBox"):  # a combo box's entry takes its option's name
            self._do_set_edit_text(control, kind, node, {"text": option})
            return
        self._node_call("select_child", node, name=option)
        time.sleep(SETTLE)

    def _focus_window(self) -> None:
        """Give the keyboard to the window on top (no window manager does it)."""
        name = self._window or self._title
        found = self._xdotool("search", "--onlyvisible", "--name", name, check=False)
        ids = found.split()
        if ids:
            self._xdotool("windowfocus", "--sync", ids[-1], check=False)

    def _xdotool(self, *argv: str, check: bool = True) -> str:
        env = {"PATH": "/usr/bin:/bin", **self.display.env}
        try:
            out = subprocess.run(["xdotool", *argv], env=env, capture_output=True, text=True,
                                 timeout=self.atspi_timeout)
        except subprocess.TimeoutExpired:
            raise EnvironmentCrashed(f"xdotool {argv[0]} did not return") from None
        if check and out.returncode != 0:
            raise InvalidAction(f"the keys were not sent: {out.stderr.strip()[:200]}")
        return out.stdout

    def _keyboard(self, combo: str) -> None:
        key = keys.parse(combo)
        name = XDOTOOL_KEYS.get(key.name, key.name)
        mods = [m for m, bit in (("ctrl", 2), ("alt", 4), ("shift", 1)) if key.modifiers & bit]
        before = self._windows()
        self._focus_window()
        self._xdotool("key", "--clearmodifiers", "+".join([*mods, name]))
        self._settle(before, KEY_WAIT if self._key_may_open(key) else 0.0)

    def _key_may_open(self, key: keys.Key) -> bool:
        """Whether a key may open or close a window: Enter or Escape in a dialog or menu, or
        a shortcut whose command opens a dialog (its menu label ends with '...')."""
        if key.name in ("enter", "escape"):
            return self._focus != "document"
        command = self.surface.shortcuts.get(key.code)
        return bool(command) and self.surface.label(command).endswith(("...", "…"))

    def _type(self, text: str) -> None:
        """Type at the focus, a paragraph break for each newline (xdotool's `type` would not
        press Return)."""
        self._focus_window()
        for k, line in enumerate(text.split("\n")):
            if k:
                self._xdotool("key", "Return")
            if line:
                self._xdotool("type", "--delay", "0", "--", line)
        time.sleep(SETTLE)

    def _execute(self, action) -> bool:
        if action.function == "type_text":
            self._type(str(action.args.get("text", "")))
            return False
        return super()._execute(action)
