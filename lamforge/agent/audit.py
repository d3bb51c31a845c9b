"""An append-only audit log: every decision of the agent, chained by hashes, anchored by a head.

Each record is one JSON line with `seq`, `time`, what happened and `prev`, the hash of the
record before it; its own `hash` is the SHA-256 of the canonical JSON of everything else. An
edited, inserted, removed or reordered line breaks the chain at that line, which
`lamforge audit verify` reports as `file:line: what is wrong`.

A chain cannot see its own end: cutting records off the end leaves a shorter chain that is
just as valid. So every append also rewrites a small head file beside the log
(`audit.jsonl.head`: the last record's `seq` and `hash`, replaced atomically under the same
lock as the append), and the end of the log is checked against it — and, with
`verify(path, head=HASH)` / `lamforge audit verify --head HASH`, against a hash the operator
kept elsewhere (the one `lamforge run` prints).

What this proves and what it does not: someone who can write only the log is caught; someone
who can write the log *and* its head file can rewrite the whole history consistently. Only a
head kept where the log's writer cannot change it (printed to the operator, shipped to another
machine) closes that gap. This is tamper evidence, not tamper proofing, and not a signature.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from lamforge.core import DataError

GENESIS = "0" * 64
HEAD_SUFFIX = ".head"
_HASH = re.compile(r"[0-9a-f]{64}")


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def digest_of(value: Any) -> str:
    """A short digest of an observation (or anything JSON-able) for the log."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def head_path(log: Path) -> Path:
    """The head file beside a log (`audit.jsonl` → `audit.jsonl.head`): beside it, so a log
    moved or copied with its folder keeps its anchor."""
    return log.with_name(log.name + HEAD_SUFFIX)


def check_hash(text: str, name: str = "head hash") -> str:
    """`text` as a record hash (64 hex digits, any case), or a DataError naming `name`: a typo
    in a hash the user kept must be told apart from a log that does not contain it."""
    value = text.strip().lower()
    if not _HASH.fullmatch(value):
        raise DataError(f"{name} '{text}' is not an audit record's hash: expected 64 hex digits, "
                        "e.g. the head `lamforge run` printed")
    return value


class HeadError(DataError):
    """A head file that is not one (it is written atomically, so a crash cannot leave it half
    written: a malformed head was edited)."""


@dataclass(frozen=True)
class Head:
    """What the head file says: the last record written has this `seq` and `hash`."""

    seq: int
    hash: str


