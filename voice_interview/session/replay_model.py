"""The engine side of replay: a session's timeline, a playback clock, and audio output.

``build_timeline(SessionData)`` gathers what happened, on the session timeline:
the candidate's words (fillers marked), speech stretches, pauses, the
interviewer's turns and the questions/probes asked, grouped into ``Block``s (one
prompt and the answer to it) for display.

``ReplayClock`` is the position while playing, pausing, seeking and changing
speed; it is pure (the time source is injected), so it is tested without sleeping.

``ReplayAudio`` plays the two tracks mixed, from any position at 1x, 1.5x or 2x
(FFmpeg's ``atempo`` keeps the pitch), through ``audio.playback.Player`` on a
worker thread; ``stop()`` returns at once. No textual here: the TUI drives these.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from voice_interview.analysis import AnswerAnalysis
from voice_interview.session.files import SAMPLE_RATE
from voice_interview.session.store import SessionData

if TYPE_CHECKING:
    from voice_interview.audio.playback import Player

SPEEDS = (1.0, 1.5, 2.0)
SEEK_S = 5.0
_TOKEN = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str
    answer: int  # index into Timeline.blocks
    filler: bool = False


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    kind: str  # speech | pause | long_pause | interviewer

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Marker:
    t: float
    kind: str  # question | probe | notice
    text: str
    family: str | None = None


@dataclass(frozen=True)
class Block:
    """One prompt (the question or a probe) and the answer to it."""

    index: int
    prompt: str
    prompt_kind: str  # question | probe
    prompt_t: float | None
    first_word: int  # range of Timeline.words
    last_word: int  # exclusive
    start: float | None
    end: float | None
    metrics: dict


@dataclass(frozen=True)
class Timeline:
    duration_s: float
    words: tuple[TimedWord, ...]
    speech: tuple[Span, ...]
    pauses: tuple[Span, ...]
    interviewer: tuple[Span, ...]
    markers: tuple[Marker, ...]
    blocks: tuple[Block, ...]
    _starts: tuple[float, ...] = ()

    def word_at(self, t: float) -> int | None:
        """Index of the word being (or last) spoken at ``t``; None before the first."""
        i = bisect.bisect_right(self._starts, t) - 1
        return i if i >= 0 else None

    def block_at(self, t: float) -> int | None:
        current = None
        for b in self.blocks:
            begin = b.prompt_t if b.prompt_t is not None else b.start
            if begin is not None and begin <= t:
                current = b.index
        return current

    def pause_at(self, t: float) -> Span | None:
        for p in self.pauses:
            if p.start <= t < p.end:
                return p
        return None

    def lanes(self, width: int, start: float = 0.0, end: float | None = None) -> dict[str, str]:
        """The timeline drawn in ``width`` text cells, one string per lane.

        ``audio``: ``█`` candidate speech, ``▒`` interviewer, ``_`` a pause, ``!`` a long
        pause, space for silence; ``marks``: ``Q`` the question, ``P`` a probe, ``f`` a filler.
        """
        end = self.duration_s if end is None else end
        width = max(1, width)
        span = max(end - start, 1e-6)
        audio = [" "] * width
        marks = [" "] * width

        def cells(a: float, b: float) -> range:
            i = int((a - start) / span * width)
            j = max(i + 1, int(np.ceil((b - start) / span * width)))
            return range(max(0, i), min(width, j))

        for s in self.interviewer:
            for i in cells(s.start, s.end):
                audio[i] = "▒"
        for s in self.speech:
            for i in cells(s.start, s.end):
                audio[i] = "█"
        for p in self.pauses:
            for i in cells(p.start, p.end):
                audio[i] = "!" if p.kind == "long_pause" else "_"
        for w in self.words:
            if w.filler:
                i = int((w.start - start) / span * width)
                if 0 <= i < width:
                    marks[i] = "f"
        for m in self.markers:
            i = int((m.t - start) / span * width)
            if 0 <= i < width and m.kind in ("question", "probe"):
                marks[i] = "Q" if m.kind == "question" else "P"
        return {"audio": "".join(audio), "marks": "".join(marks)}


# ----------------------------------------------------------------------------- building


def _filler_matcher() -> Callable[[list[str]], list[bool]]:
    try:
        from voice_interview.pacing import load_pacing_rubric

        rubric = load_pacing_rubric()
        single = set(rubric.hesitations)
        phrases = [p.split() for p in rubric.lexical_fillers]
    except Exception:  # a broken rubric must not stop a replay
        single, phrases = {"um", "uh", "er", "ah", "hmm"}, []

    def mark(tokens: list[str]) -> list[bool]:
        out = [t in single for t in tokens]
        for phrase in phrases:
            n = len(phrase)
            for i in range(len(tokens) - n + 1):
                if tokens[i:i + n] == phrase:
                    for k in range(i, i + n):
                        out[k] = True
        return out

    return mark


def _num(v, default: float = 0.0) -> float:
    return float(v) if isinstance(v, int | float) else default



def _paired_spans(events: Sequence[dict], start_type: str, end_type: str, kind: str) -> list[Span]:
    """Spans from start/end event pairs in the log (an unmatched end is skipped)."""
    spans, start = [], None
    for e in events:
        if e.get("type") == start_type:
            start = _num(e.get("t"))
        elif e.get("type") == end_type and start is not None:
            spans.append(Span(start, _num(e.get("t")), kind))
            start = None
    return spans

def build_timeline(data: SessionData) -> Timeline:
    events = data.events
    mark_fillers = _filler_matcher()
    markers: list[Marker] = []
    for e in events:
        kind = e.get("type")
        if kind in ("question_asked", "probe_asked"):
            markers.append(Marker(_num(e.get("t")), kind.split("_")[0], str(e.get("text") or ""),
                                  e.get("family")))
        elif kind == "notice":
            markers.append(Marker(_num(e.get("t")), "notice", str(e.get("message") or "")))
    markers.sort(key=lambda m: m.t)

    interviewer = [Span(_num(e.get("t")), _num(e.get("end")), "interviewer")
                   for e in events if e.get("type") == "interviewer_audio"]
    if not interviewer:  # older logs: voice_started / voice_ended pairs
        interviewer = _paired_spans(events, "voice_started", "voice_ended", "interviewer")

    raw_words: list[tuple[float, float, str, int]] = []
    speech: list[Span] = []
    pauses: list[Span] = []
    answers = list(data.answers)
    analysed = [AnswerAnalysis.from_json(a.get("analysis")) for a in answers]
    for k, doc in enumerate(analysed):
        for word in doc.words:
            raw_words.append((word.start, word.end, word.word.strip(), k))
        for s in doc.segments:
            speech.append(Span(s.start, s.end, "speech"))
        for p in doc.pacing.pauses if doc.pacing else ():
            pauses.append(Span(_num(p.start), _num(p.end), "long_pause" if p.long else "pause"))
    if not raw_words:  # no scored answers (an interrupted session): the live transcript,
        # each revision in place of the segment finals it covers
        # (and a later revision, a polish, in place of the earlier ones inside it)
        revised = [(_num(e.get("start")), _num(e.get("end"))) for e in events
                   if e.get("type") == "transcript_revised"]

        def inside(a: float, b: float, spans: list[tuple[float, float]]) -> bool:
            return any(lo - 0.05 <= a and b <= hi + 0.05 for lo, hi in spans)

        seen = 0  # revisions met so far
        for e in events:
            kind = e.get("type")
            if kind == "transcript_final" and inside(
                    _num(e.get("segment_start")), _num(e.get("segment_end")), revised):
                continue
            if kind == "transcript_revised":
                seen += 1
                if inside(_num(e.get("start")), _num(e.get("end")), revised[seen:]):
                    continue
            if kind in ("transcript_final", "transcript_revised"):
                for w in e.get("words") or ():
                    raw_words.append((_num(w.get("start")), _num(w.get("end")),
                                      str(w.get("word", "")).strip(), -1))
    if not speech:
        speech = _paired_spans(events, "speech_started", "speech_stopped", "speech")
    if not pauses:
        for e in events:
            if e.get("type") == "pause_ended":
                pauses.append(Span(_num(e.get("t")), _num(e.get("end")),
                                   "long_pause" if e.get("long") else "pause"))
    raw_words.sort(key=lambda w: w[0])

    # Blocks: one per answer; without answers, one per prompt (or one for everything).
    prompts = [m for m in markers if m.kind in ("question", "probe")]
    if answers:
        specs = []
        by_answer: dict[int, list] = {}
        for w in raw_words:
            by_answer.setdefault(w[3], []).append(w)
        for k, (a, doc) in enumerate(zip(answers, analysed, strict=True)):
            span = doc.span
            ws = by_answer.get(k, [])
            start = ws[0][0] if ws else (span.start if span else None)
            end = ws[-1][1] if ws else (span.end if span else None)
            prompt_t = None
            before = [m for m in prompts if start is None or m.t <= start + 0.01]
            if before:
                prompt_t = before[-1].t
            specs.append((str(a.get("prompt_text") or (before[-1].text if before else "")),
                          str(a.get("kind") or ("question" if k == 0 else "probe")),
                          prompt_t, start, end,
                          doc.metrics.to_json() if doc.metrics else {}))
    else:
        specs = [(m.text, m.kind, m.t, None, None, {}) for m in prompts] or [
            ("", "question", None, None, None, {})]

    def block_of(t: float, k: int) -> int:
        if answers:
            return k
        idx = 0
        for i, spec in enumerate(specs):
            if spec[2] is not None and spec[2] <= t:
                idx = i
        return idx

    tokens = [(_TOKEN.findall(w[2].lower()) or [""])[0] for w in raw_words]
    filler_flags = mark_fillers(tokens)
    words = tuple(TimedWord(w[0], w[1], w[2], block_of(w[0], w[3]), f)
                  for w, f in zip(raw_words, filler_flags, strict=True))
    ranges: dict[int, list[int]] = {}
    for j, w in enumerate(words):
        r = ranges.setdefault(w.answer, [j, j + 1])
        r[1] = j + 1
    blocks = []
    for i, (prompt, kind, prompt_t, start, end, metrics) in enumerate(specs):
        first, last = ranges.get(i, (0, 0))
        if last > first and start is None:
            start, end = words[first].start, words[last - 1].end
        blocks.append(Block(i, prompt, kind, prompt_t, first, last, start, end, metrics))

    duration = max([data.duration_s] + [w.end for w in words] + [s.end for s in interviewer])
    return Timeline(duration_s=duration, words=words, speech=tuple(sorted(speech,
                    key=lambda s: s.start)), pauses=tuple(sorted(pauses, key=lambda s: s.start)),
                    interviewer=tuple(interviewer), markers=tuple(markers),
                    blocks=tuple(blocks), _starts=tuple(w.start for w in words))


# ----------------------------------------------------------------------------- clock


class ReplayClock:
    """Where replay is: ``position()`` moves with the injected clock while playing."""

    def __init__(self, duration_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.duration_s = max(0.0, duration_s)
        self._clock = clock
        self._base = 0.0  # position at _since
        self._since = clock()
        self.playing = False
        self.speed = 1.0

    def position(self) -> float:
        if not self.playing:
            return self._base
        pos = self._base + (self._clock() - self._since) * self.speed
        return min(pos, self.duration_s)

    @property
    def at_end(self) -> bool:
        return self.position() >= self.duration_s

    def _rebase(self) -> None:
        self._base = self.position()
        self._since = self._clock()

    def play(self) -> None:
        if self.at_end:
            self._base = 0.0
        self._since = self._clock()
        self.playing = True

    def pause(self) -> None:
        self._rebase()
        self.playing = False

    def toggle(self) -> bool:
        (self.pause if self.playing else self.play)()
        return self.playing

    def seek(self, delta: float) -> float:
        return self.seek_to(self.position() + delta)

    def seek_to(self, t: float) -> float:
        self._base = min(max(0.0, t), self.duration_s)
        self._since = self._clock()
        return self._base

    def set_speed(self, speed: float) -> None:
        self._rebase()
        self.speed = float(speed)

    def next_speed(self) -> float:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else -1
        self.set_speed(SPEEDS[(i + 1) % len(SPEEDS)])
        return self.speed


# ----------------------------------------------------------------------------- audio


def mixed_chunks(data: SessionData, start_s: float, speed: float = 1.0,
                 chunk: int = 2048) -> Iterator[np.ndarray]:
    """Both tracks mixed, from ``start_s``, at ``speed`` (pitch kept), as float32 chunks."""
    cand = data.candidate_pcm()
    voice = data.interviewer_pcm()
    total = max(cand.size, voice.size)
    pos = max(0, int(start_s * SAMPLE_RATE))
    tempo = _Tempo(speed) if speed != 1.0 else None
    while pos < total:
        n = min(chunk, total - pos)
        mix = np.zeros(n, dtype=np.int32)
        a = cand[pos:pos + n]
        mix[: a.size] += a
        b = voice[pos:pos + n]
        mix[: b.size] += b
        out = np.clip(mix, -32768, 32767).astype(np.float32) / 32768.0
        pos += n
        if tempo is not None:
            out = tempo.push(out)
            if out.size == 0:
                continue
        yield out
    if tempo is not None:
        tail = tempo.flush()
        if tail.size:
            yield tail


class _Tempo:
    """FFmpeg's atempo filter through PyAV: faster speech at the same pitch."""

    def __init__(self, speed: float) -> None:
        import av

        self._av = av
        self._graph = av.filter.Graph()
        src = self._graph.add_abuffer(format="flt", sample_rate=SAMPLE_RATE, layout="mono",
                                      time_base=Fraction(1, SAMPLE_RATE))
        tempo = self._graph.add("atempo", f"{speed:g}")
        sink = self._graph.add("abuffersink")
        src.link_to(tempo)
        tempo.link_to(sink)
        self._graph.configure()
        self._pts = 0

    def _pull(self) -> np.ndarray:
        out = []
        while True:
            try:
                frame = self._graph.pull()
            except (self._av.error.BlockingIOError, self._av.error.EOFError):
                break
            out.append(frame.to_ndarray().reshape(-1))
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)

    def push(self, samples: np.ndarray) -> np.ndarray:
        frame = self._av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt",
                                                 layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        self._pts += samples.size
        self._graph.push(frame)
        return self._pull()

    def flush(self) -> np.ndarray:
        self._graph.push(None)
        return self._pull()


