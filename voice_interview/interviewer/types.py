"""Small value types shared by the planner, the LLM interviewer and the session."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# The six probe families (prompts/probes.toml), in their usual order.
FAMILY_IDS = ("context", "decisions", "debugging", "evaluation", "reflection", "ownership")


@dataclass(frozen=True)
class ProbeTarget:
    """The claim a probe is about, in the candidate's own words.

    ``start`` is the claim's time in the answer (seconds from the answer's
    first word), or None for a text-only answer.
    """

    text: str
    start: float | None = None


@dataclass(frozen=True)
class Probe:
    """One follow-up question the interviewer may ask.

    ``family`` is a probe family id (context, decisions, debugging, evaluation,
    reflection, ownership); ``reason`` says in plain words why it was chosen
    (or why the LLM's reply was replaced).
    """

    family: str
    text: str
    reason: str
    source: str = "planner"  # "planner" or "llm"
    target: ProbeTarget | None = None  # the claim it is aimed at, when there is one

    def to_json(self) -> dict:
        return asdict(self)
