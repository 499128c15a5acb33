"""The event names written to events.jsonl are a file format: explicit, unique, stable."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from voice_interview import events as ev

# The names recordings on disk use (session/recorder.py, replay_model.py and the
# report read them back). Adding an event adds a name; none may change.
ON_DISK = {
    "speech_started", "speech_stopped", "pause_started", "pause_ended", "monologue_tick",
    "soft_budget_reached", "hard_budget_reached", "turn_ended", "transcript_partial",
    "transcript_final", "transcript_revised", "engine_error", "session_started",
    "state_changed", "question_asked", "probe_asked", "voice_started", "voice_ended",
    "answer_scored", "notice", "session_ended",
}


def _event_classes() -> list[type[ev.Event]]:
    return [c for c in vars(ev).values()
            if isinstance(c, type) and issubclass(c, ev.Event) and c is not ev.Event]


def test_every_known_name_is_still_written():
    names = [c.TYPE for c in _event_classes()]
    assert len(names) == len(set(names)), names
    assert set(names) >= ON_DISK, ON_DISK - set(names)


def test_an_event_class_must_name_itself():
    """Neither a new event nor a subclass of one gets a name by inheritance."""
    with pytest.raises(TypeError, match="must set its own TYPE"):
        @dataclass(frozen=True)
        class Unnamed(ev.Event):  # noqa: F841 - defining it is the test
            pass
    with pytest.raises(TypeError, match="must set its own TYPE"):
        type("SpeechBegan", (ev.SpeechStarted,), {})


def test_the_practice_screen_dispatches_on_event_classes():
    """Every event handler of the practice screen is reached by its event's class, and
    each handler is the one named after that event (no string dispatch left to drift)."""
    from voice_interview.tui.screens import HANDLERS, PracticeScreen

    handlers = {n for n in PracticeScreen.__dict__ if n.startswith("_on_")}
    assert {f.__name__ for f in HANDLERS.values()} == handlers
    for cls, handler in HANDLERS.items():
        assert handler.__name__ == f"_on_{cls.TYPE}", (cls, handler)
