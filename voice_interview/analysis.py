"""Offline analysis of a recorded answer: decode, VAD, transcribe, pacing.

Transcription is batched for speed: consecutive speech segments are grouped
into chunks of at most ``max_chunk_s`` (one Whisper window), each chunk is
decoded with a short pre-roll, and the words are shifted back onto the file's
timeline. Whisper therefore runs about as often as a bare whole-file
transcription would, while pauses come from the VAD timeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from voice_interview.audio.sources import SAMPLE_RATE, decode_file, probe_file
from voice_interview.audio.vad import Segment, SileroVAD, VadSettings, detect_segments
from voice_interview.pacing import (
    Feedback,
    Metrics,
    Pacing,
    PacingRubric,
    Pause,
    Window,
    assess,
    load_pacing_rubric,
)
from voice_interview.speech.transcriber import Transcriber, Word, words_to_text

_T = TypeVar("_T")

PRE_ROLL_S = 0.4
POST_ROLL_S = 0.2


def group_segments(segments: list[Segment], max_chunk_s: float = 30.0) -> list[list[Segment]]:
    """Consecutive segments packed into groups spanning at most ``max_chunk_s``."""
    groups: list[list[Segment]] = []
    for seg in segments:
        if groups and seg.end - groups[-1][0].start + PRE_ROLL_S + POST_ROLL_S <= max_chunk_s:
            groups[-1].append(seg)
        else:
            groups.append([seg])
    return groups


def in_speech(word: Word, segments: list[Segment], slack: float = 0.75) -> bool:
    """Whether a word is near speech; words deep in a silence are Whisper inventions.

    The slack is generous because Whisper's timestamps for the last word before a
    silence often slide into it ("middle." stamped 0.6 s after the speech ended).
    """
    return any(word.end > s.start - slack and word.start < s.end + slack for s in segments)


def transcribe_segments(
    audio: np.ndarray,
    segments: list[Segment],
    transcriber: Transcriber,
    on_progress: Callable[[float], None] | None = None,
) -> list[Word]:
    words: list[Word] = []
    prev_end = 0
    for i, group in enumerate(group_segments(segments)):
        a = max(prev_end, int((group[0].start - PRE_ROLL_S) * SAMPLE_RATE))
        b = min(audio.size, int((group[-1].end + POST_ROLL_S) * SAMPLE_RATE))
        prev_end = b
        # The filler prompt only on the first chunk, as faster-whisper itself applies
        # an initial prompt to a long file: on every chunk it cost ~25% more time and
        # made Whisper stop early inside windows (see docs/design-notes.md).
        words.extend(transcribe_group(audio[a:b], a / SAMPLE_RATE, group, transcriber,
                                      prompt=i == 0))
        if on_progress:
            on_progress(sum(s.duration for s in group))
    return words


def transcribe_group(
    samples: np.ndarray,
    offset: float,
    group: list[Segment],
    transcriber: Transcriber,
    prompt: bool | str = True,
) -> list[Word]:
    """The words of one window of consecutive segments (``samples`` start at ``offset``).

    Shared by the offline chunker and the live revision of a window: words deep in
    a silence are dropped, and a decode that stopped early is finished without the
    prompt.
    """
    said = transcriber.transcribe(samples, offset=offset, prompt=prompt)
    chunk_words = [w for w in said if in_speech(w, group)]
    rest = uncovered_tail(group, chunk_words)
    if rest:
        # The prompted decode stopped early (Whisper closed the window with a
        # lone timestamp and skipped the rest of it): decode what it skipped
        # again, without the prompt that provokes it.
        a2 = max(0, int((rest[0].start - PRE_ROLL_S - offset) * SAMPLE_RATE))
        more = transcriber.transcribe(samples[a2:], offset=offset + a2 / SAMPLE_RATE,
                                      prompt=False)
        last = chunk_words[-1].end if chunk_words else -1.0
        chunk_words += [w for w in more if w.start >= last - 0.05 and in_speech(w, rest)]
    return chunk_words


def uncovered_tail(group: list[Segment], words: list[Word], min_s: float = 1.0) -> list[Segment]:
    """The segments after the last word, when they hold at least ``min_s`` of speech."""
    last = words[-1].end if words else -1.0
    rest = [s for s in group if s.start >= last + 0.1]
    return rest if sum(s.duration for s in rest) >= min_s else []


def analyze_samples(
    audio: np.ndarray,
    transcriber: Transcriber,
    rubric: PacingRubric | None = None,
    vad: SileroVAD | None = None,
    vad_settings: VadSettings = VadSettings(),
    overview: bool = True,
    on_progress: Callable[[float], None] | None = None,
    on_segments: Callable[[list[Segment]], None] | None = None,
) -> AnswerAnalysis:
    """One answer's audio (16 kHz) transcribed and paced (``extra``: audio, timings)."""
    return _analyze(audio, transcriber, rubric, vad, vad_settings, overview,
                    on_progress, on_segments)


