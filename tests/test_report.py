"""`lamforge report`: a run's evaluation as Markdown and one self-contained HTML page.

The fixture run is written here (no model, no LibreOffice), and every expected number is
computed from the fixture's episodes, so the tests check the report's arithmetic rather than
a copy of its output. The browser test opens the HTML in a real headless Chromium.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from lamforge.core import DataError
from lamforge.eval.names import short_name
from lamforge.eval.report import PLOTS, order_models, render

PNG = b"\x89PNG\r\n\x1a\n"
# (model, split, task id, family, passed?, per-step ms): rules is fast, gpt4o slow (log scale)
EPISODES = [
    ("lam4", "test_instance", "t1", "Bold", True, [210.0, 190.0, 260.0]),
    ("lam4", "test_instance", "t2", "Table", False, [230.0, 520.0]),
    ("lam4", "test_template", "t3", "Bold", True, [180.0, 200.0]),
    ("lam4", "test_template", "t4", "Font", True, [240.0]),
    ("lam4", "test_template", "t5", "Table", False, [300.0, 310.0, 280.0, 290.0]),
    ("rules", "test_instance", "t1", "Bold", True, [4.0, 5.0, 3.5]),
    ("rules", "test_instance", "t2", "Table", False, [6.0]),
    ("rules", "test_template", "t3", "Bold", False, [4.5, 4.0]),
    ("rules", "test_template", "t4", "Font", False, [3.0]),
    ("rules", "test_template", "t5", "Table", False, [5.0, 7.0]),
    ("gpt4o", "test_instance", "t1", "Bold", True, [1500.0, 2100.0]),
    ("gpt4o", "test_instance", "t2", "Table", True, [1800.0, 2500.0, 1700.0]),
]
FAILURE = "no valid <action>"  # HTML-looking on purpose: it must come out escaped


def _episodes() -> list[dict]:
    out = []
    for model, split, task, family, passed, step_ms in EPISODES:
        out.append({"model": model, "split": split, "task_id": task, "family": family,
                    "status": "pass" if passed else "fail",
                    "reason": "all checks passed" if passed else "check failed",
                    "failure_kind": None if passed else (FAILURE if task == "t2" else "checks failed"),
                    "steps": len(step_ms), "seconds": sum(step_ms) / 1000 + 0.5, "step_ms": step_ms,
                    "model_ms": [ms * 0.7 for ms in step_ms], "tokens_in": 1000 * len(step_ms),
                    "tokens_out": 90 * len(step_ms)})
    return out


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _rows(episodes: list[dict]) -> list[dict]:
    """online.json rows, as `lamforge eval online --json` writes them."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for e in episodes:
        groups[(e["model"], e["split"])].append(e)
    rows = []
    for (model, split), eps in groups.items():
        steps = [ms for e in eps for ms in e["step_ms"]]
        fam: dict[str, dict[str, int]] = defaultdict(lambda: {"tasks": 0, "passed": 0})
        for e in eps:
            fam[e["family"]]["tasks"] += 1
            fam[e["family"]]["passed"] += e["status"] == "pass"
        passed = sum(e["status"] == "pass" for e in eps)
        rows.append({"model": model, "split": split, "tasks": len(eps), "passed": passed,
                     "success_rate": round(passed / len(eps), 4),
                     "mean_seconds": round(sum(e["seconds"] for e in eps) / len(eps), 3),
                     "mean_steps": round(sum(e["steps"] for e in eps) / len(eps), 2),
                     "step_latency_ms": {"p50": _pct(steps, 0.5), "p95": _pct(steps, 0.95)},
                     "model_latency_ms": {"p50": _pct(steps, 0.5) * 0.7, "p95": _pct(steps, 0.95) * 0.7},
                     "tokens_in": sum(e["tokens_in"] for e in eps),
                     "tokens_out": sum(e["tokens_out"] for e in eps),
                     "failures": dict(Counter(e["failure_kind"] for e in eps if e["failure_kind"])),
                     "by_family": dict(fam)})
    return rows


def _offline_row(model: str, split: str, step: float, task: float, **extra: float) -> dict:
    return {"model": model, "split": split, "object": step + 0.05, "operation": 0.9, "args": 0.7,
            "status": 0.95, "step_success": step, "task_success": task, "malformed": 0.01,
            "steps": 300, "tasks": 40, **extra}


