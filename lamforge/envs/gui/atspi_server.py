"""The AT-SPI side of the GUI environments: a JSON-lines server run by the system Python.

Why a separate process: pyatspi and its GObject bindings are Debian's packages, built for
`/usr/bin/python3`, not for the project's virtual environment. So the environment starts
this file under the system Python (`lamforge.envs.gui.atspi`), with the display's and D-Bus
session's variables, and talks to it over stdin/stdout: one JSON request per line, one JSON
answer per line. The client bounds every call with a time-out and kills this process (and
the app) when one hangs.

This module imports nothing from lamforge: it runs outside the project's environment.

Requests: {"op": name, ...arguments}; answers: {"ok": true, "result": ...} or
{"ok": false, "error": "one line"}. Nodes of the last `observe` are addressed by `ref`.
"""

from __future__ import annotations

import json
import os
import sys
import time

import pyatspi
from gi.repository import Atspi  # made importable (its version chosen) by pyatspi

# Roles a user acts on or reads; containers (panels, fillers) are walked, not shown.
ROLES = {
    "menu": "Menu", "menu item": "MenuItem", "check menu item": "MenuItem",
    "radio menu item": "MenuItem", "push button": "Button", "toggle button": "ToggleButton",
    "check box": "CheckBox", "radio button": "RadioButton", "text": "Edit",
    "password text": "Edit", "spin button": "Edit", "combo box": "ComboBox",
    "page tab": "TabItem", "list item": "ListItem", "table cell": "Cell", "label": "Label",
    "slider": "Slider", "tree item": "TreeItem", "paragraph": "Paragraph",
    "heading": "Paragraph", "menu bar": "MenuBar", "tool bar": "ToolBar", "dialog": "Dialog",
    "alert": "Dialog", "frame": "Frame", "document text": "Document",
    "document presentation": "Document", "document spreadsheet": "Document",
}
SKIP_CHILDREN = {"table", "document text", "document presentation", "document spreadsheet"}
"""Roles whose children are never walked: a spreadsheet grid is a table of 2^31 cells, and a
document's content is read through the app's own API (the canvas), not node by node."""


_refs: dict[int, object] = {}
_roles: dict[str, str] = {}
"""The roles read of the app's nodes, by object path (a local field), kept from one
observation to the next: each read is a D-Bus round trip, for ~350 nodes and their parents
an observation. The bridge names a node's path from a counter (at-spi2-atk's
`assign_reference`), so no path is given to a second node. Roles LibreOffice may change
on a live node (`MUTABLE_ROLES`) are read every time. The server serves one LibreOffice: a
restarted one gets a new server (`GuiSession.start`); `_for_app` empties the caches anyway
when asked about another process."""
MUTABLE_ROLES = {"menu item", "check menu item", "radio menu item", "paragraph", "heading"}
"""Roles LibreOffice changes on a live node (ROLE_CHANGED): a menu item that becomes a check
or radio item (`UpdateItemRole`), a paragraph that becomes a heading."""
_parents: dict[str, object | None] = {}
"""The same for a node's parent: LibreOffice gives each of its nodes one parent."""
_app_pid = 0
_names: dict[str, str] = {}
"""The names of the windows, menus and toolbars the nodes of one observation are in, read
once for all their nodes (a name may change: kept for one observation only)."""


def _for_app(pid: int) -> None:
    """Keep the caches for app `pid` (and bounded); `observe` and `count` call it first."""
    global _app_pid
    if _app_pid != pid or len(_roles) > 100_000:
        _roles.clear()
        _parents.clear()
        _app_pid = pid


def _role_of(acc: object) -> str:
    role = _roles.get(acc.path)
    if role is None:
        role = acc.getRoleName()
        if role not in MUTABLE_ROLES:
            _roles[acc.path] = role
    return role


def _parent_of(acc: object) -> object | None:
    if acc.path not in _parents:
        _parents[acc.path] = acc.parent
    return _parents[acc.path]


def _name_of(acc: object) -> str:
    name = _names.get(acc.path)
    if name is None:
        name = _names[acc.path] = acc.name or ""
    return name


def _app(pid: int) -> object:
    desktop = pyatspi.Registry.getDesktop(0)
    for app in desktop:
        try:
            if app is not None and app.get_process_id() == pid:
                return app
        except Exception:  # an application leaving the bus
            continue
    raise LookupError(f"no accessible application with pid {pid} (yet)")


