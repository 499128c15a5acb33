"""What is being asked: the format, the current question, its planner and the LLM.

The planner is used from two threads (the turn loop, and the probe preparation
during the candidate's pauses): hold ``lock`` around it. Moving to the next
question gives it a fresh planner, which the LLM falls back on from then on.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voice_interview.interviewer.banks import InterviewFormat, Question
    from voice_interview.interviewer.llm import LLMInterviewer
    from voice_interview.interviewer.planner import PlannerSession


def new_planner(fmt: InterviewFormat, question: Question, seed: int) -> PlannerSession:
    from voice_interview.interviewer.planner import PlannerSession, ProbePlanner

    planner = ProbePlanner.for_format(fmt, seed=seed)
    return PlannerSession(planner, rubric_id=question.rubric, seed=seed)


class Interview:
    def __init__(self, fmt: InterviewFormat, question: Question, planner: PlannerSession,
                 llm: LLMInterviewer | None, seed: int) -> None:
        self.format = fmt
        self.question = question
        self.planner = planner
        self.llm = llm  # None: the planner words its own probes
        self.seed = seed
        self.lock = threading.Lock()  # the planner is used from two threads

    def gaps(self) -> list[str]:
        """The structure parts the answers so far have not covered (hold ``lock``)."""
        return [p.id for p in self.planner.report(self.question).parts if not p.covered]

    def move_to(self, question: Question) -> None:
        self.question = question
        self.planner = new_planner(self.format, question, self.seed)
        if self.llm is not None:
            self.llm.fallback = self.planner
