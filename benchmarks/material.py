"""Test material with exact ground truth, built in memory from ../shared/speech.

Pure functions, importable by the benchmarks and by the tests:

- ``build_joined(noise_dbfs=None, seed=0) -> (samples, truth)``: the eight short
  read sentences (two speakers), played twice in two orders and joined with
  silences of known length: 1.05-3.0 s "long" gaps and 0.3-0.6 s short ones.
  Optionally white noise at ``noise_dbfs`` (RMS, seeded) over the whole thing.
- ``build_long(minutes) -> samples``: the shared recordings (lecture, news,
  sentences) in a loop with short silences, cut to exactly ``minutes``.
- ``write_wav(path, samples)``: 16-bit 16 kHz mono WAV with the stdlib.

Ground truth comes from the clean clips themselves: each clip's speech bounds
are the first and last 10 ms frame whose level is above (clip peak - 35 dB).
A true pause is the trailing silence of clip A + the inserted silence + the
leading silence of clip B; the true word count is the reference transcripts';
the true span runs from the first clip's speech start to the last clip's
speech end.
"""

from __future__ import annotations

import functools
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.common import shared
from voice_interview.audio.sources import SAMPLE_RATE, decode_file

# Reference transcripts (../shared/speech/README.md: what was actually spoken).
TRANSCRIPTS: dict[str, str] = {
    "spk1_snt1": "the child almost hurt the small dog",
    "spk1_snt2": "drop the two when you add the figures",
    "spk1_snt3": "at that high level the air is pure",
    "spk1_snt4": "a thin stripe runs down the middle",
    "spk2_snt1": "we are sure that one war is enough",
    "spk2_snt2": "what joy there is in living",
    "spk2_snt3": "tear a thin sheet from the yellow pad",
    "spk2_snt4": "mend the coat before you go out",
}
CLIPS = tuple(TRANSCRIPTS)

# Two rounds over the eight clips (the second in another order, so speakers
# alternate), 15 gaps between the 16 clips: 9 long, 6 short.
ORDER = CLIPS + (
    "spk2_snt3", "spk1_snt2", "spk2_snt1", "spk1_snt4",
    "spk2_snt4", "spk1_snt1", "spk2_snt2", "spk1_snt3",
)
GAPS_S = (1.05, 0.3, 1.3, 0.5, 1.6, 2.0, 0.4, 2.5, 3.0, 0.6, 1.2, 0.35, 1.8, 0.45, 1.1)
LEAD_S = 0.5  # silence before the first clip
TAIL_S = 1.0  # silence after the last clip (shorter than the turn patience)

FRAME_S = 0.01
BOUNDS_DB = 35.0
LONG_PAUSE_S = 1.0


@dataclass(frozen=True)
class Placed:
    """One clip inside the joined material (seconds on the material's timeline)."""

    name: str
    start: float  # where the clip's samples begin
    end: float  # where they end
    speech_start: float  # energy-rule speech bounds
    speech_end: float
    text: str


@dataclass(frozen=True)
class Truth:
    clips: tuple[Placed, ...]
    pauses: list[tuple[float, float]]  # every gap between consecutive clips' speech
    word_count: int
    span: tuple[float, float]  # first speech start -> last speech end
    duration_s: float
    noise_dbfs: float | None = None
    inserted_s: tuple[float, ...] = field(default=())

    @property
    def span_s(self) -> float:
        return self.span[1] - self.span[0]

    @property
    def wpm(self) -> float:
        return 60.0 * self.word_count / self.span_s

    def long_pauses(self, threshold: float = LONG_PAUSE_S) -> list[tuple[float, float]]:
        return [(a, b) for a, b in self.pauses if b - a >= threshold]


@functools.cache
def load_clip(name: str) -> np.ndarray:
    """A shared recording as 16 kHz float32 (read-only, cached)."""
    fname = name if name.endswith(".wav") else f"{name}.wav"
    samples = decode_file(shared(fname)).astype(np.float32, copy=False)
    samples.flags.writeable = False
    return samples


def speech_bounds(samples: np.ndarray, frame_s: float = FRAME_S,
                  below_peak_db: float = BOUNDS_DB) -> tuple[float, float]:
    """(start, end) in seconds of the first/last frame louder than peak - ``below_peak_db``."""
    n = int(round(frame_s * SAMPLE_RATE))
    usable = samples.size - samples.size % n
    frames = np.asarray(samples[:usable], dtype=np.float64).reshape(-1, n)
    level = 20.0 * np.log10(np.maximum(np.sqrt(np.mean(frames * frames, axis=1)), 1e-10))
    loud = np.nonzero(level > level.max() - below_peak_db)[0]
    return loud[0] * frame_s, (loud[-1] + 1) * frame_s


