"""The live path: a source through the real VAD, turn manager and Whisper, as events."""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio_helpers import SR, join_clips, shared_clip, write_wav16
from voice_interview.audio.sources import ArraySource, FileSource
from voice_interview.events import (
    EngineError,
    PauseEnded,
    SpeechStarted,
    TranscriptFinal,
    TranscriptPartial,
    TurnEnded,
)
from voice_interview.listener import Listener, ListenerSettings, listen_to_end
from voice_interview.speech.transcriber import TranscriberSettings, WhisperTranscriber
from voice_interview.turns import TurnSettings


@pytest.fixture(scope="module")
def live_whisper():
    return WhisperTranscriber(TranscriberSettings.live())


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_file_source_through_the_listener(tmp_path, sentences, live_whisper):
    joined = join_clips(sentences[:4], [0.6, 1.4, 0.5], words=0)
    audio = np.concatenate([joined.samples, np.zeros(SR * 4, np.float32)])
    path = write_wav16(tmp_path / "a.wav", audio)
    events = listen_to_end(FileSource(path), live_whisper)
    finals = of(events, TranscriptFinal)
    text = " ".join(f.text for f in finals).lower()
    for phrase in ("support team", "answer a ticket", "two years", "keyword search"):
        assert phrase in text, text
    # Final segments line up with the speech and are in time order.
    assert [f.segment_start for f in finals] == sorted(f.segment_start for f in finals)
    assert all(w.start >= f.segment_start - 0.5 for f in finals for w in f.words)
    # One long pause (the 1.4 s gap) and a turn ended by silence, not by the file's end.
    (long_pause,) = [p for p in of(events, PauseEnded) if p.long]
    t0, t1 = joined.pauses[1]
    assert abs(long_pause.duration_s - (t1 - t0)) <= 0.15
    (ended,) = of(events, TurnEnded)
    assert ended.reason == "silence"
    assert abs(ended.t - (ended.speech_end + 2.5)) <= 0.05
    assert of(events, EngineError) == []


def test_partials_for_a_long_segment(sentences, live_whisper):
    audio = np.concatenate([np.concatenate(sentences[:3]), np.zeros(SR * 3, np.float32)])
    events = listen_to_end(ArraySource(audio, realtime=True), live_whisper)
    partials = of(events, TranscriptPartial)
    finals = of(events, TranscriptFinal)
    assert partials, "no partial while a long segment was in progress"
    for p in partials:  # a partial always comes before its segment's final
        later = [f for f in finals if f.segment_start == p.segment_start]
        assert later and later[0].t >= p.t


def test_half_duplex_mute_discards_interviewer_audio(sentences, live_whisper):
    """Audio arriving while muted (the interviewer speaking) is never transcribed."""
    interviewer, candidate = sentences[0], sentences[4]
    gap = np.zeros(int(SR * 0.8), np.float32)
    audio = np.concatenate([interviewer, gap, candidate, np.zeros(SR * 3, np.float32)])
    events = []
    listener = Listener(ArraySource(audio), live_whisper, events.append)
    listener.mute()
    listener.unmute(tail_s=interviewer.size / SR + 0.3)
    listener.run()
    text = " ".join(f.text for f in of(events, TranscriptFinal)).lower()
    assert "support team" not in text  # the muted sentence
    assert "agents" in text  # the candidate's sentence
    assert of(events, SpeechStarted)[0].t >= interviewer.size / SR


def test_lecture_through_a_real_time_file_source(live_whisper):
    path = shared_clip("lecture_60s.wav")
    settings = ListenerSettings(turn=TurnSettings(patience_s=60.0))
    events = listen_to_end(FileSource(path, realtime=True, speed=2.0), live_whisper, settings)
    finals = of(events, TranscriptFinal)
    text = " ".join(f.text for f in finals).lower()
    assert "dublin" in text and "political philosophy" in text and "wealth tax" in text
    assert len(of(events, PauseEnded)) >= 5
    assert of(events, TurnEnded)[0].reason == "source_ended"


def test_ending_the_turn_mid_speech_keeps_the_words_said(sentences, live_whisper):
    """Enter (or a cut-in) while the candidate talks: the segment in progress is
    closed and transcribed as part of this turn, not lost."""
    import threading

    audio = np.concatenate(sentences[:3])
    events = []
    listener = Listener(ArraySource(audio, realtime=True), live_whisper, events.append)
    runner = threading.Thread(target=listener.run)
    runner.start()
    import time

    time.sleep(4.0)
    listener.end_turn("user")
    assert listener.wait_idle(10.0)
    ended = [e for e in events if isinstance(e, TurnEnded)]
    finals = [e for e in events if isinstance(e, TranscriptFinal)]
    assert ended and ended[0].reason == "user"
    assert finals and "support team" in finals[0].text.lower()
    assert finals[0].segment_end <= ended[0].t + 0.1
    listener.stop()
    runner.join(timeout=30)
