"""Snapshots of every screen and state of the practice TUI (pytest-textual-snapshot).

Each snapshot starts a display-only app (``autostart=False``: no session, no
models) and feeds it a recorded event sequence through the app's public
``handle_event`` — the same events a real session emits, in the same order, so
the picture is deterministic. The sequence below follows a real run of the
conversational format on a project overview (times on the audio timeline).

Update after an intended change with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs in tests/__snapshots__/ before committing.
"""

from __future__ import annotations

import pytest

from voice_interview.events import (
    AnswerScored,
    EngineError,
    HardBudgetReached,
    MonologueTick,
    PauseEnded,
    PauseStarted,
    ProbeAsked,
    QuestionAsked,
    SessionEnded,
    SessionStarted,
    SoftBudgetReached,
    SpeechStarted,
    SpeechStopped,
    StateChanged,
    TranscriptFinal,
    TranscriptPartial,
    TurnEnded,
    VoiceEnded,
    VoiceStarted,
)
from voice_interview.speech.transcriber import Word
from voice_interview.tui.app import PracticeApp

SIZE = (120, 40)
QUESTION = (
    "Pick an AI project you built yourself and take me through it, from the problem to "
    "the result."
)
PROBE = "Why did you go with that approach and not one of the alternatives?"


def _final(start: float, end: float, text: str) -> TranscriptFinal:
    tokens = text.split()
    step = (end - start) / len(tokens)
    words = tuple(
        Word(f" {tok}", round(start + i * step, 2), round(start + (i + 0.8) * step, 2), 0.9)
        for i, tok in enumerate(tokens)
    )
    return TranscriptFinal(end + 0.6, segment_start=start, segment_end=end, text=text,
                           words=words)


def _analysis(wpm, monologue, pauses, long, longest, fillers, covered, feedback) -> dict:
    titles = [("hook", "Impact up front"), ("problem", "Problem and context"), ("data", "Data"),
              ("approach", "Approach and decisions"), ("evaluation", "Evaluation and results"),
              ("reflection", "Reflection")]
    return {
        "metrics": {"wpm": wpm, "monologue_s": monologue, "pause_count": pauses,
                    "long_pause_count": long, "longest_pause_s": longest,
                    "filler_count": fillers},
        "feedback": [{"kind": k, "severity": s, "message": m} for k, s, m in feedback],
        "structure": {"parts": [{"id": i, "title": t, "covered": i in covered}
                                for i, t in titles]} if covered is not None else {},
        "probes": [],
    }


OVERVIEW = _analysis(
    138.0, 180.0, 21, 3, 1.6, 4, {"hook", "problem", "data", "approach"},
    [("length", "warn", "The answer ran to 3:00, the interviewer cut in; aim for 2:00-3:00."),
     ("pace", "info", "Pace 138 wpm: comfortable (120-165)."),
     ("pauses", "info", "3 long pause(s) of 1 s or more, the longest 1.6 s; pauses between "
                        "points are fine."),
     ("fillers", "warn", "At least 4 fillers (1.3/min): 'um' x3, 'basically' x1.")],
)
FOLLOW_UP = _analysis(
    171.0, 24.0, 3, 0, 0.6, 0, None,
    [("pace", "warn", "Pace 171 wpm: a little fast; 120-165 is easiest to follow.")],
)


def opening() -> list:
    """Loaded; the question is asked and shown (no voice), the candidate's turn begins."""
    return [
        StateChanged(0.0, state="loading"),
        SessionStarted(0.0, session_id="3f2a9c1b7d4e", format_id="conversational",
                       question_id="dd-end-to-end"),
        QuestionAsked(0.0, question_id="dd-end-to-end", text=QUESTION, index=1),
        StateChanged(0.0, state="interviewer"),
        VoiceStarted(0.0, text=QUESTION),
        VoiceEnded(0.0, text=QUESTION),
        StateChanged(0.0, state="listening"),
    ]


def speaking() -> list:
    """Talking: one settled segment and a provisional partial of the next."""
    return opening() + [
        SpeechStarted(0.6),
        StateChanged(0.6, state="speaking"),
        MonologueTick(1.6, monologue_s=1.0, speaking=True),
        MonologueTick(2.6, monologue_s=2.0, speaking=True),
        MonologueTick(3.6, monologue_s=3.0, speaking=True),
        _final(0.6, 4.1, "Last year I built a search assistant for our support team,"),
        MonologueTick(4.6, monologue_s=4.0, speaking=True),
        MonologueTick(5.6, monologue_s=5.0, speaking=True),
        TranscriptPartial(6.0, segment_start=4.4, text="and it cut the time to answer"),
    ]


