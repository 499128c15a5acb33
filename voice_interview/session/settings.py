"""What one practice session is asked to do, and the rules its parts share.

``SessionConfig`` is what a command or the TUI hands the session; the budget
helpers are the one place that says how a turn's budgets follow from the format
(the TUI reads them here instead of working them out again). Light on purpose:
the TUI imports this module at launch, before any model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voice_interview.interviewer.banks import InterviewFormat

CUT_IN = "Let me stop you there."
# Reached from practice and demo, which both take --no-voice (tests/test_messages.py).
NOT_SPOKEN = ("the questions are shown, not spoken (voice-interview devices lists the "
              "speakers, [voice] output_device in config.toml picks one; --no-voice "
              "turns the voice off)")
CLOSING_LINE = "Thanks, that's all I wanted to ask. Let's look at how it went."
FINALS_WAIT_S = 3.0  # after a turn ends, wait this long at most for its last transcript
# at the session's end, wait this long at most for the listener's last polish (the last
# answer's final words decoded again in context, ~4-7 s on two cores) before saving
LAST_POLISH_WAIT_S = 15.0
# Pause length before the LLM is asked speculatively. Short, since the prefill has
# the server read the prompt while the candidate spoke: a speculation cancelled by
# more speech wastes little reading (0.6 s before the prefill).
SPECULATE_AFTER_S = 0.3
# Spoken (synthesized once, at the session's start) when the LLM's probe is still not
# ready this long after the turn's end; None: never. Off by default (bench_session
# --bridge measures it: benchmarks/README.md).
BRIDGE_LINE = "Okay."
CLOSED = "the planner closed the interview"  # an LLMOutcome.rejected (interviewer.llm)
SOFT_SHARE = 5 / 6  # the gentle warning comes at this share of the hard budget


@dataclass(frozen=True)
class SessionConfig:
    question_id: str | None = None
    category: str | None = None
    format_id: str = "conversational"
    llm_model: str | None = None  # None: the planner alone; "embedded"; or a litellm model
    api_base: str | None = None
    llm_timeout_s: float = 6.0
    llm_chooses_move: bool = False  # [llm] chooses_move: the LLM picks the planner's move
    bridge_after_s: float | None = None  # BRIDGE_LINE when the LLM's probe is this late
    voice: str | None = "piper"  # None: probes are shown, not spoken
    output_device: str | int | None = None
    input_path: str | None = None  # a recording played in real time instead of the mic
    input_device: str | int | None = None
    patience_s: float | None = None
    budget_s: float | None = None  # hard budget for the opening answer (format default)
    max_probes: int | None = None
    time_limit_s: float | None = None
    seed: int = 0
    save: bool = True  # record the session in the store
    recordings: str | None = None  # the store's folder (default: config, then data dir)


def soft_budget(hard_s: float) -> float:
    """The gentle warning's time for a turn whose hard budget is ``hard_s``."""
    return hard_s * SOFT_SHARE


def opening_budgets(fmt: InterviewFormat, budget_s: float | None) -> tuple[float, float]:
    """(soft, hard) for an opening answer: ``budget_s`` (--budget) or the format's."""
    hard = budget_s if budget_s is not None else fmt.hard_budget_s
    return min(fmt.soft_budget_s, soft_budget(hard)), hard


def followup_budgets(fmt: InterviewFormat, budget_s: float | None = None) -> tuple[float, float]:
    """(soft, hard) for an answer to a probe: the top of the format's follow-up range,
    and never more than the opening answer's ``budget_s`` (--budget): a follow-up is
    not given longer than the overview it follows."""
    _lo, hi = fmt.followup_s
    if budget_s is not None:
        hi = min(hi, budget_s)
    return soft_budget(hi), hi
