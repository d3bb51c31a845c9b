"""Writer's control surface, read from LibreOffice's own UI configuration.

The menu bar, its submenus and the standard and formatting toolbars come from the module's
UI configuration manager (the same data as `soffice.cfg/modules/swriter/{menubar,toolbar}`),
labels from `UICommandDescription`, shortcuts from the module's shortcut manager; submenus
that a `ResourceMenuController` fills at run time (Insert > Field) come from the popup-menu
resource it reads. Nothing here is a hand-written list of menus; the hand-written parts are the
dialogs (headless soffice shows none, see dialogs.py) and the commands we refuse to run
headless.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data")

# Commands that end or leave the episode, need a display or another application, or are known
# to kill headless soffice when dispatched (see scripts/probe_commands.py and docs/writer.md).
BLOCKED = {
    ".uno:Quit", ".uno:CloseDoc", ".uno:CloseWin", ".uno:NewWindow", ".uno:OpenFromWriter",
    ".uno:Open", ".uno:OpenRemote", ".uno:AddDirect", ".uno:NewDoc", ".uno:Reload",
    ".uno:Print", ".uno:PrintDefault", ".uno:PrintPreview", ".uno:SendMail", ".uno:HelpIndex",
    ".uno:ExtendedHelp", ".uno:HelpTip", ".uno:FullScreen", ".uno:About", ".uno:OnlineHelp",
    ".uno:ExportDirectToPDF", ".uno:ExportDirectToEPUB", ".uno:SaveAll", ".uno:RecentFileList",
    ".uno:MacroDialog", ".uno:RunMacro", ".uno:BasicIDEAppear", ".uno:ScriptOrganizer",
    ".uno:OpenUrl", ".uno:Copy", ".uno:Cut", ".uno:Paste", ".uno:PasteSpecial",
    ".uno:PasteUnformatted", ".uno:EditStyle",
}

# Toggles whose state belongs to LibreOffice, not to the document: switched in one episode's
# document, they are switched in every later one (found by toggling each boolean command of the
# menus in one new document and reading it in the next, LibreOffice 7.4). "Show Whitespace"
# left off hides headers, and the next episode's text meant for a header went into the body.
APP_TOGGLES = (
    ".uno:ControlCodes", ".uno:Fieldnames", ".uno:GridUse", ".uno:GridVisible",
    ".uno:HelplinesMove", ".uno:Marks", ".uno:OnlineAutoFormat", ".uno:Ruler", ".uno:ShadowCursor",
    ".uno:ShowGraphics", ".uno:ShowHiddenParagraphs", ".uno:ShowWhitespace", ".uno:SpellOnline",
    ".uno:TableBoundaries", ".uno:TableNumberRecognition", ".uno:UseHeaderFooterMenu",
    ".uno:VRuler", ".uno:ViewBounds",
)

# Combo boxes and split buttons of the formatting toolbar: how the model sets them.
COMBOS = {".uno:StyleApply", ".uno:CharFontName", ".uno:FontHeight"}
SPLIT = {".uno:Color", ".uno:BackColor", ".uno:CharBackColor", ".uno:FontColor",
         ".uno:LineSpacing"}


def clean(label: str) -> str:
    """'Insert ~Table...' -> 'Insert Table...' (the tilde marks the mnemonic)."""
    return re.sub(r"~", "", label).strip()


@dataclass
class MenuNode:
    command: str
    name: str
    children: list[MenuNode] = field(default_factory=list)

    @property
    def is_submenu(self) -> bool:
        return bool(self.children)


@dataclass
class Surface:
    menubar: list[MenuNode]
    toolbars: dict[str, list[dict[str, str]]]
    shortcuts: dict[str, str]
    labels: dict[str, list[Any]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Surface:
        labels = data["labels"]

        def node(item: dict[str, Any]) -> MenuNode:
            name = clean(item.get("label") or labels.get(item["command"], [""])[0]) or item["command"]
            return MenuNode(item["command"], name, [node(c) for c in item.get("items", [])])

        return cls([node(m) for m in data["menubar"]], data["toolbars"], data["shortcuts"], labels)

    def label(self, command: str) -> str:
        return clean(self.labels.get(command, [command])[0]) or command

    def target(self, command: str) -> str:
        """Alias commands ('.uno:Heading1ParaStyle') run their TargetURL (a StyleApply call)."""
        entry = self.labels.get(command)
        return entry[3] if entry and len(entry) > 3 and entry[3] else command

    def is_dialog(self, command: str) -> bool:
        """LibreOffice marks commands that open a dialog with a trailing ellipsis."""
        return self.label(command).endswith("...") or self.label(command).endswith("…")

    def walk(self) -> list[tuple[list[str], MenuNode]]:
        """Every menu node with its path of names, depth first."""
        out: list[tuple[list[str], MenuNode]] = []

        def rec(nodes: list[MenuNode], path: list[str]) -> None:
            for n in nodes:
                out.append(([*path, n.name], n))
                rec(n.children, [*path, n.name])

        rec(self.menubar, [])
        return out


@cache
def command_support() -> dict[str, str]:
    """Results of scripts/probe_commands.py: command -> 'ok' | 'crash' | 'hang' | ..."""
    path = DATA / "command_support.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text())["commands"]
