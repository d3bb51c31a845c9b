"""Mining LibreOffice's installed help, cleaning, rule-based evolution and statistics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lamforge.core import TaskPlan, read_jsonl
from lamforge.dataflow.clean import CleanReport, clean
from lamforge.dataflow.evolve import MAX_EXTRA_WORDS, RulesEvolver
from lamforge.dataflow.mine import (
    HELP_ROOT,
    MineReport,
    imperative_from_description,
    mine_paths,
    sentence_case,
)
from lamforge.dataflow.stats import compute

APPS = ["swriter", "scalc", "simpress", "sdraw", "shared"]


@pytest.fixture(scope="module")
def mined() -> list[TaskPlan]:
    return clean(mine_paths([HELP_ROOT / d for d in APPS]))


def test_installed_help_gives_enough_clean_pairs(mined) -> None:
    writer = [p for p in mined if p.app == "writer"]
    assert len(writer) >= 200
    assert len(mined) >= 600
    assert {p.app for p in mined} == {"writer", "calc", "impress", "draw", "shared"}
    assert {p.meta["kind"] for p in writer} == {"howto", "command"}


def test_a_known_howto_section_is_mined_exactly(mined) -> None:
    pair = next(p for p in mined if p.source.endswith("table_insert.html#hd_id3153135"))
    assert pair.task == "Insert a table with a menu command"
    assert pair.plan[1] == "Choose Table - Insert Table."
    assert pair.app == "writer"


def test_a_command_reference_page_becomes_a_task(mined) -> None:
    pair = next(p for p in mined if p.source == "shared/01/05020000.html#howtoget")
    assert pair.task == "Change the font and the font formatting for the selected characters"
    assert pair.plan == ["Choose Format - Character."]
    assert pair.meta["alternatives"]


def test_text_helpers() -> None:
    assert sentence_case("Insert a Table With a Menu Command") == \
        "Insert a table with a menu command"
    assert sentence_case("Use AutoText in LibreOffice Writer") == \
        "Use AutoText in LibreOffice Writer"
    assert imperative_from_description("Specifies the margins. More text.") == \
        "Specify the margins"
    assert imperative_from_description("Shows or hides the ruler.") == "Show or hide the ruler"
    assert imperative_from_description("This is not a verb.") is None


def test_markdown_docs_and_skipped_files(tmp_path) -> None:
    (tmp_path / "guide.md").write_text(
        "# Tables\n\n## To Add a Row\n\n1. Click in the table.\n2. Choose Table - Insert - "
        "Rows Below.\n\n## To Frobnicate Quickly\n\nJust a paragraph.\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "bad.html").write_bytes(b"\xff\xfe\x00garbage")
    report = MineReport()
    pairs = list(mine_paths([tmp_path], app="myapp", report=report))
    assert [(p.task, p.plan, p.app) for p in pairs] == [
        ("Add a row", ["Click in the table.", "Choose Table - Insert - Rows Below."], "myapp")]
    assert sorted(Path(k).name for k in report.skipped) == ["bad.html", "logo.png"]


def test_odd_pages_inline_markup_and_repeated_headings(tmp_path) -> None:
    (tmp_path / "a.md").write_text(
        "## To Add a Row\n\n1. Choose *Format - Character* and click `Bold` in the list.\n"
        "2. Done <!-- a comment --> here.\n\n## To Add a Row\n\n1. Click Insert.\n")
    (tmp_path / "b.xhtml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><html><body><h2>To Save a File</h2><ol>'
        "<li>Choose File - Save.</li></ol></body></html>")
    report = MineReport()
    pairs = list(mine_paths([tmp_path], app="x", report=report))
    assert [p.plan for p in pairs] == [
        ["Choose Format - Character and click Bold in the list.", "Done here."],
        ["Click Insert."], ["Choose File - Save."]]
    assert len({p.id for p in pairs}) == 3 and not report.skipped
    assert len(clean(pairs)) == 3


def test_switch_spans_keep_only_the_app_variant(mined) -> None:
    plans = " ".join(s for p in mined for s in p.plan)
    assert "PropertiesPage" not in plans and "image.Check" not in plans


def _pair(i: int, task: str, plan: list[str], app: str = "writer") -> TaskPlan:
    return TaskPlan(id=f"t{i}", app=app, task=task, plan=plan, source=f"page{i}.html")


def test_cleaning_drops_and_deduplicates() -> None:
    pairs = [
        _pair(1, "Insert a table with a menu command", ["Choose Table - Insert Table.",
                                                        "Click Insert."]),
        _pair(2, "Insert a  table with a menu command.", ["choose Table - Insert Table",
                                                          "Click Insert."]),  # exact dup
        _pair(3, "Insert a table with a menu comand", ["Choose Table - Insert Table.",
                                                       "Click Insert."]),  # near dup (typo)
        _pair(8, "Insert a chart with a menu command", ["Choose Insert - Chart.",
                                                        "Click Finish."]),  # similar, kept
        _pair(4, "Fügen Sie eine Tabelle über das Menü ein", ["Wählen Sie Tabelle - Tabelle "
                                                              "einfügen und bestätigen Sie."]),
        _pair(5, "Tables", ["Choose Table."]),  # too short
        _pair(6, "Learn about the history of tables", ["Tables were invented long ago."]),
        _pair(7, "Insert a table with a menu command", ["Choose Table - Insert Table.",
                                                        "Click Insert."], app="calc"),
    ]
    report = CleanReport()
    kept = clean(pairs, report=report)
    assert [p.id for p in kept] == ["t1", "t8", "t7"]
    assert report.exact_duplicates == 1 and report.near_duplicates == 1
    assert report.dropped["not English"] == 1
    assert report.dropped["task too short"] == 1
    assert report.dropped["not actionable (no action in the plan)"] == 1
    assert kept[0].task == "Insert a table with a menu command"


def test_rules_evolution_ratio_difference_provenance_and_determinism(mined) -> None:
    variants = RulesEvolver(per_pair=2, seed=0).evolve(mined)
    assert len(variants) >= 1.5 * len(mined)
    parents = {p.id: p for p in mined}
    for v in variants:
        parent = parents[v.evolved_from]
        assert v.task != parent.task and v.plan != parent.plan
        assert len(v.task.split()) - len(parent.task.split()) <= MAX_EXTRA_WORDS
        before = v.meta["evolution"].get("constraint") in ("cell", "slide")
        kept = v.plan[1:] if before else v.plan[: len(parent.plan)]
        assert kept == parent.plan  # the parent's plan, whole, with the new step around it
        assert v.meta["evolution"]["kind"] in ("constraint", "compose")
        if v.meta["evolution"].get("constraint") == "table_shape":
            assert "table of" not in parent.task.lower()
    assert len({v.id for v in variants}) == len(variants)
    again = RulesEvolver(per_pair=2, seed=0).evolve(mined)
    assert [v.model_dump() for v in again] == [v.model_dump() for v in variants]
    other = RulesEvolver(per_pair=2, seed=1).evolve(mined)
    assert [v.task for v in other] != [v.task for v in variants]


def test_stats(mined) -> None:
    variants = RulesEvolver(per_pair=2).evolve(mined[:50])
    s = compute(mined[:50] + variants)
    assert s["mined"] == 50 and s["evolved"] == len(variants)
    assert s["evolution_ratio"] == round(len(variants) / 50, 3)
    assert sum(sum(c.values()) for c in s["by_app"].values()) == 50 + len(variants)
    assert s["task_words"]["min"] >= 2


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamforge", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "COLUMNS": "200"}, timeout=300)


def test_cli_mine_evolve_stats_are_repeatable(tmp_path) -> None:
    for run in ("a", "b"):
        d = tmp_path / run
        d.mkdir()
        assert _cli("data", "mine", "--out", "m.jsonl", cwd=d).returncode == 0
        assert _cli("data", "evolve", "--in", "m.jsonl", "--out", "e.jsonl", cwd=d).returncode == 0
    for name in ("m.jsonl", "e.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    proc = _cli("data", "stats", "m.jsonl", "e.jsonl", "--json", "s.json", cwd=tmp_path / "a")
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "a" / "s.json").read_text())
    assert s["evolution_ratio"] >= 1.5
    assert s["removed_in_cleaning"]["exact duplicates"] >= 1
    assert len(read_jsonl(tmp_path / "a" / "m.jsonl", TaskPlan)) == s["mined"]


def test_cli_mine_warns_about_skipped_files(tmp_path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("## To Save a File\n\n1. Choose File - Save.\n")
    (tmp_path / "docs" / "b.pdf").write_bytes(b"%PDF-1.4")
    proc = _cli("data", "mine", "docs", "--app", "writer", "--out", "m.jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "warning: skipped 1 file(s): 1 not HTML or Markdown" in proc.stderr
    assert len(read_jsonl(tmp_path / "m.jsonl", TaskPlan)) == 1


def test_cli_rejects_a_directory_as_output_and_bad_numbers(tmp_path) -> None:
    (tmp_path / "out").mkdir()
    proc = _cli("data", "mine", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 1 and "is a directory" in proc.stderr
    assert not list(tmp_path.glob("*.tmp"))
    proc = _cli("data", "evolve", "--per-pair", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "per-pair" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_mine_missing_path_is_one_error(tmp_path) -> None:
    proc = _cli("data", "mine", "nowhere", cwd=tmp_path)
    assert proc.returncode == 1 and "no such file or folder: nowhere" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_hand_checked_sample_is_what_the_miner_produces(mined) -> None:
    """docs/data-quality.md judges a sample of the miner's output; a change to the miner that
    changes the sample means the hand check must be redone."""
    import random
    import re

    doc = (Path(__file__).resolve().parent.parent / "docs" / "data-quality.md").read_text()
    documented = [row.split(" | ")[2] for row in doc.splitlines() if re.match(r"^\| \d+ \|", row)]
    writer_pairs = [p for p in mined if p.app == "writer"]
    random.seed(2026)
    sample = random.sample(writer_pairs, 50)
    assert documented == [p.task.replace("|", "/") for p in sample]
