"""The session index: one SQLite file (stdlib ``sqlite3``) beside the session folders.

It holds sessions, the questions asked, the answers and their metrics, so that
``sessions`` and ``progress`` answer at once without opening every folder. The
folders are the source of truth: the index can always be rebuilt from them.

Schema changes are numbered migrations (``MIGRATIONS``); ``PRAGMA user_version``
records how many ran. An index from a newer voice-interview (a higher version)
is refused with a clear message rather than guessed at. The file is private
(0600); WAL mode lets a live session write while another command reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from voice_interview.session.files import (
    FILE_MODE,
    SessionCorrupt,
    SessionError,
    SessionFormatError,
    newer_format_message,
)

INDEX_FILE = "index.sqlite"

MIGRATIONS: tuple[str, ...] = (
    # 1: sessions, questions asked, answers with their metrics
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        question_id TEXT,
        question_text TEXT,
        format_id TEXT,
        status TEXT NOT NULL,
        audio_s REAL NOT NULL DEFAULT 0,
        answers INTEGER NOT NULL DEFAULT 0,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE questions (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        question_id TEXT,
        text TEXT NOT NULL,
        kind TEXT NOT NULL,
        PRIMARY KEY (session_id, idx)
    );
    CREATE TABLE answers (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        t REAL,
        duration_s REAL,
        words INTEGER,
        wpm REAL,
        articulation_wpm REAL,
        pauses INTEGER,
        long_pauses INTEGER,
        fillers INTEGER,
        parts_covered INTEGER,
        parts_total INTEGER,
        analysis TEXT NOT NULL,
        PRIMARY KEY (session_id, idx)
    );
    """,
    # 2: per-session aggregates for fast listing, and the listing order
    """
    ALTER TABLE sessions ADD COLUMN wpm REAL;
    ALTER TABLE sessions ADD COLUMN long_pauses INTEGER;
    ALTER TABLE sessions ADD COLUMN fillers INTEGER;
    ALTER TABLE sessions ADD COLUMN speaking_s REAL;
    ALTER TABLE sessions ADD COLUMN coverage REAL;
    CREATE INDEX sessions_by_start ON sessions(started_at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

SESSION_COLUMNS = ("id", "path", "started_at", "ended_at", "question_id", "question_text",
                   "format_id", "status", "audio_s", "answers", "wpm", "long_pauses",
                   "fillers", "speaking_s", "coverage")


def answer_metrics(analysis: dict) -> dict:
    """The numbers the index keeps for one answer, from its analyze JSON."""
    from voice_interview.analysis import AnswerAnalysis

    a = AnswerAnalysis.from_json(analysis)
    m, parts = a.metrics, a.parts
    return {
        "duration_s": m.speech_span_s if m else None,
        "words": m.word_count if m else None,
        "wpm": m.wpm if m else None,
        "articulation_wpm": m.articulation_wpm if m else None,
        "pauses": m.pause_count if m else None,
        "long_pauses": m.long_pause_count if m else None,
        "fillers": m.filler_count if m else None,
        "parts_covered": len(a.covered()) if parts else None,
        "parts_total": len(parts) if parts else None,
    }


class Index:
    """The SQLite index at ``path``. Each call opens a short-lived connection (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
            os.close(fd)
        conn = sqlite3.connect(self.path, timeout=10.0)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            # WAL + NORMAL: a commit survives the process dying (kill -9); only a power
            # cut can lose the last commits, and the folders rebuild the index anyway.
            conn.execute("PRAGMA synchronous = NORMAL")
            if not self._ready:
                self._migrate(conn)
                self._ready = True
            with conn:
                yield conn
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise SessionError(f"the session index {self.path} is busy (another "
                                   f"voice-interview is writing it); try again") from None
            if "not a database" in text or "malformed" in text:
                raise SessionCorrupt(f"the session index {self.path} is damaged ({exc})") from None
            raise SessionError(f"cannot use the session index {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise SessionCorrupt(f"the session index {self.path} is damaged ({exc})") from None
        finally:
            conn.close()

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SessionFormatError(newer_format_message(
                f"the session index {self.path}", version, SCHEMA_VERSION))
        if version == 0:
            conn.execute("PRAGMA journal_mode = WAL")
        for number in range(version, SCHEMA_VERSION):
            conn.executescript("BEGIN;" + MIGRATIONS[number]
                               + f";PRAGMA user_version = {number + 1}; COMMIT;")

    def version(self) -> int:
        with self.connect() as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]

    # -- writing ---------------------------------------------------------------------

    def upsert_session(self, row: dict) -> None:
        cols = [c for c in SESSION_COLUMNS if c in row] + ["meta"]
        values = [row[c] for c in cols[:-1]] + [json.dumps(row.get("meta") or {})]
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
        with self.connect() as conn:
            conn.execute(
                f"INSERT INTO sessions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                f" ON CONFLICT(id) DO UPDATE SET {sets}", values)

    def put_answer(self, session_id: str, row: dict) -> None:
        """One answer (a row of answers.jsonl) and the question it answered."""
        analysis = row.get("analysis") or {}
        m = answer_metrics(analysis)
        with self.connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?)",
                (session_id, row["index"], row.get("question_id"), row.get("prompt_text") or "",
                 row.get("kind") or "question"))
            conn.execute(
                "INSERT OR REPLACE INTO answers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (session_id, row["index"], row.get("t"), m["duration_s"], m["words"], m["wpm"],
                 m["articulation_wpm"], m["pauses"], m["long_pauses"], m["fillers"],
                 m["parts_covered"], m["parts_total"], json.dumps(analysis)))
            self._aggregate(conn, session_id)

    def replace_answers(self, session_id: str, rows: list[dict]) -> None:
        with self.connect() as conn:
            conn.execute("DELETE FROM answers WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM questions WHERE session_id = ?", (session_id,))
        for row in rows:
            self.put_answer(session_id, row)
        if not rows:
            with self.connect() as conn:
                self._aggregate(conn, session_id)

    @staticmethod
    def _aggregate(conn: sqlite3.Connection, session_id: str) -> None:
        """Session figures from its answers: words-weighted pace, totals, opening coverage."""
        conn.execute(
            """
            UPDATE sessions SET
              answers = (SELECT COUNT(*) FROM answers WHERE session_id = :id),
              speaking_s = (SELECT SUM(duration_s) FROM answers WHERE session_id = :id),
              wpm = (SELECT CASE WHEN SUM(duration_s) > 0 THEN 60.0 * SUM(words) / SUM(duration_s)
                     END FROM answers WHERE session_id = :id AND words > 0),
              long_pauses = (SELECT SUM(long_pauses) FROM answers WHERE session_id = :id),
              fillers = (SELECT SUM(fillers) FROM answers WHERE session_id = :id),
              coverage = (SELECT CAST(parts_covered AS REAL) / parts_total FROM answers
                          WHERE session_id = :id AND parts_total > 0 ORDER BY idx LIMIT 1)
            WHERE id = :id
            """, {"id": session_id})

    def set_status(self, session_id: str, status: str, **fields) -> None:
        fields["status"] = status
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.connect() as conn:
            conn.execute(f"UPDATE sessions SET {sets} WHERE id = ?",
                         [*fields.values(), session_id])

    def delete_session(self, session_id: str) -> None:
        with self.connect() as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- reading ---------------------------------------------------------------------

    def sessions(self, where: str = "", params: tuple = ()) -> list[dict]:
        cols = ", ".join(SESSION_COLUMNS)
        with self.connect() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                f"SELECT {cols} FROM sessions {where} ORDER BY started_at DESC, id DESC",
                params).fetchall()
        return [dict(r) for r in rows]

    def statuses(self) -> dict[str, str]:
        """Every indexed session id and its status."""
        with self.connect() as conn:
            return dict(conn.execute("SELECT id, status FROM sessions").fetchall())

    def answers(self, session_id: str | None = None) -> list[dict]:
        q = ("SELECT a.session_id, a.idx, a.t, a.duration_s, a.words, a.wpm, "
             "a.articulation_wpm, a.pauses, a.long_pauses, a.fillers, a.parts_covered, "
             "a.parts_total, q.kind, q.text AS prompt_text, q.question_id "
             "FROM answers a LEFT JOIN questions q "
             "ON q.session_id = a.session_id AND q.idx = a.idx")
        params: tuple = ()
        if session_id is not None:
            q += " WHERE a.session_id = ?"
            params = (session_id,)
        with self.connect() as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(q + " ORDER BY a.session_id, a.idx", params)]


def quarantine(path: Path) -> Path:
    """Move a damaged index aside (kept for inspection) so a fresh one can be built."""
    dest = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.replace(src, Path(str(dest) + suffix))
    return dest
