"""Mine task-plan pairs from help pages (HTML, or Markdown rendered to HTML).

Two kinds of pairs, as the paper mines application documentation:

- **how-to sections**: a heading that states a task ("To Insert a Table With a Menu Command",
  or a gerund title such as "Inserting Line Breaks") followed by an ordered list of steps. The
  task becomes an imperative request ("Insert a table with a menu command"), the list items the
  plan, menu paths ("Choose Table - Insert Table") kept as text.
- **command reference pages**: a page with a "To access this command..." box. The task comes
  from the page's one-line description ("Changes the font…" -> "Change the font…"), the plan
  from the first way to reach the command; the other ways are kept in `meta.alternatives`.

LibreOffice's help marks app-specific text with hidden `<span>`s (`WRITER…`, `CALC…`,
`default…`); a page keeps its own app's variant and the default one.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree, html

from lamforge.core import TaskPlan

HELP_ROOT = Path("/usr/share/libreoffice/help/en-US/text")
APP_DIRS = {"swriter": "writer", "scalc": "calc", "simpress": "impress", "sdraw": "draw",
            "shared": "shared", "sbasic": "basic", "schart": "chart", "sdatabase": "base",
            "smath": "math"}
_SWITCH_PREFIX = {"writer": "WRITER", "calc": "CALC", "impress": "IMPRESS", "draw": "DRAW"}

# Words kept capitalised when a Title Case heading becomes a sentence.
_PROPER = {"LibreOffice", "Writer", "Calc", "Impress", "Draw", "Math", "Base", "Basic",
           "Navigator", "Gallery", "Fontwork", "Microsoft", "Word", "Excel", "PowerPoint",
           "Windows", "Linux", "macOS", "Java", "Python", "Internet", "Web", "I", "OpenDocument",
           "Unicode", "Asian", "CTL", "English", "Sidebar", "Notebookbar"}

# Gerund title -> imperative verb, for headings such as "Inserting Line Breaks in Cells".
_GERUNDS = {
    "adding": "add", "adjusting": "adjust", "aligning": "align", "applying": "apply",
    "arranging": "arrange", "assigning": "assign", "calculating": "calculate",
    "changing": "change", "checking": "check", "choosing": "choose", "combining": "combine",
    "comparing": "compare", "converting": "convert", "copying": "copy", "creating": "create",
    "defining": "define", "deleting": "delete", "deselecting": "deselect", "displaying": "display",
    "editing": "edit", "enabling": "enable", "disabling": "disable", "entering": "enter",
    "exporting": "export", "filling": "fill", "filtering": "filter", "finding": "find",
    "formatting": "format", "grouping": "group", "hiding": "hide", "highlighting": "highlight",
    "importing": "import", "including": "include", "indenting": "indent", "inserting": "insert",
    "linking": "link", "loading": "load", "locking": "lock", "merging": "merge",
    "modifying": "modify", "moving": "move", "naming": "name", "numbering": "number",
    "opening": "open", "positioning": "position", "printing": "print", "protecting": "protect",
    "recording": "record", "removing": "remove", "renaming": "rename", "replacing": "replace",
    "resetting": "reset", "resizing": "resize", "rotating": "rotate", "saving": "save",
    "searching": "search", "selecting": "select", "sending": "send", "setting": "set",
    "showing": "show", "sorting": "sort", "specifying": "specify", "splitting": "split",
    "starting": "start", "switching": "switch", "turning": "turn", "undoing": "undo",
    "updating": "update", "using": "use", "wrapping": "wrap", "zooming": "zoom",
    "scaling": "scale", "shifting": "shift", "tracking": "track", "writing": "write",
    "drawing": "draw", "duplicating": "duplicate", "pasting": "paste", "cutting": "cut",
    "dragging": "drag", "typing": "type", "navigating": "navigate", "marking": "mark",
    "collecting": "collect", "restarting": "restart", "viewing": "view",
}
_TASK_HEADING = re.compile(r"^\s*to\s+(?!do\b|access\b)(\w.*)$", re.IGNORECASE)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


@dataclass
class MineReport:
    """What mining saw: files read and skipped, pairs found per kind."""

    files: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        self.found[kind] = self.found.get(kind, 0) + 1


def _clean(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("“", '"').replace("”", '"').replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


def _text(el: etree._Element) -> str:
    return _clean("".join(el.itertext()))


def sentence_case(title: str) -> str:
    """'Insert a Table With a Menu Command' -> 'Insert a table with a menu command'."""
    words = title.split()
    out = []
    for i, w in enumerate(words):
        core = w.strip(",.;:()\"'")
        keep = (i == 0 or core in _PROPER or sum(c.isupper() for c in core) > 1
                or any(c.isdigit() for c in core))
        out.append(w if keep else w.lower())
    text = " ".join(out)
    return text[:1].upper() + text[1:]


_THIRD_PERSON = re.compile(
    r"\b(or|and) (closes|hides|shows|displays|removes|deletes|disables|enables|opens|turns|"
    r"switches|inserts|adds|sets|changes|resets|applies|selects|deselects|activates|"
    r"deactivates|moves|creates|edits|exits|starts|stops|updates|defines|assigns|converts)\b")


def _base_form(verb: str) -> str:
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if re.search(r"(ches|shes|sses|xes|zes)$", verb):
        return verb[:-2]
    return verb[:-1]


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip(), maxsplit=1)[0]


def imperative_from_description(desc: str) -> str | None:
    """'Changes the font for the selection.' -> 'Change the font for the selection'."""
    desc = first_sentence(_clean(desc)).rstrip(".")
    desc = _THIRD_PERSON.sub(lambda m: f"{m.group(1)} {_base_form(m.group(2))}", desc)
    for lead in ("Allows you to ", "Lets you ", "Use this command to ", "Use this to ",
                 "Enables you to ", "Here you can ", "This command lets you "):
        if desc.startswith(lead):
            rest = desc[len(lead):]
            return rest[:1].upper() + rest[1:]
    first, _, rest = desc.partition(" ")
    if not rest or not first.isalpha() or not first[0].isupper() or not first.endswith("s"):
        return None
    low = first.lower()
    if low.endswith("ss") or low in {"is", "has", "was", "this", "its", "as", "us"}:
        return None
    return _base_form(low).capitalize() + " " + rest


def _task_from_heading(heading: str) -> str | None:
    m = _TASK_HEADING.match(heading)
    if m:
        return sentence_case(m.group(1).rstrip(":."))
    first, _, rest = heading.partition(" ")
    verb = _GERUNDS.get(first.lower())
    if verb and rest:
        # "Moving and Copying Text" -> "Move and copy text"
        rest = re.sub(r"\b(and|or) (\w+ing)\b",
                      lambda m: f"{m.group(1)} {_GERUNDS.get(m.group(2).lower(), m.group(2))}",
                      rest, flags=re.IGNORECASE)
        return sentence_case(f"{verb.capitalize()} {rest}".rstrip(":."))
    return None


def _app_of(path: Path, root: Path | None) -> str:
    for part in path.parts:
        if part in APP_DIRS:
            return APP_DIRS[part]
    return "unknown"


def _drop_other_variants(tree: etree._Element, app: str) -> None:
    """Resolve LibreOffice's switch spans as its help viewer does for this app.

    A `switch`/`switchinline` span holds hidden variants with ids such as `WRITER…`, `CALC…`
    and `default…`; the page's own app variant wins, otherwise the default one.
    """
    prefix = _SWITCH_PREFIX.get(app)
    switches = tree.xpath('//*[contains(concat(" ", @class, " "), " switch ") or '
                          'contains(concat(" ", @class, " "), " switchinline ")]')
    for sw in reversed(switches):  # innermost first
        variants = [c for c in sw if isinstance(c.tag, str) and c.get("hidden") is not None]
        if not variants:
            continue
        ours = [c for c in variants if prefix and c.get("id", "").startswith(prefix)]
        keep = ours[:1] or [c for c in variants if c.get("id", "").startswith("default")][:1]
        for c in variants:
            if c in keep:
                c.attrib.pop("hidden")
            else:
                _remove_keep_tail(c)
    for el in tree.xpath("//*[@hidden]"):  # stray hidden text outside switches
        _remove_keep_tail(el)


def _remove_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _blocks(area: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    """Headings, ordered-list items (top level of each list) and paragraphs, in order."""
    for el in area.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in _HEADINGS:
            yield "heading", el
        elif el.tag == "li" and el.getparent() is not None and el.getparent().tag in ("ol", "ul"):
            if not any(a.tag == "li" for a in el.iterancestors()):
                yield ("step" if el.getparent().tag == "ol" else "option"), el
        elif el.tag == "p" and not any(a.tag in ("li", "table") for a in el.iterancestors()):
            yield "para", el


def _step_text(li: etree._Element) -> str:
    """A list item's full text (inline markup included); a nested list becomes 'a; or b'."""
    item = copy.deepcopy(li)
    etree.strip_elements(item, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    nested = []
    for sub in item.xpath("./ul | ./ol | ./*/ul | ./*/ol"):
        nested += [_text(x) for x in sub if isinstance(x.tag, str) and x.tag == "li"]
        _remove_keep_tail(sub)
    text = _concise(_text(item))
    if nested:
        text = f"{text} {'; or '.join(n.rstrip('.') for n in nested)}."
    return text


_IMPERATIVE = re.compile(r"^(Choose|Click|Select|Enter|Type|Press|Drag|Open|Insert|Right-click|"
                         r"Double-click|Set|Go|Check|Clear|Mark|Specify|Apply|Move|Place|Switch|"
                         r"Use|Hold|Release|Delete|Remove|Add|Change|Edit|Save|Close|Drop|Copy|"
                         r"Paste|Repeat|Release|Position|Scroll|If|Then|Under|On|In the)\b")


# a later sentence that still tells the user to do something: a menu path or a typing verb
_INSTRUCTION = re.compile(r"\b[A-Z][\w&]*(?: [\w&]+)* - [A-Z]|\b(enter|type|click|choose|press)\b",
                          re.IGNORECASE)


def _concise(step: str) -> str:
    """Keep a step's first sentence and later sentences that are instructions too.

    Help steps often add explanation ("Select the file. The text box will show…"); the
    explanation is not part of the plan.
    """
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", step)
    kept = [sentences[0]] + [s for s in sentences[1:]
                             if _IMPERATIVE.match(s) or _INSTRUCTION.search(s)]
    return " ".join(kept)


def _pair_id(source: str, anchor: str) -> str:
    return hashlib.sha1(f"{source}#{anchor}".encode()).hexdigest()[:12]


def mine_html(data: bytes | str, source: str, app: str) -> list[tuple[str, TaskPlan]]:
    """(kind, pair) for every task found in one help page; raises ValueError if unparsable."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        tree = html.fromstring(raw)
    except (etree.ParserError, ValueError) as e:
        raise ValueError(f"not parsable as HTML ({e})") from None
    _drop_other_variants(tree, app)
    areas = tree.xpath('//*[@id="DisplayArea"]')
    area = areas[0] if areas else tree
    blocks = list(_blocks(area))
    return [*_howto_pairs(blocks, source, app), *_command_pairs(area, source, app)]


def _howto_pairs(blocks: list[tuple[str, etree._Element]], source: str, app: str
                 ) -> Iterator[tuple[str, TaskPlan]]:
    found = list(_howto_sections(blocks, source, app))
    counts: dict[str, int] = {}
    for pair, _ in found:
        counts[pair.task] = counts.get(pair.task, 0) + 1
    for pair, context in found:
        if counts[pair.task] > 1 and context:
            # "Turning on protection" appears under sections, cells and indexes on one page:
            # the enclosing heading says which
            ctx = sentence_case(context)
            pair = pair.model_copy(update={"task": f"{pair.task} ({ctx[:1].lower()}{ctx[1:]})"})
        yield "howto", pair


def _howto_sections(blocks: list[tuple[str, etree._Element]], source: str, app: str
                    ) -> Iterator[tuple[TaskPlan, str]]:
    parents: dict[int, str] = {}
    for i, (kind, el) in enumerate(blocks):
        if kind != "heading":
            continue
        heading = _text(el)
        level = int(el.tag[1])
        parents = {k: v for k, v in parents.items() if k < level}
        context = parents[max(parents)] if parents else ""
        parents[level] = heading
        task = _task_from_heading(heading)
        if task is None:
            continue
        steps: list[str] = []
        choices = False  # inside the bulleted choices of a "Do one of the following:" step
        for kind2, el2 in blocks[i + 1:]:
            if kind2 == "heading":
                break
            if kind2 == "step":
                steps.append(_step_text(el2))
                choices = steps[-1].endswith(":")
            elif kind2 == "option" and choices:
                sep = " " if steps[-1].endswith(":") else "; or "
                steps[-1] += sep + _step_text(el2).rstrip(".")
            elif steps:  # the list ended
                break
        steps = [st if st.endswith((".", ":")) else st + "." for st in steps]
        if steps:
            anchor = el.get("id") or f"{heading}@{i}"  # position keeps repeated headings apart
            yield TaskPlan(
                id=_pair_id(source, anchor), app=app, task=task, plan=steps,
                source=f"{source}#{anchor}", meta={"kind": "howto", "heading": heading}), context


def _command_pairs(area: etree._Element, source: str, app: str
                   ) -> Iterator[tuple[str, TaskPlan]]:
    boxes = area.xpath('.//*[contains(concat(" ", @class, " "), " howtogetbody ")]')
    if not boxes:
        return
    titles = area.xpath(".//h1")
    title = _text(titles[0]) if titles else ""
    ways = [_text(p) for p in boxes[0].iter("p") if _text(p)]
    ways = [w for w in ways if re.match(r"^(Choose|Click|Press|Open|Select|On |In |Right-click|"
                                        r"Double-click|Menu|Go to|Enter|Use)", w)]
    if not ways:
        return
    avis = area.xpath('.//*[contains(concat(" ", @class, " "), " avis ")]')
    task = imperative_from_description(_text(avis[0])) if avis else None
    if task is None:
        if not title:
            return
        task = f"Open the {title} command"
    first = ways[0].rstrip(":") + ("" if ways[0].endswith(".") else ".")
    yield "command", TaskPlan(
        id=_pair_id(source, "howtoget"), app=app, task=task, plan=[first],
        source=f"{source}#howtoget",
        meta={"kind": "command", "title": title, "alternatives": ways[1:4]})


def iter_files(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            yield from sorted(x for x in p.rglob("*") if x.is_file())
        else:
            yield p


def markdown_to_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(text)


def mine_paths(paths: list[Path], app: str | None = None,
               report: MineReport | None = None) -> Iterator[TaskPlan]:
    """Mine every HTML/Markdown file under `paths`; skip others with a counted reason."""
    report = report or MineReport()
    for path in iter_files(paths):
        suffix = path.suffix.lower()
        if suffix not in (".html", ".htm", ".xhtml", ".md", ".markdown"):
            report.skipped[str(path)] = "not HTML or Markdown"
            continue
        try:
            data = path.read_bytes()
            if suffix in (".md", ".markdown"):
                data = markdown_to_html(data.decode("utf-8")).encode("utf-8")
            else:
                data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            report.skipped[str(path)] = f"unreadable: {type(e).__name__}"
            continue
        if b"<" not in data[:2000]:
            report.skipped[str(path)] = "no HTML markup"
            continue
        page_app = app or _app_of(path, None)
        try:
            found = mine_html(data, _relative_source(path), page_app)
        except Exception as e:  # one odd page must not end a run over thousands
            report.skipped[str(path)] = f"parse error: {type(e).__name__}"
            continue
        report.files += 1
        for kind, pair in found:
            report.count(kind)
            yield pair


def _relative_source(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(HELP_ROOT))
    except ValueError:
        return str(path)