_STATE_BITS = [(1 << i, pyatspi.stateToString(Atspi.StateType(i)))
               for i in range(Atspi.StateType.LAST_DEFINED)]
"""Each state's bit in a state set, with its name ('showing')."""


def _states(acc: object) -> set[str]:
    """The node's states by name, read from the state set's bits: pyatspi's `getStates`
    builds an enum object per bit first, a third of the time of ~270 reads an observation
    makes (48 -> 34 ms for Writer's 354 nodes)."""
    bits = acc.get_state_set().states
    return {name for bit, name in _STATE_BITS if bits & bit}


DIALOG_ROLES = ("dialog", "alert", "file chooser")


def _role(w: object) -> str:
    """A top-level window's role, with a wizard's frame (the Chart Wizard is a 'frame' called
    'Chart Type', not a dialog) called a dialog: input goes to it and Escape closes it. A
    document's frame names LibreOffice in its title."""
    role = w.getRoleName()
    if role == "frame" and "LibreOffice" not in (w.name or ""):
        return "dialog"
    return role


def windows(pid: int) -> list[dict]:
    """The app's top-level windows, newest last."""
    out = []
    for i, w in enumerate(_app(pid)):
        if w is None:
            continue
        st = _states(w)
        out.append({"index": i, "role": _role(w), "name": w.name or "",
                    "showing": "showing" in st, "active": "active" in st})
    return out


def _window(pid: int, title: str | None) -> object:
    """The window input goes to: a showing dialog (the newest), else the showing frame whose
    title has `title`, else any showing frame."""
    app = _app(pid)
    shown = [w for w in app if w is not None and "showing" in _states(w)]
    dialogs = [w for w in shown if _role(w) in DIALOG_ROLES]
    if dialogs:
        return dialogs[-1]
    frames = [w for w in shown if w.getRoleName() == "frame"]
    if title:
        titled = [w for w in frames if title in (w.name or "")]
        if titled:
            return titled[-1]
    if frames:
        return frames[-1]
    raise LookupError("the application shows no window")


def _text(acc: object, limit: int = 300) -> str | None:
    try:
        t = acc.queryText()
    except NotImplementedError:
        return None
    n = t.characterCount
    return t.getText(0, min(n, limit)) if n else ""


def _value(acc: object) -> str | None:
    try:
        v = acc.queryValue()
        return f"{v.currentValue:g}"
    except NotImplementedError:
        return None


def _actions(acc: object) -> list[str]:
    try:
        a = acc.queryAction()
    except NotImplementedError:
        return []
    return [a.getName(i) for i in range(a.nActions)]


def _box(acc: object) -> list[int]:
    try:
        e = acc.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
        return [e.x, e.y, e.width, e.height]
    except NotImplementedError:
        return [0, 0, 0, 0]


def _labelled_by(acc: object) -> str:
    """The text of the label a nameless field is tied to (a dialog's "Size:" beside its box),
    without its colon and mnemonic. GTK ties the label to the combo box that holds the
    entry, so the entry's box and its siblings are asked too."""
    try:
        parent = acc.parent
        near = [acc]
        if parent is not None and parent.getRoleName() in ("filler", "combo box", "panel") \
                and parent.childCount <= 4:
            near += [parent] + [parent.getChildAtIndex(i) for i in range(parent.childCount)]
        for node in near:
            if node is None:
                continue
            for rel in node.getRelationSet():
                if rel.getRelationType() == pyatspi.RELATION_LABELLED_BY and rel.getNTargets():
                    return _label_text(rel.getTarget(0).name or "")
    except Exception:
        pass
    return ""


def _is_dropdown(acc: object) -> bool:
    """Whether a nameless toggle button is LibreOffice's GTK drop-down without an entry (a
    paragraph's Line spacing): the button that shows the choice, beside a hidden combo box
    whose list stays empty until the button pops it up, and no showing entry."""
    parent = acc.parent
    if parent is None or parent.childCount > 4:
        return False
    kids = [parent.getChildAtIndex(i) for i in range(parent.childCount)]
    roles = [k.getRoleName() if k is not None else "" for k in kids]
    return "combo box" in roles and not any(
        r == "text" and "showing" in _states(k) for r, k in zip(roles, kids, strict=True))


