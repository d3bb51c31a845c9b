"""Template libraries: the documents an app's episodes start from, built by LibreOffice.

Each app (Writer, Calc, Impress) has one: its documents are built through UNO into the cache
(`$LAMFORGE_HOME/templates/<app>-v<version>`, rebuilt when the version changes) with a
`description.json` saying what each contains, once per machine; workers starting together
wait for the one that builds.
"""

from __future__ import annotations

import fcntl
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamforge.core import TemplateError
from lamforge.envs.writer.office import Office

Builder = Callable[[Path, Office], list[dict[str, str]]]
"""Builds every template of a library into a folder; returns their index entries
({name, file, description})."""


def build_document(office: Office, factory: str, fill: Callable[[Any], None], path: Path,
                   filter_name: str) -> None:
    """A new hidden document of `factory` ('private:factory/scalc'), filled by `fill(doc)`
    over UNO, saved at `path` with `filter_name` and closed."""
    desktop = office.desktop
    doc = office.call(lambda: desktop.loadComponentFromURL(factory, "_blank", 0,
                                                           office.props(Hidden=True)))
    office.call(lambda: fill(doc))
    office.save_as(doc, path, filter_name)
    office.close_document(doc)

def home() -> Path:
    """Where lamforge keeps what it builds or reads once per machine (templates, an app's
    menus): `$LAMFORGE_HOME`, else ~/.cache/lamforge."""
    return Path(os.environ.get("LAMFORGE_HOME", Path.home() / ".cache" / "lamforge"))


@dataclass(frozen=True)
class TemplateLibrary:
    app: str
    version: int
    suffixes: tuple[str, ...]
    """What a document of this app may be called (a user's own file is taken as it is)."""
    build: Builder

    def default_dir(self) -> Path:
        return home() / "templates" / f"{self.app}-v{self.version}"

    def library(self, templates_dir: Path | None = None, office: Office | None = None) -> Path:
        """The library directory, built first if it does not exist yet."""
        out = (templates_dir or self.default_dir()).resolve()
        if (out / "description.json").is_file():  # written last: the library is complete
            return out
        out.mkdir(parents=True, exist_ok=True)
        # Workers starting together on a fresh library would each build it, one rewriting a
        # document while another opens it (a UNO error, seen in 2-worker runs): one builds,
        # the others wait for it. The lock goes with its process, so a dead builder frees it.
        with (out / ".build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (out / "description.json").is_file():
                if office is None:
                    with Office() as own:
                        index = self.build(out, own)
                else:
                    office.start()
                    index = self.build(out, office)
                (out / "description.json").write_text(json.dumps(index, indent=2))
        return out

    def resolve(self, name: str, templates_dir: Path | None = None,
                office: Office | None = None) -> Path:
        """A template name from the library or a path to a document -> an existing file."""
        if name.lower().endswith(self.suffixes) or "/" in name:
            path = Path(name).expanduser().resolve()
            if not path.is_file():
                raise TemplateError(f"document '{name}' does not exist")
            if not os.access(path, os.R_OK):
                raise TemplateError(f"document '{name}' is not readable (permission denied)")
            if path.suffix.lower() in (".docx", ".odt", ".xlsx", ".ods", ".pptx", ".odp") and \
                    not zipfile.is_zipfile(path):
                raise TemplateError(f"document '{name}' is not a valid {path.suffix} file "
                                    "(not a zip package)")
            return path
        lib = self.library(templates_dir, office)
        index = {t["name"]: t for t in json.loads((lib / "description.json").read_text())}
        if name not in index:
            raise TemplateError(f"unknown template '{name}' (library: {', '.join(index)})")
        return lib / index[name]["file"]