def _analyze(audio: np.ndarray, transcriber: Transcriber, rubric: PacingRubric | None,
             vad: SileroVAD | None, vad_settings: VadSettings, overview: bool,
             on_progress: Callable[[float], None] | None,
             on_segments: Callable[[list[Segment]], None] | None,
             decode_s: float = 0.0, path: str | None = None,
             sample_rate: int = SAMPLE_RATE) -> AnswerAnalysis:
    t0 = time.perf_counter()
    segments = detect_segments(audio, vad, vad_settings)
    if on_segments:
        on_segments(segments)
    t1 = time.perf_counter()
    words = transcribe_segments(audio, segments, transcriber, on_progress)
    t2 = time.perf_counter()
    pacing = assess(segments, words, rubric or load_pacing_rubric(), overview=overview)
    t3 = time.perf_counter()
    duration = audio.size / SAMPLE_RATE
    times: dict[str, float | None] = {
        "vad_s": t1 - t0, "transcribe_s": t2 - t1, "analyze_s": decode_s + (t1 - t0) + (t3 - t2)}
    if path is not None:  # a whole file: how long it took against how long it lasts
        total = decode_s + (t1 - t0) + (t2 - t1)
        times.update(decode_s=decode_s, total_s=total, rtf=total / duration if duration else None)
    extra = {"audio": {"path": path, "duration_s": round(duration, 3),
                       "sample_rate": sample_rate},
             "timings": {k: round(v, 3) if isinstance(v, float) else v
                         for k, v in times.items()}}
    return measure_answer(words, segments, pacing=pacing, extra=extra)


def analyze_file(
    path: str | Path,
    transcriber: Transcriber,
    rubric: PacingRubric | None = None,
    overview: bool = True,
    on_progress: Callable[[float], None] | None = None,
    on_segments: Callable[[list[Segment]], None] | None = None,
) -> AnswerAnalysis:
    """A recording (any format FFmpeg reads) transcribed and paced; ``extra`` holds its
    audio (path, duration, native rate) and timings (decode, VAD, Whisper, rtf)."""
    t0 = time.perf_counter()
    _duration, native_rate = probe_file(path)
    audio = decode_file(path)
    decode_s = time.perf_counter() - t0
    return _analyze(audio, transcriber, rubric, None, VadSettings(), overview, on_progress,
                    on_segments, decode_s=decode_s, path=str(path),
                    sample_rate=native_rate)


def measure_answer(words: Sequence[Word | dict | str], segments: Sequence[Segment], *,
                   transcript: str | None = None, rubric: PacingRubric | None = None,
                   overview: bool = True, pacing: Pacing | None = None, timed: bool = True,
                   extra: Mapping[str, Any] | None = None) -> AnswerAnalysis:
    """An answer's pacing over its speech segments and words (``pacing`` when already
    measured); ``transcript`` defaults to the words' text. ``timed=False``: a plain-text
    answer, no words and no pacing. ``session.scoring.score_answer`` adds the
    interviewer's view; both ways make an ``AnswerAnalysis`` here."""
    if not timed:
        return AnswerAnalysis(transcript or "", pacing=None, extra=dict(extra or {}),
                              has_words=False)
    timed_words = tuple(as_word(w) for w in words)
    if pacing is None:
        pacing = assess(list(segments), list(timed_words), rubric or load_pacing_rubric(),
                        overview=overview)
    text = transcript if transcript is not None else words_to_text(list(timed_words))
    return AnswerAnalysis(text, timed_words, tuple(segments), pacing, extra=dict(extra or {}))


# ---------------------------------------------------------------------------
# One analysed answer, typed


@dataclass(frozen=True)
class Span:
    """Where an answer lies on its session's timeline."""

    start: float
    end: float


def as_word(w: Word | dict | str) -> Word:
    """A word as stored (``Word.to_json``), as a bare string (older layouts) or a Word:
    the one place that tells them apart."""
    if isinstance(w, Word):
        return w
    if isinstance(w, str):
        return Word(w, 0.0, 0.0, 1.0)
    return Word(str(w.get("word", "")), float(w.get("start") or 0.0),
                float(w.get("end") or 0.0), float(w.get("probability", 1.0)))


def _load(cls: type[_T], doc: Mapping[str, Any]) -> _T:
    """``cls`` from its ``to_json``; a field an older layout lacks is None (unknown)."""
    return cls(**{f.name: doc.get(f.name) for f in fields(cast(Any, cls))})


# The sections this type knows; anything else in a stored doc is kept as it is.
_KNOWN = ("transcript", "words", "speech_segments", "metrics", "pauses", "windows",
          "feedback", "structure", "probes", "span")