def fixture_run(path: Path, online: bool = True, offline: bool = True, extras: bool = True) -> Path:
    """A small run directory: offline.json (4 models, 2 splits), online.json with
    online/episodes.jsonl (3 models, 2 splits) and, with extras, training metrics and a dataflow
    summary. Returns path."""
    path.mkdir(parents=True, exist_ok=True)
    if offline:
        rows = []
        for split in ("test_instance", "test_template"):
            rows += [_offline_row("runs/demo/train/lam4/model", split, 0.86, 0.4),
                     _offline_row("rules", split, 0.5, 0.1),
                     _offline_row("runs/demo/train/lam1/model", split, 0.3, 0.02,
                                  plan_precision=0.55, plan_recall=0.43, plans=40),
                     _offline_row("runs/demo/train/lam2/model", split, 0.8, 0.3)]
        (path / "offline.json").write_text(json.dumps({"top_k": 16, "rows": rows}, indent=2))
    if online:
        episodes = _episodes()
        (path / "online").mkdir(exist_ok=True)
        (path / "online" / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in episodes))
        (path / "online.json").write_text(json.dumps({
            "env": "writer", "date": "2026-12-02",
            "models": {"lam4": "runs/demo/train/lam4/model", "rules": "rules", "gpt4o": "gpt-4o"},
            "splits": {"test_instance": "runs/demo/flow/tasks/test_instance.jsonl",
                       "test_template": "runs/demo/flow/tasks/test_template.jsonl"},
            "episodes_file": "online/episodes.jsonl", "rows": _rows(episodes)}, indent=2))
    if extras:
        (path / "train" / "lam2").mkdir(parents=True, exist_ok=True)
        (path / "train" / "lam2" / "metrics.json").write_text(json.dumps(
            {"steps": 1234, "seconds": 56.7, "first_loss": 2.5, "last_loss": 0.25, "rows": 4321}))
        (path / "flow").mkdir(exist_ok=True)
        (path / "flow" / "summary.json").write_text(json.dumps(
            {"instantiation": {"pass": 987, "fail": 13},
             "execution": {"pass": 654, "fail": 30, "unsure": 2, "errors": 1},
             "distinct_commands_in_passing": 53}))
    return path


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return fixture_run(tmp_path / "run")


