"""Streaming Silero VAD: state carried across calls, guards, pause ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_helpers import SR, join_clips, shared_clip
from voice_interview.audio.sources import BLOCK, decode_file
from voice_interview.audio.vad import SileroVAD, detect_segments

GAPS = [1.0, 0.4, 1.6, 2.2, 0.6, 1.3, 3.0, 1.1]


def test_block_by_block_equals_one_call(sentences):
    audio = np.concatenate(sentences[:3])
    audio = audio[: audio.size // BLOCK * BLOCK]
    vad = SileroVAD()
    whole = vad.probs(audio)
    vad.reset()
    streamed = np.concatenate(
        [vad.probs(audio[i : i + BLOCK]) for i in range(0, audio.size, BLOCK)]
    )
    np.testing.assert_allclose(streamed, whole, atol=1e-5)
    assert whole.max() > 0.9  # the speech is seen at all


def test_state_is_carried_not_reset(sentences):
    """Resetting before every frame (faster-whisper's own __call__) loses speech."""
    audio = sentences[0][: sentences[0].size // BLOCK * BLOCK]
    vad = SileroVAD()
    carried = vad.probs(audio)
    reset = []
    for i in range(0, audio.size, BLOCK):
        vad.reset()
        reset.append(vad.probs(audio[i : i + BLOCK])[0])
    assert (carried >= 0.5).sum() > 1.4 * (np.asarray(reset) >= 0.5).sum()


def test_rejects_partial_frames():
    with pytest.raises(ValueError):
        SileroVAD().probs(np.zeros(BLOCK + 1, dtype=np.float32))


@pytest.mark.parametrize("level_dbfs", [None, -45.0, -30.0])
def test_silence_and_noise_are_not_speech(level_dbfs):
    rng = np.random.default_rng(1)
    audio = np.zeros(SR * 10, dtype=np.float32)
    if level_dbfs is not None:
        audio += (10 ** (level_dbfs / 20)) * rng.standard_normal(audio.size).astype(np.float32)
    assert detect_segments(audio) == []


def _check_pauses(joined, tolerance=0.15):
    segments = detect_segments(joined.samples)
    detected = [(a.end, b.start) for a, b in zip(segments, segments[1:], strict=False)
                if b.start - a.end >= 0.25]
    long_truth = [p for p in joined.pauses if p[1] - p[0] >= 1.0]
    long_found = [p for p in detected if p[1] - p[0] >= 1.0]
    for t0, t1 in long_truth:
        match = [d for d in detected if abs(d[0] - t0) < 0.5 and abs(d[1] - t1) < 0.5]
        assert match, f"long pause {t0:.2f}-{t1:.2f} not found in {detected}"
        err = (match[0][1] - match[0][0]) - (t1 - t0)
        assert abs(err) <= tolerance, f"pause at {t0:.2f}: off by {err:+.3f} s"
    for d0, d1 in long_found:
        assert any(abs(d0 - t0) < 0.5 for t0, _ in long_truth), f"invented pause {d0:.2f}-{d1:.2f}"
    # The edges of the answer.
    assert abs(segments[0].start - joined.span[0]) <= tolerance
    assert abs(segments[-1].end - joined.span[1]) <= 0.25


@pytest.mark.parametrize("noise", [None, -45.0])
def test_pauses_in_synthesized_speech(sentences, noise):
    clips = sentences + sentences[:3]
    joined = join_clips(clips, GAPS, words=0, noise_dbfs=noise)
    _check_pauses(joined)


@pytest.mark.parametrize("noise", [None, -45.0])
def test_pauses_in_real_recordings(noise):
    names = [f"spk{s}_snt{i}.wav" for s in (1, 2) for i in (1, 2, 3, 4)]
    clips = [decode_file(shared_clip(n)) for n in names]
    joined = join_clips(clips, GAPS[:7], words=0, noise_dbfs=noise, seed=3)
    _check_pauses(joined)
