"""Test material: speech the project synthesizes itself, shared recordings, encoders.

The core tests run on speech made here with the real Piper voice (so the suite
means something anywhere); tests on the real recordings in ../shared/speech are
skipped with a clear reason when that folder is not beside the checkout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_SPEECH = Path(os.environ.get("VOICE_INTERVIEW_SHARED", ROOT.parent / "shared")) / "speech"
SR = 16_000

# Sentences for synthesized answers (our own words), with true word counts.
SENTENCES = [
    "I built a search tool for our support team last year.",
    "It cut the time to answer a ticket by forty percent.",
    "The hardest part was cleaning two years of old tickets.",
    "We compared it with keyword search on five hundred cases.",
    "Next time I would talk to the agents much earlier.",
    "They knew which answers actually helped the customers.",
]


def shared_clip(name: str) -> Path:
    path = SHARED_SPEECH / name
    if not path.exists():
        pytest.skip(f"shared recording {path} not present (../shared beside the checkout)")
    return path


def word_count(text: str) -> int:
    return len(text.split())


def speech_bounds(x: np.ndarray, rel_db: float = -35.0) -> tuple[float, float]:
    """First and last 10 ms frame above (peak - 35 dB): the clip's own speech edges."""
    n = x.size // 160 * 160
    frames = x[:n].reshape(-1, 160)
    db = 20 * np.log10(np.maximum(np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)), 1e-10))
    idx = np.where(db > db.max() + rel_db)[0]
    return idx[0] * 0.01, (idx[-1] + 1) * 0.01


@dataclass
class Joined:
    samples: np.ndarray
    pauses: list[tuple[float, float]]  # true pauses between clips (start, end)
    span: tuple[float, float]  # first speech onset, last speech offset
    words: int


def join_clips(
    clips: list[np.ndarray], gaps: list[float], words: int, noise_dbfs: float | None = None,
    seed: int = 0,
) -> Joined:
    """Join 16 kHz clips with silences of known length; ground truth from the clean clips."""
    parts, pauses = [], []
    t = 0.0
    prev_end = None
    first = None
    for k, clip in enumerate(clips):
        b0, b1 = speech_bounds(clip)
        if first is None:
            first = t + b0
        if prev_end is not None:
            pauses.append((prev_end, t + b0))
        parts.append(clip)
        prev_end = t + b1
        t += clip.size / SR
        if k < len(gaps):
            parts.append(np.zeros(int(round(gaps[k] * SR)), dtype=np.float32))
            t += int(round(gaps[k] * SR)) / SR
    samples = np.concatenate(parts).astype(np.float32)
    if noise_dbfs is not None:
        rng = np.random.default_rng(seed)
        samples = samples + (10 ** (noise_dbfs / 20)) * rng.standard_normal(samples.size).astype(
            np.float32
        )
    return Joined(samples, pauses, (first, prev_end), words)


def encode(samples: np.ndarray, rate: int, path: Path, codec: str, layout: str = "mono") -> Path:
    """Write audio with FFmpeg (PyAV) in any codec/container: test material for decoding."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        channels = 2 if layout == "stereo" else 1
        data = np.asarray(samples, dtype=np.float32)
        data = np.stack([data, data * 0.5]) if channels == 2 else data[None, :]
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(data), format="fltp", layout=layout
        )
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_wav16(path: Path, samples: np.ndarray, rate: int = SR) -> Path:
    import wave

    pcm = (np.clip(samples, -1, 1) * 32767).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path
