"""An app's menus as its real window shows them: what the GUI prefill grounds help paths in.

Help pages name menu paths that drift from the running release ("Edit - Delete Slide" is
Slide > Delete Slide in Impress 7.4; "Fill Cells - Down" is "Fill Down"). Reading the live menu
bar through AT-SPI, rather than a description written by hand, keeps the prefill honest about
what exists. GTK builds the whole menu tree up front, so one read (~0.5 s, after ~3 s to start
the app) serves every pair; it is cached per app and LibreOffice build.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lamforge.core import Task
from lamforge.envs.doclib import home
from lamforge.envs.match import normalize, pick_name

VERSION_FILE = Path("/usr/lib/libreoffice/program/versionrc")


@dataclass
class Menu:
    """A menu: its entries by their names as shown ('Rename Sheet...'); an item has no
    children (None)."""

    children: dict[str, Menu | None] = field(default_factory=dict)

    @classmethod
    def from_items(cls, items: list) -> Menu:
        """From the AT-SPI server's `menus` answer: [[name, enabled, children|None], ...]."""
        return cls({name: None if sub is None else cls.from_items(sub)
                    for name, _enabled, sub in items if name})

    def to_items(self) -> list:
        return [[name, True, None if sub is None else sub.to_items()]
                for name, sub in self.children.items()]

    def paths(self, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], bool]]:
        """Every entry's path, and whether it is a submenu."""
        for name, sub in self.children.items():
            yield (*prefix, name), sub is not None
            if sub is not None:
                yield from sub.paths((*prefix, name))

    def ground(self, parts: list[str]) -> tuple[str, ...] | None:
        """The real path a help path means: walked from the menu bar part by part; failing
        that, the one entry anywhere whose name is the last part and whose ancestors hold
        the other parts' words in order (help pages move commands between menus)."""
        node: Menu | None = self
        names: list[str] = []
        for part in parts:
            name = pick_name(part, list(node.children)) if node is not None else None
            if name is None:
                break
            names.append(name)
            node = node.children[name]
        else:
            return tuple(names)
        last = parts[-1]
        hits = [path for path, _ in self.paths() if pick_name(last, [path[-1]])]
        exact = [p for p in hits if normalize(p[-1]) == normalize(last)]
        hits = exact or hits
        if len(hits) > 1:  # prefer the entries whose menus share a part's words
            words = {w for p in parts[:-1] for w in re.findall(r"\w+", normalize(p))}
            shared = {h: len(words & set(re.findall(r"\w+", normalize(" ".join(h[:-1])))))
                      for h in hits}
            hits = [h for h in hits if shared[h] == max(shared.values())]
        return hits[0] if len(hits) == 1 else None

    def submenu(self, path: tuple[str, ...]) -> Menu | None:
        node: Menu | None = self
        for name in path:
            node = node.children.get(name) if node is not None else None
        return node


def _cache_file(app: str) -> Path:
    build = VERSION_FILE.read_bytes() if VERSION_FILE.is_file() else b"unknown"
    digest = hashlib.sha1(build).hexdigest()[:10]
    return home() / "menus" / f"{app}-{digest}.json"


def read_menus(env) -> Menu:
    """The menu bar of the window `env` (a GUI environment after `reset`) shows now."""
    return Menu.from_items(env.gui.call("menus", pid=env.office.proc.pid))


def live_menus(app: str, template: str, templates_dir: str | Path | None = None) -> Menu:
    """`app`'s menus, read from its real window (showing `template`) once per LibreOffice
    build and cached."""
    cache = _cache_file(app)
    if cache.is_file():
        return Menu.from_items(json.loads(cache.read_text()))
    from lamforge.envs import make

    env = make(f"{app}-gui", templates_dir=templates_dir)
    try:
        env.reset(Task(id="menus", app=app, request="read the menus", template=template))
        menu = read_menus(env)
    finally:
        env.close()
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(menu.to_items()))
    tmp.replace(cache)
    return menu
