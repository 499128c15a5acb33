"""Typed events: how the engine tells the UI, the CLI and the tests what happened.

Every event is a frozen dataclass with ``t``: seconds on the session's audio
timeline (for a file, seconds from its start). ``to_json()`` gives the JSON-lines
form used by ``--headless`` and the session log: ``{"type": "speech_started", "t": ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    """Base class. ``TYPE`` is the event's name in JSON and in events.jsonl: each
    event class spells its own, so renaming a class cannot change the file format."""

    TYPE: ClassVar[str] = ""
    t: float

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("TYPE"):
            raise TypeError(f"event class {cls.__name__} must set its own TYPE (its on-disk name)")

    @property
    def type(self) -> str:
        return self.TYPE

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
    TYPE: ClassVar[str] = "speech_started"


@dataclass(frozen=True)
class SpeechStopped(Event):
    """Speech has stopped (confirmed after ``min_gap_s``); ``t`` is the last speech time."""

    TYPE: ClassVar[str] = "speech_stopped"


@dataclass(frozen=True)
class PauseStarted(Event):
    """A silence inside the answer reached the pause threshold; ``t`` is where it began."""

    TYPE: ClassVar[str] = "pause_started"


@dataclass(frozen=True)
class PauseEnded(Event):
    """Speech resumed after a pause; ``t`` is the pause's start."""

    TYPE: ClassVar[str] = "pause_ended"
    end: float
    duration_s: float
    long: bool


@dataclass(frozen=True)
class MonologueTick(Event):
    """Once a second while the candidate holds the floor."""

    TYPE: ClassVar[str] = "monologue_tick"
    monologue_s: float
    speaking: bool


@dataclass(frozen=True)
class SoftBudgetReached(Event):
    TYPE: ClassVar[str] = "soft_budget_reached"
    monologue_s: float


@dataclass(frozen=True)
class HardBudgetReached(Event):
    TYPE: ClassVar[str] = "hard_budget_reached"
    monologue_s: float


@dataclass(frozen=True)
class TurnEnded(Event):
    """The answer is over. ``reason``: silence, budget, user, or source_ended."""

    TYPE: ClassVar[str] = "turn_ended"
    reason: str
    monologue_s: float
    speech_start: float | None
    speech_end: float | None


# --- transcription --------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptPartial(Event):
    """Provisional text of the speech segment in progress (replaced by a final)."""

    TYPE: ClassVar[str] = "transcript_partial"
    segment_start: float
    text: str


@dataclass(frozen=True)
class TranscriptFinal(Event):
    """Settled words of one speech segment; ``t`` is when they became ready."""

    TYPE: ClassVar[str] = "transcript_final"
    segment_start: float
    segment_end: float
    text: str
    words: tuple = ()


@dataclass(frozen=True)
class TranscriptRevised(Event):
    """A window of consecutive segments decoded again as one (up to 25 s, cut at
    pauses). Its words replace the finals of every segment inside ``[start, end]``
    and any earlier revision inside it (``polish``: the slower long-context decode
    of that stretch, ``listener.polish``); ``t`` is when they became ready."""

    TYPE: ClassVar[str] = "transcript_revised"
    start: float
    end: float
    words: tuple
    text: str
    polish: bool = False


# --- errors -------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineError(Event):
    TYPE: ClassVar[str] = "engine_error"
    message: str
    fatal: bool = False
    exit_code: int = 1  # for a fatal error: what the command should exit with


# --- the practice session ---------------------------------------------------------------


@dataclass(frozen=True)
class SessionStarted(Event):
    TYPE: ClassVar[str] = "session_started"
    session_id: str
    format_id: str
    question_id: str


@dataclass(frozen=True)
class StateChanged(Event):
    """listening | speaking (candidate) | thinking (pause) | interviewer | loading | ended"""

    TYPE: ClassVar[str] = "state_changed"
    state: str


@dataclass(frozen=True)
class QuestionAsked(Event):
    TYPE: ClassVar[str] = "question_asked"
    question_id: str
    text: str
    index: int  # 1-based question number in the session
    soft_budget_s: float | None = None  # the answer's warning and cut-in times
    budget_s: float | None = None


@dataclass(frozen=True)
class ProbeAsked(Event):
    TYPE: ClassVar[str] = "probe_asked"
    family: str
    text: str
    reason: str
    source: str  # planner | llm
    depth: int
    cut_in: bool = False  # the interviewer interrupted at the hard budget
    soft_budget_s: float | None = None  # the answer's warning and cut-in times
    budget_s: float | None = None
    target: dict | None = None  # the claim it is aimed at: {"text", "start"} (Probe.target)


@dataclass(frozen=True)
class VoiceStarted(Event):
    """The interviewer's first audio sample reached the output (or the line was shown)."""

    TYPE: ClassVar[str] = "voice_started"
    text: str


@dataclass(frozen=True)
class VoiceEnded(Event):
    """The line finished (or was cut short). ``underruns``: times the output found no
    audio ready (the voice could not keep up: the listener heard a gap)."""

    TYPE: ClassVar[str] = "voice_ended"
    text: str
    interrupted: bool = False
    underruns: int = 0


@dataclass(frozen=True)
class AnswerScored(Event):
    """Pacing (and structure) of one finished answer; ``analysis`` is its JSON form.

    ``rescored``: the same answer scored again, a late polish of its last words in
    (this analysis replaces the earlier one of ``answer_index``)."""

    TYPE: ClassVar[str] = "answer_scored"
    answer_index: int
    question_id: str
    analysis: dict
    rescored: bool = False


@dataclass(frozen=True)
class Notice(Event):
    """Something the user should know that does not stop the session (LLM fell back...)."""

    TYPE: ClassVar[str] = "notice"
    message: str
    level: str = "info"  # info | warning


@dataclass(frozen=True)
class SessionEnded(Event):
    TYPE: ClassVar[str] = "session_ended"
    reason: str  # done | time_limit | user | error | source_ended
    summary: dict