def _dropdown_label(acc: object, box: list[int], labels: list[tuple[str, list[int]]]) -> str:
    """What a drop-down is called: the label tied to its combo box, else the label left of
    it on its row, else the one just above it, else the titled frame around it ("Line
    Spacing", which holds one drop-down and no label)."""
    parent = acc.parent
    for i in range(parent.childCount):
        kid = parent.getChildAtIndex(i)
        if kid is not None and kid.getRoleName() == "combo box":
            tied = _labelled_by(kid)
            if tied:
                return tied
    near = _label_beside(box, labels, above=True)
    if near:
        return near
    node = parent
    for _ in range(6):
        node = node.parent
        if node is None:
            break
        if node.getRoleName() == "panel" and node.name:
            return node.name
    return ""


def _label_beside(box: list[int], labels: list[tuple[str, list[int]]],
                  above: bool = False, gap: int = 300) -> str:
    """The label left of a box on its row (the nearest, at most `gap` pixels away), else
    (`above`) the one just above it: where a dialog puts the label of a control no relation
    ties it to."""
    x, y, w, h = box
    left = [(x - (lx + lw), name) for name, (lx, ly, lw, lh) in labels
            if lx + lw <= x + 4 and abs((ly + lh / 2) - (y + h / 2)) <= h / 2
            and x - (lx + lw) < gap]
    over = [(y - (ly + lh), name) for name, (lx, ly, lw, lh) in labels
            if above and 0 <= y - (ly + lh) <= 30 and x - 10 <= lx <= x + w / 2]
    return min(left or over, default=(0, ""))[1]


def _label_text(name: str) -> str:
    """A label's text without its mnemonic and colon ("Interval:(lines)" -> "Interval")."""
    return name.replace("_", "").replace("~", "").split(":")[0].strip()


def _dead_menubar(acc: object) -> bool:
    """LibreOffice's gtk3 frame has two menu bars, both showing; only the native one's menus
    have a working action, so the other is left out."""
    try:
        first = acc.getChildAtIndex(0)
        return first is not None and not any(_actions(first))
    except Exception:
        return False


LABELLED = {"text", "password text", "spin button", "combo box", "slider", "list",
            "check box", "radio button"}
"""Roles whose name a dialog often gives by a label beside them, not on the node itself."""
LAYOUT = {"frame", "root pane", "panel", "filler", "scroll pane", "split pane", "viewport",
          "layered pane", "page tab list", "page tab"}
"""Roles that lay a frame out: walked one node at a time, as a document may be inside."""


def _showing(root: object, role: int | None = None, showing: bool = True) -> list:
    """The nodes under `root` that are SHOWING (and of `role`), in tree order, in one call
    (a walk costs a D-Bus round trip per property per node). Never on a subtree holding a
    spreadsheet grid: the query makes soffice build an object per cell."""
    col = root.queryCollection()
    states = pyatspi.StateSet(*([pyatspi.STATE_SHOWING] if showing else [])).raw()
    roles = [role] if role is not None else []
    rule = col.createMatchRule(states, col.MATCH_ALL, "", col.MATCH_NONE, roles,
                               col.MATCH_ANY if roles else col.MATCH_NONE, "", col.MATCH_NONE,
                               False)
    try:
        found = list(col.getMatches(rule, col.SORT_ORDER_CANONICAL, 0, True))
    finally:
        col.freeMatchRule(rule)
    if None not in found:
        return found
    # VCL's own widgets inside a GTK one (the sidebar's icon views) come back as None: walk
    out: list = []

    def walk(acc: object, depth: int) -> None:
        for i in range(min(acc.childCount, 500)):
            child = acc.getChildAtIndex(i)
            if child is None or depth > 30:
                continue
            st = _states(child)
            if showing and "showing" not in st:
                continue
            if role is None or child.getRole() == role:
                out.append(child)
            walk(child, depth + 1)

    walk(root, 0)
    return out


