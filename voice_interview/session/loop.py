"""The turn loop: ask, listen until the turn ends, score the answer, probe, repeat.

``TurnLoop.run`` reads the inbox (``session.inbox``) until the format's number
of probes, its time limit, ``stop()``, a fatal error or the end of the audio
source ends the conversation; it returns why. Each finished answer is scored
(pacing, and structure for an opening answer), recorded and announced with
``AnswerScored``; when the listener's polish of its last stretch comes in later,
it is scored again, recorded again (the later line of an index wins) and
announced again (``rescored``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from voice_interview.events import (
    AnswerScored,
    ProbeAsked,
    QuestionAsked,
    StateChanged,
    TurnEnded,
)
from voice_interview.session.answer import Floor, LiveAnswer
from voice_interview.session.inbox import (
    BudgetReached,
    Failed,
    Inbox,
    SourceEnded,
    StopAsked,
)
from voice_interview.session.settings import (
    BRIDGE_LINE,
    CLOSING_LINE,
    CUT_IN,
    FINALS_WAIT_S,
    SessionConfig,
    followup_budgets,
)

if TYPE_CHECKING:
    from voice_interview.analysis import AnswerAnalysis
    from voice_interview.audio.sources import AudioSource
    from voice_interview.listener import Listener
    from voice_interview.pacing import PacingRubric
    from voice_interview.session.interview import Interview
    from voice_interview.session.probes import Prepared, ProbePreparer
    from voice_interview.session.routing import EventRouter
    from voice_interview.session.voice import InterviewerVoice
    from voice_interview.turns import TurnSettings


@dataclass
class TurnLoop:
    config: SessionConfig
    interview: Interview
    floor: Floor
    listener: Listener
    voice: InterviewerVoice
    preparer: ProbePreparer
    router: EventRouter
    inbox: Inbox
    stopped: threading.Event
    next_asked: threading.Event
    rubric: PacingRubric
    turn_settings: TurnSettings  # the opening answer's
    source: AudioSource
    answers: list[LiveAnswer] = field(default_factory=list)
    probes: list[dict[str, Any]] = field(default_factory=list)
    bridge_audio: Any = None  # BRIDGE_LINE synthesized (config.bridge_after_s)
    rescored: int = 0  # answers scored again with a late polish in
    # finish_turn and rescore one at a time, so an answer's later score is recorded last
    _scoring: threading.Lock = field(default_factory=threading.Lock)
    _questions: dict[str, Any] = field(default_factory=dict)  # each question asked, by id

    def run(self, started: float) -> str:
        """Turns until the session ends; the reason it ended."""
        if (self.config.bridge_after_s is not None and self.interview.llm is not None
                and self.voice.speaks):
            threading.Thread(target=self._make_bridge, name="bridge", daemon=True).start()
        fmt = self.interview.format
        limit = self.config.time_limit_s or fmt.time_limit_s
        max_probes = (self.config.max_probes if self.config.max_probes is not None
                      else fmt.max_probes)
        while True:
            remaining = limit - (time.monotonic() - started)
            if remaining <= 0:
                self.finish_turn(None, "time_limit")
                return "time_limit"
            item = self.inbox.get(timeout=min(remaining, 0.5))
            if item is None:
                continue
            if isinstance(item, StopAsked) or self.stopped.is_set():
                self.finish_turn(None, "user")
                return "user"
            if isinstance(item, SourceEnded):
                self.finish_turn(None, "source_ended")
                return "source_ended"
            if isinstance(item, BudgetReached):
                self.listener.end_turn("budget")
                continue
            if isinstance(item, Failed):
                self.finish_turn(None, "error")  # keep the answer, then say what happened
                self.router.emit(item.event)
                return "error"
            ended = item.event  # a TurnOver
            current = self.floor.current
            if current is None or ended.t < current.started:
                continue  # a turn that ended before this answer began (while muted)
            answer = self.finish_turn(ended, ended.reason)
            if answer is None:
                continue
            if ended.reason == "source_ended":
                return "source_ended"
            probes_asked = sum(1 for a in self.answers if a.kind == "probe")
            if self.next_asked.is_set():
                self.next_asked.clear()
                if not self.next_question():
                    return "done"
                continue
            if probes_asked >= max_probes or self.interview.planner.exhausted:
                self.voice.say(CLOSING_LINE)
                return "done"
            self.probe(answer, cut_in=ended.reason == "budget")

    # -- asking ----------------------------------------------------------------------------

    def ask(self, text: str, kind: str, prepared: Prepared | None = None) -> None:
        router = self.router
        index = len(self.answers) + 1
        turn = self.turn_settings_for(kind)
        question = self.interview.question
        self._questions[question.id] = question
        if kind == "question":
            router.emit(QuestionAsked(router.now, question_id=question.id, text=text,
                                      index=sum(a.kind == "question" for a in self.answers) + 1,
                                      soft_budget_s=turn.soft_budget_s,
                                      budget_s=turn.hard_budget_s))
        self.voice.say(text, prepared)
        self.floor.open(LiveAnswer(index, question.id, kind, text, router.now))
        self.listener.new_turn(turn)
        router.emit(StateChanged(router.now, state="listening"))

    def turn_settings_for(self, kind: str) -> TurnSettings:
        if kind == "question":
            return self.turn_settings
        # Follow-ups are shorter: the format's follow-up range sets their budget.
        soft, hard = followup_budgets(self.interview.format, self.config.budget_s)
        return replace(self.turn_settings, soft_budget_s=soft, hard_budget_s=hard)

    def _make_bridge(self) -> None:
        self.bridge_audio = self.voice.synthesize(BRIDGE_LINE, lambda: True)

    def bridge(self, answer: LiveAnswer) -> None:
        """A short acknowledgement when the LLM's probe is still not ready shortly
        after the turn's end (``config.bridge_after_s``); the probe follows it."""
        from voice_interview.session.probes import Prepared

        after, audio = self.config.bridge_after_s, self.bridge_audio
        if after is None or audio is None or self.preparer.wait_ready(answer, after):
            return
        self.voice.say(BRIDGE_LINE, Prepared(0, answer.index, 0, BRIDGE_LINE, audio, ""))

    def probe(self, answer: LiveAnswer, cut_in: bool) -> None:
        if not cut_in:
            self.bridge(answer)
        probe, prepared = self.preparer.choose(answer)
        depth = self.interview.planner.depth.get(probe.family, 1)
        target = probe.target
        info: dict[str, Any] = {"family": probe.family, "text": probe.text, "reason": probe.reason,
                "source": probe.source, "depth": depth, "cut_in": cut_in,
                "target": None if target is None else {"text": target.text,
                                                       "start": target.start}}
        self.probes.append(info)
        turn = self.turn_settings_for("probe")
        self.router.emit(ProbeAsked(self.router.now, **info, soft_budget_s=turn.soft_budget_s,
                                    budget_s=turn.hard_budget_s))
        if cut_in:
            self.ask(f"{CUT_IN} {probe.text}", kind="probe")
        else:
            self.ask(probe.text, kind="probe", prepared=prepared)
        from voice_interview.session.candidate import ScriptedCandidate

        if isinstance(self.source, ScriptedCandidate):  # the demo's sample candidate
            self.source.answer(probe.family)

    def next_question(self) -> bool:
        from voice_interview.interviewer.banks import load_question_bank

        bank = load_question_bank()
        asked = {a.question_id for a in self.answers}
        pool = [q for q in bank.by_category(self.interview.question.category)
                if q.id not in asked]
        if not pool:
            self.voice.say(CLOSING_LINE)
            return False
        self.interview.move_to(pool[0])
        self.ask(pool[0].text, kind="question")
        return True

    # -- ending a turn -----------------------------------------------------------------------

    def finish_turn(self, ended: TurnEnded | None, reason: str) -> LiveAnswer | None:
        """Close the current answer: wait for its last transcript, score it."""
        router = self.router
        if self.floor.current is None:
            return None
        if ended is None:
            self.listener.end_turn(reason)
        # The answer stays current until its last transcripts are in: finals that
        # arrive while we wait still belong to it.
        if not self.listener.wait_idle(FINALS_WAIT_S):
            router.notice("the last words of this answer were not transcribed in time; "
                          "it is scored with what was ready", level="warning")
        with self._scoring:
            answer = self.floor.close()
            if answer is None:
                return None
            if ended is None and not answer.finals and answer.kind == "probe":
                return None  # the session ended before the candidate said anything
            answer.ended = ended
            self.answers.append(answer)
            self._scored(answer)
        router.emit(StateChanged(router.now, state="interviewer"))
        return answer

    def rescore(self, answer: LiveAnswer) -> None:
        """A late polish of a scored answer is in (listener threads): score it again."""
        with self._scoring:
            if answer.analysis is None or answer not in self.answers:
                return  # closed without a score (nothing was said)
            rec = self.router.recorder
            if rec is not None and rec.finished:
                return  # too late to save it: the recording is closed
            self.rescored += 1
            self._scored(answer, again=True)

    def _scored(self, answer: LiveAnswer, again: bool = False) -> None:
        """Score the answer, record it, announce it (with ``_scoring`` held)."""
        router = self.router
        answer.analysis = self.score(answer)
        analysis = answer.analysis.to_json()
        rec = router.recorder
        if rec is not None:
            router.record(rec.add_answer, answer.index, answer.question_id,
                          answer.prompt, answer.kind, analysis)
        router.emit(AnswerScored(router.now, answer_index=answer.index,
                                 question_id=answer.question_id, analysis=analysis,
                                 rescored=again))

    def score(self, answer: LiveAnswer) -> AnswerAnalysis:
        from voice_interview.audio.vad import Segment
        from voice_interview.session.scoring import score_answer

        question = self._questions.get(answer.question_id, self.interview.question)
        segments = [Segment(f.segment_start, f.segment_end) for f in answer.finals]
        words, text = answer.said()  # the revised words where a revision came in
        overview = answer.kind == "question" and question.category == "deep-dive"
        return score_answer(words, segments, transcript=text, rubric=self.rubric,
                            overview=overview, question=question,
                            view=answer.kind == "question")
