"""Runs inside LibreOffice (its Python script provider), not in lamforge's interpreter.

Reading a document over the UNO socket costs ~1 ms per call, so a 30-paragraph canvas took
100-220 ms from outside. The same reads in-process take microseconds: lamforge installs this
file in the instance's profile and calls one function per observation, which returns JSON.

Only the standard library and LibreOffice's own `uno`/`unohelper` are available here. Every
public function takes its inputs as arguments (the document is passed in, since a hidden
document is never the "current" component) and returns a JSON string.
"""

import contextlib
import hashlib
import json

import uno
import unohelper
from com.sun.star.frame import XStatusListener

CM = 1000.0  # UNO lengths are 1/100 mm


def _color(value):
    if value is None or value == -1 or value == 0xFFFFFFFF:
        return None
    return "#%06X" % (value & 0xFFFFFF)


def _cm(v):
    return round(v / CM, 2)


_ALIGN = {0: "left", 1: "right", 2: "justify", 3: "center", 4: "justify"}
_UNDERLINE_NONE = 0


def _get(obj, name, default=None):
    try:
        value = getattr(obj, name)
    except Exception:  # a property that varies across a selection has no single value
        return default
    return default if value is None else value


def _char_attrs(obj):
    """Character attributes; a value that is mixed across a selection comes back as None."""
    weight = _get(obj, "CharWeight")
    posture = _get(obj, "CharPosture")
    posture = getattr(posture, "value", posture)
    underline = _get(obj, "CharUnderline")
    strike = _get(obj, "CharStrikeout")
    highlight = _color(_get(obj, "CharHighlight", -1))
    if highlight is None and _get(obj, "CharBackTransparent") is False:
        highlight = _color(_get(obj, "CharBackColor", -1))
    height = _get(obj, "CharHeight")
    return {
        "bold": None if weight is None else weight >= 150,
        "italic": None if posture is None else posture not in ("NONE", 0),
        "underline": None if underline is None else underline != _UNDERLINE_NONE,
        "strike": None if strike is None else strike not in (0, 3),  # NONE, DONTKNOW
        "font": _get(obj, "CharFontName") or None,
        "size": None if not height else round(height, 1),
        "color": _color(_get(obj, "CharColor", -1)),
        "highlight": highlight,
        "escapement": _get(obj, "CharEscapement", 0),
    }


def _list_kind(par):
    try:
        rules = par.NumberingRules
        if rules is None or not par.NumberingIsNumber:
            return None, 0
        level = par.NumberingLevel
        props = {p.Name: p.Value for p in rules.getByIndex(level)}
        kind = "bullet" if props.get("NumberingType") == 6 else "number"  # CHAR_SPECIAL
        if props.get("NumberingType") == 5:  # NUMBER_NONE
            return None, 0
        return kind, level
    except Exception:
        return None, 0


def _runs(par):
    runs = []
    portions = par.createEnumeration()
    while portions.hasMoreElements():
        portion = portions.nextElement()
        kind = portion.TextPortionType
        if kind == "Annotation":
            continue
        text = portion.getString()
        if not text:
            continue
        attrs = _char_attrs(portion)
        if runs and all(runs[-1][k] == v for k, v in attrs.items()):
            runs[-1]["text"] += text
        else:
            attrs["text"] = text
            runs.append(attrs)
    return runs


def _paragraph(par, index, where):
    kind, level = _list_kind(par)
    line = par.ParaLineSpacing
    break_type = par.BreakType.value if hasattr(par.BreakType, "value") else str(par.BreakType)
    info = {
        "i": index,
        "where": where,
        "text": par.getString(),
        "style": par.ParaStyleName,
        "outline": par.OutlineLevel,
        "align": _ALIGN.get(par.ParaAdjust.value if hasattr(par.ParaAdjust, "value")
                            else par.ParaAdjust, "left"),
        "list": kind,
        "list_level": level,
        "above_cm": _cm(par.ParaTopMargin),
        "below_cm": _cm(par.ParaBottomMargin),
        "indent_cm": _cm(par.ParaLeftMargin),
        "first_line_cm": _cm(par.ParaFirstLineIndent),
        "line_spacing": {"mode": int(line.Mode), "value": int(line.Height)},
        "page_break_before": break_type in ("PAGE_BEFORE", "PAGE_BOTH")
        or bool(par.PageDescName),
        "page_style": _get(par, "PageStyleName") or None,  # the style of its page
        "runs": _runs(par),
    }
    return info