def white_noise(n: int, dbfs: float, seed: int = 0) -> np.ndarray:
    """Gaussian white noise whose RMS is ``dbfs`` (full scale = 1.0)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * 10.0 ** (dbfs / 20.0)).astype(np.float32)


def build_joined(
    noise_dbfs: float | None = None,
    seed: int = 0,
    order: tuple[str, ...] = ORDER,
    gaps_s: tuple[float, ...] = GAPS_S,
) -> tuple[np.ndarray, Truth]:
    """The short clips joined with known silences; returns (samples, truth)."""
    if len(gaps_s) != len(order) - 1:
        raise ValueError(f"need {len(order) - 1} gaps for {len(order)} clips")
    return _join([(name, load_clip(name), TRANSCRIPTS[name]) for name in order], gaps_s,
                 noise_dbfs, seed)


# Soft word endings (k, t, p, s, f): Silero's probability drops in the closure
# before a final burst or under a quiet fricative, which is where pause edges slip.
# Spoken by Piper (deterministic), so the same samples on every machine.
SOFT_TEXTS: tuple[str, ...] = (
    "I moved the savings to another bank",
    "The team met every week to check the risk",
    "We shipped it before the deadline hit",
    "Then we had to fix the broken setup",
    "Nobody wanted to lose the progress",
    "The results were good enough for the chief",
    "I wrote the report and sent it off",
    "Our tests covered every single step",
)
# 3.06 s after "bank": the held-out case measured 0.17 s too long.
SOFT_GAPS_S = (3.06, 0.4, 1.5, 2.2, 0.5, 1.2, 2.6)


@functools.cache
def piper_clip(text: str) -> np.ndarray:
    """``text`` spoken by the Piper voice without its noise, as 16 kHz float32."""
    from voice_interview.audio.playback import resample

    voice = _piper()
    audio = resample(voice.synthesize(text), voice.sample_rate, SAMPLE_RATE)
    out = np.asarray(audio, dtype=np.float32)
    out.flags.writeable = False
    return out


@functools.cache
def _piper():
    from voice_interview.speech.voices import get_voice

    return get_voice("piper", deterministic=True)


def build_soft(noise_dbfs: float | None = None, seed: int = 0) -> tuple[np.ndarray, Truth]:
    """The soft-ending sentences joined with known silences; returns (samples, truth)."""
    clips = {t: piper_clip(t) for t in SOFT_TEXTS}
    return _join([(t, clips[t], t.lower()) for t in SOFT_TEXTS], SOFT_GAPS_S, noise_dbfs, seed)


def _join(items, gaps_s, noise_dbfs, seed) -> tuple[np.ndarray, Truth]:
    parts = [np.zeros(int(round(LEAD_S * SAMPLE_RATE)), dtype=np.float32)]
    pos = parts[0].size
    placed: list[Placed] = []
    for i, (name, clip, text) in enumerate(items):
        a, b = speech_bounds(clip)
        t0 = pos / SAMPLE_RATE
        placed.append(Placed(name, t0, t0 + clip.size / SAMPLE_RATE, t0 + a, t0 + b, text))
        parts.append(np.asarray(clip, dtype=np.float32))
        pos += clip.size
        gap = gaps_s[i] if i < len(gaps_s) else TAIL_S
        silence = np.zeros(int(round(gap * SAMPLE_RATE)), dtype=np.float32)
        parts.append(silence)
        pos += silence.size
    samples = np.concatenate(parts)
    if noise_dbfs is not None:
        samples = samples + white_noise(samples.size, noise_dbfs, seed)
    pauses = [(p.speech_end, q.speech_start) for p, q in zip(placed, placed[1:], strict=False)]
    truth = Truth(
        clips=tuple(placed), pauses=pauses,
        word_count=sum(len(p.text.split()) for p in placed),
        span=(placed[0].speech_start, placed[-1].speech_end),
        duration_s=samples.size / SAMPLE_RATE, noise_dbfs=noise_dbfs,
        inserted_s=tuple(gaps_s),
    )
    return samples, truth


LONG_SOURCES = ("lecture_60s", "news_169s_8k") + CLIPS


def build_long(minutes: float, gap_s: float = 0.6) -> np.ndarray:
    """The shared recordings in a loop, ``gap_s`` of silence between them, cut to ``minutes``."""
    total = int(round(minutes * 60 * SAMPLE_RATE))
    out = np.zeros(total, dtype=np.float32)
    gap = int(round(gap_s * SAMPLE_RATE))
    pos, i = 0, 0
    while pos < total:
        clip = load_clip(LONG_SOURCES[i % len(LONG_SOURCES)])
        n = min(clip.size, total - pos)
        out[pos : pos + n] = clip[:n]
        pos += n + gap
        i += 1
    return out


def write_wav(path: str | Path, samples: np.ndarray, chunk: int = SAMPLE_RATE * 60) -> Path:
    """16-bit 16 kHz mono WAV (written in chunks to keep memory flat)."""
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        for i in range(0, samples.size, chunk):
            part = np.clip(samples[i : i + chunk], -1.0, 32767 / 32768)
            w.writeframes((part * 32768.0).astype("<i2").tobytes())
    return path


if __name__ == "__main__":
    for noise in (None, -45.0):
        x, t = build_joined(noise)
        print(f"noise={noise}: {t.duration_s:.2f} s, {t.word_count} words, "
              f"span {t.span[0]:.2f}-{t.span[1]:.2f} s, true wpm {t.wpm:.1f}")
    print("pauses (true):", ", ".join(f"{b - a:.2f}" for a, b in t.pauses))
