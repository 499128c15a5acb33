"""Snapshots of every screen and state of the practice TUI (pytest-textual-snapshot).

The events are a real session's: a module fixture runs ``voice-interview practice
--headless`` once on synthesized answers (real Piper speech played in real time through
the real VAD, Whisper, turn manager, planner and analysis; a 12 s budget so the soft
warning and the interviewer's cut-in happen in a 20 s session). Each snapshot starts a
display-only app (``autostart=False``) and feeds it the recorded events up to the state
it shows, through the app's public ``handle_event``. Partial transcripts are left out
(when they arrive depends on the machine's speed, so the picture would not repeat), and
the session id is fixed.

Each snapshot also reads its screen's text and checks one fact it must show, taken
from the recording or the inputs, not from the picture (a snapshot approved without
reading it cannot hide a contradiction).

Update after an intended change with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs in tests/__snapshots__/ before committing.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from tests.audio_helpers import SENTENCES, SR, join_clips, write_wav16
from tests.cli_helpers import run_cli, screen_text
from voice_interview import events as ev
from voice_interview.events import EngineError, StateChanged
from voice_interview.speech.transcriber import Word
from voice_interview.tui.app import PracticeApp
from voice_interview.tui.widgets import mmss

SIZE = (120, 40)
SESSION_ID = "3f2a9c1b7d4e"
GAPS = [0.4, 1.6, 0.5]  # between the first four sentences: one long pause
CLASSES = {c.__name__: c for c in vars(ev).values()
           if isinstance(c, type) and issubclass(c, ev.Event) and c is not ev.Event}
BY_TYPE = {c.TYPE: c for c in CLASSES.values()}


def _event(doc: dict):
    cls = BY_TYPE[doc["type"]]
    names = set(cls.__dataclass_fields__)
    kw = {k: v for k, v in doc.items() if k in names}
    if "words" in kw:
        kw["words"] = tuple(Word(" " + w["word"], w["start"], w["end"], w["probability"])
                            for w in kw["words"])
    if "summary" in kw and isinstance(kw["summary"], dict):
        kw["summary"] = {**kw["summary"], "session_id": SESSION_ID, "path": None}
    if "session_id" in kw:
        kw["session_id"] = SESSION_ID
    return cls(**kw)


RECORDING = Path(__file__).resolve().parent / "data" / "snapshot_session.jsonl"


def session_audio(sentences) -> np.ndarray:
    s = sentences
    z = lambda seconds: np.zeros(int(SR * seconds), np.float32)  # noqa: E731
    return np.concatenate([z(0.5), s[0], z(GAPS[0]), s[1], z(GAPS[1]), s[2], z(GAPS[2]),
                           s[3], z(1.5), s[5], z(4.0)])


def record_session(sentences, tmp: Path) -> list[dict]:
    """Run the real headless session on the synthesized answers; its JSON events."""
    path = write_wav16(tmp / "answers.wav", session_audio(sentences))
    proc = run_cli("practice", "--headless", "--input", str(path), "--no-voice", "--llm", "none",
                   "--patience", "2", "--max-probes", "1", "--budget", "12", home=tmp / "home")
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()
            if line.strip() and json.loads(line)["type"] != "transcript_partial"]


@pytest.fixture(scope="module")
def recorded(sentences):
    """(events, first answer's true wpm). The events are the committed recording of one
    real session (``python -m tests.test_tui_snapshots`` makes it again): a session
    recorded in each run would differ with the machine's load (a revision that comes
    late is skipped, words land in other segments), and so would its pictures."""
    docs = [json.loads(line) for line in RECORDING.read_text().splitlines() if line.strip()]
    events = [_event(d) for d in docs]
    # What the pace meter must show once the first three sentences are in: their known
    # words over their known speech span.
    s = sentences
    first = join_clips(s[:3], GAPS[:2], words=sum(len(x.split()) for x in SENTENCES[:3]))
    return events, 60 * first.words / (first.span[1] - first.span[0])


def _upto(events, test, nth: int = 1) -> list:
    """The events up to and including the ``nth`` one that passes ``test``."""
    seen = 0
    for i, e in enumerate(events):
        if test(e):
            seen += 1
            if seen == nth:
                return events[: i + 1]
    raise AssertionError("the recorded session has no such event")


def _is(kind: str, **attrs):
    return lambda e: e.type == kind and all(getattr(e, k) == v for k, v in attrs.items())


def _loading(events):
    return [StateChanged(0.0, state="loading")]


def _listening(events):
    return _upto(events, _is("state_changed", state="listening"))


def _speaking(events):
    """One settled segment, and talking again."""
    return _upto(events, _is("speech_started"), 2)


def _long_pause(events):
    return _upto(events, _is("pause_ended", long=True))


def _budget_warning(events):
    upto = _upto(events, _is("soft_budget_reached"))
    rest = events[len(upto):]
    # ... and on until just before the cut-in.
    hard = next(i for i, e in enumerate(rest) if e.type == "hard_budget_reached")
    return upto + rest[:hard]


def _interviewer(events):
    return _upto(events, _is("voice_started"), 2)


def _feedback(events):
    return list(events)


def _error(events):
    return _speaking(events) + [EngineError(
        events[len(_speaking(events)) - 1].t + 0.2,
        message="the microphone stopped delivering audio (was it unplugged?)", fatal=True)]


def _app() -> PracticeApp:
    from voice_interview.session.orchestrator import SessionConfig

    return PracticeApp(SessionConfig(input_path="answers.wav", voice=None, save=False),
                       autostart=False)


def _feeder(events, hold: bool, seen: dict):
    async def run_before(pilot) -> None:
        await pilot.pause()
        for event in events:
            pilot.app.handle_event(event)
        if hold:
            pilot.app.practice.set_holding(True)
        await pilot.pause()
        await pilot.pause()
        seen["text"] = screen_text(pilot.app)

    return run_before


def _flat(text: str) -> str:
    """The text with box edges and line breaks out, for facts that may wrap."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def fact_loading(text, events, true_wpm):
    flat = _flat(text)
    assert "the speech model and the voice activity detector…" in flat, flat
    assert "and the voice…" not in flat and "(no voice)" in flat


