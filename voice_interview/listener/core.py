"""The live listening path: audio source -> VAD -> turn manager + transcriber -> events.

Two threads: the caller's thread runs ``run()``, which pulls 32 ms blocks from
the source and drives the (cheap) VAD and turn manager; a worker thread runs
Whisper. A speech segment is transcribed once, when the VAD closes it (with a
pre-roll so first syllables are not clipped); while a segment is in progress a
partial is made at most once per ``partial_interval_s`` (and no more often than
twice its own cost), only while speech is going on and only when the worker is
idle. A final can still wait for a partial that started just before its
segment closed: at most one partial call.

Revisions: segments decoded one by one lose their context (a short segment
invites inventions such as "I'm sorry, I'm sorry" in place of a clause), so the
answer's audio is decoded again in windows of consecutive segments (up to
``window_max_s``, closed at a long pause, once ``window_min_s`` of speech is in,
and at the end of the turn), each once, the way the offline chunker decodes a file
(the filler prompt on a turn's first window only). A ``TranscriptRevised``
replaces the finals of the segments it covers. The worker serves finals first,
then revisions, then partials; a revision the worker cannot start within
``revise_behind_s`` of its window's end is skipped (the segment finals stay) and
the user is told once per turn. A second tier (``polish``, on by default) decodes
the same stretch again in the batch's ~25 s windows on a model of its own and
replaces these revisions where it comes in time; nothing waits for it.

Guards against inventions on short audio live in ``decoding.SegmentDecoder``.

Events go to ``on_event`` from either thread; ``t`` is the audio timeline.
Half-duplex: ``mute()`` makes the listener treat incoming audio as silence
(the interviewer is speaking), until ``unmute(tail_s)``.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable

import numpy as np

from voice_interview.audio.sources import BLOCK, BLOCK_S, AudioSource
from voice_interview.audio.vad import (
    Segment,
    Segmenter,
    SileroVAD,
    SpeechGate,
    rms_dbfs,
)
from voice_interview.errors import VoiceInterviewError
from voice_interview.events import (
    EngineError,
    Event,
    Notice,
    TranscriptFinal,
    TranscriptPartial,
    TranscriptRevised,
    TurnEnded,
)
from voice_interview.listener.decoding import SegmentDecoder
from voice_interview.listener.polish import Polisher, polish_transcriber
from voice_interview.listener.settings import ListenerSettings, reviser_changes
from voice_interview.speech.transcriber import Transcriber, words_to_text
from voice_interview.turns import TurnManager, TurnSettings

log = logging.getLogger(__name__)

PRE_ROLL_S = 0.4
POST_ROLL_S = 0.15
WHISPER_WINDOW_S = 29.5  # a decode's audio, rolls included, fits one 30 s window
DROP_NOTICE_EVERY_S = 10.0  # lost audio is reported at most this often


# Worker priorities: finals first (the live transcript), then revisions, then partials.
_PRIORITY = {"final": 0, "revise": 1, "partial": 2}


class Listener:
    def __init__(
        self,
        source: AudioSource,
        transcriber: Transcriber,
        on_event: Callable[[Event], None],
        settings: ListenerSettings = ListenerSettings(),
        vad: SileroVAD | None = None,
        tap: Callable[[np.ndarray, float], None] | None = None,
        reviser: Transcriber | None = None,
    ):
        self.source = source
        if reviser is None and hasattr(transcriber, "variant"):
            changes = reviser_changes(settings)
            reviser = transcriber.variant(**changes) if changes else None
        self.decoder = SegmentDecoder(transcriber, reviser or transcriber, settings)
        self.polisher = (Polisher(polish_transcriber(transcriber, settings), settings,
                                  self._emit, lambda: self.position)
                         if settings.revise and settings.polish else None)
        self.tap = tap  # sees every raw block and its time first (the session recorder)
        self.transcriber = transcriber
        self.on_event = on_event
        self.s = settings
        self.vad = vad or SileroVAD()
        self.vad.reset()
        self.gate = SpeechGate(settings.vad)
        self.segmenter = Segmenter(settings.vad)
        self.turns = TurnManager(settings.turn)
        self.frames = 0  # frames consumed: position = frames * BLOCK_S
        self.muted = False
        self._unmute_at: float | None = None
        self._history: collections.deque[np.ndarray] = collections.deque(
            maxlen=int(settings.history_s / BLOCK_S)
        )
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._seq = 0  # submission order within a priority
        self._window: list[Segment] = []  # segments of this turn not yet revised
        self._revised: list[Segment] = []  # this turn's segments sent for revision
        self._turn_id = 0
        self._behind_noticed: set[int] = set()
        self.revisions_skipped = 0  # windows left as segment finals (fell behind)
        self._partial_cost = 0.0  # wall seconds the last partial took
        self._closing = False
        self._pending = 0  # transcription jobs submitted and not yet delivered
        self._pending_lock = threading.Lock()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards the turn manager (UI thread calls hold/end)
        self._last_partial = -1e9
        self.dropped_blocks = 0  # blocks the source lost because we fell behind
        self._drop_noticed_at = -1e9
        self._worker = threading.Thread(target=self._work, name="transcriber", daemon=True)

    # -- control (any thread) ----------------------------------------------------------

    @property
    def fabrications(self) -> int:
        """Inventions caught by the guards (the session summary counts them)."""
        return self.decoder.fabrications

    @property
    def revisions(self) -> int:
        """Windows revised."""
        return self.decoder.revisions

    @property
    def position(self) -> float:
        return self.frames * BLOCK_S

    def stop(self) -> None:
        self._stop.set()
        self.source.close()

    def hold(self, on: bool = True) -> None:
        with self._lock:
            self.turns.hold(on)

    def end_turn(self, reason: str = "user") -> None:
        with self._lock:
            self._close_open(turn_end=True)  # the words said so far belong to this turn
            events = self.turns.end_turn(reason)
        self._emit_all(events)

    def new_turn(self, settings: TurnSettings | None = None) -> None:
        with self._lock:
            self._close_window(turn_end=True)
            self.turns = TurnManager(settings or self.s.turn)
            self.turns.now = self.position
            self._turn_id += 1
            self._revised = []
            self.decoder.forget_before(self._turn_id - 1)
            if self.polisher is not None:
                self.polisher.forget_before(self._turn_id - 1)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every submitted transcription has been delivered (or timeout);
        not the polish, which never holds the session up."""
        deadline = time.monotonic() + timeout
        while self._pending:
            if time.monotonic() >= deadline or not self._worker.is_alive():
                return False
            time.sleep(0.01)
        return True

    def mute(self) -> None:
        """The interviewer is speaking: incoming audio is not the candidate."""
        self.muted = True
        self._unmute_at = None

    def unmute(self, tail_s: float = 0.3) -> None:
        self._unmute_at = self.position + tail_s

    def wait_unmuted(self, timeout: float) -> bool:
        """Wait until the mute tail is over (or timeout); True if the mic is live."""
        deadline = time.monotonic() + timeout
        while self.muted and self._worker.is_alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return not self.muted

    # -- main loop ----------------------------------------------------------------------

    def run(self) -> None:
        """Consume the source until it ends or ``stop()``; blocks the calling thread."""
        self._worker.start()
        if self.polisher is not None:
            self.polisher.start()
        try:
            for block in self.source.blocks():
                if self._stop.is_set():
                    break
                self._account_drops()
                self._frame(np.asarray(block, dtype=np.float32))
            self._finish()
        except VoiceInterviewError as exc:
            self._flush_segment()  # what was said before the source failed still counts
            self._emit(EngineError(self.position, message=str(exc), fatal=True,
                                   exit_code=exc.exit_code))
        except Exception as exc:  # never die silently: the session must hear about it
            log.exception("the listener stopped")
            self._flush_segment()
            self._emit(EngineError(self.position, message=f"listening stopped: {exc}",
                                   fatal=True))
        finally:
            self._closing = True  # later submissions would never run: refuse them
            self._jobs.put((9, 0, None))  # after every job still queued
            self._worker.join()
            if self.polisher is not None:
                self.polisher.join()

    def _account_drops(self) -> None:
        """Blocks the microphone dropped (we fell behind) are skipped time: the
        clock moves past them so the session timeline stays on the wall clock,
        and the user hears about it, at most every DROP_NOTICE_EVERY_S."""
        dropped = getattr(self.source, "dropped_blocks", 0)
        new = dropped - self.dropped_blocks
        if new <= 0:
            return
        self.dropped_blocks = dropped
        with self._lock:  # silence in their place, so history stays aligned with the clock
            silence = np.zeros(BLOCK, dtype=np.float32)
            self._history.extend([silence] * min(new, self._history.maxlen or new))
            self.frames += new
        if self.position - self._drop_noticed_at >= DROP_NOTICE_EVERY_S:
            self._drop_noticed_at = self.position
            self._emit(Notice(self.position, level="warning", message=(
                f"the computer fell behind the microphone: {dropped * BLOCK_S:.1f} s of audio "
                "skipped so far, so some words may be missing")))

    def _flush_segment(self) -> None:
        with self._lock:
            self._close_open()

    def _close_open(self, turn_end: bool = False) -> None:
        """The segment in progress as a final, and the open window to revise
        (called with ``_lock`` held)."""
        seg = self.segmenter.flush()
        if seg is not None:
            self._submit_final(seg)
        self._close_window(turn_end)

    def _frame(self, block: np.ndarray) -> None:
        t = self.position
        if self.tap is not None:
            self.tap(block, t)
        unmute_at = self._unmute_at  # read once: mute() may change it meanwhile
        if unmute_at is not None and t >= unmute_at:
            self.muted, self._unmute_at = False, None
        if self.muted:
            block = np.zeros(BLOCK, dtype=np.float32)
        prob = float(self.vad.probs(block)[0])
        level = float(rms_dbfs(block[None, :])[0])
        speech = self.gate.update(prob, level)
        # One lock with end_turn(): a turn ended from the UI thread closes the
        # segment in progress itself, so its words are never lost.
        with self._lock:
            self._history.append(block)
            self.frames += 1  # with the history: end_turn() sees the two agree
            seg = self.segmenter.push(t, speech, level, prob)
            if seg is not None:  # before the turn events, so waiting on it always works
                self._submit_final(seg)
            elif (self._window and not self.segmenter.in_segment
                  and t + BLOCK_S - self._window[-1].end >= self.s.window_pause_s
                  and self._window[-1].end - self._window[0].start >= self.s.window_pause_min_s):
                self._close_window()  # a long pause: revise what came before it
            events = self.turns.on_frame(t, speech)
            if any(isinstance(e, TurnEnded) for e in events):
                self._close_window(turn_end=True)
        self._emit_all(events)
        if seg is None and self.segmenter.in_segment:
            start = self.segmenter.segment_start
            if start is None:
                return
            if t + BLOCK_S - start >= self.s.max_segment_s:
                with self._lock:
                    cut = self.segmenter.flush()
                    if cut is not None:
                        self._submit_final(cut)
            elif (
                speech  # a partial started in a silence would delay the coming final
                and t - self._last_partial >= self._partial_gap()
                and t - start >= self.s.partial_interval_s
                and not self._pending
            ):
                self._last_partial = t
                self._submit("partial", start, t + BLOCK_S, self._audio(start, t + BLOCK_S))

    def _partial_gap(self) -> float:
        """Seconds between partials: at least the setting, and at least twice what a
        partial costs here, so the worker stays mostly free for finals."""
        return max(self.s.partial_interval_s, 2.0 * self._partial_cost)

    def _finish(self) -> None:
        with self._lock:
            self._close_open(turn_end=True)
            events = self.turns.end_turn("source_ended")
        self._emit_all(events)

    def _submit_final(self, seg: Segment) -> None:
        """A closed segment: its final now, and its place in a revision window
        (called with ``_lock`` held)."""
        audio = self._audio(seg.start - PRE_ROLL_S, seg.end + POST_ROLL_S)
        self._submit("final", seg.start, seg.end, audio, (seg,))
        if not self.s.revise:
            return
        polisher = self.polisher
        if polisher is not None and polisher.outgrown_by(seg):
            self._close_window(turn_end=True)  # (both tiers) each fast window in one polish
        if self._window and seg.end - self._window[0].start > self.s.window_max_s:
            self._close_window()
        self._window.append(seg)
        if polisher is not None and polisher.add(seg):
            self._close_window(turn_end=True)
        elif seg.end - self._window[0].start >= self.s.window_min_s:
            self._close_window()

    def _close_window(self, turn_end: bool = False) -> None:
        """Submit the open window's revision; ``turn_end``: the open polish window's
        too (called with ``_lock`` held)."""
        if self._window:
            self._revise_window()
        if turn_end and self.polisher is not None:
            self._polish(self.polisher.flush())

    def _polish(self, segs: tuple[Segment, ...] | None) -> None:
        if segs and self.polisher is not None and not self._closing:
            audio = self._audio(segs[0].start - PRE_ROLL_S, segs[-1].end + POST_ROLL_S)
            self.polisher.submit(audio, segs, self._turn_id)

    def _revise_window(self) -> None:
        segs, self._window = tuple(self._window), []
        begin = segs[0].start - PRE_ROLL_S
        ctx: tuple[Segment, ...] = ()
        # The speech before it in this turn, as context, within one Whisper window.
        reach = min(self.s.revise_overlap_s, WHISPER_WINDOW_S - (segs[-1].end - begin))
        if reach > 0:
            ctx = tuple(g for g in self._revised if g.end > segs[0].start - reach)
            if ctx:
                begin = max(ctx[0].start, segs[0].start - reach) - PRE_ROLL_S
        self._revised = [*self._revised[-20:], *segs]
        audio = self._audio(begin, segs[-1].end + POST_ROLL_S)
        self._submit("revise", segs[0].start, segs[-1].end, audio, segs, ctx)

    def _submit(self, kind: str, start: float, end: float, audio,
                segs: tuple[Segment, ...] = (), ctx: tuple[Segment, ...] = ()) -> None:
        if self._closing:
            return
        with self._pending_lock:
            self._pending += 1
            self._seq += 1
            seq = self._seq
        self._jobs.put((_PRIORITY[kind], seq, (kind, start, end, audio, segs, self._turn_id, ctx)))

    def _audio(self, start: float, end: float) -> tuple[float, np.ndarray]:
        """Audio between two timeline points, from the bounded history."""
        hist_start = self.position - len(self._history) * BLOCK_S
        start = max(start, hist_start, 0.0)
        end = min(end, self.position)
        blocks = list(self._history)
        i = int(round((start - hist_start) / BLOCK_S))
        j = int(round((end - hist_start) / BLOCK_S))
        samples = np.concatenate(blocks[i:j]) if j > i else np.zeros(0, np.float32)
        return hist_start + i * BLOCK_S, samples

    # -- transcription worker -------------------------------------------------------------

    def _work(self) -> None:
        while True:
            _prio, _seq, job = self._jobs.get()
            if job is None:
                return
            try:
                self._run_job(*job)
            finally:  # only once its event is out does a job stop counting as pending
                with self._pending_lock:
                    self._pending -= 1

    def _run_job(self, kind: str, seg_start: float, seg_end: float, audio,
                 segs: tuple[Segment, ...], turn: int, ctx: tuple[Segment, ...]) -> None:
        offset, samples = audio
        words, text = [], ""
        try:
            if kind == "final":
                words = self.decoder.final(samples, offset, seg_start, seg_end)
            elif kind == "revise":
                self._revise(samples, offset, segs, turn, ctx)
                return
            else:
                t0 = time.monotonic()
                text = self.transcriber.transcribe_text(samples)
                self._partial_cost = time.monotonic() - t0
        except VoiceInterviewError as exc:
            self._emit(EngineError(self.position, message=str(exc)))
        except Exception as exc:  # Whisper itself failed: report, keep listening
            if kind == "revise":  # the segment finals stand
                log.exception("revising %.2f-%.2f s failed", seg_start, seg_end)
                return
            self._emit(EngineError(self.position, message=f"transcription failed: {exc}"))
        if kind == "final":
            # Words over the pre-roll that belong to the previous segment are dropped.
            kept = tuple(w for w in words if w.end > seg_start - 0.1)
            self._emit(TranscriptFinal(
                self.position, segment_start=seg_start, segment_end=seg_end,
                text=words_to_text(list(kept)), words=kept,
            ))
        elif text:
            self._emit(TranscriptPartial(self.position, segment_start=seg_start, text=text))

    def _revise(self, samples, offset: float, segs: tuple[Segment, ...], turn: int,
                ctx: tuple[Segment, ...] = ()) -> None:
        start, end = segs[0].start, segs[-1].end
        late = self.position - end
        if late > self.s.revise_behind_s:  # fell behind: the segment finals stay
            self.revisions_skipped += 1
            log.warning("revision of %.2f-%.2f s skipped: %.1f s behind", start, end, late)
            if turn not in self._behind_noticed:
                self._behind_noticed.add(turn)
                self._emit(Notice(self.position, level="warning", message=(
                    "the computer is too busy to re-check the transcript in context; "
                    "the first-pass words stand for part of this answer")))
            return
        words, text = self.decoder.revise(samples, offset, segs, turn, ctx)
        event = TranscriptRevised(self.position, start=start, end=end, words=words, text=text)
        if self.polisher is None:
            self._emit(event)
            return
        with self.polisher.publish_lock:  # never after the polish of its stretch
            if not self.polisher.overtook(start, end):
                self._emit(event)

    # -- output ----------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        try:
            self.on_event(event)
        except Exception:  # a broken consumer must not kill the audio loop
            log.exception("event consumer failed on %s", event.type)

    def _emit_all(self, events: list[Event]) -> None:
        for e in events:
            self._emit(e)


def listen_to_end(source: AudioSource, transcriber: Transcriber,
                  settings: ListenerSettings = ListenerSettings()) -> list[Event]:
    """Run a whole source through the listener and return every event (tests, demos)."""
    events: list[Event] = []
    lock = threading.Lock()

    def collect(e: Event) -> None:
        with lock:
            events.append(e)

    Listener(source, transcriber, collect, settings).run()
    return events
