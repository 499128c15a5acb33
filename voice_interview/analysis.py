"""Offline analysis of a recorded answer: decode, VAD, transcribe, pacing.

Transcription is batched for speed: consecutive speech segments are grouped
into chunks of at most ``max_chunk_s`` (one Whisper window), each chunk is
decoded with a short pre-roll, and the words are shifted back onto the file's
timeline. Whisper therefore runs about as often as a bare whole-file
transcription would, while pauses come from the VAD timeline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voice_interview.audio.sources import SAMPLE_RATE, decode_file, probe_file
from voice_interview.audio.vad import Segment, SileroVAD, VadSettings, detect_segments
from voice_interview.pacing import (
    Feedback,
    Metrics,
    PacingRubric,
    Pause,
    Window,
    assess,
    load_pacing_rubric,
)
from voice_interview.speech.transcriber import Transcriber, Word, words_to_text

PRE_ROLL_S = 0.4
POST_ROLL_S = 0.2


@dataclass
class Analysis:
    path: str | None
    duration_s: float | None
    sample_rate: int | None
    words: list[Word]
    segments: list[Segment]
    pauses: list[Pause]
    metrics: Metrics
    windows: list[Window]
    feedback: list[Feedback]
    timings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # structure, probes, ... (interviewer's view)

    @property
    def transcript(self) -> str:
        return words_to_text(self.words)

    def to_json(self) -> dict:
        out = {
            "audio": {
                "path": self.path,
                "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
                "sample_rate": self.sample_rate,
            },
            "transcript": self.transcript,
            "words": [w.to_json() for w in self.words],
            "speech_segments": [s.to_json() for s in self.segments],
            "pauses": [p.to_json() for p in self.pauses],
            "metrics": self.metrics.to_json(),
            "windows": [w.to_json() for w in self.windows],
            "feedback": [f.to_json() for f in self.feedback],
            "timings": {k: round(v, 3) if isinstance(v, float) else v
                        for k, v in self.timings.items()},
        }
        out.update(self.extra)
        return out


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
) -> Analysis:
    rubric = rubric or load_pacing_rubric()
    t0 = time.perf_counter()
    segments = detect_segments(audio, vad, vad_settings)
    if on_segments:
        on_segments(segments)
    t1 = time.perf_counter()
    words = transcribe_segments(audio, segments, transcriber, on_progress)
    t2 = time.perf_counter()
    pacing = assess(segments, words, rubric, overview=overview)
    t3 = time.perf_counter()
    duration = audio.size / SAMPLE_RATE
    return Analysis(
        path=None,
        duration_s=duration,
        sample_rate=SAMPLE_RATE,
        words=words,
        segments=segments,
        pauses=pacing.pauses,
        metrics=pacing.metrics,
        windows=pacing.windows,
        feedback=pacing.feedback,
        timings={
            "vad_s": t1 - t0,
            "transcribe_s": t2 - t1,
            "analyze_s": (t1 - t0) + (t3 - t2),
        },
    )


def analyze_file(
    path: str | Path,
    transcriber: Transcriber,
    rubric: PacingRubric | None = None,
    overview: bool = True,
    on_progress: Callable[[float], None] | None = None,
    on_segments: Callable[[list[Segment]], None] | None = None,
) -> Analysis:
    t0 = time.perf_counter()
    _duration, native_rate = probe_file(path)
    audio = decode_file(path)
    decode_s = time.perf_counter() - t0
    result = analyze_samples(
        audio, transcriber, rubric, overview=overview,
        on_progress=on_progress, on_segments=on_segments,
    )
    result.path = str(path)
    result.sample_rate = native_rate
    result.timings["decode_s"] = decode_s
    result.timings["analyze_s"] += decode_s
    parts = ("decode_s", "vad_s", "transcribe_s")
    total = sum(v for k, v in result.timings.items() if k in parts)
    result.timings["total_s"] = total
    result.timings["rtf"] = total / result.duration_s if result.duration_s else None
    return result