def long_pause() -> list:
    """A 1.6 s pause was marked inline; the candidate is pausing again (thinking)."""
    return speaking() + [
        MonologueTick(6.6, monologue_s=6.0, speaking=True),
        MonologueTick(7.6, monologue_s=7.0, speaking=True),
        SpeechStopped(8.0),
        PauseStarted(8.0),
        StateChanged(8.0, state="thinking"),
        _final(4.4, 8.0, "and it cut the time to answer a ticket by about forty percent."),
        MonologueTick(8.6, monologue_s=8.0, speaking=False),
        PauseEnded(8.0, end=9.6, duration_s=1.6, long=True),
        SpeechStarted(9.6),
        StateChanged(9.6, state="speaking"),
        MonologueTick(10.6, monologue_s=10.0, speaking=True),
        MonologueTick(11.6, monologue_s=11.0, speaking=True),
        SpeechStopped(12.4),
        PauseStarted(12.4),
        StateChanged(12.4, state="thinking"),
        _final(9.6, 12.4, "Um, the problem was simple to state."),
        MonologueTick(12.6, monologue_s=12.0, speaking=False),
    ]


def budget_warning() -> list:
    """Past the soft budget (2:30): the timer turns to a warning."""
    return long_pause() + [
        PauseEnded(12.4, end=12.9, duration_s=0.5, long=False),
        SpeechStarted(12.9),
        StateChanged(12.9, state="speaking"),
        _final(128.0, 135.5, "For the approach I chose embedding search with a small "
                             "re-ranker, because keyword search missed paraphrases"),
        _final(135.8, 143.0, "and a hosted model would have sent customer data outside "
                             "the company, which legal would never accept."),
        _final(143.4, 150.2, "To know it worked we labelled five hundred tickets by hand "
                             "and measured recall at five."),
        MonologueTick(150.6, monologue_s=150.0, speaking=True),
        SoftBudgetReached(150.6, monologue_s=150.0),
        MonologueTick(151.6, monologue_s=151.0, speaking=True),
    ]


def interviewer_speaking() -> list:
    """The hard budget: the interviewer cuts in and speaks a probe."""
    return budget_warning() + [
        HardBudgetReached(180.6, monologue_s=180.0),
        TurnEnded(180.6, reason="budget", monologue_s=180.0, speech_start=0.6,
                  speech_end=180.5),
        AnswerScored(181.0, answer_index=1, question_id="dd-end-to-end", analysis=OVERVIEW),
        StateChanged(181.0, state="interviewer"),
        ProbeAsked(181.0, family="decisions", text=PROBE, reason="approach without "
                   "alternatives", source="planner", depth=1, cut_in=True),
        StateChanged(181.0, state="interviewer"),
        VoiceStarted(181.3, text=f"Let me stop you there. {PROBE}"),
    ]


SUMMARY = {
    "session_id": "3f2a9c1b7d4e",
    "format_id": "conversational",
    "question_id": "dd-end-to-end",
    "reason": "user",
    "duration_s": 231.0,
    "answers": [
        {"index": 1, "question_id": "dd-end-to-end", "kind": "question", "prompt": QUESTION,
         "transcript": "Last year I built a search assistant...", "analysis": OVERVIEW},
        {"index": 2, "question_id": "dd-end-to-end", "kind": "probe", "prompt": PROBE,
         "transcript": "Keyword search missed paraphrases...", "analysis": FOLLOW_UP},
    ],
    "probes": [{"family": "decisions", "text": PROBE, "reason": "approach without alternatives",
                "source": "planner", "depth": 1}],
    "depth": {"decisions": 1, "context": 0},
}


def feedback() -> list:
    return interviewer_speaking() + [
        VoiceEnded(185.0, text=f"Let me stop you there. {PROBE}"),
        StateChanged(185.3, state="listening"),
        SpeechStarted(186.0),
        StateChanged(186.0, state="speaking"),
        _final(186.0, 200.0, "Keyword search missed paraphrases and we could not send "
                             "customer data to a hosted model."),
        TurnEnded(210.0, reason="user", monologue_s=24.0, speech_start=186.0, speech_end=210.0),
        AnswerScored(210.2, answer_index=2, question_id="dd-end-to-end", analysis=FOLLOW_UP),
        StateChanged(210.2, state="interviewer"),
        StateChanged(210.3, state="ended"),
        SessionEnded(210.3, reason="user", summary=SUMMARY),
    ]


def error() -> list:
    return speaking() + [
        EngineError(6.2, message="the microphone stopped delivering audio (was it unplugged?)",
                    fatal=True),
    ]


def _app() -> PracticeApp:
    from voice_interview.session.orchestrator import SessionConfig

    return PracticeApp(SessionConfig(input_path="answers.wav", voice=None, save=False),
                       autostart=False)


def _feeder(events, hold: bool = False):
    async def run_before(pilot) -> None:
        await pilot.pause()
        for event in events:
            pilot.app.handle_event(event)
        if hold:
            pilot.app.practice.set_holding(True)
        await pilot.pause()
        await pilot.pause()

    return run_before


STATES = {
    "loading": ([StateChanged(0.0, state="loading")], False),
    "listening": (opening(), False),
    "candidate_speaking": (speaking(), False),
    "long_pause": (long_pause(), False),
    "hold": (long_pause(), True),
    "budget_warning": (budget_warning(), False),
    "interviewer_speaking": (interviewer_speaking(), False),
    "feedback": (feedback(), False),
    "error": (error(), False),
}


@pytest.mark.parametrize("state", list(STATES))
def test_snapshot(snap_compare, state):
    events, hold = STATES[state]
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_feeder(events, hold))
