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
its times on the session timeline; ``shift_analysis`` moves the times of an
analysis made on a slice of the audio there, and records the slice as ``span``.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voice_interview.session.index import INDEX_FILE, Index, quarantine
from voice_interview.session.recorder import (
    ANSWERS,
    CANDIDATE_WAV,
    EVENTS,
    FORMAT_VERSION,
    INTERVIEWER_WAV,
    LOCK,
    META,
    SAMPLE_RATE,
    SUMMARY,
    WAV_HEADER_BYTES,
    RecordingError,
    SessionCorrupt,
    SessionError,
    SessionFormatError,
    SessionNotFound,
    SessionWriter,
    atomic_write_json,
    fix_wav_header,
    newer_format_message,
    private_dir,
    read_wav_info,
)

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


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class SessionInfo:
    """One line of ``voice-interview sessions``."""

    id: str
    path: Path
    started_at: str
    status: str
    question_id: str | None = None
    question: str | None = None
    format_id: str | None = None
    ended_at: str | None = None
    audio_s: float = 0.0
    answers: int = 0
    wpm: float | None = None
    long_pauses: int | None = None
    fillers: int | None = None
    speaking_s: float | None = None
    coverage: float | None = None  # share of the rubric's parts the opening answer covered

    @classmethod
    def from_row(cls, row: dict) -> SessionInfo:
        return cls(
            id=row["id"], path=Path(row["path"]), started_at=row["started_at"],
            status=row["status"], question_id=row.get("question_id"),
            question=row.get("question_text"), format_id=row.get("format_id"),
            ended_at=row.get("ended_at"), audio_s=float(row.get("audio_s") or 0.0),
            answers=int(row.get("answers") or 0), wpm=row.get("wpm"),
            long_pauses=row.get("long_pauses"), fillers=row.get("fillers"),
            speaking_s=row.get("speaking_s"), coverage=row.get("coverage"),
        )

    def to_json(self) -> dict:
        def r(v, nd=2):
            return None if v is None else round(float(v), nd)

        return {
            "id": self.id, "path": str(self.path), "started_at": self.started_at,
            "ended_at": self.ended_at, "question_id": self.question_id,
            "question": self.question, "format_id": self.format_id, "status": self.status,
            "audio_s": r(self.audio_s), "answers": self.answers, "wpm": r(self.wpm, 1),
            "long_pauses": self.long_pauses, "fillers": self.fillers,
            "speaking_s": r(self.speaking_s), "coverage": r(self.coverage, 3),
        }


@dataclass(frozen=True)
class SessionData:
    """Everything recorded in one session folder, read without changing it.

    The audio is memory-mapped on demand (``candidate_audio()``), so opening a long
    session costs little. ``warnings`` says what was wrong but survivable (a torn
    last event line, a missing audio file...).
    """

    info: SessionInfo
    meta: dict
    summary: dict | None
    events: tuple[dict, ...]
    answers: tuple[dict, ...]
    candidate_path: Path | None
    interviewer_path: Path | None
    candidate_frames: int
    interviewer_frames: int
    live: bool = False  # still being recorded by another process
    warnings: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def path(self) -> Path:
        return self.info.path

    @property
    def status(self) -> str:
        return self.info.status

    @property
    def duration_s(self) -> float:
        """The session's length: the longer of the audio tracks and the last event."""
        last_event = max((float(e.get("t") or 0.0) for e in self.events), default=0.0)
        audio = max(self.candidate_frames, self.interviewer_frames) / SAMPLE_RATE
        return max(audio, last_event)

    @staticmethod
    def _map(path: Path | None, frames: int) -> np.ndarray:
        if path is None or frames <= 0:
            return np.zeros(0, dtype="<i2")
        return np.memmap(path, dtype="<i2", mode="r", offset=WAV_HEADER_BYTES, shape=(frames,))

    def candidate_pcm(self) -> np.ndarray:
        """The microphone track as int16, memory-mapped (16 kHz, session timeline)."""
        return self._map(self.candidate_path, self.candidate_frames)

    def interviewer_pcm(self) -> np.ndarray:
        return self._map(self.interviewer_path, self.interviewer_frames)

    def candidate_audio(self, start_s: float = 0.0, end_s: float | None = None) -> np.ndarray:
        """The microphone track (or a slice of it) as float32 in [-1, 1]."""
        pcm = self.candidate_pcm()
        a = max(0, int(start_s * SAMPLE_RATE))
        b = pcm.size if end_s is None else min(pcm.size, int(end_s * SAMPLE_RATE))
        return pcm[a:b].astype(np.float32) / 32768.0

    def events_of(self, *types: str) -> list[dict]:
        return [e for e in self.events if e.get("type") in types]