_TABLE_ALIGN = {0: "manual", 1: "right", 2: "center", 3: "left", 4: "from left",
                6: "automatic"}
"""com.sun.star.text.HoriOrientation values a table's alignment takes (FULL is 'automatic',
the Table Properties dialog's word for a table as wide as the text area)."""


def _text_content(text, where, out_pars, out_tables, out_cells, start=0):
    """Walk a text (body, header, cell), collecting paragraphs and tables in order."""
    index = start
    en = text.createEnumeration()
    while en.hasMoreElements():
        el = en.nextElement()
        if el.supportsService("com.sun.star.text.TextTable"):
            rows = el.getRows().getCount()
            cols = el.getColumns().getCount()
            try:
                grid = [[el.getCellByPosition(c, r).getString() for c in range(cols)]
                        for r in range(rows)]
            except Exception:  # merged cells: fall back to cell names in order
                grid = [[el.getCellByName(n).getString() for n in el.getCellNames()]]
            for name in el.getCellNames():  # cell paragraphs carry formatting too
                cell_pars = el.getCellByName(name).createEnumeration()
                while cell_pars.hasMoreElements():
                    cp = cell_pars.nextElement()
                    if cp.supportsService("com.sun.star.text.Paragraph"):
                        out_cells.append(_paragraph(cp, len(out_cells),
                                                    f"table {len(out_tables)} {name}"))
            out_tables.append({"name": el.Name, "rows": rows, "cols": cols, "cells": grid,
                               "cell_count": len(el.getCellNames()),
                               "align": _TABLE_ALIGN.get(int(el.HoriOrient), "other"),
                               "repeat_heading": bool(el.RepeatHeadline),
                               "after_paragraph": index - 1, "where": where})
            out_pars.append({"i": index, "where": where, "table": len(out_tables) - 1,
                             "text": "", "runs": []})
        elif el.supportsService("com.sun.star.text.Paragraph"):
            out_pars.append(_paragraph(el, index, where))
        index += 1
    return index


def _page(doc, style_name):
    styles = doc.StyleFamilies.getByName("PageStyles")
    if not style_name or not styles.hasByName(style_name):
        style_name = "Standard" if styles.hasByName("Standard") else styles.getElementNames()[0]
    ps = styles.getByName(style_name)
    background = None
    try:
        fill = ps.FillStyle.value if hasattr(ps.FillStyle, "value") else str(ps.FillStyle)
        if fill == "SOLID":
            background = _color(ps.FillColor)
    except Exception:
        pass
    if background is None and not ps.BackTransparent:
        background = _color(ps.BackColor)

    def hf(prefix):
        on = bool(getattr(ps, prefix + "IsOn"))
        text = ""
        if on:
            try:
                text = getattr(ps, prefix + "Text").getString()
            except Exception:
                text = ""
        return {"on": on, "text": text}

    return {
        "style": style_name,
        "orientation": "landscape" if ps.IsLandscape else "portrait",
        "width_cm": _cm(ps.Width),
        "height_cm": _cm(ps.Height),
        "margins_cm": {"left": _cm(ps.LeftMargin), "right": _cm(ps.RightMargin),
                       "top": _cm(ps.TopMargin), "bottom": _cm(ps.BottomMargin)},
        "background": background,
        "header": hf("Header"),
        "footer": hf("Footer"),
    }


def _comments(doc):
    out = []
    fields = doc.TextFields.createEnumeration()
    while fields.hasMoreElements():
        f = fields.nextElement()
        if f.supportsService("com.sun.star.text.textfield.Annotation"):
            anchor = ""
            with contextlib.suppress(Exception):
                anchor = f.getAnchor().getString()
            out.append({"author": f.Author, "text": f.Content, "anchor": anchor})
    return out


_FIELD_KINDS = {"PageNumber": "page number", "PageCount": "page count", "docinfo.Title": "title",
                "docinfo.Subject": "subject", "Author": "author", "docinfo.CreateAuthor": "author",
                "FileName": "file name", "WordCount": "word count", "Chapter": "chapter",
                "ConditionalText": "conditional text"}


