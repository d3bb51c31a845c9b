"""Colour names as LibreOffice's standard palette shows them, and conversion to hex."""

from __future__ import annotations

from lamforge.core import InvalidAction

PALETTE: dict[str, str] = {
    "Black": "#000000", "White": "#FFFFFF", "Gray": "#808080", "Light Gray 3": "#DDDDDD",
    "Dark Gray 2": "#333333", "Red": "#FF0000", "Dark Red 2": "#C9211E", "Orange": "#FF8000",
    "Yellow": "#FFFF00", "Gold": "#FFBF00", "Green": "#00A933", "Dark Green 2": "#127622",
    "Lime": "#81D41A", "Teal": "#158466", "Blue": "#2A6099", "Light Blue 2": "#729FCF",
    "Dark Blue 2": "#1E3B5C", "Purple": "#800080", "Indigo": "#55308D", "Magenta": "#BF0041",
    "Brick": "#FF3838", "Light Yellow 3": "#FFFFA6", "Light Green 3": "#DDE8CB",
    "Light Blue 4": "#DEE6EF",
}
_BY_NAME = {k.lower(): v for k, v in PALETTE.items()}
_BY_HEX = {v: k for k, v in PALETTE.items()}


def to_hex(color: str) -> str:
    """'Red' or '#ff0000' -> '#FF0000'; anything else is an `InvalidAction` naming the choices."""
    c = color.strip()
    if c.lower() in _BY_NAME:
        return _BY_NAME[c.lower()]
    h = c.lstrip("#")
    if len(h) == 6 and all(ch in "0123456789abcdefABCDEF" for ch in h):
        return "#" + h.upper()
    raise InvalidAction(f"unknown colour '{color}'; use a palette name ({', '.join(PALETTE)}) "
                        "or #RRGGBB")


def to_int(color: str) -> int:
    return int(to_hex(color)[1:], 16)


def name_of(hex_color: str | None) -> str:
    if hex_color is None:
        return "none"
    return _BY_HEX.get(hex_color.upper(), hex_color)
