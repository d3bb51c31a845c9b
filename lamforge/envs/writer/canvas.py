"""The compact text view of a Writer document that a model reads each step.

Built from the in-process state (see inproc/lamforge_writer.py). Paragraph formatting is shown
once per paragraph; runs that differ from the paragraph's dominant format are listed after the
text, so a model can see which words are bold without reading a full formatting dump.
"""

from __future__ import annotations

from typing import Any

MAX_TEXT = 120


def _fmt(attrs: dict[str, Any]) -> str:
    parts = []
    for flag in ("bold", "italic", "underline", "strike"):
        if attrs.get(flag):
            parts.append(flag)
    if attrs.get("font"):
        parts.append(attrs["font"])
    if attrs.get("size"):
        parts.append(f"{attrs['size']:g}pt")
    if attrs.get("color"):
        parts.append(f"color {attrs['color']}")
    if attrs.get("highlight"):
        parts.append(f"highlight {attrs['highlight']}")
    return ", ".join(parts)


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dominant(runs: list[dict[str, Any]]) -> dict[str, Any]:
    if not runs:
        return {}
    return max(runs, key=lambda r: len(r["text"]))


def _paragraph_line(p: dict[str, Any]) -> str:
    runs = p.get("runs", [])
    base = _dominant(runs)
    head = [p.get("style", "")]
    if p.get("align", "left") != "left":
        head.append(p["align"])
    if p.get("list"):
        head.append(f"{p['list']} list")
    if p.get("page_break_before"):
        head.append("page break before")
    for key, name in (("above_cm", "above"), ("below_cm", "below"), ("indent_cm", "indent")):
        if p.get(key):
            head.append(f"{name} {p[key]:g}cm")
    spacing = p.get("line_spacing") or {}
    if spacing.get("mode") == 0 and spacing.get("value") not in (None, 100):
        head.append(f"line {spacing['value']}%")
    line = f"[{' | '.join(h for h in head if h)}] \"{_clip(p.get('text', ''))}\""
    if base:
        line += f" {{{_fmt(base)}}}"
    others = [r for r in runs if r is not base and _fmt(r) != _fmt(base)]
    if others:
        shown = "; ".join(f"\"{_clip(r['text'], 40)}\" {{{_fmt(r)}}}" for r in others[:6])
        more = f" (+{len(others) - 6} more)" if len(others) > 6 else ""
        line += f" runs: {shown}{more}"
    return line


def _structure(state: dict[str, Any]) -> list[str]:
    """One line each for what is not paragraph text: fields, indexes, sections, notes,
    bookmarks, line numbering, document properties (only those present)."""
    out = []
    if state.get("fields"):
        out.append(f"fields: {', '.join(state['fields'])}")
    for i in state.get("indexes", []):
        out.append(f"index {i['kind']}: \"{_clip(i['title'], 40)}\"")
    if state.get("sections"):
        out.append("sections: " + ", ".join(f"{s['name']} ({s['columns']} col)"
                                            for s in state["sections"]))
    notes = [f"{state[k]} {k}" for k in ("footnotes", "endnotes") if state.get(k)]
    if notes:
        out.append("notes: " + ", ".join(notes))
    if state.get("bookmarks"):
        out.append(f"bookmarks: {', '.join(state['bookmarks'][:10])}")
    if state.get("line_numbering"):
        out.append("line numbering: on")
    props = {k: v for k, v in state.get("properties", {}).items() if v}
    if props:
        out.append("properties: " + "; ".join(
            f"{k} \"{_clip(', '.join(v) if isinstance(v, list) else v, 40)}\""
            for k, v in props.items()))
    return out


def render(state: dict[str, Any], max_paragraphs: int = 40) -> str:
    """Render the document state as a few short lines per element."""
    page = state["page"]
    m = page["margins_cm"]
    lines = [
        f"page: {page['orientation']} {page['width_cm']:g}x{page['height_cm']:g}cm, margins "
        f"L{m['left']:g} R{m['right']:g} T{m['top']:g} B{m['bottom']:g}cm, background "
        f"{page['background'] or 'none'}, {state['page_count']} page(s)"
    ]
    for part in ("header", "footer"):
        hf = page[part]
        if hf["on"]:
            lines.append(f"{part}: \"{_clip(hf['text'])}\"")
    body = [p for p in state["paragraphs"] if p.get("where") == "body"]
    for p in body[:max_paragraphs]:
        if "table" in p:
            t = state["tables"][p["table"]]
            cells = " / ".join(" | ".join(_clip(c, 20) for c in row) for row in t["cells"][:6])
            lines.append(f"p{p['i']} table {t['rows']}x{t['cols']}: {cells}")
        else:
            lines.append(f"p{p['i']} {_paragraph_line(p)}")
    if len(body) > max_paragraphs:
        lines.append(f"… {len(body) - max_paragraphs} more paragraphs")
    for s in state.get("shapes", []):
        lines.append(f"shape {s['kind']}: \"{_clip(s['text'], 60)}\"")
    for c in state.get("comments", []):
        lines.append(f"comment on \"{_clip(c['anchor'], 40)}\": \"{_clip(c['text'], 60)}\"")
    lines += _structure(state)
    sel = state["selection"]
    where = sel.get("where", "body")
    if sel.get("text"):
        lines.append(f"selection ({where}): \"{_clip(sel['text'], 80)}\"")
    else:
        lines.append(f"cursor in {where}, page {sel.get('page', 1)}, no selection")
    return "\n".join(lines)
