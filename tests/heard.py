"""What the virtual speaker played, cut to one interviewer line, for tests that check by ear.

The speaker recording (the null sink's monitor, ``pulse.record_speaker()``) runs on the
wall clock from when it started; the session's events run on the session clock. The
first interviewer line lines the two up: its ``voice_started`` is the first sound on the
speaker. A line's audio is then what was played from its own ``voice_started`` to the
next line's (or the end of the recording): the question and the closing line are not in
it, so their words cannot carry the check.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SR = 16000
FRAME = 320  # 20 ms


def sounds(samples: np.ndarray, level: float = 0.01, gap_s: float = 0.8) -> list[tuple[int, int]]:
    """(start, end) sample ranges of sound: 20 ms frames above ``level`` RMS, joined
    across quiet stretches shorter than ``gap_s`` (the pauses between sentences)."""
    n = samples.size // FRAME
    if n == 0:
        raise AssertionError("the speaker recording is empty")
    rms = np.sqrt(np.mean(samples[: n * FRAME].reshape(n, FRAME) ** 2, axis=1))
    loud = np.flatnonzero(rms > level)
    if loud.size == 0:
        raise AssertionError("nothing was heard on the speaker")
    out: list[list[int]] = []
    for f in loud:
        if out and (f - out[-1][1]) * FRAME / SR < gap_s:
            out[-1][1] = f + 1
        else:
            out.append([f, f + 1])
    return [(a * FRAME, b * FRAME) for a, b in out]


def line_audio(heard: np.ndarray, events: list[dict], index: int,
               pad_s: float = 0.2, slack_s: float = 1.0) -> np.ndarray:
    """The speaker audio of the ``index``-th interviewer line (0: the question).

    The first sound lines the clocks up (roughly: the first line's output latency is
    not the others'); each stretch of sound then belongs to the last line whose
    ``voice_started`` came before it (within ``slack_s``), and the line's audio is
    its stretches, from the first to the last.
    """
    starts = [e["t"] for e in events if e["type"] == "voice_started"]
    assert len(starts) > index, f"only {len(starts)} interviewer lines were spoken"
    found = sounds(heard)
    offset = found[0][0] / SR - starts[0]
    mine = []
    for a, b in found:
        onset = a / SR - offset
        owner = max((i for i, t in enumerate(starts) if t - slack_s <= onset), default=0)
        if owner == index:
            mine.append((a, b))
    assert mine, f"line {index} ({starts[index]:.2f} s) was not heard; sounds at " + \
        ", ".join(f"{a / SR - offset:.2f}" for a, _ in found)
    pad = int(pad_s * SR)
    return heard[max(0, mine[0][0] - pad): mine[-1][1] + pad]
def line_text(events: list[dict], index: int) -> str:
    """What the ``index``-th interviewer line said (its voice_started text)."""
    return [e["text"] for e in events if e["type"] == "voice_started"][index]


def played_audio(session_dir: Path, index: int) -> np.ndarray:
    """The samples the voice handed to the output for the ``index``-th interviewer line,
    as the session recorded them (interviewer.wav at its ``interviewer_audio`` span)."""
    import wave

    spans = [json.loads(line) for line in (session_dir / "events.jsonl").read_text().splitlines()
             if '"interviewer_audio"' in line]
    assert len(spans) > index, f"only {len(spans)} interviewer lines were recorded"
    with wave.open(str(session_dir / "interviewer.wav")) as w:
        assert w.getframerate() == SR
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    start, end = (int(round(spans[index][key] * SR)) for key in ("t", "end"))
    return pcm[start:end].astype(np.float32) / 32768.0


def likeness(heard: np.ndarray, played: np.ndarray) -> float:
    """How closely the speaker's audio carries the played samples: the normalized
    correlation at their best alignment (~0.99 for the same samples through the sound
    server; ~0.2-0.3 for another rendering of the same words by the noisy Piper voice;
    a gap or a cut in the middle breaks the alignment of what follows it)."""
    a = np.pad(heard, played.size)
    n = 1 << (a.size + played.size - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(a, n) * np.conj(np.fft.rfft(played, n)), n)
    lag = int(np.argmax(corr[: a.size]))
    x, y = a[lag: lag + played.size], played[: a.size - lag]
    return float(np.dot(x, y) / np.sqrt(np.dot(x, x) * np.dot(y, y) + 1e-12))
