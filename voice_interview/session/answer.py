"""The answer being given, and who holds the floor.

``LiveAnswer`` gathers one answer's material as the listener reports it;
``Floor`` is the state the session's threads share: the current answer (None
while the interviewer speaks), and a generation counter bumped whenever the
candidate speaks, which makes anything prepared before that stale. One lock
guards both, and the probe preparations kept beside them (``session.probes``).
A polish (the listener's slower long-context revision) of an answer's last
stretch usually arrives after the answer was closed and scored: ``Floor.late``
hands it to that answer, which is then scored again (``TurnLoop.rescore``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from voice_interview.events import PauseEnded, TranscriptFinal, TranscriptRevised, TurnEnded

if TYPE_CHECKING:
    from voice_interview.analysis import AnswerAnalysis


@dataclass
class LiveAnswer:
    index: int
    question_id: str
    kind: str  # question | probe
    prompt: str
    started: float
    finals: list[TranscriptFinal] = field(default_factory=list)
    pauses: list[PauseEnded] = field(default_factory=list)
    ended: TurnEnded | None = None
    analysis: AnswerAnalysis | None = None
    revisions: list[TranscriptRevised] = field(default_factory=list)  # over finals

    def said(self) -> tuple[list[Any], str]:
        """(words, text) of the answer so far, revisions in place of the finals they cover."""
        from voice_interview.listener import settled

        pieces = settled(self.finals, self.revisions)
        words = [w for _s, _t, ws in pieces for w in ws]
        return words, " ".join(t for _s, t, _w in pieces if t).strip()

    @property
    def heard(self) -> int:
        """How many transcripts (finals and revisions) the answer has had so far."""
        return len(self.finals) + len(self.revisions)


class Floor:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: LiveAnswer | None = None
        self.gen = 0  # bumped whenever the candidate speaks: stale preparations are dropped
        self.closed: list[LiveAnswer] = []  # answers closed, oldest first

    def collect(self, event: object) -> LiveAnswer | None:
        """Keep a listener event that belongs to the current answer; the current answer."""
        with self.lock:
            cur = self.current
            if cur is not None:
                if isinstance(event, TranscriptFinal) and event.segment_end >= cur.started:
                    cur.finals.append(event)
                elif isinstance(event, TranscriptRevised) and event.end >= cur.started:
                    cur.revisions.append(event)
                elif isinstance(event, PauseEnded):
                    cur.pauses.append(event)
        return cur

    def open(self, answer: LiveAnswer) -> None:
        with self.lock:
            self.current = answer

    def close(self) -> LiveAnswer | None:
        with self.lock:
            answer, self.current = self.current, None
            if answer is not None:
                self.closed.append(answer)
        return answer

    def late(self, event: TranscriptRevised) -> LiveAnswer | None:
        """A polish of a closed answer's stretch, kept with that answer (then the
        answer to score again); None if it belongs to no closed answer, or to the
        current one (``collect`` took it)."""
        if not event.polish:
            return None
        with self.lock:
            cur = self.current
            if cur is not None and event.end >= cur.started:
                return None
            for answer in reversed(self.closed):
                if event.end >= answer.started:
                    answer.revisions.append(event)
                    return answer
        return None