def _fields(doc):
    """Kinds of the text fields in the document ('date', 'page count'…), comments excluded."""
    out = []
    fields = doc.TextFields.createEnumeration()
    while fields.hasMoreElements():
        f = fields.nextElement()
        names = [n.split("textfield.", 1)[1] for n in f.SupportedServiceNames
                 if ".textfield." in n and not n.endswith("TextField")]
        if not names or names[0] == "Annotation":
            continue
        if names[0] == "DateTime":
            out.append("date" if _get(f, "IsDate", True) else "time")
        else:
            out.append(_FIELD_KINDS.get(names[0], names[0]))
    return sorted(out)


_INDEX_KINDS = {"ContentIndex": "toc", "DocumentIndex": "alphabetical",
                "UserIndex": "user", "IllustrationsIndex": "figures",
                "TableIndex": "tables", "ObjectIndex": "objects", "Bibliography": "bibliography"}


def _indexes(doc):
    out = []
    indexes = doc.DocumentIndexes
    for i in range(indexes.getCount()):
        index = indexes.getByIndex(i)
        kind = next((v for k, v in _INDEX_KINDS.items()
                     if index.supportsService("com.sun.star.text." + k)), "other")
        out.append({"kind": kind, "title": _get(index, "Title", "") or ""})
    return out


def _sections(doc):
    """Text sections that are not an index's own sections."""
    out = []
    sections = doc.TextSections
    for name in sections.getElementNames():
        sec = sections.getByName(name)
        parent = _get(sec, "ParentSection")
        if _get(sec, "DocumentIndex") is not None or (
                parent is not None and _get(parent, "DocumentIndex") is not None):
            continue  # an index and its heading live in sections of their own
        cols = _get(sec, "TextColumns")
        out.append({"name": name, "columns": max(1, cols.getColumnCount()) if cols else 1})
    return out


def _properties(doc):
    p = doc.DocumentProperties
    return {"title": p.Title, "subject": p.Subject, "keywords": list(p.Keywords),
            "comments": p.Description}


def _shapes(doc):
    out = []
    page = doc.DrawPage
    for i in range(page.getCount()):
        s = page.getByIndex(i)
        kind = s.ShapeType.split(".")[-1]
        text = ""
        with contextlib.suppress(Exception):
            text = s.getString()
        if s.supportsService("com.sun.star.text.TextFrame"):
            kind = "TextFrame"
            text = s.getText().getString()
        out.append({"kind": kind, "text": text})
    return out


def _cell_selection(ctrl):
    """The text of the cells selected, when a selection is table cells ("" if none)."""
    try:
        cur = ctrl.getSelection()
        if cur.supportsService("com.sun.star.text.TextTableCursor"):
            table = ctrl.getViewCursor().TextTable
            first, _, last = cur.getRangeName().partition(":")
            cells = table.getCellRangeByName(f"{first}:{last or first}")
            return " | ".join(str(x) for row in cells.getDataArray() for x in row)
        if cur.supportsService("com.sun.star.text.TextRanges") and cur.getCount():
            return cur.getByIndex(0).getString()
    except Exception:
        pass
    return ""


def _selection(doc):
    ctrl = doc.getCurrentController()
    vc = ctrl.getViewCursor()
    where = "body"
    try:
        text = vc.getText()
        if text.supportsService("com.sun.star.text.CellProperties") or \
                text.supportsService("com.sun.star.text.Cell"):
            where = "table"
        elif text.supportsService("com.sun.star.text.HeaderFooter") or \
                "Header" in text.getImplementationName() or "HeadFoot" in text.getImplementationName():
            where = "header/footer"
    except Exception:
        pass
    try:
        if vc.TextTable is not None:
            where = "table"
    except Exception:
        pass
    sel = vc.getString()
    if not sel:  # text that fills a table cell is selected as the cell: the view cursor is empty
        sel = _cell_selection(ctrl)
    attrs = {}
    try:
        attrs = _char_attrs(vc)
        attrs["style"] = vc.ParaStyleName
    except Exception:
        pass
    page_style = ""
    with contextlib.suppress(Exception):
        page_style = vc.PageStyleName
    return {"text": sel, "where": where, "attrs": attrs, "page": vc.getPage(),
            "page_style": page_style}


