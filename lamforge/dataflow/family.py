"""Which help pages a task comes from: the unit the test_family split holds out, so a model is
judged on commands and wording it never trained on."""

from __future__ import annotations

from lamforge.core import TaskPlan


def page_of(source: str) -> str:
    """The help page of a pair's source ('…/05080000.html#bm_id…' -> '…/05080000.html')."""
    return source.split("#")[0]


def families_of(pair: TaskPlan) -> list[str]:
    """The help pages a task draws on: its own and, if composed, its partner's."""
    pages = [page_of(pair.source) or pair.id]
    partner = pair.meta.get("evolution", {}).get("partner_source")
    if partner:
        pages.append(page_of(partner))
    return pages
