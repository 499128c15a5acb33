"""Recording one session to disk, crash-safe: ``SessionWriter`` and the on-disk format.

A session is a directory (0700) holding private files (0600):

``session.json``     what the session is (format version, id, question, voice, ...);
                     written once, atomically, when the session starts
``candidate.wav``    the microphone, 16 kHz mono 16-bit PCM on the session timeline
                     (t = 0 at session start, so events' ``t`` line up with it)
``interviewer.wav``  the interviewer's voice, resampled to 16 kHz and placed at its
                     ``t_start`` on the same timeline (the silence between is a sparse hole)
``events.jsonl``     append-only event log, one JSON object per line, written with one
                     ``write()`` per event (so a completed event survives ``kill -9``)
``answers.jsonl``    one line per scored answer (what ``add_answer`` put in the index); an
                     answer scored again (a late polish) gets a later line, which wins
``summary.json``     written at the end; its absence means the session never finished
``.lock``            ``flock``-ed by the writing process for the session's lifetime

Audio: ``write_candidate`` (the audio thread, every 32 ms) only converts the block to
16-bit PCM and queues it; a background thread writes the queue every ``FLUSH_S``
and then fixes the WAV header, so the file is always playable and ``kill -9`` loses
at most ``FLUSH_S`` plus one block. ``os.write`` puts the bytes in the kernel's page
cache (they survive the process); ``fsync`` runs every few seconds and at the end.
After a crash the header may lag the data by one flush: the store's repair (and
every reader) trusts the file size over the header.

Disk full: the failing write stops the recording, the header is fixed to what did
reach the disk, and the next call raises ``RecordingError``. Everything written
before stays playable.

FAULT INJECTION (tests only): ``SessionWriter.fault_hook``, when set, is called as
``hook(file_name, nbytes)`` before every write and may raise ``OSError(ENOSPC)`` to
simulate a full disk, a fault a test cannot produce for real without root mounts.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from voice_interview.session.files import (
    ANSWERS,
    CANDIDATE_WAV,
    EVENTS,
    INTERVIEWER_WAV,
    LOCK,
    META,
    SAMPLE_RATE,
    WAV_HEADER_BYTES,
    RecordingError,
    atomic_write_json,
    open_private,
    to_pcm16,
    wav_frames_on_disk,
    wav_header,
    write_all,
)

# The format's names and errors live in session.files (import them from there).

FLUSH_S = 0.25  # candidate audio reaches the file at least this often
FSYNC_S = 5.0  # ... and the disk itself this often


# ----------------------------------------------------------------------------- WAV on disk


class _Wav:
    """A 16 kHz mono 16-bit WAV being written; ``frames`` are the frames on disk."""

    def __init__(self, path: Path, hook: Callable[[str, int], None]) -> None:
        self.path = path
        self.frames = 0
        self._hook = hook
        self.fd = open_private(path, os.O_RDWR | os.O_CREAT | os.O_EXCL)
        try:
            self._hook(path.name, WAV_HEADER_BYTES)
            write_all(self.fd, wav_header(0))
        except OSError:
            os.close(self.fd)
            raise
        self._header_frames = 0

    def append(self, data: bytes) -> None:
        self.write_at(self.frames, data)

    def write_at(self, frame: int, data: bytes) -> None:
        """Write PCM bytes at ``frame`` (past the end leaves a sparse, silent hole)."""
        try:
            self._hook(self.path.name, len(data))
            written = 0
            view = memoryview(data)
            while written < len(view):
                n = os.pwrite(self.fd, view[written:], WAV_HEADER_BYTES + 2 * frame + written)
                if n == 0:  # pragma: no cover
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                written += n
        except OSError:
            # Keep what reached the disk: whole frames up to the current end of file.
            self.frames = max(self.frames, wav_frames_on_disk(self.path))
            raise
        self.frames = max(self.frames, frame + len(data) // 2)

    def read_at(self, frame: int, count: int) -> np.ndarray:
        count = max(0, min(count, self.frames - frame))
        raw = os.pread(self.fd, 2 * count, WAV_HEADER_BYTES + 2 * frame)
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")

    def fix_header(self) -> None:
        if self.frames == self._header_frames:
            return
        data = 2 * self.frames
        # Plain pwrite: the header exists, so no new blocks are needed for it.
        os.pwrite(self.fd, struct.pack("<I", 36 + data), 4)
        os.pwrite(self.fd, struct.pack("<I", data), 40)
        self._header_frames = self.frames

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.fix_header()
        with contextlib.suppress(OSError):
            os.fsync(self.fd)
        os.close(self.fd)


# ----------------------------------------------------------------------------- writer


class SessionWriter:
    """Writes one session as it happens. Thread-safe; see the module docstring.

    Created by ``SessionStore.create(meta)``; ``meta`` is written to session.json.
    ``on_finish(writer, summary, status)``
    is how the store hears the end (to write the summary and update the index), and
    ``on_answer(writer, row)`` how an answer reaches the index.
    """

    fault_hook: Callable[[str, int], None] | None = None  # FAULT INJECTION (tests only)

    def __init__(self, session_id: str, path: Path, meta: dict, *,
                 on_answer: Callable[[SessionWriter, dict], None] | None = None,
                 on_finish: Callable[[SessionWriter, dict, str], None] | None = None,
                 fault_hook: Callable[[str, int], None] | None = None) -> None:
        self.id = session_id
        self.path = Path(path)
        self.meta = meta
        self._on_answer = on_answer
        self._on_finish = on_finish
        if fault_hook is not None:
            self.fault_hook = fault_hook
        self._lock = threading.Lock()  # pending candidate audio
        self._io_lock = threading.Lock()  # candidate file
        self._event_lock = threading.Lock()
        self._voice_lock = threading.Lock()
        self._pending: list[bytes] = []
        self._received = 0  # candidate frames accepted (written + pending)
        self._failed: RecordingError | None = None
        self._finished = False
        self._t0 = time.monotonic()
        # The lock comes first: a folder with a session.json and a free lock is,
        # to every other process, a session whose writer died.
        self._lock_fd = open_private(self.path / LOCK, os.O_RDWR | os.O_CREAT)
        import fcntl

        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        opened: list[int] = [self._lock_fd]
        try:
            self._check_fault(META, 0)
            atomic_write_json(self.path / META, meta)
            self._candidate = _Wav(self.path / CANDIDATE_WAV, self._check_fault)
            opened.append(self._candidate.fd)
            self._voice = _Wav(self.path / INTERVIEWER_WAV, self._check_fault)
            opened.append(self._voice.fd)
            self._events_fd = open_private(self.path / EVENTS,
                                           os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            opened.append(self._events_fd)
            self._answers_fd = open_private(self.path / ANSWERS,
                                            os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        except OSError as exc:
            for fd in reversed(opened):
                os.close(fd)
            raise self._error(exc, "start the recording") from None
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name=f"recorder-{session_id}",
                                         daemon=True)
        self._flusher.start()

    # -- context manager ---------------------------------------------------------------

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            reason = str(exc) or exc_type.__name__
            if isinstance(exc, KeyboardInterrupt):
                reason = "interrupted by the user"
            self.abort(reason)
        elif not self._finished:
            self.finish({}, status="complete")

    # -- state -----------------------------------------------------------------------

    @property
    def failed(self) -> RecordingError | None:
        """The error that stopped the recording (disk full...), or None."""
        return self._failed

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def candidate_s(self) -> float:
        """Seconds of candidate audio received so far (the session clock, audio-wise)."""
        return self._received / SAMPLE_RATE

    def now(self) -> float:
        """Seconds since the session started (wall clock)."""
        return time.monotonic() - self._t0

    def _check_fault(self, name: str, nbytes: int) -> None:
        hook = self.fault_hook
        if hook is not None:
            hook(name, nbytes)

    def _error(self, exc: OSError, doing: str) -> RecordingError:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            kept = self._candidate.frames / SAMPLE_RATE if hasattr(self, "_candidate") else 0
            err = RecordingError(f"the disk is full: recording stopped after {kept:.1f} s; "
                                 f"what was captured is kept in {self.path}")
            err.disk_full = True
            return err
        return RecordingError(f"cannot {doing} in {self.path}: {exc.strerror or exc}")

    def _fail(self, exc: OSError, doing: str) -> RecordingError:
        if self._failed is None:
            self._failed = self._error(exc, doing)
            with contextlib.suppress(OSError):
                self._candidate.fix_header()
            with contextlib.suppress(OSError):
                self._voice.fix_header()
        return self._failed

    # -- audio ----------------------------------------------------------------------

    def write_candidate(self, block: np.ndarray, t: float | None = None) -> None:
        """Queue one block of 16 kHz float32 microphone audio (cheap; never blocks on disk).

        ``t``, if given, is where the block starts on the session timeline: a gap
        (dropped blocks) is filled with silence and an overlap is cut, so the audio
        stays aligned with the events.
        """
        if self._failed is not None:
            raise self._failed
        if self._finished:
            return
        pcm = to_pcm16(block)
        with self._lock:
            if t is not None:
                at = int(round(t * SAMPLE_RATE))
                if at > self._received:
                    gap = at - self._received
                    self._pending.append(bytes(2 * gap))
                    self._received += gap
                elif at < self._received:
                    pcm = pcm[self._received - at:]
            if pcm.size:
                self._pending.append(pcm.tobytes())
                self._received += pcm.size

    def write_interviewer(self, samples: np.ndarray, rate: int, t_start: float) -> None:
        """Record the interviewer's speech, placed at ``t_start`` on the session timeline."""
        if self._failed is not None:
            raise self._failed
        if self._finished:
            return
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if int(rate) != SAMPLE_RATE:
            from voice_interview.audio.playback import resample

            x = resample(x, int(rate), SAMPLE_RATE)
        if x.size == 0:
            return
        start = max(0, int(round(t_start * SAMPLE_RATE)))
        with self._voice_lock:
            overlap = self._voice.read_at(start, x.size) if start < self._voice.frames else None
            pcm = to_pcm16(x)
            if overlap is not None and overlap.size:
                mixed = pcm[: overlap.size].astype(np.int32) + overlap.astype(np.int32)
                pcm[: overlap.size] = np.clip(mixed, -32768, 32767).astype("<i2")
            try:
                self._voice.write_at(start, pcm.tobytes())
                self._voice.fix_header()
            except OSError as exc:
                raise self._fail(exc, "write the interviewer's audio") from None
        self.log_event({"type": "interviewer_audio", "t": round(start / SAMPLE_RATE, 3),
                        "end": round((start + x.size) / SAMPLE_RATE, 3),
                        "duration_s": round(x.size / SAMPLE_RATE, 3)})

    def flush(self) -> None:
        """Write the queued candidate audio now and fix the header (also done every FLUSH_S)."""
        with self._lock:
            chunks, self._pending = self._pending, []
        if not chunks:
            return
        with self._io_lock:
            if self._failed is not None:
                return
            try:
                self._candidate.append(b"".join(chunks))
                self._candidate.fix_header()
            except OSError as exc:
                self._fail(exc, "write the candidate's audio")

    def _flush_loop(self) -> None:
        last_sync = time.monotonic()
        while not self._stop.wait(FLUSH_S):
            self.flush()
            if time.monotonic() - last_sync >= FSYNC_S and self._failed is None:
                last_sync = time.monotonic()
                for fd in (self._candidate.fd, self._events_fd):
                    with contextlib.suppress(OSError):
                        os.fdatasync(fd)

    # -- events and answers ----------------------------------------------------------

    def log_event(self, doc: Any) -> None:
        """Append one event (a dict, or an Event with ``to_json()``) as a JSON line."""
        if hasattr(doc, "to_json"):
            doc = doc.to_json()
        line = (json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str)
                + "\n").encode("utf-8")
        with self._event_lock:
            if self._failed is not None:
                raise self._failed
            if self._finished:
                return
            try:
                self._check_fault(EVENTS, len(line))
                write_all(self._events_fd, line)
            except OSError as exc:
                raise self._fail(exc, "write the event log") from None

    def add_answer(self, index: int, question_id: str | None, prompt_text: str, kind: str,
                   analysis_json: dict) -> None:
        """Store one scored answer: a line in answers.jsonl, then a row in the index.

        ``analysis_json`` is the analyze JSON of the answer with its times on the
        session timeline (``AnswerAnalysis.shifted`` moves a slice's times there).
        ``kind`` says what was answered: "question" (the opening) or "probe".
        """
        row = {"index": int(index), "question_id": question_id, "prompt_text": prompt_text,
               "kind": kind, "t": round(self.candidate_s, 3), "analysis": analysis_json}
        line = (json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str)
                + "\n").encode("utf-8")
        with self._event_lock:
            if self._failed is not None:
                raise self._failed
            try:
                self._check_fault(ANSWERS, len(line))
                write_all(self._answers_fd, line)
            except OSError as exc:
                raise self._fail(exc, "write the answers") from None
        if self._on_answer is not None:
            self._on_answer(self, row)

    # -- the end ---------------------------------------------------------------------

    def finish(self, summary: dict | None = None, status: str = "complete") -> None:
        """Flush everything, write summary.json, update the index, release the session."""
        if self._finished:
            return
        self._stop.set()
        self._flusher.join()
        self.flush()
        if self._failed is not None and status in ("complete", "aborted"):
            status = "disk_full" if self._failed.disk_full else "failed"
        with self._event_lock:
            self._finished = True
        with self._io_lock:
            self._candidate.close()
        with self._voice_lock:
            self._voice.close()
        for fd in (self._events_fd, self._answers_fd):
            with contextlib.suppress(OSError):
                os.fsync(fd)
            os.close(fd)
        try:
            if self._on_finish is not None:
                self._on_finish(self, dict(summary or {}), status)
        finally:
            os.close(self._lock_fd)  # releases the flock

    def abort(self, reason: str) -> None:
        """End the session early (an error, Ctrl-C); keeps everything captured."""
        if self._finished:
            return
        with contextlib.suppress(RecordingError):
            self.log_event({"type": "session_aborted", "t": round(self.candidate_s, 3),
                            "reason": reason})
        self.finish({"reason": reason}, status="aborted")
