"""Impress's template library: presentations built by LibreOffice, saved as .odp.

Not .pptx: LibreOffice's PowerPoint filter does not keep a slide's layout (a title slide came
back as 'Title, Content', a content slide as layout 11), so layout checks would judge the
filter, not the task."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from lamforge.envs.doclib import TemplateLibrary, build_document
from lamforge.envs.writer.office import Office

TITLE, TITLE_CONTENT = 0, 1
"""AutoLayout numbers (com.sun.star.presentation.AutoLayout): title slide; title, content."""

Slide = tuple[int, str, str]
"""(layout, title, body; lines of the body separated by newlines)."""
TEMPLATES: dict[str, tuple[str, list[Slide]]] = {
    "pitch": ("A three-slide pitch: a title slide (Greenway Bikes), then Problem and Plan "
              "slides with bullet points.", [
                  (TITLE, "Greenway Bikes", "Seed round, spring 2025"),
                  (TITLE_CONTENT, "Problem", "Short trips clog city streets\nBikes are "
                   "stolen or left to rust"),
                  (TITLE_CONTENT, "Plan", "Docking stations at every tram stop\nA monthly pass "
                   "for commuters\nRepairs within a day")]),
    "lesson": ("A two-slide lesson on the water cycle: a title slide and one slide of four "
               "steps.", [
                   (TITLE, "The Water Cycle", "Year 5 science"),
                   (TITLE_CONTENT, "Four steps", "Evaporation\nCondensation\nPrecipitation\n"
                    "Collection")]),
    "quarterly": ("A four-slide quarterly review: a title slide, then Results, Risks and Next "
                  "quarter slides with bullet points.", [
                      (TITLE, "Q3 Review", "Operations team"),
                      (TITLE_CONTENT, "Results", "Revenue up 12%\nTwo new clients\nChurn down "
                       "to 3%"),
                      (TITLE_CONTENT, "Risks", "Supplier delays\nHiring is slow"),
                      (TITLE_CONTENT, "Next quarter", "Open the Lyon office\nLaunch the app")]),
    "trip": ("A five-slide school trip briefing: a title slide, then Schedule, What to bring, "
             "Safety and Contacts slides.", [
                 (TITLE, "Museum Trip", "Class 4, 12 May"),
                 (TITLE_CONTENT, "Schedule", "Leave at 8:30\nGuided tour at 10:00\nBack by "
                  "15:00"),
                 (TITLE_CONTENT, "What to bring", "Packed lunch\nRaincoat\nNotebook"),
                 (TITLE_CONTENT, "Safety", "Stay with your group\nMeet at the entrance"),
                 (TITLE_CONTENT, "Contacts", "Ms Duval: 0612 345 678\nSchool office: 0145 "
                  "678 900")]),
}


def _fill(doc: Any, slides: list[Slide]) -> None:
    pages = doc.DrawPages
    while pages.Count < len(slides):
        pages.insertNewByIndex(pages.Count - 1)
    for page, (layout, title, body) in zip(
            (pages.getByIndex(i) for i in range(len(slides))), slides, strict=True):
        page.Layout = layout
        texts = [page.getByIndex(k) for k in range(page.Count)]
        texts[0].setString(title)
        if len(texts) > 1:
            texts[1].setString(body)


def build_library(out_dir: Path, office: Office) -> list[dict[str, str]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    index = []
    for name, (description, slides) in TEMPLATES.items():
        path = out_dir / f"{name}.odp"
        build_document(office, "private:factory/simpress", partial(_fill, slides=slides),
                       path, "impress8")
        index.append({"name": name, "file": path.name, "description": description})
    return index


LIBRARY = TemplateLibrary("impress", 3, (".pptx", ".odp", ".ppt"), build_library)
