"""Turn manager: a pure state machine driven by a frame timeline."""

from __future__ import annotations

from voice_interview.events import (
    HardBudgetReached,
    MonologueTick,
    PauseEnded,
    PauseStarted,
    SoftBudgetReached,
    SpeechStarted,
    SpeechStopped,
    TurnEnded,
)
from voice_interview.turns import TurnManager, TurnSettings

F = 0.032


def drive(tm: TurnManager, pattern: list[tuple[bool, float]], t0: float = 0.0):
    """Feed (speech?, seconds) stretches; return all events and the end time."""
    events, t = [], t0
    for speech, seconds in pattern:
        for _ in range(round(seconds / F)):
            events += tm.on_frame(t, speech)
            t += F
    return events, t


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_pause_then_end_of_turn_after_patience():
    tm = TurnManager(TurnSettings(patience_s=2.5))
    events, _ = drive(tm, [(False, 1.0), (True, 3.0), (False, 1.28), (True, 2.0), (False, 4.0)])
    starts = of(events, SpeechStarted)
    assert [round(e.t, 1) for e in starts] == [1.0, 5.3]
    pauses = of(events, PauseEnded)
    assert len(pauses) == 1
    assert abs(pauses[0].duration_s - 1.28) < F + 1e-9 and pauses[0].long
    assert of(events, PauseStarted)[0].t == pauses[0].t
    ended = of(events, TurnEnded)
    assert len(ended) == 1 and ended[0].reason == "silence"
    # Fires on the first frame at which 2.5 s of silence have passed.
    assert 0 <= ended[0].t - (ended[0].speech_end + 2.5) < F + 1e-9
    assert abs(ended[0].monologue_s - (7.28 - 1.0)) < F + 1e-9
    assert tm.state == "ended" and tm.on_frame(20.0, True) == []


def test_short_gaps_are_not_pauses():
    tm = TurnManager()
    events, _ = drive(tm, [(True, 1.0), (False, 0.16), (True, 1.0), (False, 0.5)])
    assert of(events, PauseEnded) == [] and len(of(events, SpeechStarted)) == 1
    assert len(of(events, SpeechStopped)) == 1  # the trailing 0.5 s silence


def test_hold_keeps_the_turn_open_and_patience_restarts_on_release():
    tm = TurnManager(TurnSettings(patience_s=2.5))
    events, t = drive(tm, [(True, 1.0), (False, 0.5)])
    tm.hold(True)
    more, t = drive(tm, [(False, 6.0)], t)
    assert of(events + more, TurnEnded) == []
    tm.hold(False)
    released = t
    more, t = drive(tm, [(False, 3.0)], t)
    ended = of(more, TurnEnded)
    assert ended and abs(ended[0].t - (released + 2.5)) < 2 * F


def test_user_can_end_the_turn():
    tm = TurnManager()
    drive(tm, [(True, 1.0)])
    (ended,) = tm.end_turn()
    assert ended.reason == "user" and tm.end_turn() == []


def test_budgets_and_ticks():
    tm = TurnManager(TurnSettings(soft_budget_s=3.0, hard_budget_s=5.0, patience_s=10))
    events, _ = drive(tm, [(True, 2.0), (False, 1.5), (True, 2.5)])
    soft, hard = of(events, SoftBudgetReached), of(events, HardBudgetReached)
    assert len(soft) == 1 and abs(soft[0].monologue_s - 3.0) < F + 1e-9
    assert len(hard) == 1 and abs(hard[0].monologue_s - 5.0) < F + 1e-9
    ticks = of(events, MonologueTick)
    assert len(ticks) == 5 and all(b.t - a.t > 0.9 for a, b in zip(ticks, ticks[1:], strict=False))
    assert any(not tick.speaking for tick in ticks)  # a tick during the pause


def test_no_speech_means_no_turn_events():
    tm = TurnManager()
    events, _ = drive(tm, [(False, 10.0)])
    assert events == []