def state(doc, pages_json="", *args):
    """The whole document state as JSON: what the canvas shows and what checks read.

    `pages_json`: the last state's {"digest", "pages"} ("{}" when there is none; a window
    the user sees passes it, the headless environment does not).
    Reading the layout's page count makes Writer scroll its view back to the cursor, so a
    page the user scrolled to would jump back at every observation: while the rest of the
    state is as it was (`pages_digest`), the page count is taken as it was too."""
    pars = []
    tables = []
    cells = []
    _text_content(doc.Text, "body", pars, tables, cells)
    selection = _selection(doc)
    page = _page(doc, selection.get("page_style"))
    used = {p.get("page_style") for p in pars + cells} - {None}
    out = {
        "paragraphs": pars,
        "tables": tables,
        "cell_paragraphs": cells,
        "page": page,
        "page_styles": {name: _page(doc, name)["orientation"] for name in sorted(used)},
        "comments": _comments(doc),
        "shapes": _shapes(doc),
        "fields": _fields(doc),
        "indexes": _indexes(doc),
        "sections": _sections(doc),
        "bookmarks": sorted(doc.Bookmarks.getElementNames()),
        "footnotes": doc.Footnotes.getCount(),
        "endnotes": doc.Endnotes.getCount(),
        "line_numbering": bool(doc.LineNumberingProperties.IsOn),
        "properties": _properties(doc),
    }
    pages = None
    if pages_json:  # a window (the headless reader and saved copies skip the hashing)
        last = json.loads(pages_json)
        digest = hashlib.md5(json.dumps(out, sort_keys=True).encode(),
                             usedforsecurity=False).hexdigest()
        pages = last["pages"] if last.get("digest") == digest else None
        out["pages_digest"] = digest
    out["page_count"] = doc.getCurrentController().PageCount if pages is None else pages
    out["selection"] = selection
    out["modified"] = bool(doc.isModified())
    return json.dumps(out)


class _Status(unohelper.Base, XStatusListener):
    def __init__(self):
        self.event = None

    def statusChanged(self, event):
        self.event = event

    def disposing(self, source):
        pass


