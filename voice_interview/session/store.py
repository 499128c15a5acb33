"""Recorded sessions: create, list, open, repair after a crash, import an outside recording.

The store is a directory (default ``<data home>/recordings``; ``VOICE_INTERVIEW_HOME``
moves it) with one folder per session (the format is described in
``session.recorder``) and ``index.sqlite`` (``session.index``). Session ids are
``YYYYMMDD-HHMMSS-xxxx`` (the local start time and 4 random hex digits); any
unique prefix, a folder path, or ``last`` names a session.

A session whose writer died (``kill -9``, power cut) has a session.json, no
summary.json and a free lock. ``repair_interrupted()``, called at the start of
every command that touches the store, fixes its WAV headers from the data on
disk, drops a torn last line from its logs, writes a summary with status
``interrupted`` and indexes it: it is then replayable like any other.

Answers (``SessionWriter.add_answer``) carry the analyze JSON of the answer with
its times on the session timeline; ``AnswerAnalysis.shifted`` (``shift_analysis``
for a stored JSON) moves the times of an analysis made on a slice of the audio
there, and records the slice as ``span``.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voice_interview.analysis import AnswerAnalysis
from voice_interview.session.files import (
    CANDIDATE_WAV,
    EVENTS,
    FORMAT_VERSION,
    INTERVIEWER_WAV,
    META,
    SAMPLE_RATE,
    SUMMARY,
    RecordingError,
    SessionCorrupt,
    SessionError,
    SessionFormatError,
    SessionNotFound,
    atomic_write_json,
    private_dir,
    wav_frames_on_disk,
)
from voice_interview.session.index import INDEX_FILE, Index, quarantine
from voice_interview.session.reader import (
    SessionData,
    SessionInfo,
    is_locked,
    read_json,
    read_jsonl,
    read_meta,
    read_session,
)
from voice_interview.session.recorder import SessionWriter
from voice_interview.session.repair import repair_folder

__all__ = [
    "RecordingError", "SessionCorrupt", "SessionData", "SessionError", "SessionFormatError",
    "SessionInfo", "SessionNotFound", "SessionStore", "SessionWriter", "default_root",
    "open_store", "save_analysis", "shift_analysis",
]

STATUSES = ("recording", "complete", "aborted", "interrupted", "disk_full", "failed", "missing")
INTERRUPTED_REASON = "the program stopped before the session finished; repaired"


def default_root() -> Path:
    """Where sessions go: ``[session] recordings`` in config.toml, else ``<data home>/recordings``.

    A checkout's ``recordings/`` folder (git-ignored) is the documented place to point
    the config at when running from the repository.
    """
    from voice_interview.config import load_config
    from voice_interview.paths import data_home

    configured = load_config().recordings
    return configured if configured is not None else data_home() / "recordings"


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _stamp(started_at: str) -> str:
    try:
        when = dt.datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        when = dt.datetime.now()
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%Y%m%d-%H%M%S")


# ----------------------------------------------------------------------------- the store


class SessionStore:
    """The recordings directory and its index. See the module docstring."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        try:
            private_dir(self.root)
        except OSError as exc:
            raise SessionError(f"cannot create the recordings folder {self.root}: "
                               f"{exc.strerror or exc}") from None
        self.index = Index(self.root / INDEX_FILE)

    # -- recording -------------------------------------------------------------------

    def create(self, meta: dict, *, fault_hook=None) -> SessionWriter:
        """Start recording a session; ``meta`` goes to session.json (plus id, format)."""
        started = str(meta.get("started_at") or now_iso())
        stamp = _stamp(started)
        for _ in range(100):
            sid = f"{stamp}-{secrets.token_hex(2)}"
            folder = self.root / sid
            try:
                folder.mkdir(mode=0o700)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise RecordingError(f"cannot create a session in {self.root}: "
                                     f"{exc.strerror or exc}") from None
        else:  # pragma: no cover - 100 collisions of 4 random hex digits
            raise RecordingError(f"cannot pick a new session id in {self.root}")
        doc = {**meta, "format": FORMAT_VERSION, "id": sid, "started_at": started}
        try:
            writer = SessionWriter(sid, folder, doc, on_answer=self._on_answer,
                                   on_finish=self._on_finish, fault_hook=fault_hook)
        except OSError as exc:
            raise RecordingError(f"cannot start recording in {folder}: "
                                 f"{exc.strerror or exc}") from None
        with contextlib.suppress(SessionError):  # the folder is the truth; repair re-indexes
            self.index.upsert_session({
                "id": sid, "path": str(folder.resolve()), "started_at": started,
                "question_id": meta.get("question_id"),
                "question_text": meta.get("question_text"), "format_id": meta.get("format_id"),
                "status": "recording", "meta": doc})
        return writer

    def _on_answer(self, writer: SessionWriter, row: dict) -> None:
        with contextlib.suppress(SessionError):
            self.index.put_answer(writer.id, row)

    def _on_finish(self, writer: SessionWriter, summary: dict, status: str) -> None:
        audio_s = wav_seconds(writer.path / CANDIDATE_WAV)
        doc = {"format": FORMAT_VERSION, "id": writer.id, "status": status,
               "ended_at": now_iso(), "reason": summary.get("reason"), "audio_s": audio_s,
               "interviewer_s": wav_seconds(writer.path / INTERVIEWER_WAV),
               "summary": summary}
        if writer.failed is not None:
            doc["error"] = str(writer.failed)
        with contextlib.suppress(OSError):  # disk full: repair writes it later
            atomic_write_json(writer.path / SUMMARY, doc)
        if (writer.path / SUMMARY).exists():
            with contextlib.suppress(SessionError):
                # status, length, question as finally recorded (the lock is still ours)
                self.reindex(writer.path, check_lock=False)

    # -- reading ---------------------------------------------------------------------

    def list(self) -> list[SessionInfo]:
        """Every indexed session, newest first."""
        return [SessionInfo.from_row(r) for r in self.index.sessions()]

    def latest(self) -> SessionInfo | None:
        rows = self.index.sessions("WHERE status != 'missing'")
        return SessionInfo.from_row(rows[0]) if rows else None

    def resolve(self, ref: str | Path | None) -> Path:
        """The folder of a session named by id, unique id prefix, path or ``last``."""
        if ref is None or str(ref) in ("last", "latest"):
            info = self.latest()
            if info is None:
                raise SessionNotFound(f"no recorded sessions yet in {self.root}")
            return self.root / info.id
        text = str(ref)
        as_path = Path(text).expanduser()
        if isinstance(ref, Path) or os.sep in text or text.startswith("."):
            if as_path.is_dir():
                return as_path
            raise SessionNotFound(f"{text}: no such session folder")
        exact = self.root / text
        if (exact / META).exists() or (exact.is_dir() and text in self._dir_names()):
            return exact
        matches = sorted(n for n in self._dir_names() if n.startswith(text))
        if len(matches) == 1:
            return self.root / matches[0]
        if len(matches) > 1:
            shown = ", ".join(matches[:4]) + (", ..." if len(matches) > 4 else "")
            raise SessionNotFound(f"'{text}' matches {len(matches)} sessions ({shown}); "
                                  f"give more of the id")
        known = [r for r in self.index.sessions("WHERE id LIKE ?", (text + "%",))]
        if len(known) == 1:
            raise SessionNotFound(f"session {known[0]['id']}: its folder {known[0]['path']} "
                                  f"is missing")
        raise SessionNotFound(f"no session '{text}' in {self.root} "
                              f"(voice-interview sessions lists them)")

    def open(self, ref: str | Path | None) -> SessionData:
        """Read a session (see ``resolve`` for ``ref``); errors are SessionError subclasses."""
        return read_session(self.resolve(ref))

    def _dir_names(self) -> builtins.list[str]:
        try:
            return [e.name for e in os.scandir(self.root)
                    if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
        except OSError as exc:
            raise SessionError(f"cannot read {self.root}: {exc.strerror or exc}") from None

    # -- upkeep ----------------------------------------------------------------------

    def reindex(self, folder: Path, *, check_lock: bool = True) -> SessionInfo:
        """Put a session folder's current state into the index."""
        data = read_session(folder, check_lock=check_lock)
        info = data.info
        self.index.upsert_session({
            "id": info.id, "path": str(folder.resolve()), "started_at": info.started_at,
            "ended_at": info.ended_at, "question_id": info.question_id,
            "question_text": info.question, "format_id": info.format_id,
            "status": info.status, "audio_s": info.audio_s, "meta": data.meta})
        self.index.replace_answers(info.id, list(data.answers))
        return info

    def repair_interrupted(self) -> builtins.list[str]:
        """Repair and index sessions whose writer died; returns the repaired ids.

        Also indexes folders the index does not know (copied in, or a lost index)
        and marks sessions whose folder was deleted as ``missing``. A damaged
        index is moved aside and rebuilt from the folders.
        """
        try:
            known = self.index.statuses()
        except SessionFormatError:
            raise
        except SessionCorrupt:
            quarantine(self.index.path)
            self.index = Index(self.root / INDEX_FILE)
            known = self.index.statuses()
        names: set[str] = set(self._dir_names())
        repaired: builtins.list[str] = []
        for name in sorted(names):
            status = known.get(name)
            if status is not None and status not in ("recording", "missing"):
                continue
            folder = self.root / name
            if not (folder / META).exists() or is_locked(folder):
                continue
            try:
                if self._repair_one(folder):
                    repaired.append(name)
            except (SessionCorrupt, SessionFormatError):
                continue  # not ours to fix; `open` explains it when asked
        for sid, status in known.items():
            if sid not in names and status != "missing":
                self.index.set_status(sid, "missing")
        return repaired

    def _repair_one(self, folder: Path) -> bool:
        meta = read_meta(folder)
        summary = None
        with contextlib.suppress(SessionCorrupt):
            summary = read_json(folder / SUMMARY, "summary")
        repaired = False
        if not isinstance(summary, dict):
            done = repair_folder(folder)
            events, _ = read_jsonl(folder / EVENTS)
            doc: dict[str, Any] = {"format": FORMAT_VERSION, "id": meta.get("id") or folder.name,
                   "status": "interrupted", "ended_at": None, "reason": INTERRUPTED_REASON,
                   "audio_s": wav_seconds(folder / CANDIDATE_WAV),
                   "interviewer_s": wav_seconds(folder / INTERVIEWER_WAV),
                   "last_event_t": max((float(e.get("t") or 0) for e in events), default=0.0),
                   "repaired_at": now_iso(), "repairs": done, "summary": {}}
            try:
                atomic_write_json(folder / SUMMARY, doc)
            except OSError as exc:
                raise SessionError(f"cannot repair {folder}: {exc.strerror or exc}") from None
            repaired = True
        self.reindex(folder)
        return repaired


def wav_seconds(path: Path) -> float:
    return round(wav_frames_on_disk(path) / SAMPLE_RATE, 3)


# ----------------------------------------------------------------------------- analyses


def shift_analysis(doc: Mapping[str, Any], offset: float,
                   span_end: float | None = None) -> dict[str, Any]:
    """An analyze JSON with its times moved by ``offset`` seconds: the JSON face of
    ``AnswerAnalysis.shifted`` (which see), for callers that hold the stored layout."""
    return AnswerAnalysis.from_json(doc).shifted(offset, span_end).to_json()


def save_analysis(path: str | Path, analysis: AnswerAnalysis, question: Any, *,
                  store: SessionStore | None = None, model: str | None = None) -> str:
    """Store an outside recording and its analysis as a session; returns the session id.

    The hook behind ``voice-interview analyze AUDIO --save``: the audio is decoded
    to 16 kHz and written as the candidate track, the analysis (with its structure
    and probes, if computed) becomes answer 0, and the session is ``complete``, so
    it can be replayed, reported and tracked like a practice session.
    """
    from voice_interview.audio.sources import decode_file

    store = store or SessionStore()
    store.repair_interrupted()
    src = Path(path)
    audio = decode_file(src)
    try:
        mtime = dt.datetime.fromtimestamp(src.stat().st_mtime).astimezone()
        started = mtime.isoformat(timespec="seconds")
    except OSError:
        started = now_iso()
    qid = getattr(question, "id", None)
    qtext = getattr(question, "text", None) or (question if isinstance(question, str) else "")
    meta = {"question_id": qid, "question_text": qtext,
            "format_id": None, "started_at": started, "source": "imported",
            "source_path": str(src.resolve()), "imported_at": now_iso(), "voice": None,
            "llm_model": None, "stt_model": model}
    end = round(audio.size / SAMPLE_RATE, 3)
    doc = analysis.shifted(0.0, audio.size / SAMPLE_RATE).to_json()
    with store.create(meta) as writer:
        writer.log_event({"type": "session_started", "t": 0.0, "question_id": qid,
                          "source": "imported"})
        writer.log_event({"type": "question_asked", "t": 0.0, "question_id": qid,
                          "text": qtext})
        step = SAMPLE_RATE
        for i in range(0, audio.size, step):
            writer.write_candidate(audio[i:i + step])
        writer.add_answer(0, qid, qtext, "question", doc)
        writer.log_event({"type": "answer_scored", "t": end, "answer_index": 0,
                          "question_id": qid})
        writer.log_event({"type": "session_ended", "t": end, "reason": "imported"})
        writer.finish({"reason": "imported", "source_path": str(src.resolve())})
        return writer.id


def open_store(root: Path | str | None = None, *, quiet: bool = False) -> SessionStore:
    """The store, with interrupted sessions repaired (say so on stderr unless ``quiet``)."""
    import sys

    store = SessionStore(root)
    repaired = store.repair_interrupted()
    if repaired and not quiet:
        n = len(repaired)
        print(f"voice-interview: repaired {n} interrupted session{'s' if n > 1 else ''} "
              f"({', '.join(repaired)}): listed as interrupted, still replayable",
              file=sys.stderr)
    return store