def fact_listening(text, events, true_wpm):
    question = next(e.text for e in events if e.type == "question_asked")
    assert question in _flat(text)


def fact_speaking(text, events, true_wpm):
    final = next(e.text for e in events if e.type == "transcript_final")
    assert final in _flat(text)


def fact_long_pause(text, events, true_wpm):
    pause = _long_pause(events)[-1]
    assert f"(pause {pause.duration_s:.1f} s)" in _flat(text)


def fact_hold(text, events, true_wpm):
    badge = text.splitlines()[0]  # the header line: the footer always names the key
    assert "Holding" in badge, badge


def fact_budget_warning(text, events, true_wpm):
    shown = float(re.search(r"Pace (\d+) wpm", text)[1])
    assert shown == pytest.approx(true_wpm, rel=0.10), (shown, true_wpm)


def fact_interviewer(text, events, true_wpm):
    probe = next(e for e in events if e.type == "probe_asked")
    flat = _flat(text)
    assert probe.cut_in and "cut in" in flat
    assert probe.text in flat


def fact_feedback(text, events, true_wpm):
    length = mmss(events[-1].t)  # the session's length: its last event
    head = next(ln for ln in text.splitlines() if "Session feedback" in ln)
    assert f" · {length} · " in head, (head, length)


def fact_error(text, events, true_wpm):
    assert "the microphone stopped delivering audio" in _flat(text)


STATES = {
    "loading": (_loading, False, fact_loading),
    "listening": (_listening, False, fact_listening),
    "candidate_speaking": (_speaking, False, fact_speaking),
    "long_pause": (_long_pause, False, fact_long_pause),
    "hold": (_long_pause, True, fact_hold),
    "budget_warning": (_budget_warning, False, fact_budget_warning),
    "interviewer_speaking": (_interviewer, False, fact_interviewer),
    "feedback": (_feedback, False, fact_feedback),
    "error": (_error, False, fact_error),
}


@pytest.mark.parametrize("state", list(STATES))
def test_snapshot(snap_compare, recorded, state):
    events, true_wpm = recorded
    pick, hold, fact = STATES[state]
    shown = pick(events)
    seen: dict = {}
    matches = snap_compare(_app(), terminal_size=SIZE, run_before=_feeder(shown, hold, seen))
    fact(seen["text"], events, true_wpm)  # what the picture must say, read off it
    assert matches


if __name__ == "__main__":  # re-record the session the snapshots are fed (on an idle machine)
    from tests.audio_helpers import SENTENCES as TEXTS
    from voice_interview.audio.playback import resample
    from voice_interview.speech.voices import get_voice

    voice = get_voice("piper", deterministic=True)
    said = [resample(voice.synthesize(t), voice.sample_rate, SR).astype(np.float32)
            for t in TEXTS]
    with tempfile.TemporaryDirectory() as d:
        docs = record_session(said, Path(d))
    RECORDING.write_text("".join(json.dumps(d) + "\n" for d in docs))
    print(f"{RECORDING}: {len(docs)} events")
