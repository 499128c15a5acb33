"""The second tier of revisions: a slower long-context polish (on by default).

The fast revisions (``core``) decode short windows greedily so they are ready
about a second after their window ends. The polish decodes the same stretch again
as the batch chunker does — windows of up to ~25 s of consecutive segments, closed
by span only (a fast window is closed where a polish window is, so each lies inside one),
beam 5 with the temperature fallback, the filler prompt on the turn's first window
only — on a model of its own (``polish_threads`` CPU threads, so the finals are not
queued behind a decode of several seconds), and publishes a ``TranscriptRevised``
with ``polish=True`` that replaces the fast revisions (and finals) inside it.

It never holds the session up: ``Listener.wait_idle`` does not wait for it, so the
turn's scored answer has whatever polish is in by then; a polish that cannot start
within ``polish_behind_s`` of its window's end is skipped and counted.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from voice_interview.audio.vad import Segment
from voice_interview.events import Event, TranscriptRevised
from voice_interview.listener.decoding import SegmentDecoder
from voice_interview.listener.settings import ListenerSettings, polish_changes
from voice_interview.speech.transcriber import Transcriber

log = logging.getLogger("voice_interview.listener")


def polish_transcriber(transcriber: Transcriber, settings: ListenerSettings) -> Transcriber:
    """A model of its own for the polish (the live one serves one call at a time)."""
    from voice_interview.speech.transcriber import WhisperTranscriber

    if not isinstance(transcriber, WhisperTranscriber):
        return transcriber  # a test double: shared
    return WhisperTranscriber(replace(transcriber.settings, **polish_changes(settings)))


class Polisher:
    """Gathers segments into polish windows and decodes them on its own thread."""

    def __init__(self, transcriber: Transcriber, settings: ListenerSettings,
                 emit: Callable[[Event], None], position: Callable[[], float]):
        self.s = settings
        plain = replace(settings, revise_filler_all=False, revise_context=False,
                        revise_filler_start=False)
        self.decoder = SegmentDecoder(transcriber, transcriber, plain)
        self.emit = emit
        self.position = position  # the listener's audio timeline, now
        self._segs: list[Segment] = []  # fast windows joined, not yet polished
        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="polisher", daemon=True)
        self.polished = 0  # polish windows decoded
        self.skipped = 0  # polish windows left to the fast revisions (fell behind)
        self.costs: list[float] = []  # wall seconds per polish decode
        # Every consumer gets a window's fast revision before its polish: the two are
        # published under one lock, and a fast revision a polish has overtaken is dropped.
        self.publish_lock = threading.Lock()
        self._done: list[tuple[float, float]] = []  # spans polished (the last few)
        self._working = False  # a window being decoded now

    @property
    def busy(self) -> bool:
        """A window queued or being decoded."""
        return self._working or not self._jobs.empty()

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        """Decode what is queued, then stop (the source has ended)."""
        self._jobs.put(None)
        self._thread.join()

    def forget_before(self, turn: int) -> None:
        self.decoder.forget_before(turn)

    def outgrown_by(self, seg: Segment) -> bool:
        """Whether ``seg`` would make the open polish window span over ``window_max_s``."""
        return bool(self._segs) and seg.end - self._segs[0].start > self.s.window_max_s

    def add(self, seg: Segment) -> bool:
        """A closed segment joins the open polish window; True once it spans
        ``polish_min_s`` (the window is to be decoded now)."""
        self._segs.append(seg)
        return seg.end - self._segs[0].start >= self.s.polish_min_s

    def flush(self) -> tuple[Segment, ...] | None:
        """The open polish window (the turn ended), if any."""
        segs, self._segs = tuple(self._segs), []
        return segs or None

    def submit(self, audio: tuple[float, Any], segs: tuple[Segment, ...], turn: int) -> None:
        self._jobs.put((audio, segs, turn))

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            (offset, samples), segs, turn = job
            start, end = segs[0].start, segs[-1].end
            late = self.position() - end
            if late > self.s.polish_behind_s:
                self.skipped += 1
                log.warning("polish of %.2f-%.2f s skipped: %.1f s behind", start, end, late)
                continue
            t0 = time.monotonic()
            self._working = True
            try:
                words, text = self.decoder.revise(samples, offset, segs, turn)
            except Exception:  # the fast revisions stand
                log.exception("polishing %.2f-%.2f s failed", start, end)
                continue
            finally:
                self._working = False
            self.costs.append(time.monotonic() - t0)
            self.polished += 1
            with self.publish_lock:
                self._done = [*self._done[-20:], (start, end)]
                self.emit(TranscriptRevised(self.position(), start=start, end=end,
                                            words=words, text=text, polish=True))

    def overtook(self, start: float, end: float) -> bool:
        """Whether a polish already replaced this span (call with ``publish_lock`` held)."""
        return any(a - 0.05 <= start and end <= b + 0.05 for a, b in self._done)
