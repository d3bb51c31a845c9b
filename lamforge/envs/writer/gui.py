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

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse

from lamforge.core import (
    Action,
    Control,
    EnvironmentCrashed,
    Observation,
    Task,
)
from lamforge.envs.base import ActionSpec, EnvStatus
from lamforge.envs.gui.display import missing_programs
from lamforge.envs.gui.env import SCROLL, scroll_notches
from lamforge.envs.gui.session import LOAD_TRIES, GuiSession
from lamforge.envs.writer import canvas, checks, keys
from lamforge.envs.writer.env import WriterEnv
from lamforge.envs.writer.office import SYSTEM_PYTHON
from lamforge.envs.writer.ops import DocOps
from lamforge.envs.writer.templates import resolve_template

GTK_PLUGIN = Path("/usr/lib/libreoffice/program/libvclplug_gtk3lo.so")


def check_installation() -> EnvStatus:
    """Whether the real-GUI LibreOffice can start here, without starting it."""
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
    pinned = False
    """Not on one core: soffice, Xvfb, the AT-SPI server and the buses take turns on every
    step, and kept on one core with its worker, 1 document load in 4 hung for 15 s."""

    name = "writer-gui-v0"
    renamed: ClassVar[dict[tuple[str, str], tuple[str | None, dict[str, str],
                                                 tuple[str, ...]]]] = {
        ("Bullets and Numbering", "Type"): ("Number", {"Bullet": "Bullet",
                                                       "Number": "1, 2, 3, ...",
                                                       "None": "None"}, ()),
        ("Page Style", "Background"): (None, {}, ("Area", "Color")),
        ("Character", "Font"): ("Family", {}, ())}
    """Choices the headless dialogs (`dialogs.py`) name otherwise than the real ones:
    (dialog, headless field) -> (the real field, or None when the option is a control to
    click; the real option for each headless one; the tabs and buttons to click first).
    The real Bullets and Numbering has no "Type": its Unordered and Ordered tabs are
    galleries of images, and its Customize tab's Number drop-down takes the kind of list.
    Page Style's background is the Area tab's Color button, then a colour of its palette.
    Character's font is its Font tab's Family box."""
    followed: ClassVar[dict[tuple[str, str], str]] = {
        ("Header and Footer", "Header"): "Default Page Style",
        ("Header and Footer", "Footer"): "Default Page Style",
        ("Save As...", "Save"): "Use Word 2007–365 Format"}
    """Clicks the real Writer needs after a headless one: (the click before, the click) -> the
    next click. Insert > Header and Footer > Header is a submenu of the page styles in use
    (the templates' pages are all in the Default Page Style). Saving a Word document through
    File > Save As… asks whether to keep the format, and Word's button keeps it."""
    typed: ClassVar[dict[str, tuple[str, str]]] = {"Comment": ("Text", "OK")}
    """Headless dialogs the real Writer does not show: command -> (the field whose text is
    typed where the cursor is, the button not pressed). Insert > Comment opens the comment's
    own box in the margin, the cursor in it."""

    def __init__(self, call_timeout: float = 15.0, templates_dir: str | Path | None = None,
                 max_paragraphs: int = 40, atspi_timeout: float = 10.0,
                 screenshots: str | Path | None = None) -> None:
        """`screenshots`: a folder to keep a PNG of every observation in (its name is the
        observation's `screenshot`)."""
        super().__init__(call_timeout=call_timeout, templates_dir=templates_dir,
                         max_paragraphs=max_paragraphs)
        self.gui = GuiSession(self.office, atspi_timeout, screenshots=screenshots)
        self._copy, self._copy_mtime = Path(), 0
        self._keep_view = False
        """Whether the next observation keeps the page count, so the view stays (`scroll`)."""

    # ---- life cycle -------------------------------------------------------------------------
    def reset(self, task: Task) -> Observation:
        self._closed = False
        self._keep_view = False  # a scroll that crashed the last episode kept it
        for c in task.checks:
            checks.validate(c)
        self.gui.clear()
        try:
            self._close_document()
        except EnvironmentCrashed:
            self._doc = None
        self.gui.start()
        template = resolve_template(task.template, self.templates_dir, office=self.office)
        self._episode += 1
        self._episode_dir = self.office.docs_dir / f"episode{self._episode}"
        self._episode_dir.mkdir(parents=True, exist_ok=True)
        copy = self._episode_dir / f"{Path(template).stem}.docx"
        shutil.copy(template, copy)
        try:
            self._doc = self.gui.open(copy, "com.sun.star.text.TextDocument")
        except EnvironmentCrashed as e:  # every try: not the template's fault, the app's
            self.gui.kill_app()
            raise EnvironmentCrashed(f"LibreOffice crashed or hung opening {template.name} "
                                     f"{LOAD_TRIES} times ({e})") from None
        self.ops = DocOps(self.office, self._doc, self._episode_dir)
        self._copy, self._copy_mtime = copy, copy.stat().st_mtime_ns
        self.task = task
        self._menu, self._dialog, self._crashed, self._notes = [], None, None, []
        self._finished, self._styles = False, None
        self.effects, self._pending, self._steps = [], [], 0
        obs = self._observe()
        self._initial_state = self._state
        return obs

    def close(self) -> None:
        super().close()
        self.gui.close()

    def abort(self) -> None:
        super().abort()
        self.gui.kill_bridge()

    def _crashed_now(self, reason: str):
        if not self._closed:
            self.gui.kill_app()  # a hung accessibility call: the app may be hung too
        result = super()._crashed_now(reason)
        if not self._closed:
            try:
                self.gui.start()
            except Exception as e:  # reported at the next reset
                result.observation.last_action_error = f"{result.error}; restart failed: {e}"
        return result

    def reground(self, action: Action, obs: Observation) -> list[Action] | None:
        """Read the real dialog for what a prefilled action meant (`gui.reground`)."""
        from lamforge.envs.gui.reground import reground

        return reground(self, action, obs)

    # ---- observation ------------------------------------------------------------------------
    def _observe(self, error: str | None = None) -> Observation:
        seen = self.gui.observe()
        self._controls = {c.label: (c, ("node", seen.nodes[c.label])) for c in seen.controls}
        # After a scroll, the last page count is kept while nothing else changed: reading it
        # again scrolls the view back to the cursor (`state` in the in-process script). Any
        # other step reads it, and the view follows the cursor as before: keeping it after
        # a Find (select_text) left the found text off screen until the next edit, which then
        # paid for the scroll (Bold 267 -> 481 ms, paired).
        last = {"digest": self._state.get("pages_digest"),
                "pages": self._state.get("page_count")} if self._keep_view else {}
        self._keep_view = False
        data = self.office.script("observe", self._doc, "[]", json.dumps(last))
        self._state = data["state"]
        self._state["saved_files"] = self._saved_files()
        text = canvas.render(self._state, self.max_paragraphs)
        if self._notes:
            text += "\n" + "\n".join(f"note: {n}" for n in self._notes)
        return Observation(controls=seen.controls, canvas=text, focus=seen.focus,
                           last_action_error=error,
                           screenshot=self.gui.shoot(f"{self.task.id}-e{self._episode}")
                           if self.task else None)

    def _saved_files(self) -> list[str]:
        """The environment's own saves, and what the user saved through the real windows:
        File > Save As… moves the document to the file the dialog names (in the Work folder,
        `office.docs_dir`), and File > Save rewrites the episode's copy."""
        names = super()._saved_files()
        doc = self._doc
        url = self.office.call(lambda: doc.getLocation()) if doc is not None else ""
        if url.startswith("file://"):
            path = Path(unquote(urlparse(url).path))
            if path != self._copy.resolve() or (
                    path.is_file() and path.stat().st_mtime_ns != self._copy_mtime):
                names.append(path.name)
        return list(dict.fromkeys(names))

    # ---- actions ----------------------------------------------------------------------------
    def _do_click(self, control: Control, kind: str, node: Any, args: dict[str, Any]) -> None:
        self.gui.click(control, node)

    def _do_set_edit_text(self, control: Control, kind: str, node: Any,
                          args: dict[str, Any]) -> None:
        self.gui.set_text(control, node, str(args["text"]))

    def _do_select_option(self, control: Control, kind: str, node: Any,
                          args: dict[str, Any]) -> None:
        self.gui.select_option(control, node, str(args["option"]))

    def _keyboard(self, combo: str) -> None:
        key = keys.parse(combo)
        command = self.surface.shortcuts.get(key.code)
        # a shortcut whose command opens a dialog (its menu label ends with '...')
        opens = bool(command) and self.surface.label(command).endswith(("...", "…"))
        self.gui.key(combo, may_open=True if opens else None)

    def action_space(self) -> list[ActionSpec]:
        """Writer's actions, and the wheel (`scroll`) a real window has."""
        *actions, finish = super().action_space()
        return [*actions, SCROLL, finish]

    def _execute(self, action) -> bool:
        if action.function == "type_text":
            self.gui.type(str(action.args.get("text", "")))
            return False
        if action.function == "scroll":
            self._keep_view = True  # this step's observation leaves the view where it is
            self.gui.scroll(scroll_notches(action.args))
            return False
        return super()._execute(action)