def observe(pid: int, title: str | None = None, max_nodes: int = 600,
            boxes: bool = False) -> dict:
    """The showing controls of the window input goes to, in tree order, each with a `ref` for
    later calls, `within` (the menu bar, a menu, a toolbar, the dialog or the window) and
    `path` (the name of the menu or toolbar it is in); `boxes`: with screen boxes too."""
    _refs.clear()
    _names.clear()
    _for_app(pid)
    win = _window(pid, title)
    nodes: list[dict] = []

    def add(acc: object, role: str, st: set[str], within: str, path: str,
            label: str = "") -> dict:
        kind = ROLES[role]
        ref = len(_refs)
        own = acc.name or ""
        if role in LABELLED:  # "Interval:(lines)", "_Condition": as its label reads
            own = _label_text(own)
        _refs[ref] = acc
        node = {"ref": ref, "role": role, "type": kind,
                # a combo box's own name is its current choice: its label says what it is
                "name": (_labelled_by(acc) or own if role == "combo box" else
                         own or (_labelled_by(acc) if role in LABELLED else "")) or label,
                "path": path, "within": within,
                "enabled": "enabled" in st or "sensitive" in st,
                "checked": "checked" in st or "pressed" in st, "selected": "selected" in st,
                "focused": "focused" in st, "editable": "editable" in st,
                "multiline": "multi line" in st}
        if boxes:
            node["box"] = _box(acc)
        if kind in ("Edit", "ComboBox", "Cell"):
            node["text"] = _text(acc)
        if role in ("spin button", "slider"):
            node["value"] = _value(acc)
        nodes.append(node)
        return node

    in_dialog = _role(win) in DIALOG_ROLES
    labels: list[tuple[str, list[int]]] | None = None
    showing = _safe_showing(win)
    for seen in showing:
        if len(nodes) >= max_nodes:
            break
        try:
            acc, role = seen[0], seen[1] or _role_of(seen[0])
            if in_dialog and role == "toggle button":
                if labels is None:  # read once, only for a dialog that has such buttons
                    labels = [(_label_text(lab.name or ""), _box(lab))
                              for lab in _showing(win, pyatspi.ROLE_LABEL) if lab.name]
                if _dropdown(acc, win, labels, add, seen[2]):
                    continue
            _observe_node((acc, role, *seen[2:]), win, in_dialog, add)  # role read once
        except Exception:  # a node that went away while we read it (a menu closing)
            continue
    return {"window": {"role": _role(win), "name": win.name or ""},
            "nodes": nodes, "count": _count(win, showing)}


def _dropdown(acc: object, win: object, labels: list[tuple[str, list[int]]], add,
              st: set[str] | None) -> bool:
    """Add a dialog's toggle button that drops a list down as the combo box it is: GTK's
    drop-down without an entry (nameless, beside a hidden combo box), or a button that shows
    its current choice and pops a palette up (Font color: "Automatic"), named by the label
    left of it. Whether it was one."""
    own, box = acc.name or "", _box(acc)
    if not own and _is_dropdown(acc):
        name, value = _dropdown_label(acc, box, labels), None
    elif own and (name := _label_beside(box, labels, gap=60)) and name != own:
        # right beside its label: a label further left is another control's
        value = own
    else:
        return False
    node = add(acc, "toggle button", st or _states(acc), "Dialog", win.name or "", name)
    node |= {"name": name, "type": "ComboBox", "dropdown": True, "box": box,
             "text": value}
    return True


Seen = tuple
"""(node, role, states, parent, parent's role): what the walk already read of a node, so
nothing is asked twice (every property is a D-Bus round trip); None where not read yet."""


def _safe_showing(win: object) -> list[Seen]:
    """The window's showing nodes in tree order, without ever querying a subtree that holds
    a document: the frame's layout panes are walked node by node, and each part that cannot
    hold a document (a toolbar, a menu bar, a dialog) is read with one Collection query. A
    query that reached Calc's grid would hang soffice.

    GTK widgets that LibreOffice embeds in its own windows (the sidebar's decks) report
    themselves VISIBLE but never SHOWING: below a showing pane whose children are all like
    that, the walk goes on through visible nodes (`lax`), skipping the popup menus that
    buttons hold, which are visible while closed."""
    out: list[Seen] = []

    def visit(acc: object, role: str, st: set[str], parent: object, prole: str, depth: int,
              lax: bool) -> None:
        if role in SKIP_CHILDREN or depth > 30:
            return
        out.append((acc, role, st, parent, prole))
        if lax and role in ("push button", "toggle button", "menu", "combo box"):
            return  # a button's menu: visible even while closed
        if role not in LAYOUT and not lax:
            out.extend((m, None, None, None, None) for m in _showing(acc))
            return
        kids = []
        for i in range(min(acc.childCount, 200)):
            try:
                kid = acc.getChildAtIndex(i)
                if kid is not None:
                    kids.append((kid, _role_of(kid), _states(kid)))
            except Exception:  # gone while we read it
                continue
        if not lax and kids and not any("showing" in k[2] for k in kids) and \
                any("visible" in k[2] for k in kids):
            lax = True  # the top of an embedded GTK widget tree
        for kid, krole, kst in kids:
            if "showing" in kst or (lax and "visible" in kst):
                visit(kid, krole, kst, acc, role, depth + 1, lax)

    role = win.getRoleName()
    if role in ("dialog", "alert", "file chooser"):
        return [(m, None, None, None, None) for m in _showing(win)]
    visit(win, role, _states(win), None, "", 0, False)
    return out


