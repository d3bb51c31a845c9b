"""One LibreOffice GUI session: its display, the app on it and the AT-SPI server reading it.

Shared by the real-GUI environments (Writer, Calc, Impress): they differ in their documents,
their canvas and their checks, not in how a control is read or clicked. The session turns the
server's nodes into numbered `Control`s (labels stable within an episode), runs the actions a
user makes (a control's own accessibility action, a field's editable text, a list's
selection, keys and typing through xdotool on the window on top) and waits until their
effect has shown. Every call is bounded: a hang or a dead app raises `EnvironmentCrashed`.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamforge.core import Control, EnvironmentCrashed, InvalidAction
from lamforge.envs.gui.atspi import ActionFailed, Bridge
from lamforge.envs.gui.display import SCREEN, Display
from lamforge.envs.writer import keys
from lamforge.envs.writer.office import Office

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

LOAD_TRIES = 3
"""Loads of an episode's document before the episode fails (`GuiSession.open`)."""

KEY_WAIT = 0.5
"""The same for a key that may (Enter, Escape, a shortcut): a dialog shows in ~0.4 s."""

LIST_WAIT = 2.0
"""Seconds a new document frame's wait goes on while a list shows items without names."""


@dataclass
class Seen:
    """What the last observation showed: its controls, the node behind each label, and where
    input goes (`focus`: 'document', 'menu: Format', 'dialog: Character')."""

    controls: list[Control]
    nodes: dict[str, dict[str, Any]]
    focus: str
    window: str


def _properties_deck(doc: Any) -> None:
    """Open the sidebar on its Properties deck: LibreOffice carries the last deck shown over
    to the next window, and a menu command that toggles a deck (Slide > Slide Transition)
    would then close it instead. Every episode starts from the same screen."""
    decks = doc.getCurrentController().getSidebar().getDecks()
    if decks.hasByName("PropertyDeck"):
        deck = decks.getByName("PropertyDeck")
        if not deck.isActive():  # activating the open deck again closes it, a moment later
            deck.activate(True)


