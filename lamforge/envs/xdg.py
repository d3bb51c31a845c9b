"""Private XDG folders for the programs an environment starts (LibreOffice, D-Bus, Chromium):
given none, they write caches, settings and sockets into the user's home, and two workers
would share them."""

from __future__ import annotations

from pathlib import Path


def xdg_folders(root: Path, kinds: tuple[str, ...] = ("data", "config", "cache")) -> dict[str, str]:
    """Make `root/<kind>` for each kind (mode 0700, as a runtime folder must be) and return the
    variables that name them (XDG_<KIND>_HOME, or XDG_RUNTIME_DIR). They must exist:
    LibreOffice falls back to ~/.config when XDG_CONFIG_HOME names no folder."""
    names = {}
    for kind in kinds:
        folder = root / kind
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        names[f"XDG_{kind.upper()}_{'DIR' if kind == 'runtime' else 'HOME'}"] = str(folder)
    return names