def _observe_node(seen: Seen, win: object, in_dialog: bool, add) -> None:
    """Add the node to the observation if a user acts on it (with the hidden parts GTK
    reports of a menu bar and of a toolbar's boxes)."""
    acc, role, st, parent, prole = seen
    if acc is None:
        return
    role = role or _role_of(acc)
    if role not in ROLES and role not in ("menu bar", "panel"):
        return
    if role == "menu bar":
        if _dead_menubar(acc):
            return
        # GTK reports the native menu bar's menus as visible, not showing
        for i in range(acc.childCount):
            menu = acc.getChildAtIndex(i)
            if menu is not None and _role_of(menu) == "menu":
                add(menu, "menu", _states(menu), "MenuBar", "")
        return
    if parent is None:
        parent = _parent_of(acc)
        prole = "" if parent is None else _role_of(parent)
    if role == "panel":
        if prole == "tool bar":
            # a toolbar's boxes (font, size, style; Calc's Name Box): an entry deep inside,
            # not showing either; a nameless box is told by its place in the toolbar
            for entry in _showing(acc, pyatspi.ROLE_TEXT, showing=False)[:1]:
                node = add(entry, "text", _states(entry), "ToolBar", _name_of(parent),
                           acc.name or "")
                node["slot"] = acc.getIndexInParent()
        return
    if prole == "menu bar" or role in ("tool bar", "frame", "dialog", "paragraph", "heading",
                                       "label") or role.startswith("document"):
        return
    within, path = ("Dialog", _name_of(win)) if in_dialog else \
        ("Menu", _name_of(parent)) if prole == "menu" else \
        ("ToolBar", _name_of(parent)) if prole == "tool bar" else ("", "")
    add(acc, role, st if st is not None else _states(acc), within, path)


def count(pid: int, title: str | None = None) -> list:
    """The window input goes to, how many nodes it shows and how many of them are toolbars:
    cheap, for waiting until a window that just opened has drawn its controls."""
    _for_app(pid)
    win = _window(pid, title)
    return _count(win, _safe_showing(win))


def _count(win: object, seen: list[Seen]) -> list:
    """What `count` answers, from a walk already made (`observe` answers it too)."""
    return [win.name or "", len(seen), sum(1 for s in seen if s[1] == "tool bar")]


def tree(ref: int | None = None, depth: int = 3, pid: int | None = None) -> list[str]:
    """Every node under `ref` (or the window on top of app `pid`) to `depth`, showing or
    not, never inside a grid: for looking at an app's tree while writing its environment."""
    out: list[str] = []

    def walk(acc: object, d: int) -> None:
        if acc is None or len(out) >= 2000:
            return
        st = sorted(_states(acc) & {"showing", "visible", "enabled", "focusable", "checked"})
        out.append(f"{'  ' * d}{acc.getRoleName()} '{acc.name or ''}' {','.join(st)} "
                   f"{_actions(acc)} {acc.childCount}")
        if d < depth and acc.getRoleName() not in SKIP_CHILDREN:
            for i in range(min(acc.childCount, 200)):
                walk(acc.getChildAtIndex(i), d + 1)

    walk(_ref(ref) if ref is not None else _window(pid, None), 0)
    return out