class GuiSession:
    """Display + LibreOffice (`office`, started on the display) + AT-SPI server."""

    def __init__(self, office: Office, atspi_timeout: float = 10.0,
                 boxes: dict[tuple[str, int], str] | None = None,
                 screenshots: str | Path | None = None) -> None:
        """`boxes`: names of an app's nameless toolbar boxes, by (toolbar, place in it),
        e.g. Calc's Name Box; `screenshots`: a folder to keep a screenshot of every
        observation in (`shoot`)."""
        self.office = office
        self.screenshots = Path(screenshots) if screenshots else None
        self.shots = 0
        self.boxes = boxes or {}
        self.display = Display()
        self.bridge: Bridge | None = None
        self.atspi_timeout = atspi_timeout
        self.title = ""
        self.focus = "document"
        self.window = ""
        self._labels: dict[tuple, str] = {}
        self._fresh: dict[str, Any] | None = None
        self._frames: dict[str, list] = {}
        """Per document title, what the count read when its frame had last drawn."""

    # ---- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Display, LibreOffice on it and the AT-SPI server: whichever is not running."""
        if not self.display.alive:
            self.office.kill()
            self.kill_bridge()
            self.display.start()
        self.office.display = self.display.env
        if not self.office.alive:
            self.kill_bridge()
            self.office.restart()
        if self.bridge is None:
            self.bridge = Bridge(self.display.env, timeout=self.atspi_timeout).start()

    def kill_bridge(self) -> None:
        if self.bridge is not None:
            self.bridge.kill()
            self.bridge = None

    def clear(self) -> None:
        """Close what the last episode left open (a dialog, a message box) with Escape, as a
        user would, so the next document's frame is the window on top; an app that will not
        let go is ended (the next `start` brings up a fresh one)."""
        if self.bridge is None or not self.office.alive:
            return
        try:
            for _ in range(5):
                shown = self.windows()
                dialogs = [name for role, name in shown
                           if role in ("dialog", "alert", "file chooser")]
                if not dialogs:
                    return
                self.window = dialogs[-1]
                self.focus_window()
                self.xdotool("key", "Escape")
                self.settle(shown, KEY_WAIT)
        except (ActionFailed, EnvironmentCrashed, InvalidAction):
            pass
        self.kill_app()

    def clear_saves(self) -> None:
        """Remove the files the last episode saved through the real File > Save As… (they
        land in LibreOffice's Work folder, `office.docs_dir`): a later episode saving under
        the same name would otherwise be asked whether to replace the file."""
        with contextlib.suppress(FileNotFoundError):  # gone with the office
            for path in self.office.docs_dir.iterdir():
                if path.is_file():
                    path.unlink(missing_ok=True)

    def kill_app(self) -> None:
        """After a hang: LibreOffice and the server go; the display stays for the restart."""
        self.kill_bridge()
        self.office.kill()

    def close(self) -> None:
        self.kill_bridge()
        self.display.close()

    def open(self, path: Path, service: str) -> Any:
        """Open the episode's document (`_open`); a load that hangs or crashes is tried again
        (`LOAD_TRIES` in all) on a fresh display, D-Bus session and LibreOffice, since the
        episode has not begun and nothing is lost.

        With two workers about 1 load in 40 hangs: a UNO call on LibreOffice's thread pool
        updates the menus, whose Paste state waits on the X clipboard
        (`gtk_clipboard_wait_for_targets`, seen in gdb) while the main loop waits for it.
        The killed LibreOffice leaves its lock file beside the document; opened again, the
        document then asks "locked for editing by yourself on a different system" and the
        second load hangs on that question. So the lock goes first. Two tries left 3 of 369
        episodes of a Writer flow unstarted (both loads hung); a third try is ~15 s more in
        those rare cases.

        The last episode's saves through the real Save As go first too (`clear_saves`)."""
        self.clear_saves()
        for _ in range(LOAD_TRIES - 1):
            try:
                return self._open(path, service)
            except EnvironmentCrashed:
                self.kill_app()
                self.display.close()
                self.start()
            (path.parent / f".~lock.{path.name}#").unlink(missing_ok=True)
        return self._open(path, service)

    def _open(self, path: Path, service: str) -> Any:
        """Open the episode's document in a new window filling the screen and wait until it
        has drawn; a new episode's labels start from 1.

        Not into the last episode's window: that saved ~0.1 s a reset, but the frame kept
        something of every document it had shown, and reading it slowed from 36 to 77 ms
        over 18 episodes."""
        self.focus, self.window, self._labels = "document", "", {}
        doc = self.office.open(path, hidden=False, service=service)
        width, height = (int(x) for x in SCREEN.split("x")[:2])
        window = self.office.call(lambda: doc.getCurrentController().getFrame()
                                  .getContainerWindow())
        self.office.call(lambda: window.setPosSize(0, 0, width, height, 15))
        self.office.call(lambda: _properties_deck(doc))
        self._await_frame(path.name, fill=True)
        return doc

    def _await_frame(self, filename: str, fill: bool) -> None:
        """Wait until the frame titled `filename` is on the accessibility bus (sized to the
        screen when `fill`: there is no window manager to do it) and has drawn."""
        self.title = filename
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                shown = self.call("windows", pid=self.office.proc.pid)
            except ActionFailed:  # the app is not on the bus yet
                shown = []
            if any(w["role"] == "frame" and w["showing"] and filename in w["name"]
                   for w in shown):
                if fill:
                    width, height = (int(x) for x in SCREEN.split("x")[:2])
                    self._fill_screen(filename, width, height)
                self.drawn(limit=10, reads=2, toolbars=True, known=filename)
                return
            time.sleep(0.03)
        raise EnvironmentCrashed(f"the window of {filename} did not appear on the "
                                 "accessibility bus within 15 s")

    def _fill_screen(self, filename: str, width: int, height: int) -> None:
        """Size the frame's X window to the screen. LibreOffice asks for it (setPosSize), but
        with no window manager the gtk3 toplevel stays 24x26 pixels: menus and dialogs still
        work, while the document, the sidebar and screenshots show nothing."""
        ids = self.xdotool("search", "--onlyvisible", "--name", filename, check=False).split()
        for wid in ids:
            self.xdotool("windowsize", "--sync", wid, str(width), str(height), check=False)
            self.xdotool("windowmove", "--sync", wid, "0", "0", check=False)

    # ---- calls ------------------------------------------------------------------------------
    def call(self, op: str, **args: Any) -> Any:
        """An AT-SPI call; `EnvironmentCrashed` when LibreOffice is gone (a refused call is
        often the first sign) or the call hung."""
        self._fresh = None  # the app may change after any call: `drawn`'s reading is old
        self.check_alive()
        if self.bridge is None:
            raise EnvironmentCrashed("the AT-SPI server is not running")
        try:
            return self.bridge.call(op, **args)
        except ActionFailed:
            self.check_alive(wait=0.3)
            raise

    def check_alive(self, wait: float = 0.0) -> None:
        proc = self.office.proc
        if proc is not None and wait:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=wait)
        if proc is None or proc.poll() is not None:
            code = None if proc is None else proc.returncode
            raise EnvironmentCrashed(f"LibreOffice died (exit code {code})")

    def xdotool(self, *argv: str, check: bool = True) -> str:
        self._fresh = None
        env = {"PATH": "/usr/bin:/bin", **self.display.env}
        try:
            out = subprocess.run(["xdotool", *argv], env=env, capture_output=True, text=True,
                                 timeout=self.atspi_timeout)
        except subprocess.TimeoutExpired:
            raise EnvironmentCrashed(f"xdotool {argv[0]} did not return") from None
        if check and out.returncode != 0:
            raise InvalidAction(f"the keys were not sent: {out.stderr.strip()[:200]}")
        return out.stdout

    # ---- observation ------------------------------------------------------------------------
    def observe(self) -> Seen:
        """The controls of the window input goes to, labelled as before in this episode:
        the reading `drawn` ended on when nothing has been asked of the app since, else a
        new one."""
        tree, self._fresh = self._fresh, None
        try:
            if tree is None:
                tree = self.call("observe", pid=self.office.proc.pid, title=self.title)
        except ActionFailed as e:  # LibreOffice runs but shows no window it can be read from
            raise EnvironmentCrashed(f"LibreOffice's windows cannot be read ({e})") from None
        window = tree["window"]
        in_dialog = window["role"] in ("dialog", "alert", "file chooser")
        controls: list[Control] = []
        nodes: dict[str, dict[str, Any]] = {}
        seen: dict[tuple, int] = {}
        menus: list[str] = []
        for node in tree["nodes"]:
            if not node["name"] and "slot" in node:
                node["name"] = self.boxes.get((node["path"], node["slot"]), "")
            ctype = ACTIONABLE.get(node["type"])
            if node["type"] == "Cell" and in_dialog:
                ctype = "ListItem"  # a row of a dialog's list (a GTK tree view: Fields' Type)
            if ctype is None or not node["name"]:
                continue
            if node["type"] == "Edit" and node["within"] == "ToolBar":
                ctype = "ComboBox"  # the font, size and style boxes
            if node["type"] == "ToggleButton" and controls and \
                    controls[-1].name == node["name"] and controls[-1].type in ("Edit", "ComboBox"):
                continue  # the arrow that drops the box's list down: the box takes the value
            base = (window["name"], node["path"], node["type"], node["name"])
            seen[base] = seen.get(base, 0) + 1
            label = self._labels.setdefault((*base, seen[base]), str(len(self._labels) + 1))
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
            controls.append(Control(label=label, name=node["name"], type=ctype, value=value,
                                    enabled=node["enabled"], group=group))
            nodes[label] = node
        self.focus = (f"dialog: {window['name']}" if in_dialog else
                      f"menu: {' > '.join(menus)}" if menus else "document")
        self.window = window["name"]
        return Seen(controls, nodes, self.focus, self.window)

    def shoot(self, episode: str) -> str | None:
        """A PNG of the whole screen in the screenshots folder, named after the episode
        (`<task id>-e<n>`) and a running number; its name, or None when no folder was asked
        for. ImageMagick's `import` (60-70 ms)."""
        if self.screenshots is None:
            return None
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        name = f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', episode)[:80]}-{self.shots:03d}.png"
        env = {"PATH": "/usr/bin:/bin", **self.display.env}
        try:
            out = subprocess.run(["import", "-window", "root", str(self.screenshots / name)],
                                 env=env, capture_output=True, timeout=self.atspi_timeout)
        except subprocess.TimeoutExpired:
            raise EnvironmentCrashed("the screenshot did not return") from None
        return name if out.returncode == 0 else None

    # ---- waiting ----------------------------------------------------------------------------
    def windows(self) -> list[tuple[str, str]]:
        return [(w["role"], w["name"]) for w in
                self.call("windows", pid=self.office.proc.pid) if w["showing"]]

    def settle(self, before: list[tuple[str, str]], wait: float) -> None:
        """Give the action time to show: one that may open or close a window waits until the
        set of windows changes (at most `wait` seconds), then until it has drawn."""
        time.sleep(SETTLE)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.windows() != before:
                self.drawn()
                return
            time.sleep(0.04)

    def drawn(self, limit: float = 2.0, reads: int = 3, toolbars: bool = False,
              known: str | None = None) -> None:
        """Wait until the window on top shows the same number of nodes `reads` times in a row
        (a dialog fills in its fields after its window appears); `toolbars`: and shows its
        toolbars (a document's frame draws them last).

        The read that would end the wait is a whole observation, which counts the nodes on
        the same walk; when it does end it, `observe` takes it rather than walking the
        window again (~80 ms of a step that closes a dialog). Any later call to the app
        drops it.

        A new frame's wait also goes on while a list shows items without names (at most
        `LIST_WAIT` from the start): Impress's sidebar layouts first show 12 nameless items,
        and the count holds still while their names come. A nameless item is no control, so
        under load 4 of 8 fresh apps' first screens lacked the layouts (76 of 88 controls),
        and a warm reset's once did (a `make test` run).

        `known`: the document whose frame this is. A frame that reads as it did when the same
        document's frame had last drawn (its window, node and toolbar counts) has drawn: the
        first read is then a whole observation, and the wait can end on it without a second
        read to compare with (a warm reset's usual case; ~140 ms less)."""
        seen: list = []
        start = time.monotonic()
        deadline = start + limit
        expect = self._frames.get(known) if known else None

        def settled(counts: list) -> bool:
            last = counts[-1]
            return last[1] > 1 and (last[2] or not toolbars) and all(x == last for x in counts)

        def named(tree: dict[str, Any]) -> bool:
            return not toolbars or time.monotonic() - start > LIST_WAIT or not any(
                n["type"] == "ListItem" and not n["name"] for n in tree["nodes"])

        while time.monotonic() < deadline:
            pid = self.office.proc.pid
            whole = reads == 1 or (expect is not None and not seen) or (
                len(seen) >= reads - 1 and settled(seen[1 - reads:]))
            tree = self.call("observe", pid=pid, title=self.title) if whole else None
            seen.append(tree["count"] if tree else self.call("count", pid=pid, title=self.title))
            if tree and (settled(seen[-reads:]) or tree["count"] == expect) and named(tree):
                self._fresh = tree
                if known:
                    self._frames[known] = tree["count"]
                return
            time.sleep(0.04)

    # ---- actions ----------------------------------------------------------------------------
    def node_call(self, op: str, node: dict[str, Any], **args: Any) -> Any:
        try:
            return self.call(op, ref=node["ref"], **args)
        except ActionFailed as e:
            raise InvalidAction(f"LibreOffice refused it: {e}") from None

    def click(self, control: Control, node: dict[str, Any]) -> None:
        before = self.windows()
        opens = control.name.endswith(("...", "…"))
        # a dialog's button may close it (OK) or not (a colour picker's Color)
        closes = control.group == "dialog" and control.type == "Button"
        done = self.node_call("act", node)
        if done["action"] is None:
            self.mouse_click(node, done["box"])
        self.settle(before, WINDOW_WAIT if opens else KEY_WAIT if closes else 0.0)
        if control.group == "menu" and not opens:
            self.drawn(limit=1.5, reads=2)  # a command may fill a pane in after its menu closes

    def mouse_click(self, node: dict[str, Any], box: list[int]) -> None:
        """Click the middle of a node's box with the mouse (the screen is the desktop: no
        window manager moves windows); a node off the screen is selected in its list."""
        x, y, w, h = box
        width, height = (int(v) for v in SCREEN.split("x")[:2])
        cx, cy = x + w // 2, y + h // 2
        if w <= 0 or h <= 0 or not (0 <= cx < width and 0 <= cy < height):
            self.node_call("choose", node)
            return
        # no --sync: xdotool waits for the pointer to move, forever when it is already there
        # (two episodes that click the same icon)
        self.xdotool("mousemove", str(cx), str(cy), "click", "1")

    def set_text(self, control: Control, node: dict[str, Any], text: str,
                 taken: Callable[[], bool] | None = None) -> None:
        """Type `text` into a field and leave it as a user does. `taken`: the app's own sign
        that a toolbar box has acted on its text (Calc: the cursor is on the cell the Name
        Box names), which keys typed next must wait for."""
        if control.type not in ("Edit", "ComboBox"):
            raise InvalidAction(f"'{control.name}' is a {control.type}, not a field to type in")
        self.node_call("focus", node)
        self.node_call("set_text", node, text=text)
        # A field takes its text as a value when it is left (a spin box parses '5 cm' then)
        # or, in a toolbar, on Enter; as when a user types, then tabs away or presses Enter.
        # A multi-line field (File > Properties' Comments) would take the Tab as text: its
        # value is what it holds.
        if node.get("multiline"):
            time.sleep(SETTLE)
            return
        self.focus_window()
        self.xdotool("key", "Return" if control.group == "toolbar" else "Tab")
        time.sleep(SETTLE)
        # The app moves the keyboard on when it has taken the value (Calc's Name Box: to the
        # cell); keys sent before that would go into the box. Where the app gives a sign of
        # its own, that is awaited, as long as for a window; else the box's focus is. The
        # focus the bridge reports is no proof either way: under load, 3 of 30 formulas typed
        # once it no longer reported the box focused still went into it ("Information:
        # invalid reference"), and 1 Name Box in 12 stayed "focused" for 3 s after Calc had
        # moved to the cells it named.
        deadline = time.monotonic() + WINDOW_WAIT
        while control.group == "toolbar" and time.monotonic() < deadline:
            if taken() if taken is not None else not self._focused(node):
                break
            time.sleep(0.03)

    def _focused(self, node: dict[str, Any]) -> bool:
        try:
            return bool(self.call("focused", ref=node["ref"]))
        except ActionFailed:  # the box went away: the focus has moved
            return False

    def select_option(self, control: Control, node: dict[str, Any], option: str) -> None:
        if node.get("dropdown"):
            self.drop_down(control, node, option)
            return
        if control.type in ("Edit", "ComboBox"):  # a combo box's entry takes its option's name
            self.set_text(control, node, option)
            return
        self.node_call("select_child", node, name=option)
        time.sleep(SETTLE)

    def drop_down(self, control: Control, node: dict[str, Any], option: str) -> None:
        """Choose an option of a GTK drop-down without an entry as a user does: click it,
        then the option in the list it pops up. Its list is empty until then, and an
        accessibility press does not pop it up; a mouse click does."""
        before = self.windows()
        self.mouse_click(node, node["box"])
        # the list is a window of its own: wait for it as for any window (a busy app is slow
        # to pop it up; the wait ends when it shows)
        self.settle(before, WINDOW_WAIT)
        options = self.call("popup_options", pid=self.office.proc.pid)
        want = " ".join(option.split()).casefold()
        hit = next((o for o in options if o["name"] == option), None) or next(
            (o for o in options if " ".join(o["name"].split()).casefold() == want), None)
        if hit is None:
            if options:
                self.key("Escape", may_open=True)
            names = ", ".join(o["name"] for o in options[:15]) or "none: no list popped up"
            raise ActionFailed(f"'{control.name}' has no option '{option}' (its options: "
                               f"{names})")
        before = self.windows()
        self.mouse_click(node, hit["box"])
        self.settle(before, KEY_WAIT)

    def focus_window(self) -> None:
        """Give the keyboard to the window on top (no window manager does it)."""
        found = self.xdotool("search", "--onlyvisible", "--name", self.window or self.title,
                             check=False)
        ids = found.split()
        if ids:
            self.xdotool("windowfocus", "--sync", ids[-1], check=False)

    def key(self, combo: str, may_open: bool | None = None) -> None:
        """Press a key combination ('ctrl+b') in the window on top. `may_open`: whether it
        may open or close a window (then the session waits for that); by default Enter and
        Escape may when a dialog or menu is up."""
        key = keys.parse(combo)
        name = XDOTOOL_KEYS.get(key.name, key.name)
        mods = [m for m, bit in (("ctrl", 2), ("alt", 4), ("shift", 1)) if key.modifiers & bit]
        if may_open is None:
            may_open = key.name in ("enter", "escape") and self.focus != "document"
        before = self.windows()
        self.focus_window()
        self.xdotool("key", "--clearmodifiers", "+".join([*mods, name]))
        self.settle(before, KEY_WAIT if may_open else 0.0)

    def scroll(self, clicks: int) -> None:
        """Turn the mouse wheel over the middle of the screen, where the document is (the
        page, the sheet's grid, the slide), as a user scrolls it: `clicks` notches, down
        when positive (LibreOffice moves about three lines a notch). Not in a dialog: its
        middle may be any control, and its lists take `select_option` or keys."""
        if self.focus.startswith("dialog"):
            raise InvalidAction(f"scroll turns the wheel over the document, and the "
                                f"{self.focus} is open (use select_option or keyboard)")
        width, height = (int(v) for v in SCREEN.split("x")[:2])
        self.xdotool("mousemove", str(width // 2), str(height // 2), "click", "--repeat",
                     str(abs(clicks)), "--delay", "10", "5" if clicks > 0 else "4")
        time.sleep(SETTLE)

    def type(self, text: str) -> None:
        """Type at the focus, Return for each newline (xdotool's `type` would not press it)."""
        self.focus_window()
        for k, line in enumerate(text.split("\n")):
            if k:
                self.xdotool("key", "Return")
            if line:
                self.xdotool("type", "--delay", "0", "--", line)
        time.sleep(SETTLE)