def read_head(log: Path) -> Head | None:
    """The head file of `log`, None when there is none; HeadError when it is malformed."""
    path = head_path(log)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise HeadError(f"{path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise HeadError(f"{path}: not a head file (not JSON: {e.msg})") from None
    seq, digest = (data.get("seq"), data.get("hash")) if isinstance(data, dict) else (None, None)
    if (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0
            or not isinstance(digest, str) or not _HASH.fullmatch(digest)):
        raise HeadError(f"{path}: not a head file (expected {{\"seq\": N, \"hash\": \"<64 hex "
                        "digits>\"}})")
    return Head(seq, digest)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable; a file system that cannot fsync a folder is let be."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_head(log: Path, head: Head, mode: int) -> None:
    """Replace the head file atomically (a temp file, fsync, `os.replace`), so a reader or a
    crash sees the old head or the new one, never half of one; with the log's permissions, so
    whoever may read the log may read its anchor."""
    target = head_path(log)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(json.dumps({"seq": head.seq, "hash": head.hash}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


class AuditLog:
    """Appends chained records to a JSONL file and keeps its head file; safe across processes
    (an exclusive lock while the last hash is read, the new line written and the head
    replaced)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.last_hash = GENESIS

    def record(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one record. Refuses (DataError) to append to a log whose end disagrees with
        its head file: appending would move the head and erase the evidence of the cut."""
        with self.path.open("a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                prev, seq = _tail(fh, self.path)
                _check_tail(self.path, seq - 1, prev)
                rec = {"seq": seq, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "event": event, **fields, "prev": prev}
                rec["hash"] = _digest(rec)
                fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
                # the log first, then its head: a crash in between leaves the log one record
                # ahead of its head (reported by verify, healed by the next append), never a
                # head that points past the end of the log
                _write_head(self.path, Head(seq, rec["hash"]),
                            stat.S_IMODE(os.fstat(fh.fileno()).st_mode))
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        self.last_hash = rec["hash"]
        return rec


def _check_tail(log: Path, last_seq: int, last_hash: str) -> None:
    """Refuse to append when the log ends before its head or its last record is not the head's.
    A log *ahead* of its head is let be: that is a writer stopped between its two writes, and
    this append re-anchors it."""
    try:
        head = read_head(log)
    except HeadError as e:
        raise DataError(f"{e}; refusing to append (run `lamforge audit verify`)") from None
    if head is None or last_seq > head.seq:
        return
    refuse = ("refusing to append (run `lamforge audit verify`; move the log and its head file "
              "aside to start a new one)")
    if last_seq < head.seq:
        raise DataError(f"{log}: the log has {last_seq + 1} records but its head file says "
                        f"{head.seq + 1} were written: records were cut from the end; {refuse}")
    if last_hash != head.hash:
        raise DataError(f"{log}: its last record's hash is not the one its head file holds: the "
                        f"end of the log or its head file was rewritten; {refuse}")


def _tail(fh: Any, path: Path) -> tuple[str, int]:
    """The hash and seq after the last record (reads backwards from the end)."""
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    if end == 0:
        return GENESIS, 0
    size = min(end, 65536)
    while True:
        fh.seek(end - size)
        lines = fh.read(size).splitlines()
        if len(lines) > 1 or size == end:
            break
        size = min(end, size * 4)
    try:
        last = json.loads(lines[-1])
        return last["hash"], last["seq"] + 1
    except (json.JSONDecodeError, KeyError, TypeError):
        raise DataError(f"{path}: the last line is not an audit record; refusing to append "
                        "(run `lamforge audit verify`)") from None


@dataclass
class Verification:
    """The outcome of `verify`.

    `kind` says what failed: "chain" (a line of the log; `records` intact ones precede it),
    "tail" (the chain of `records` is intact but its end disagrees with an anchor) or
    "unanchored" (no anchor to check the end against). `notes` say what was checked."""

    ok: bool
    records: int
    problem: str = ""
    last_hash: str = GENESIS
    kind: Literal["", "chain", "tail", "unanchored"] = ""
    notes: list[str] = field(default_factory=list)


def verify(path: Path, head: str | None = None) -> Verification:
    """Walk the chain, then check its end against its anchors; the first problem is reported as
    `file:line: what is wrong` (a line of the log) or `file: what is wrong` (its end).

    Anchors: the head file, when there is one, must name the log's last record (a log that ends
    before it was cut; a last record with another hash was rewritten; a log that runs past it
    had records appended without the head — a writer stopped between its two writes, or one
    that bypassed `AuditLog`). `head`, a hash kept elsewhere, must be the hash of a record in
    the chain: the log may have grown since it was taken (a shared log does), but the record
    must still be there.

    A log with no head file and no `head` fails ("unanchored"): it could have been cut and
    nothing would show it, and a verifier that says "intact" then is what let cut tails through.
    Pass `head` (which makes the head file optional) to verify a log copied without its head.
    """
    expected = check_hash(head) if head is not None else None
    anchor = head_path(path)
    if not path.is_file():
        extra = " (its head file does: the log was deleted or moved)" if anchor.is_file() else ""
        raise DataError(f"audit log {path} does not exist{extra}")
    try:
        fh = path.open("rb")
    except OSError as e:
        raise DataError(f"audit log {path} cannot be read ({e.strerror})") from None
    with fh:
        with contextlib.suppress(OSError):  # a snapshot of log and head, not half an append
            fcntl.flock(fh, fcntl.LOCK_SH)
        try:
            head_error, anchored = "", read_head(path)
        except HeadError as e:
            head_error, anchored = str(e), None
        walked = _walk(fh, path, anchored.seq if anchored else None, expected)
    result, at_head_seq, found = walked
    if not result.ok:
        return result
    n = result.records

    def tail(problem: str) -> Verification:
        return Verification(False, n, problem, result.last_hash, "tail", result.notes)

    if head_error:
        return tail(head_error)
    if anchored is not None:
        if n <= anchored.seq:
            return tail(f"{path}: the log has {n} records but its head file says "
                        f"{anchored.seq + 1} were written: the last {anchored.seq + 1 - n} were "
                        "cut from the end")
        if at_head_seq != anchored.hash:
            where = "last record" if anchored.seq == n - 1 else f"record {anchored.seq + 1}"
            return tail(f"{path}: the hash of its {where} is not the one its head file {anchor} "
                        "holds: the log or its head file was rewritten")
        if anchored.seq < n - 1:
            return tail(f"{path}: the log has {n} records but its head file says "
                        f"{anchored.seq + 1} were written: the last {n - 1 - anchored.seq} were "
                        "appended without updating the head (a writer stopped between its two "
                        "writes, or one that bypassed lamforge); check them — the next record "
                        "written updates the head")
        result.notes.append(f"its end matches its head file {anchor}")
    if expected is not None:
        if found is None:
            return tail(f"{path}: the log does not contain the head {expected}: records were cut "
                        "from its end, or it was rewritten")
        after = n - 1 - found
        since = f" ({after} record{'s' * (after != 1)} appended after it)" if after else ""
        result.notes.append(f"it contains --head {expected} as record {found + 1}{since}")
    if anchored is None and expected is None:
        return Verification(False, n, f"{anchor}: missing, so whether records were cut from the "
                            f"end of {path} cannot be checked (the head file was deleted, or the "
                            "log was copied without it or predates it); pass --head HASH, a hash "
                            "kept from a run such as the head `lamforge run` printed",
                            result.last_hash, "unanchored", result.notes)
    return result


def _walk(fh: IO[bytes], path: Path, head_seq: int | None, expected: str | None
          ) -> tuple[Verification, str | None, int | None]:
    """The chain, line by line: its verification, the hash of record `head_seq` and the index
    of the record whose hash is `expected` (one pass, constant memory: logs only grow)."""
    prev, n = GENESIS, 0
    at_head_seq: str | None = None
    found: int | None = None

    def broken(lineno: int, what: str) -> tuple[Verification, str | None, int | None]:
        return Verification(False, n, f"{path}:{lineno}: {what}", prev, "chain"), None, None

    for lineno, raw in enumerate(fh, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            return broken(lineno, "not UTF-8 text")
        if not line.strip():
            return broken(lineno, "empty line")
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            return broken(lineno, f"not JSON ({e.msg})")
        if not isinstance(rec, dict) or "hash" not in rec:
            return broken(lineno, "not an audit record")
        if rec.get("prev") != prev:
            return broken(lineno, "chain broken (the record before it was changed, removed or "
                                  "reordered)")
        if rec.get("seq") != n:
            return broken(lineno, f"sequence number {rec.get('seq')} where {n} was expected")
        if _digest(rec) != rec["hash"]:
            return broken(lineno, "record was edited (its hash does not match its content)")
        if n == head_seq:
            at_head_seq = rec["hash"]
        if rec["hash"] == expected and found is None:
            found = n
        prev, n = rec["hash"], n + 1
    return Verification(True, n, "", prev), at_head_seq, found
