"""An append-only audit log: every decision of the agent, chained by hashes.

Each record is one JSON line with `seq`, `time`, what happened and `prev`, the hash of the
record before it; its own `hash` is the SHA-256 of the canonical JSON of everything else. An
edited, inserted, removed or reordered line breaks the chain at that line, which
`lamforge audit verify` reports. (Cutting lines off the end leaves a shorter valid chain: keep
the last hash elsewhere, e.g. the one `lamforge run` prints, to detect that too.)
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamforge.core import DataError

GENESIS = "0" * 64


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def digest_of(value: Any) -> str:
    """A short digest of an observation (or anything JSON-able) for the log."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class AuditLog:
    """Appends chained records to a JSONL file; safe across processes (an exclusive lock
    while the last hash is read and the new line written)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.last_hash = GENESIS

    def record(self, event: str, **fields: Any) -> dict[str, Any]:
        with self.path.open("a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                prev, seq = _tail(fh, self.path)
                rec = {"seq": seq, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "event": event, **fields, "prev": prev}
                rec["hash"] = _digest(rec)
                fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        self.last_hash = rec["hash"]
        return rec


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
    ok: bool
    records: int
    problem: str = ""
    last_hash: str = GENESIS


def verify(path: Path) -> Verification:
    """Walk the chain; the first broken line is reported as `file:line: what is wrong`."""
    if not path.is_file():
        raise DataError(f"audit log {path} does not exist")
    prev, n = GENESIS, 0
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                return Verification(False, n, f"{path}:{lineno}: empty line", prev)
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                return Verification(False, n, f"{path}:{lineno}: not JSON ({e.msg})", prev)
            if not isinstance(rec, dict) or "hash" not in rec:
                return Verification(False, n, f"{path}:{lineno}: not an audit record", prev)
            if rec.get("prev") != prev:
                return Verification(False, n, f"{path}:{lineno}: chain broken (the record "
                                              "before it was changed, removed or reordered)",
                                    prev)
            if rec.get("seq") != n:
                return Verification(False, n, f"{path}:{lineno}: sequence number "
                                              f"{rec.get('seq')} where {n} was expected", prev)
            if _digest(rec) != rec["hash"]:
                return Verification(False, n, f"{path}:{lineno}: record was edited (its hash "
                                              "does not match its content)", prev)
            prev, n = rec["hash"], n + 1
    return Verification(True, n, "", prev)