@dataclass(frozen=True)
class AnswerAnalysis:
    """An analysed answer: what was said, when, how it was paced, what it covered and
    which probes it invites. Made by ``session.scoring.score_answer``; ``to_json`` is
    the layout in answers.jsonl, ``answer_scored`` events and ``analyze --json``, and
    ``from_json`` is the only place that reads older layouts."""

    transcript: str
    words: tuple[Word, ...] = ()
    segments: tuple[Segment, ...] = ()
    pacing: Pacing | None = None  # None: an older layout without metrics
    structure: dict[str, Any] | None = None  # rubric coverage (opening answers only)
    probes: tuple[dict[str, Any], ...] | None = None  # the planner's next probes
    span: Span | None = None  # set when analysed on a slice of the session audio
    extra: Mapping[str, Any] = field(default_factory=dict)  # audio, timings, llm_probe...
    has_words: bool = True  # False: the stored layout had no "words" (transcribe again)

    @property
    def metrics(self) -> Metrics | None:
        return None if self.pacing is None else self.pacing.metrics

    @property
    def feedback(self) -> list[Feedback]:
        return [] if self.pacing is None else self.pacing.feedback

    @property
    def pauses(self) -> list[Pause]:
        return [] if self.pacing is None else self.pacing.pauses

    @property
    def duration_s(self) -> float | None:
        """The analysed audio's length (None: not known, or a plain-text answer)."""
        return (self.extra.get("audio") or {}).get("duration_s")

    @property
    def parts(self) -> list[dict[str, Any]]:
        """The structure's parts (id, covered, start...), [] when not scored."""
        return list((self.structure or {}).get("parts") or [])

    def covered(self) -> list[str]:
        return [p["id"] for p in self.parts if p.get("covered")]

    def missing(self) -> list[str]:
        return [p["id"] for p in self.parts if not p.get("covered")]

    def with_view(self, view: Mapping[str, Any]) -> AnswerAnalysis:
        """A copy with the interviewer's sections (structure, probes, llm_probe...)."""
        extra = dict(self.extra)
        structure, probes = self.structure, self.probes
        for key, value in view.items():
            if key == "structure":
                structure = value
            elif key == "probes":
                probes = tuple(value)
            else:
                extra[key] = value
        return replace(self, structure=structure, probes=probes, extra=extra)

    def shifted(self, offset: float, span_end: float | None = None) -> AnswerAnalysis:
        """The same answer with its times moved by ``offset`` seconds onto the session
        timeline; ``span`` is the slice (to ``span_end``, default offset + duration)."""
        def mv(t: float) -> float:
            return round(t + offset, 3)

        pacing = self.pacing
        if pacing is not None:
            pacing = replace(
                pacing,
                pauses=[replace(p, start=mv(p.start), end=mv(p.end)) for p in pacing.pauses],
                windows=[replace(w, start=mv(w.start), end=mv(w.end)) for w in pacing.windows])
        structure = self.structure
        if structure is not None and structure.get("parts"):
            structure = {**structure, "parts": [
                {**p, "start": mv(p["start"])} if isinstance(p.get("start"), int | float)
                else p for p in structure["parts"]]}
        end = span_end if span_end is not None else offset + (self.duration_s or 0.0)
        return replace(
            self,
            words=tuple(replace(w, start=mv(w.start), end=mv(w.end)) for w in self.words),
            segments=tuple(Segment(mv(s.start), mv(s.end)) for s in self.segments),
            pacing=pacing, structure=structure,
            span=Span(round(offset, 3), round(end, 3)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "audio" in self.extra:
            out["audio"] = self.extra["audio"]
        out["transcript"] = self.transcript
        if self.has_words:
            out["words"] = [w.to_json() for w in self.words]
            out["speech_segments"] = [s.to_json() for s in self.segments]
        if self.pacing is not None:
            out.update(self.pacing.to_json())
        if self.structure is not None:
            out["structure"] = self.structure
        if self.probes is not None:
            out["probes"] = list(self.probes)
        if self.span is not None:
            out["span"] = {"start": self.span.start, "end": self.span.end}
        out.update({k: v for k, v in self.extra.items() if k != "audio"})
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> AnswerAnalysis:
        """An answer as any version stored it (missing sections stay empty)."""
        doc = doc or {}
        pacing = None
        if doc.get("metrics"):
            pacing = Pacing(
                metrics=_load(Metrics, doc["metrics"]),
                pauses=[_load(Pause, p) for p in doc.get("pauses") or ()],
                windows=[_load(Window, w) for w in doc.get("windows") or ()],
                feedback=[_load(Feedback, f) for f in doc.get("feedback") or ()])
        span = doc.get("span") or None
        probes = doc.get("probes")
        return cls(
            transcript=str(doc.get("transcript") or ""),
            words=tuple(as_word(w) for w in doc.get("words") or ()),
            segments=tuple(Segment(float(s["start"]), float(s["end"]))
                           for s in doc.get("speech_segments") or ()),
            pacing=pacing,
            structure=doc.get("structure"),
            probes=None if probes is None else tuple(probes),
            span=None if not span else Span(float(span.get("start") or 0.0),
                                            float(span.get("end") or 0.0)),
            extra={k: v for k, v in doc.items() if k not in _KNOWN},
            has_words="words" in doc and doc["words"] is not None,
        )