def _state_value(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    for attr in ("Name", "FamilyName", "StyleName", "Height", "Value"):
        if hasattr(value, attr):
            return getattr(value, attr)
    return None


_DISPATCH_CACHE = {}


def _dispatches(doc, commands):
    """Parsed URLs and dispatch objects per document, reused across observations."""
    key = doc.RuntimeUID
    cache = _DISPATCH_CACHE.get(key)
    if cache is None:
        if len(_DISPATCH_CACHE) > 8:  # documents of finished episodes
            _DISPATCH_CACHE.clear()
        cache = _DISPATCH_CACHE[key] = {}
    missing = [c for c in commands if c not in cache]
    if missing:
        ctx = uno.getComponentContext()
        transformer = ctx.ServiceManager.createInstanceWithContext(
            "com.sun.star.util.URLTransformer", ctx)
        frame = doc.getCurrentController().getFrame()
        for command in missing:
            url = uno.createUnoStruct("com.sun.star.util.URL")
            url.Complete = command
            _, url = transformer.parseStrict(url)
            cache[command] = (url, frame.queryDispatch(url, "", 0))
    return cache


def command_states(doc, commands_json, *args):
    """Enabled flag and current state of each `.uno:` command, from the live dispatchers."""
    commands = json.loads(commands_json)
    cache = _dispatches(doc, commands)
    out = {}
    listener = _Status()
    for command in commands:
        url, disp = cache[command]
        if disp is None:
            out[command] = [False, None]
            continue
        listener.event = None
        try:
            disp.addStatusListener(listener, url)
            disp.removeStatusListener(listener, url)
        except Exception:
            out[command] = [True, None]
            continue
        ev = listener.event
        if ev is None:
            out[command] = [True, None]
        else:
            out[command] = [bool(ev.IsEnabled), _state_value(ev.State)]
    return json.dumps(out)


def observe(doc, commands_json, pages_json="", *args):
    """One call per observation: document state plus command states."""
    return json.dumps({"state": json.loads(state(doc, pages_json)),
                       "commands": json.loads(command_states(doc, commands_json))})


def _label(descriptions, command):
    try:
        props = {p.Name: p.Value for p in descriptions.getByName(command)}
    except Exception:
        return command, "", False, ""
    return (props.get("Label", ""), props.get("TooltipLabel", ""), bool(props.get("Popup")),
            props.get("TargetURL", ""))


def _menu(container, descriptions, popups=None, manager=None):
    items = []
    for i in range(container.getCount()):
        props = {p.Name: p.Value for p in container.getByIndex(i)}
        command = props.get("CommandURL", "")
        if props.get("Type", 0) != 0 or not command:  # separators
            continue
        label = props.get("Label") or _label(descriptions, command)[0]
        item = {"command": command, "label": label}
        sub = props.get("ItemDescriptorContainer")
        if sub is None and popups and command in popups:
            # a submenu that a ResourceMenuController fills from popupmenu/<name>.xml at
            # run time (Insert > Field): read the same resource
            with contextlib.suppress(Exception):
                sub = manager.getSettings("private:resource/popupmenu/" + popups[command], False)
        if sub is not None:
            item["items"] = _menu(sub, descriptions, popups, manager)
        items.append(item)
    return items


def _toolbar(manager, name, descriptions):
    items = []
    settings = manager.getSettings("private:resource/toolbar/" + name, False)
    for i in range(settings.getCount()):
        props = {p.Name: p.Value for p in settings.getByIndex(i)}
        command = props.get("CommandURL", "")
        if props.get("Type", 0) != 0 or not command or not props.get("IsVisible", True):
            continue
        label, tooltip, _, _ = _label(descriptions, command)
        items.append({"command": command, "label": props.get("Label") or label,
                      "tooltip": tooltip})
    return items


def _resource_popups(smgr, ctx, module):
    """Menu commands whose submenu a ResourceMenuController builds from a popup-menu resource."""
    provider = smgr.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", ctx)
    arg = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
    arg.Name, arg.Value = "nodepath", "/org.openoffice.Office.UI.Controller/Registered/PopupMenu"
    access = provider.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationAccess", (arg,))
    out = {}
    for name in access.getElementNames():
        node = access.getByName(name)
        if (node.Controller.endswith("ResourceMenuController") and node.Value
                and node.Module in ("", module)):
            out[node.Command] = node.Value
    return out


def ui_surface(*args):
    """Menu bar, toolbars, command labels and shortcuts from LibreOffice's UI configuration."""
    ctx = uno.getComponentContext()
    smgr = ctx.ServiceManager
    module = "com.sun.star.text.TextDocument"
    descriptions = smgr.createInstanceWithContext(
        "com.sun.star.frame.UICommandDescription", ctx).getByName(module)
    supplier = smgr.createInstanceWithContext(
        "com.sun.star.ui.ModuleUIConfigurationManagerSupplier", ctx)
    manager = supplier.getUIConfigurationManager(module)
    menubar = _menu(manager.getSettings("private:resource/menubar/menubar", False), descriptions,
                    _resource_popups(smgr, ctx, module), manager)
    toolbars = {name: _toolbar(manager, name, descriptions)
                for name in ("standardbar", "textobjectbar")}
    shortcuts = {}
    global_keys = smgr.createInstanceWithContext(
        "com.sun.star.ui.GlobalAcceleratorConfiguration", ctx)
    for keys in (global_keys, manager.getShortCutManager()):  # module bindings win
        for ev in keys.getAllKeyEvents():
            with contextlib.suppress(Exception):
                shortcuts[f"{ev.KeyCode}:{ev.Modifiers}"] = keys.getCommandByKeyEvent(ev)
    labels = {}
    used = []

    def collect(items):
        for item in items:
            used.append(item["command"])
            collect(item.get("items", []))

    collect(menubar)
    for bar in toolbars.values():
        collect(bar)
    # getElementNames() omits some module commands that getByName() knows (e.g. the
    # '.uno:Heading1ParaStyle' aliases of the Styles menu), so ask for every used one too.
    for command in list(descriptions.getElementNames()) + used:
        labels[command] = list(_label(descriptions, command))
    return json.dumps({"menubar": menubar, "toolbars": toolbars, "shortcuts": shortcuts,
                       "labels": labels})


def paragraph_styles(doc, *args):
    """Programmatic and display names of the document's paragraph styles."""
    styles = doc.StyleFamilies.getByName("ParagraphStyles")
    out = {}
    for name in styles.getElementNames():
        out[name] = _get(styles.getByName(name), "DisplayName", name)
    return json.dumps(out)


g_exportedScripts = (state, command_states, observe, ui_surface, paragraph_styles)