# ----------------------------------------------------------------------------- reading


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SessionCorrupt(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SessionCorrupt(f"{what} {path} is damaged (not valid JSON)") from None


def read_jsonl(path: Path) -> tuple[list[dict], list[str]]:
    """The objects of a JSON-lines file and warnings; a torn last line is dropped."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"cannot read {path.name}: {exc.strerror or exc}"]
    out: list[dict] = []
    warnings: list[str] = []
    lines = raw.split(b"\n")
    torn = lines.pop() if lines else b""  # after the last newline: "" when the file is whole
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            warnings.append(f"{path.name} line {number} is damaged; skipped")
            continue
        if isinstance(doc, dict):
            out.append(doc)
    if torn.strip():
        try:  # a complete object that only lacks its newline is kept
            doc = json.loads(torn)
            if isinstance(doc, dict):
                out.append(doc)
        except (json.JSONDecodeError, UnicodeDecodeError):
            warnings.append(f"{path.name}: the last line was cut off (torn write); dropped")
    return out, warnings


def _audio(path: Path, name: str, warnings: list[str], live: bool) -> tuple[Path | None, int]:
    if not path.exists():
        warnings.append(f"{name} is missing")
        return None, 0
    try:
        rate, header_frames, frames = read_wav_info(path)
    except SessionCorrupt as exc:
        warnings.append(str(exc))
        return None, 0
    except OSError as exc:
        warnings.append(f"cannot read {path}: {exc.strerror or exc}")
        return None, 0
    if rate != SAMPLE_RATE:
        warnings.append(f"{name}: unexpected sample rate {rate}")
        return None, 0
    if header_frames != frames and not live:
        warnings.append(f"{name}: header says {header_frames / SAMPLE_RATE:.1f} s, the file "
                        f"holds {frames / SAMPLE_RATE:.1f} s (truncated or not repaired)")
    return path, frames


def is_locked(folder: Path) -> bool:
    """Whether a live process is writing the session in ``folder``."""
    import fcntl

    try:
        fd = os.open(folder / LOCK, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # also releases our probe lock
    return False


def read_meta(folder: Path) -> dict:
    if not folder.is_dir():
        raise SessionNotFound(f"session folder {folder} is missing")
    meta = _read_json(folder / META, "session file")
    if meta is None:
        raise SessionCorrupt(f"{folder} is not a voice-interview session (no {META})")
    if not isinstance(meta, dict):
        raise SessionCorrupt(f"session file {folder / META} is damaged (not an object)")
    version = meta.get("format")
    if not isinstance(version, int):
        raise SessionCorrupt(f"session file {folder / META} is damaged (no format version)")
    if version > FORMAT_VERSION:
        raise SessionFormatError(newer_format_message(f"session {folder.name}", version,
                                                      FORMAT_VERSION))
    return meta


def answers_from_events(events: list[dict]) -> list[dict]:
    """answers.jsonl rows rebuilt from ``answer_scored`` events (when the file is lost)."""
    out: list[dict] = []
    for e in events:
        if e.get("type") == "answer_scored" and isinstance(e.get("analysis"), dict):
            out.append({"index": e.get("answer_index", len(out)),
                        "question_id": e.get("question_id"),
                        "prompt_text": e.get("prompt_text") or "", "kind": e.get("kind"),
                        "t": e.get("t"), "analysis": e["analysis"]})
    return out


def read_session(folder: Path, *, check_lock: bool = True) -> SessionData:
    """Read one session folder (no repair, no index). Raises SessionError subclasses.

    ``check_lock=False``: the caller is the writer itself, finishing (not "live").
    """
    folder = Path(folder)
    meta = read_meta(folder)
    warnings: list[str] = []
    live = is_locked(folder) if check_lock else False
    summary = None
    try:
        summary = _read_json(folder / SUMMARY, "summary")
    except SessionCorrupt as exc:
        warnings.append(str(exc))
    if summary is not None and not isinstance(summary, dict):
        warnings.append(f"{folder / SUMMARY} is damaged; ignored")
        summary = None
    if isinstance(summary, dict) and isinstance(summary.get("format"), int) \
            and summary["format"] > FORMAT_VERSION:
        raise SessionFormatError(newer_format_message(f"session {folder.name}",
                                                      summary["format"], FORMAT_VERSION))
    events, w = read_jsonl(folder / EVENTS)
    warnings += w
    answers, w = read_jsonl(folder / ANSWERS)
    warnings += w
    answers = [a for a in answers if isinstance(a.get("analysis"), dict) and "index" in a]
    if not answers:
        answers = answers_from_events(events)
    answers.sort(key=lambda a: a["index"])
    cand_path, cand_frames = _audio(folder / CANDIDATE_WAV, "the candidate's audio", warnings,
                                    live)
    voice_path, voice_frames = _audio(folder / INTERVIEWER_WAV, "the interviewer's audio",
                                      [], live)
    if live:
        status = "recording"
    elif summary:
        status = str(summary.get("status") or "complete")
    else:
        status = "interrupted"
    if not meta.get("question_text"):  # fall back on what the log says was asked
        asked = next((e for e in events if e.get("type") == "question_asked"), None)
        if asked is not None:
            meta = {**meta, "question_text": asked.get("text"),
                    "question_id": meta.get("question_id") or asked.get("question_id")}
    info = _info_from(folder, meta, summary, status, cand_frames, answers)
    return SessionData(info=info, meta=meta, summary=summary, events=tuple(events),
                       answers=tuple(answers), candidate_path=cand_path,
                       interviewer_path=voice_path, candidate_frames=cand_frames,
                       interviewer_frames=voice_frames, live=live, warnings=tuple(warnings))


def _info_from(folder: Path, meta: dict, summary: dict | None, status: str, frames: int,
               answers: list[dict]) -> SessionInfo:
    from voice_interview.session.index import answer_metrics

    ms = [answer_metrics(a["analysis"]) for a in answers]
    span = sum(m["duration_s"] or 0.0 for m in ms if m["words"])
    words = sum(m["words"] or 0 for m in ms)
    first = next((m for m in ms if m["parts_total"]), None)
    return SessionInfo(
        id=str(meta.get("id") or folder.name), path=folder.resolve(),
        started_at=str(meta.get("started_at") or ""), status=status,
        question_id=meta.get("question_id"), question=meta.get("question_text"),
        format_id=meta.get("format_id"),
        ended_at=(summary or {}).get("ended_at"), audio_s=frames / SAMPLE_RATE,
        answers=len(answers), wpm=60.0 * words / span if span > 0 and words else None,
        long_pauses=sum(m["long_pauses"] or 0 for m in ms) if ms else None,
        fillers=sum(m["fillers"] or 0 for m in ms) if ms else None,
        speaking_s=span if ms else None,
        coverage=first["parts_covered"] / first["parts_total"] if first else None,
    )


# ----------------------------------------------------------------------------- repair


def _drop_torn_tail(path: Path) -> bool:
    """Cut a JSON-lines file after its last newline; True if something was cut."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size == 0:
        return False
    with open(path, "r+b") as fh:
        fh.seek(max(0, size - 65536))
        tail = fh.read()
        if tail.endswith(b"\n"):
            return False
        cut = tail.rfind(b"\n")
        if cut < 0 and size > 65536:  # one enormous torn line: scan back further
            fh.seek(0)
            cut = fh.read().rfind(b"\n")
            keep = cut + 1
        else:
            keep = size - len(tail) + cut + 1
        fh.truncate(keep)
    return True


def repair_folder(folder: Path) -> list[str]:
    """Make an interrupted session whole again; returns what was done (for the summary)."""
    done: list[str] = []
    for name in (CANDIDATE_WAV, INTERVIEWER_WAV):
        path = folder / name
        if not path.exists():
            continue
        before = path.stat().st_size
        try:
            info = read_wav_info(path) if before >= WAV_HEADER_BYTES else None
        except SessionCorrupt:
            done.append(f"{name}: header unreadable; left as is")
            continue
        frames = fix_wav_header(path)
        if info is None or info[1] != frames or before != WAV_HEADER_BYTES + 2 * frames:
            done.append(f"{name}: header fixed ({frames / SAMPLE_RATE:.2f} s)")
    for name in (EVENTS, ANSWERS):
        if _drop_torn_tail(folder / name):
            done.append(f"{name}: torn last line dropped")
    return done


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
            summary = _read_json(folder / SUMMARY, "summary")
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
    from voice_interview.session.recorder import wav_frames_on_disk

    return round(wav_frames_on_disk(path) / SAMPLE_RATE, 3)


# ----------------------------------------------------------------------------- analyses


def shift_analysis(doc: dict, offset: float, span_end: float | None = None) -> dict:
    """A copy of an analyze JSON with its times moved by ``offset`` seconds.

    Use it when an answer was analysed on a slice of the session audio that starts
    at ``offset``: the result lines up with the session timeline, and ``span``
    records the slice (``span_end`` defaults to offset + the slice's duration).
    """
    out = copy.deepcopy(doc)

    def move(items, keys=("start", "end")):
        for item in items or ():
            for k in keys:
                if isinstance(item.get(k), int | float):
                    item[k] = round(item[k] + offset, 3)

    move(out.get("words"))
    move(out.get("speech_segments"))
    move(out.get("pauses"))
    move(out.get("windows"))
    move((out.get("structure") or {}).get("parts"), ("start",))
    duration = ((out.get("audio") or {}).get("duration_s")) or 0.0
    end = span_end if span_end is not None else offset + duration
    out["span"] = {"start": round(offset, 3), "end": round(end, 3)}
    return out


def save_analysis(path: str | Path, analysis, question, *, store: SessionStore | None = None,
                  model: str | None = None) -> str:
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
    doc = analysis.to_json() if hasattr(analysis, "to_json") else dict(analysis)
    doc = shift_analysis(doc, 0.0, audio.size / SAMPLE_RATE)
    end = round(audio.size / SAMPLE_RATE, 3)
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
