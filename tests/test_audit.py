"""The audit log's end is anchored: a cut tail, a rewritten end or an edited head file is caught
by `verify` and by `lamforge audit verify` (against the head file beside the log, or a --head
hash kept elsewhere), and a writer refuses to append to a cut log rather than erase the
evidence. No application is started: these are the log's own guarantees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lamforge.agent.audit import AuditLog, _digest, head_path, verify
from lamforge.core import DataError

from .test_cli import lamforge, one_error_line


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


def write_log(path: Path, n: int = 5) -> list[str]:
    """A real log of `n` records written by `AuditLog`; their hashes in order."""
    log = AuditLog(path)
    return [log.record("step", step=i, action={"function": "click"},
                       policy={"verdict": "allow"})["hash"] for i in range(n)]


def cut(path: Path, k: int) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-k]))


def test_every_append_replaces_the_head_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    hashes = write_log(path)
    assert json.loads(head_path(path).read_text()) == {"seq": 4, "hash": hashes[-1]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.jsonl", "audit.jsonl.head"]
    assert head_path(path).stat().st_mode == path.stat().st_mode  # readable by the log's readers
    result = verify(path)
    assert result.ok and result.records == 5 and result.last_hash == hashes[-1], result
    assert any("head file" in note for note in result.notes)


@pytest.mark.parametrize("k", [1, 2])
def test_a_cut_tail_is_caught_by_the_head_file(tmp_path: Path, k: int) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    cut(path, k)
    result = verify(path)
    assert not result.ok and result.kind == "tail" and result.records == 5 - k, result
    assert result.problem.startswith(f"{path}: the log has {5 - k} records but its head file "
                                     "says 5 were written"), result.problem
    assert f"the last {k} were cut from the end" in result.problem


def test_a_rewritten_end_or_an_edited_head_file_is_caught(tmp_path: Path) -> None:
    path, head = tmp_path / "audit.jsonl", head_path(tmp_path / "audit.jsonl")
    hashes = write_log(path)
    original_log, original_head = path.read_text(), head.read_text()

    # the last record cut and replaced by a forged one that chains correctly: same length
    forged = {"seq": 4, "time": "2026-01-01T00:00:00+0000", "event": "end", "status": "pass",
              "prev": hashes[3]}
    forged["hash"] = _digest(forged)
    path.write_text("".join(original_log.splitlines(keepends=True)[:4]) + json.dumps(forged)
                    + "\n")
    result = verify(path)
    assert not result.ok and result.kind == "tail", result
    assert "last record is not the one its head file" in result.problem
    assert "rewritten" in result.problem
    path.write_text(original_log)

    edits = {
        "rewritten": {"seq": 4, "hash": hashes[2]},
        "were cut from the end": {"seq": 9, "hash": hashes[4]},
        "appended without updating the head": {"seq": 2, "hash": hashes[2]},
        "not a head file": {"seq": "4", "hash": hashes[4]},
    }
    for expected, data in edits.items():
        head.write_text(json.dumps(data))
        result = verify(path)
        assert not result.ok and expected in result.problem, (expected, result)
    head.write_text("{not json")
    assert "not a head file (not JSON" in verify(path).problem
    head.write_text(original_head)
    assert verify(path).ok


def test_a_writer_refuses_to_append_to_a_cut_log_and_keeps_the_evidence(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    cut(path, 2)
    log_text, head_text = path.read_text(), head_path(path).read_text()
    with pytest.raises(DataError, match="records were cut from the end; refusing to append"):
        AuditLog(path).record("start")
    assert path.read_text() == log_text and head_path(path).read_text() == head_text
    assert not verify(path).ok


def test_a_writer_stopped_between_its_two_writes_is_reported_then_healed(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path, 3)
    stale = head_path(path).read_text()
    write_log(path, 2)
    head_path(path).write_text(stale)  # as if the last two appends never reached the head
    result = verify(path)
    assert not result.ok and "the last 2 were appended without updating the head" in (
        result.problem), result
    AuditLog(path).record("start")  # the log is ahead, not cut: appending re-anchors it
    assert verify(path).ok and verify(path).records == 6


def test_a_head_kept_elsewhere_must_still_be_in_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    hashes = write_log(path)
    result = verify(path, hashes[-1])
    assert result.ok and any(f"--head {hashes[-1]} as record 5" == note.removeprefix("it contains ")
                             for note in result.notes), result.notes
    grown = verify(path, hashes[1].upper())  # the log grew since that hash was kept: fine
    assert grown.ok and any("as record 2 (3 records appended after it)" in n for n in grown.notes)

    cut(path, 2)
    head_path(path).unlink()  # cut, and the head file deleted with it
    unanchored = verify(path)
    assert not unanchored.ok and unanchored.kind == "unanchored", unanchored
    assert "cannot be checked" in unanchored.problem and "--head" in unanchored.problem
    assert verify(path, hashes[2]).ok
    missing = verify(path, hashes[4])
    assert not missing.ok and missing.kind == "tail", missing
    assert missing.problem == (f"{path}: the log does not contain the head {hashes[4]}: records "
                               "were cut from its end, or it was rewritten")

    for bad in ["xyz", "a" * 63, "g" * 64, hashes[0] + "0"]:
        with pytest.raises(DataError, match="is not an audit record's hash: expected 64 hex"):
            verify(path, bad)
    with pytest.raises(DataError, match="does not exist"):
        verify(tmp_path / "none.jsonl", hashes[0])


def test_concurrent_writers_keep_one_chain_and_its_head(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    code = ("import sys; from pathlib import Path; from lamforge.agent.audit import AuditLog; "
            "log = AuditLog(Path(sys.argv[1]))\n"
            "for i in range(25): log.record('step', writer=sys.argv[2], step=i)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path), str(w)]) for w in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    result = verify(path)
    assert result.ok and result.records == 75, result
    assert json.loads(head_path(path).read_text()) == {"seq": 74, "hash": result.last_hash}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.jsonl", "audit.jsonl.head"]


def test_audit_verify_on_the_command_line(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    hashes = write_log(path)

    def verify_cli(*args: str) -> subprocess.CompletedProcess:
        return lamforge("audit", "verify", str(path), *args, home=home)

    ok = verify_cli("--head", hashes[-1])
    assert ok.returncode == 0 and "intact: 5 records" in ok.stdout, ok.stdout + ok.stderr
    assert f"last hash {hashes[-1]}" in ok.stdout and "matches its head file" in ok.stdout
    assert verify_cli("--head", hashes[2]).returncode == 0  # the log grew since: fine

    cut(path, 2)
    for args, expected in [((), "the log has 3 records but its head file says 5 were written"),
                           (("--head", hashes[4]), "the log has 3 records")]:
        bad = verify_cli(*args)
        assert bad.returncode == 2 and "Traceback" not in bad.stdout + bad.stderr, bad
        lines = [line for line in bad.stdout.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"tampered: {path}: "), bad.stdout
        assert expected in lines[0] and "cut from the end" in lines[0], lines[0]

    head_path(path).write_text(json.dumps({"seq": 2, "hash": hashes[1]}))  # edited to match
    edited = verify_cli()
    assert edited.returncode == 2 and "is not the one its head file" in edited.stdout, edited
    head_path(path).unlink()
    assert verify_cli().returncode == 2 and "unverified: " in verify_cli().stdout
    gone = verify_cli("--head", hashes[4])
    assert gone.returncode == 2 and "does not contain the head" in gone.stdout, gone

    for bad_head in ["xyz", "a" * 63, "z" * 64]:
        line = one_error_line(verify_cli("--head", bad_head))
        assert f"--head '{bad_head}' is not an audit record's hash" in line, line
    line = one_error_line(lamforge("audit", "verify", str(tmp_path / "none.jsonl"), home=home))
    assert "does not exist" in line
