"""Reading a recorded session folder, without changing it: ``SessionData``, ``SessionInfo``.

``read_session`` trusts what is on disk: a torn last log line is dropped with a
warning, a WAV file's size wins over its header, a lost answers.jsonl is rebuilt
from the event log. The folder's format is described in ``session.recorder``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voice_interview.session.files import (
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
    SessionCorrupt,
    SessionFormatError,
    SessionNotFound,
    newer_format_message,
    read_wav_info,
)

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


def read_json(path: Path, what: str) -> Any:
    """A JSON file's content, None if it is missing; damaged: SessionCorrupt."""
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
    meta = read_json(folder / META, "session file")
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
    return latest_per_index(out)


def latest_per_index(rows: list[dict]) -> list[dict]:
    """One row per answer index, the last written (an answer scored again after a
    late polish is appended, never rewritten in place)."""
    return list({r["index"]: r for r in rows}.values())


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
        summary = read_json(folder / SUMMARY, "summary")
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
    answers = latest_per_index([a for a in answers
                                if isinstance(a.get("analysis"), dict) and "index" in a])
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
