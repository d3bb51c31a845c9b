"""Session history in SQLite: every run of the agent and every step it took.

The working memory of a run lives in `Memory`; this store keeps it after the run, so a user
can look back at what the agent did (`lamforge sessions`) and tools can query it with SQL.
WAL mode with normal sync keeps a step's write to about a millisecond.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, started REAL, ended REAL, env TEXT, model TEXT, role TEXT, who TEXT,
  request TEXT, document TEXT, plan TEXT, status TEXT, reason TEXT, steps INTEGER
);
CREATE TABLE IF NOT EXISTS steps (
  session TEXT, idx INTEGER, prompt TEXT, output TEXT, action TEXT, policy TEXT, ok INTEGER,
  error TEXT, plan TEXT, model_s REAL, other_s REAL, PRIMARY KEY (session, idx)
);
"""


class SessionStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def start(self, *, env: str, model: str, role: str, who: str, request: str,
              document: str, plan: list[str]) -> str:
        sid = uuid.uuid4().hex[:12]
        with self.db:
            self.db.execute("INSERT INTO sessions (id, started, env, model, role, who, request, "
                            "document, plan) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (sid, time.time(), env, model, role, who, request, document,
                             json.dumps(plan)))
        return sid

    def step(self, sid: str, idx: int, **row: Any) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO steps (session, idx, prompt, output, action, policy, ok,"
                " error, plan, model_s, other_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, idx, row.get("prompt"), row.get("output"),
                 json.dumps(row.get("action")), row.get("policy"), int(bool(row.get("ok"))),
                 row.get("error"), json.dumps(row.get("plan", [])), row.get("model_s"),
                 row.get("other_s")))

    def end(self, sid: str, status: str, reason: str, steps: int) -> None:
        with self.db:
            self.db.execute("UPDATE sessions SET ended = ?, status = ?, reason = ?, steps = ? "
                            "WHERE id = ?", (time.time(), status, reason, steps, sid))

    def sessions(self, limit: int = 20) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT id, started, ended, env, model, role, request, status, "
                              "reason, steps FROM sessions ORDER BY started DESC LIMIT ?",
                              (limit,))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def steps(self, sid: str) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT * FROM steps WHERE session = ? ORDER BY idx", (sid,))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        self.db.close()
