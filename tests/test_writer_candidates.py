"""What a ranker may enter into a Writer dialog field: values the request gives, each where
it can go. Offering a value the app refuses, or one the request gave another field, costs
online runs (the ranker typed 'Table of Contents' into Size, and Find's text into Replace)."""

from __future__ import annotations

from lamforge.core import Control, Observation
from lamforge.envs.writer.candidates import propose
from lamforge.envs.writer.dialogs import NUMERIC_FIELDS, parse_number


def entered(request: str, *fields: str) -> dict[str, list[str]]:
    controls = [Control(label=f"d{i}", name=name, type="Edit", group="dialog")
                for i, name in enumerate(fields)]
    out: dict[str, list[str]] = {name: [] for name in fields}
    for a in propose(Observation(controls=controls), request):
        if a.function == "set_edit_text":
            out[fields[int(a.control_label[1:])]].append(a.args["text"])
    return out


def test_a_value_the_request_gives_one_field_is_not_offered_to_another() -> None:
    got = entered("Replace text in the document (Find: Apples; Replace: the revised text)",
                  "Find", "Replace")
    assert got["Find"][0] == "Apples" and "the revised text" not in got["Find"]
    assert got["Replace"][0] == "the revised text" and "Apples" not in got["Replace"]
    # a value no field is named for stays on offer everywhere
    got = entered("Set the comments to 'see page 2' (Keywords: sales, growth)",
                  "Keywords", "Comments")
    assert "see page 2" in got["Comments"] and "sales, growth" not in got["Comments"]


def test_a_field_that_takes_a_number_is_offered_numbers_only() -> None:
    got = entered("Insert a table of contents with the text at 18 pt, then save as "
                  "draft.odt (Title: Contents; Columns: 2)", "Size", "Columns", "Title")
    assert got["Size"] and all(parse_number(v) is not None for v in got["Size"])
    assert "18 pt" in got["Size"] and "Contents" not in got["Size"]
    assert got["Columns"][0] == "2"
    assert "draft.odt" in got["Title"]
    # the flag follows what the dialogs' OK accepts: Size refuses text, Title does not
    assert {"Size", "Columns", "Rows", "Left"} <= NUMERIC_FIELDS
    assert "Title" not in NUMERIC_FIELDS and "Name" not in NUMERIC_FIELDS
