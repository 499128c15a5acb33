"""Typed events: how the engine tells the UI, the CLI and the tests what happened.

Every event is a frozen dataclass with ``t``: seconds on the session's audio
timeline (for a file, seconds from its start). ``to_json()`` gives the JSON-lines
form used by ``--headless`` and the session log: ``{"type": "speech_started", "t": ...}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Event:
    t: float

    @property
    def type(self) -> str:
        return _snake(type(self).__name__)

    def to_json(self) -> dict:
        out: dict = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float):
                value = round(value, 3)
            elif hasattr(value, "to_json"):
                value = value.to_json()
            elif isinstance(value, tuple):
                value = [v.to_json() if hasattr(v, "to_json") else v for v in value]
            out[f.name] = value
        return out


# --- voice activity / turn manager ------------------------------------------------


@dataclass(frozen=True)
class SpeechStarted(Event):
    pass


@dataclass(frozen=True)
class SpeechStopped(Event):
    """Speech has stopped (confirmed after ``min_gap_s``); ``t`` is the last speech time."""


@dataclass(frozen=True)
class PauseStarted(Event):
    """A silence inside the answer reached the pause threshold; ``t`` is where it began."""


@dataclass(frozen=True)
class PauseEnded(Event):
    """Speech resumed after a pause; ``t`` is the pause's start."""

    end: float
    duration_s: float
    long: bool


@dataclass(frozen=True)
class MonologueTick(Event):
    """Once a second while the candidate holds the floor."""

    monologue_s: float
    speaking: bool


@dataclass(frozen=True)
class SoftBudgetReached(Event):
    monologue_s: float


@dataclass(frozen=True)
class HardBudgetReached(Event):
    monologue_s: float


@dataclass(frozen=True)
class TurnEnded(Event):
    """The answer is over. ``reason``: silence, budget, user, or source_ended."""

    reason: str
    monologue_s: float
    speech_start: float | None
    speech_end: float | None


# --- transcription --------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptPartial(Event):
    """Provisional text of the speech segment in progress (replaced by a final)."""

    segment_start: float
    text: str


@dataclass(frozen=True)
class TranscriptFinal(Event):
    """Settled words of one speech segment; ``t`` is when they became ready."""

    segment_start: float
    segment_end: float
    text: str
    words: tuple = ()


@dataclass(frozen=True)
class TranscriptRevised(Event):
    """A window of consecutive segments decoded again in context (up to ~25 s, cut at
    pauses, the text before it as the prompt). Its words replace the finals of every
    segment inside ``[start, end]``; ``t`` is when they became ready."""

    start: float
    end: float
    words: tuple
    text: str


# --- errors -------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineError(Event):
    message: str
    fatal: bool = False
    exit_code: int = 1  # for a fatal error: what the command should exit with


# --- the practice session ---------------------------------------------------------------


@dataclass(frozen=True)
class SessionStarted(Event):
    session_id: str
    format_id: str
    question_id: str


@dataclass(frozen=True)
class StateChanged(Event):
    """listening | speaking (candidate) | thinking (pause) | interviewer | loading | ended"""

    state: str


@dataclass(frozen=True)
class QuestionAsked(Event):
    question_id: str
    text: str
    index: int  # 1-based question number in the session
    soft_budget_s: float | None = None  # the answer's warning and cut-in times
    budget_s: float | None = None


@dataclass(frozen=True)
class ProbeAsked(Event):
    family: str
    text: str
    reason: str
    source: str  # planner | llm
    depth: int
    cut_in: bool = False  # the interviewer interrupted at the hard budget
    soft_budget_s: float | None = None  # the answer's warning and cut-in times
    budget_s: float | None = None


@dataclass(frozen=True)
class VoiceStarted(Event):
    """The interviewer's first audio sample reached the output (or the line was shown)."""

    text: str


@dataclass(frozen=True)
class VoiceEnded(Event):
    text: str
    interrupted: bool = False


@dataclass(frozen=True)
class AnswerScored(Event):
    """Pacing (and structure) of one finished answer; ``analysis`` is its JSON form."""

    answer_index: int
    question_id: str
    analysis: dict


@dataclass(frozen=True)
class Notice(Event):
    """Something the user should know that does not stop the session (LLM fell back...)."""

    message: str
    level: str = "info"  # info | warning


@dataclass(frozen=True)
class SessionEnded(Event):
    reason: str  # done | time_limit | user | error | source_ended
    summary: dict