def _table_rows(md: str, caption: str) -> list[list[str]]:
    lines = md.split(f"**{caption}", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_reports_the_online_success_computed_from_the_episodes(run: Path) -> None:
    paths = render(run)
    md = paths["markdown"].read_text()
    rows = _table_rows(md, "Online task success and cost")
    expected = Counter()
    for model, split, _, _, passed, _ in EPISODES:
        expected[(model, split, "tasks")] += 1
        expected[(model, split, "passed")] += passed
    shown = {(r[0], r[1]): r[2] for r in rows}
    assert len(shown) == len({(m, s) for m, s, *_ in EPISODES}) == 5
    for (model, split), cell in shown.items():
        p, n = expected[(model, split, "passed")], expected[(model, split, "tasks")]
        assert cell == f"{p}/{n} ({100 * p / n:.1f}%)"
    assert shown[("lam4", "test_instance")] == "1/2 (50.0%)"  # the fixture's arithmetic, spelt out
    assert [r[0] for r in rows] == ["rules", "rules", "lam4", "lam4", "gpt4o"]
    assert "environment `writer`" in md and "`2026-12-02`" in md


def test_offline_names_are_shortened_and_ordered(run: Path) -> None:
    md = render(run)["markdown"].read_text()
    rows = _table_rows(md, "Offline step metrics")
    assert [r[0] for r in rows] == ["rules"] * 2 + ["lam1"] * 2 + ["lam2"] * 2 + ["lam4"] * 2
    lam1 = next(r for r in rows if r[0] == "lam1")
    assert lam1[-1] == "55.0% / 43.0%"  # plan P / R only where the row has it
    assert next(r for r in rows if r[0] == "lam2")[-1] == "-"
    assert "runs/demo/train" not in "\n".join(" ".join(r) for r in rows)
    paper = _table_rows(md, "Offline: the paper's")
    assert paper[3][:3] == ["LAM4", "86.2%", "81.2%"] and paper[3][3] == "86.0% / 40.0%"


def test_every_table_and_figure_names_its_source(run: Path) -> None:
    md = render(run)["markdown"].read_text()
    blocks = re.split(r"\n\n+", md)
    for i, block in enumerate(blocks):
        if block.startswith("|") or block.startswith("!["):
            assert blocks[i + 1].startswith("Source: "), block[:80]
    assert "Source: `online.json` → `rows[]`" in md
    assert "Source: `offline.json` → `rows[]`" in md
    assert "Source: `online/episodes.jsonl` → `step_ms`" in md
    assert "Source: `<run>/<kind>/lamN/metrics.json`" in md and "Source: `flow/summary.json`" in md
    assert "1234" in md and "987" in md and "53" in md  # the data and training section


def test_every_plot_is_a_png_and_is_linked(run: Path) -> None:
    paths = render(run)
    md = paths["markdown"].read_text()
    for name in PLOTS:
        assert paths[name] == run / "plots" / f"{name}.png"
        assert paths[name].read_bytes().startswith(PNG)
        assert re.search(rf"!\[[^\]]+\]\(plots/{name}\.png\)", md)
    # rules steps take ~5 ms and gpt4o ~2 s: a linear axis would hide rules
    assert "per-step latency per model (log scale)" in md


def test_html_is_self_contained_and_escaped(run: Path) -> None:
    import lxml.html

    page = render(run)["html"].read_text()
    doc = lxml.html.fromstring(page)
    links = [el.get(a) for a in ("src", "href") for el in doc.iter() if el.get(a) is not None]
    assert links and not [u for u in links if not (u.startswith("#") or u.startswith("data:"))]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?://""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    images = doc.findall(".//img")
    assert len(images) == len(PLOTS)
    for img in images:
        assert img.get("alt")
        assert base64.b64decode(img.get("src").removeprefix("data:image/png;base64,")).startswith(PNG)
    for section in ("offline", "online", "plots"):
        assert doc.get_element_by_id(section).tag == "section"
    assert len(doc.findall(".//table")) >= 4 and all(t.find("caption") is not None
                                                     for t in doc.findall(".//table"))
    assert FAILURE not in page and "no valid &lt;action&gt;" in page
    online_cells = [td.text_content() for td in doc.get_element_by_id("online").iter("td")]
    assert {"lam4", "rules", "gpt4o", "1/2 (50.0%)"} <= set(online_cells)


def test_offline_only_run_skips_the_online_plots_with_a_note(tmp_path: Path) -> None:
    run = fixture_run(tmp_path / "run", online=False, extras=False)
    (run / "plots").mkdir()
    (run / "plots" / "latency.png").write_bytes(PNG)  # stale, from an earlier report
    paths = render(run)
    md = paths["markdown"].read_text()
    assert paths["offline_by_phase"].read_bytes().startswith(PNG)
    for name in ("online_by_model", "latency", "success_by_family"):
        assert name not in paths and not (run / "plots" / f"{name}.png").exists()
        assert f"Figure `{name}.png` skipped" in md
    assert "No `online.json` in this run." in md and "Data and training" not in md
    assert "<img" in paths["html"].read_text()


def test_families_are_capped_to_the_most_frequent(tmp_path: Path) -> None:
    run = fixture_run(tmp_path / "run", offline=False, extras=False)
    online = json.loads((run / "online.json").read_text())
    online["rows"][0]["by_family"] = {f"F{i:02d}": {"tasks": i + 1, "passed": i // 2}
                                      for i in range(20)}
    (run / "online.json").write_text(json.dumps(online))
    families = {f for r in online["rows"] for f in r["by_family"]}
    assert len(families) > 20
    md = render(run)["markdown"].read_text()
    assert f"the 15 most frequent of {len(families)}" in md
    assert "Figure `offline_by_phase.png` skipped" in md


def test_out_writes_elsewhere(run: Path, tmp_path: Path) -> None:
    paths = render(run, tmp_path / "elsewhere" / "r")
    assert paths["html"] == tmp_path / "elsewhere" / "r" / "report.html"
    assert paths["latency"].parent == tmp_path / "elsewhere" / "r" / "plots"
    assert not (run / "report.md").exists() and not (run / "plots").exists()


def test_malformed_inputs_are_one_clear_error(tmp_path: Path) -> None:
    run = fixture_run(tmp_path / "run")
    (run / "online.json").write_text('{"rows": [\n{"model": "lam4",\n "split": }\n')
    with pytest.raises(DataError, match=r"online\.json: not valid JSON \(line 3"):
        render(run)
    (run / "online.json").unlink()
    with (run / "online" / "episodes.jsonl").open("a") as fh:
        fh.write("{not json\n")
    render(run)  # the episodes are only read with an online.json
    with pytest.raises(DataError, match="no such run directory"):
        render(tmp_path / "missing")
    (run / "offline.json").unlink()
    with pytest.raises(DataError, match=r"no offline\.json or online\.json"):
        render(run)


def test_malformed_episodes_name_the_line_and_half_written_metrics_do_not_stop_the_report(
        tmp_path: Path) -> None:
    run = fixture_run(tmp_path / "run")
    (run / "train" / "lam2" / "metrics.json").write_text('{"steps": 12')
    assert "metrics.json: not valid JSON" in render(run)["markdown"].read_text()
    with (run / "online" / "episodes.jsonl").open("a") as fh:
        fh.write("{not json\n")
    with pytest.raises(DataError, match=rf"episodes\.jsonl:{len(EPISODES) + 1}: not valid JSON"):
        render(run)


def test_model_names_and_order() -> None:
    assert short_name("runs/demo/train/lam2/model") == "lam2"
    assert short_name("runs/demo/train/lam2/model/") == "lam2"
    assert short_name("rules") == "rules" and short_name("Qwen/Qwen2.5-0.5B") == "Qwen/Qwen2.5-0.5B"
    assert order_models(["x", "lam4", "lam9", "rules", "lam1", "x"]) == ["rules", "lam1", "lam4", "x",
                                                                          "lam9"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamforge", "report", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})


def test_cli_writes_the_report_and_fails_in_one_line(run: Path, tmp_path: Path) -> None:
    proc = _cli(str(run))
    assert proc.returncode == 0, proc.stderr
    assert str(run / "report.md") in proc.stdout and str(run / "report.html") in proc.stdout
    assert "online evaluation" in proc.stdout and "1/2 (50.0%)" in proc.stdout
    assert (run / "report.html").is_file()
    proc = _cli(str(tmp_path / "missing"))
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "no such run directory" in lines[0]


@pytest.mark.browser
def test_report_renders_in_chromium(run: Path, tmp_path: Path) -> None:
    import numpy as np
    from matplotlib.image import imread
    from playwright.sync_api import sync_playwright

    page_path = render(run)["html"]
    url = page_path.resolve().as_uri()
    requests: list[str] = []
    shot = tmp_path / "report.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"],
            # not the user's ~/.config/chromium and ~/.cache/dconf
            env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"),
                 "XDG_CACHE_HOME": str(tmp_path / "cache")})
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url)
            page.wait_for_load_state("load")
            tables = page.locator("table")
            assert tables.count() >= 2
            assert all(tables.nth(i).is_visible() for i in range(tables.count()))
            online = page.locator("#online table").last.inner_text()
            assert all(m in online for m in ("lam4", "rules", "gpt4o"))
            images = page.locator("img")
            assert images.count() == len(PLOTS)
            for i in range(images.count()):
                img = images.nth(i)
                assert img.evaluate("e => e.complete && e.naturalWidth") > 0
                img.scroll_into_view_if_needed()
                box = img.bounding_box()
                assert img.is_visible() and box and box["width"] > 100 and box["height"] > 100
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert requests and all(u == url or u.startswith("data:") for u in requests), requests
    pixels = imread(shot)
    assert pixels.shape[0] > 900  # the full page, not just the viewport
    rgb = (pixels[::2, ::2, :3] * 255).astype(np.uint32)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert len(colours) > 200  # text, tables and plots; a blank or failed page has a handful


def test_models_are_recorded_as_paths_any_machine_reads(tmp_path: Path) -> None:
    from lamforge.eval.names import portable, short_name

    inside = tmp_path / "runs" / "demo" / "train" / "lam2" / "model"
    assert portable(inside, tmp_path) == "runs/demo/train/lam2/model"
    assert portable("/elsewhere/tiny-cpu/lam3/model", tmp_path) == "tiny-cpu/lam3/model"
    assert short_name(portable("/elsewhere/tiny-cpu/lam3/model", tmp_path)) == "lam3"
    assert portable("rules", tmp_path) == "rules"
    assert portable("runs/x/lam1/model", tmp_path) == "runs/x/lam1/model"