class ReplayAudio:
    """Plays a session's audio from a position; restart it to seek or change speed.

    ``available()`` checks the output device once: with no device, replay goes on
    transcript-only (``message`` says why).
    """

    def __init__(self, data: SessionData, device: str | int | None = None) -> None:
        self.data = data
        self.device = device
        self.message: str | None = None
        self.no_device = False  # the output device is missing or failed (not a silent session)
        self._player: Player | None = None
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def available(self) -> bool:
        from voice_interview.audio.playback import Player
        from voice_interview.errors import AudioDeviceError

        if self.data.candidate_frames == 0 and self.data.interviewer_frames == 0:
            self.message = "this session has no audio: transcript-only replay"
            return False
        try:
            player = Player(self.device)
            player.check_device()
            self._player = player
        except AudioDeviceError as exc:
            self._player = None
            self.no_device = True
            self.message = f"no audio output ({exc}): transcript-only replay"
            return False
        return True

    def start(self, position: float, speed: float) -> None:
        self.stop()
        if self._player is None:
            return
        player = self._player
        chunks = mixed_chunks(self.data, position, speed)

        def run() -> None:
            try:
                player.play(chunks, SAMPLE_RATE)
            except Exception as exc:  # shown by the UI, never raised into it
                self.error = str(exc)

        self._thread = threading.Thread(target=run, name="replay-audio", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
