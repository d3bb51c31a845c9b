"""Key combinations as a model writes them ('ctrl+b') turned into LibreOffice key events.

Accelerators ('ctrl+b', 'ctrl+e', 'ctrl+z') are looked up in Writer's own shortcut
configuration; cursor and editing keys, which the edit window handles itself rather than
through accelerators, map to the commands those keys perform.
"""

from __future__ import annotations

from dataclasses import dataclass

from lamforge.core import InvalidAction

_SPECIAL = {
    "down": 1024, "up": 1025, "left": 1026, "right": 1027, "home": 1028, "end": 1029,
    "pageup": 1030, "pagedown": 1031, "enter": 1280, "escape": 1281, "tab": 1282,
    "backspace": 1283, "space": 1284, "insert": 1285, "delete": 1286,
}
_ALIASES = {"return": "enter", "esc": "escape", "del": "delete", "pgup": "pageup",
            "pgdn": "pagedown", "page_up": "pageup", "page_down": "pagedown", "arrowleft": "left",
            "arrowright": "right", "arrowup": "up", "arrowdown": "down"}
_MODS = {"shift": 1, "ctrl": 2, "control": 2, "alt": 4}

NAVIGATION = {
    "left": ".uno:GoLeft", "right": ".uno:GoRight", "up": ".uno:GoUp", "down": ".uno:GoDown",
    "shift+left": ".uno:CharLeftSel", "shift+right": ".uno:CharRightSel",
    "shift+up": ".uno:LineUpSel", "shift+down": ".uno:LineDownSel",
    "home": ".uno:GoToStartOfLine", "end": ".uno:GoToEndOfLine",
    "shift+home": ".uno:StartOfLineSel", "shift+end": ".uno:EndOfLineSel",
    "ctrl+home": ".uno:GoToStartOfDoc", "ctrl+end": ".uno:GoToEndOfDoc",
    "ctrl+shift+home": ".uno:StartOfDocumentSel", "ctrl+shift+end": ".uno:EndOfDocumentSel",
    "ctrl+left": ".uno:GoToPrevWord", "ctrl+right": ".uno:GoToNextWord",
    "ctrl+shift+left": ".uno:WordLeftSel", "ctrl+shift+right": ".uno:WordRightSel",
    "pageup": ".uno:PageUp", "pagedown": ".uno:PageDown",
    "backspace": ".uno:SwBackspace", "delete": ".uno:Delete", "enter": ".uno:InsertPara",
    "shift+enter": ".uno:InsertLinebreak", "ctrl+enter": ".uno:InsertPagebreak",
}


@dataclass(frozen=True)
class Key:
    name: str
    modifiers: int
    keycode: int

    @property
    def code(self) -> str:
        """The 'KeyCode:Modifiers' form used by the shortcut table."""
        return f"{self.keycode}:{self.modifiers}"

    @property
    def canonical(self) -> str:
        mods = [m for m, bit in (("ctrl", 2), ("alt", 4), ("shift", 1)) if self.modifiers & bit]
        return "+".join([*mods, self.name])


def parse(combo: str) -> Key:
    """'Ctrl+Shift+B' -> Key('b', ctrl|shift, 513)."""
    parts = [p.strip().lower() for p in combo.replace("-", "+").split("+") if p.strip()]
    if not parts:
        raise InvalidAction("keyboard needs keys, e.g. 'ctrl+b'")
    *mods, name = parts
    mod = 0
    for m in mods:
        if m not in _MODS:
            raise InvalidAction(f"unknown modifier '{m}' in '{combo}' (use ctrl, alt, shift)")
        mod |= _MODS[m]
    name = _ALIASES.get(name, name)
    if len(name) == 1 and name.isalpha():
        code = 512 + ord(name) - ord("a")
    elif len(name) == 1 and name.isdigit():
        code = 256 + int(name)
    elif name.startswith("f") and name[1:].isdigit() and 1 <= int(name[1:]) <= 12:
        code = 768 + int(name[1:]) - 1
    elif name in _SPECIAL:
        code = _SPECIAL[name]
    else:
        raise InvalidAction(f"unknown key '{name}' in '{combo}'")
    return Key(name, mod, code)