def menus(pid: int, title: str | None = None) -> list:
    """The native menu bar of the app's window, every menu and item whether shown or not:
    [[name, enabled, children], ...], children None for an item. GTK builds the whole menu
    tree up front (1,800 nodes in Calc, ~1.6 s to read), so it is read once per app and
    cached by the caller (`gui.menus`)."""
    win = _window(pid, title)

    def bars(acc: object, depth: int) -> list:
        if acc is None or depth > 6 or acc.getRoleName() in SKIP_CHILDREN:
            return []
        if acc.getRoleName() == "menu bar":
            return [] if _dead_menubar(acc) else [acc]
        return [b for i in range(acc.childCount) for b in bars(acc.getChildAtIndex(i), depth + 1)]

    def items(menu: object) -> list:
        out = []
        for i in range(menu.childCount):
            acc = menu.getChildAtIndex(i)
            role = acc.getRoleName() if acc is not None else ""
            if role not in ("menu", "menu item", "check menu item", "radio menu item"):
                continue
            out.append([acc.name or "", "enabled" in _states(acc),
                        items(acc) if role == "menu" else None])
        return out

    found = bars(win, 0)
    if not found:
        raise LookupError(f"no menu bar in the window '{win.name}'")
    return items(found[0])


def _ref(ref: int) -> object:
    if ref not in _refs:
        raise LookupError(f"no node {ref} in the last observation")
    return _refs[ref]


def act(ref: int, name: str | None = None) -> dict:
    """Run the node's action `name` (its first when None): a click, a press, a toggle. A node
    without actions (a sidebar's icon, a dialog's tab) is not acted on: its screen box comes
    back, for a mouse click there, as a user would."""
    acc = _ref(ref)
    names = _actions(acc)
    if not names and acc.getRoleName() == "page tab":
        return {"action": "choose " + choose(ref)}  # a notebook switches pages on selection
    if not names or acc.getRoleName() == "table cell":
        # a list row's first action expands it, its 'activate' is a double click: a click
        # selects it, as a user's does
        return {"action": None, "box": _box(acc)}
    i = names.index(name) if name in names else 0
    acc.queryAction().doAction(i)
    return {"action": names[i]}


def set_text(ref: int, text: str) -> str:
    acc = _ref(ref)
    acc.queryEditableText().setTextContents(text)
    return _text(acc) or ""


def select_child(ref: int, name: str) -> str:
    """Select the child called `name` of a list or combo box (a combo box's list is its
    child)."""
    acc = _ref(ref)
    targets = [acc] + [acc.getChildAtIndex(i) for i in range(acc.childCount)]
    for holder in targets:
        try:
            sel = holder.querySelection()
        except NotImplementedError:
            continue
        names = [(holder.getChildAtIndex(i).name or "") for i in range(holder.childCount)]
        want = name.strip().lower()
        for i, n in enumerate(names):
            if n.strip().lower() == want:
                sel.selectChild(i)
                return n
        raise ValueError(f"'{name}' is not one of its options ({', '.join(names[:12])})")
    raise ValueError("the control has no options to select")


def popup_options(pid: int) -> list[dict]:
    """The options of the list a drop-down popped up (a borderless window on top of the
    dialog: a table of cells), each with its name and its box for the click that takes
    it."""
    shown = [w for w in _app(pid) if w is not None and "showing" in _states(w)]
    if not shown or _role(shown[-1]) != "window":
        return []
    out = []
    for cell in _showing(shown[-1]):
        if cell.getRoleName() in ("table cell", "list item", "menu item") and cell.name:
            out.append({"name": cell.name, "box": _box(cell)})
    return out


def choose(ref: int) -> str:
    """Select the node in its parent's selection (a dialog's tab, a list's item): what a click
    on it does, for nodes that have no action of their own."""
    acc = _ref(ref)
    acc.parent.querySelection().selectChild(acc.getIndexInParent())
    return acc.name or ""


def focused(ref: int) -> bool:
    """Whether the node has the keyboard focus now."""
    return "focused" in _states(_ref(ref))


def focus(ref: int) -> bool:
    return bool(_ref(ref).queryComponent().grabFocus())


OPS = {"windows": windows, "observe": observe, "act": act, "set_text": set_text,
       "select_child": select_child, "choose": choose, "popup_options": popup_options,
       "focus": focus, "focused": focused,
       "count": count, "tree": tree, "menus": menus,
       "ping": lambda: os.getpid(), "sleep": lambda seconds: time.sleep(seconds)}


def main() -> None:
    for line in sys.stdin:
        try:
            req = json.loads(line)
            op = OPS[req.pop("op")]
            out = {"ok": True, "result": op(**req)}
        except Exception as e:  # every failure is an answer, never the server's end
            out = {"ok": False, "error": f"{type(e).__name__}: {e}".splitlines()[0][:300]}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
