"""JSONL reading and writing with errors that name `file:line`.

Every file format in lamforge is JSONL. A bad record is reported as `path:line: reason` (a
`DataError`), never as a traceback, so a user can open the file at that line and fix it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from lamforge.core.errors import DataError

M = TypeVar("M", bound=BaseModel)


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "record"
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def iter_jsonl(path: str | Path, model: type[M]) -> Iterator[M]:
    """Yield validated records; raise `DataError('file:line: reason')` on the first bad one."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a JSONL file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{path}:{lineno}: not UTF-8 (byte {e.start + 1})") from None
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{lineno}: invalid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(data, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object, got {type(data).__name__}")
            try:
                yield model.model_validate(data)
            except ValidationError as e:
                raise DataError(f"{path}:{lineno}: invalid {model.__name__}: {_describe(e)}") from None


def read_jsonl(path: str | Path, model: type[M]) -> list[M]:
    return list(iter_jsonl(path, model))


def read_jsonl_lenient(path: str | Path, model: type[M]) -> tuple[list[M], list[str]]:
    """Valid records, and one `file:line: reason` per bad line (for batch jobs that file bad
    records with their reason and go on, instead of stopping at the first)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    good: list[M] = []
    bad: list[str] = []
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw.decode("utf-8"))
                if not isinstance(data, dict):
                    raise ValueError(f"expected a JSON object, got {type(data).__name__}")
                good.append(model.model_validate(data))
            except ValidationError as e:
                bad.append(f"{path}:{lineno}: invalid {model.__name__}: {_describe(e)}")
            except (UnicodeDecodeError, ValueError) as e:
                bad.append(f"{path}:{lineno}: {str(e).splitlines()[0][:120]}")
    return good, bad


def append_jsonl(path: str | Path, records: Iterable[BaseModel]) -> None:
    """Append records crash-safely: each line is written whole and flushed to disk."""
    append_lines(path, (rec.model_dump_json() for rec in records))


def repair_tail(path: str | Path) -> None:
    """Drop a partial last line left by a killed writer, so appends start on a new line."""
    path = Path(path)
    if path.is_file() and path.stat().st_size:
        data = path.read_bytes()
        if not data.endswith(b"\n"):
            path.write_bytes(data[: data.rfind(b"\n") + 1])


def append_lines(path: str | Path, lines: Iterable[str]) -> None:
    """Append JSON lines already serialised (by a worker process), as `append_jsonl` does."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def write_jsonl(path: str | Path, records: Iterable[BaseModel]) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(rec.model_dump_json() + "\n")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
