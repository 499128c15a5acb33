"""The session folder's on-disk format: file names, errors, private files, WAV headers.

The format itself (what each file holds, how it survives a crash) is described in
``session.recorder``, which writes it; ``session.reader`` reads it.
"""

from __future__ import annotations

import errno
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from voice_interview.errors import VoiceInterviewError

FORMAT_VERSION = 1
SAMPLE_RATE = 16_000

META = "session.json"
SUMMARY = "summary.json"
CANDIDATE_WAV = "candidate.wav"
INTERVIEWER_WAV = "interviewer.wav"
EVENTS = "events.jsonl"
ANSWERS = "answers.jsonl"
LOCK = ".lock"

WAV_HEADER_BYTES = 44
DIR_MODE = 0o700
FILE_MODE = 0o600


# ----------------------------------------------------------------------------- errors


class SessionError(VoiceInterviewError):
    """A recorded session that cannot be found, read or written."""

    exit_code = 9


class SessionNotFound(SessionError):
    pass


class SessionCorrupt(SessionError):
    pass


class SessionFormatError(SessionError):
    """Written by a newer voice-interview than this one."""


class RecordingError(SessionError):
    """Recording stopped (disk full, or the session files became unwritable)."""

    disk_full = False


def newer_format_message(what: str, found: int, known: int) -> str:
    return (f"{what} was written by a newer voice-interview (format {found}; this version "
            f"reads up to {known}); upgrade voice-interview to open it")


# ----------------------------------------------------------------------------- files


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def open_private(path: Path, flags: int) -> int:
    fd = os.open(path, flags | os.O_CLOEXEC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def atomic_write_json(path: Path, doc: Any) -> None:
    """Write JSON to ``path`` via a private temp file, fsync and rename (never half a file)."""
    data = (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_all(fd: int, data: bytes | memoryview) -> int:
    """``os.write`` until all is written; on error the bytes already written stay counted."""
    view = memoryview(data)
    done = 0
    while done < len(view):
        try:
            n = os.write(fd, view[done:])
        except OSError as exc:
            exc.written = done  # type: ignore[attr-defined]
            raise
        if n == 0:  # pragma: no cover - regular files do not return 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        done += n
    return done


def wav_header(frames: int, rate: int = SAMPLE_RATE) -> bytes:
    data = frames * 2
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", data))


def wav_frames_on_disk(path: Path) -> int:
    """Whole 16-bit frames in a WAV file, by its size (the header may lag after a crash)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    return max(0, size - WAV_HEADER_BYTES) // 2


def read_wav_info(path: Path) -> tuple[int, int, int]:
    """(sample rate, frames in the header, frames on disk) of one of our WAV files."""
    with open(path, "rb") as fh:
        head = fh.read(WAV_HEADER_BYTES)
    if (len(head) < WAV_HEADER_BYTES or head[:4] != b"RIFF" or head[8:12] != b"WAVE"
            or head[12:16] != b"fmt " or head[36:40] != b"data"):
        raise SessionCorrupt(f"{path} is not a 16-bit PCM WAV file written by voice-interview")
    _size, fmt, channels, rate, _bps, _align, bits = struct.unpack("<IHHIIHH", head[16:36])
    if fmt != 1 or channels != 1 or bits != 16:
        raise SessionCorrupt(f"{path}: expected mono 16-bit PCM")
    header_frames = struct.unpack("<I", head[40:44])[0] // 2
    return rate, header_frames, wav_frames_on_disk(path)


def fix_wav_header(path: Path, rate: int = SAMPLE_RATE) -> int:
    """Make the header agree with the data on disk (dropping a torn half sample); frames."""
    size = path.stat().st_size
    if size < WAV_HEADER_BYTES:  # died before the header was complete
        with open(path, "r+b") as fh:
            fh.truncate(0)
            fh.write(wav_header(0, rate))
        return 0
    frames = (size - WAV_HEADER_BYTES) // 2
    with open(path, "r+b") as fh:
        if size != WAV_HEADER_BYTES + 2 * frames:
            fh.truncate(WAV_HEADER_BYTES + 2 * frames)
        fh.seek(4)
        fh.write(struct.pack("<I", 36 + 2 * frames))
        fh.seek(40)
        fh.write(struct.pack("<I", 2 * frames))
    return frames


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    return (np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2")
