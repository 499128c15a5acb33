"""Where a session's events go: to the recording, to ``on_event``, to the turn loop.

``EventRouter.emit`` logs an event in the recording (if any) and hands it to
``on_event`` (the TUI, the ``--headless`` printer, the tests). The listener's
events come in through ``from_listener``: the answer's material is kept, the
probe preparation hears about speech and pauses, and the turn loop is told what
it acts on. A recording that fails (disk full...) stops; the session goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from voice_interview.errors import VoiceInterviewError
from voice_interview.events import (
    EngineError,
    Event,
    HardBudgetReached,
    Notice,
    PauseStarted,
    SpeechStarted,
    StateChanged,
    TranscriptFinal,
    TranscriptPartial,
    TranscriptRevised,
    TurnEnded,
)
from voice_interview.session.answer import Floor, LiveAnswer
from voice_interview.session.inbox import BudgetReached, Failed, Inbox, TurnOver

if TYPE_CHECKING:
    from voice_interview.listener import Listener
    from voice_interview.session.probes import ProbePreparer


class Recorder(Protocol):
    """What the session needs of a recording (``session.store``'s writer)."""

    id: str
    path: Path

    @property
    def finished(self) -> bool: ...

    def write_candidate(self, block: np.ndarray, t: float | None = None) -> None: ...

    def write_interviewer(self, samples: np.ndarray, rate: int, t_start: float) -> None: ...

    def log_event(self, doc: Any) -> None: ...

    def add_answer(self, index: int, question_id: str | None, prompt_text: str, kind: str,
                   analysis_json: dict) -> None: ...

    def finish(self, summary: dict | None = None, status: str = "complete") -> None: ...

    def abort(self, reason: str) -> None: ...


class EventRouter:
    def __init__(self, on_event: Callable[[Event], None], recorder: Recorder | None,
                 floor: Floor, inbox: Inbox) -> None:
        self.on_event = on_event
        self.recorder = recorder  # None when not saving, or once recording failed
        self.floor = floor
        self.inbox = inbox
        self.listener: Listener | None = None  # the clock, once loaded
        self.preparer: ProbePreparer | None = None  # hears about speech and pauses
        # scores a closed answer again once a late polish of it is in (the turn loop's)
        self.rescore: Callable[[LiveAnswer], None] | None = None

    def attach(self, listener: Listener, preparer: ProbePreparer) -> None:
        self.listener = listener
        self.preparer = preparer

    @property
    def now(self) -> float:
        return self.listener.position if self.listener is not None else 0.0

    def emit(self, event: Event) -> None:
        rec = self.recorder
        if rec is not None:
            self.record(rec.log_event, event.to_json())
        self.on_event(event)

    def notice(self, message: str, level: str = "info", t: float | None = None) -> None:
        self.emit(Notice(self.now if t is None else t, message=message, level=level))

    def record(self, fn: Callable[..., None], *args: Any) -> None:
        """Call the recorder; if recording fails (disk full...), stop recording only."""
        try:
            fn(*args)
        except VoiceInterviewError as exc:
            if self.recorder is not None:
                self.recorder = None
                self.on_event(Notice(self.now, message=f"recording stopped: {exc}; "
                                     "the session goes on", level="warning"))

    def tap(self, block: np.ndarray, t: float) -> None:
        """The listener's copy of every candidate block, for the recording."""
        rec = self.recorder
        if rec is not None:
            self.record(rec.write_candidate, block, t)

    def from_listener(self, event: Event) -> None:
        """Listener threads: keep the answer's material, pass everything on."""
        cur = self.floor.collect(event)
        if isinstance(event, SpeechStarted):
            if self.preparer is not None:
                self.preparer.candidate_spoke()  # the candidate goes on: that probe is stale
            self.emit(StateChanged(event.t, state="speaking"))
        elif isinstance(event, TranscriptFinal | TranscriptRevised):
            if cur is not None and self.preparer is not None:
                self.preparer.words_grew(cur)  # the LLM's server reads them now
        elif isinstance(event, TranscriptPartial):
            if cur is not None and self.preparer is not None:
                self.preparer.partial_heard(cur, event)  # a move it brings is worded now
        elif isinstance(event, PauseStarted):
            self.emit(StateChanged(event.t, state="thinking"))
            if cur is not None and self.preparer is not None:
                self.preparer.pause_began()
        if isinstance(event, EngineError) and event.fatal:
            self.inbox.put(Failed(event))  # shown by the loop once the answer so far is scored
            return
        self.emit(event)
        if isinstance(event, TranscriptRevised) and event.polish:
            late = self.floor.late(event)  # the polish of an answer already scored
            if late is not None and self.rescore is not None:
                self.rescore(late)
        if isinstance(event, TurnEnded):
            self.inbox.put(TurnOver(event))
        elif isinstance(event, HardBudgetReached):
            self.inbox.put(BudgetReached(event))
