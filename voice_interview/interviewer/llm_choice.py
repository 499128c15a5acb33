"""The LLM chooses the move (``[llm] chooses_move = true``): the planner offers, it checks.

Off by default: the planner decides and the LLM only words the move. With the
option on, the planner's best few candidate moves (family, target claim, key
words, plain wording) go into the prompt's last part (the ``choose`` template of
prompts/llm_interviewer.toml) and the LLM replies ``family: question``.
:func:`pick_move` then checks the choice: a family the planner did not offer (a
part the answer already covered, a branch asked to its depth, or no family at
all) gives the planner's own move and wording back, with the reason recorded.
Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from voice_interview.interviewer.types import FAMILY_IDS, Probe

CHOICES = 3  # candidate moves offered (each costs ~30 prompt tokens to read at the pause)
_CHOICE = re.compile(r"^\W*(?:move\s*)?([A-Za-z]+)\s*(?:\)|:|-|–|—|\.)\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Choice:
    """The LLM's pick checked against the planner's offer."""

    move: Probe  # the move asked: the LLM's pick, or the planner's own when refused
    question: str  # the LLM's question without the family label
    refused: str | None = None  # why the pick was not taken (the planner's move is used)


def pick_move(reply: str, offered: Sequence[Probe]) -> Choice:
    """The move named at the start of ``reply`` ("evaluation: How did you ...?").

    ``offered`` are the planner's moves, best first (never empty). The pick is
    taken only when it names one of them; anything else keeps the planner's
    first move and says why."""
    planner = offered[0]
    m = _CHOICE.match(reply)
    if m is None:
        return Choice(planner, reply, "the LLM named no move")
    name, question = m.group(1).lower(), m.group(2).strip()
    by_family = {p.family: p for p in offered}
    if name in by_family:
        chosen = by_family[name]
        if chosen is not planner:
            chosen = replace(chosen, reason=f"{chosen.reason}; chosen by the LLM over "
                                            f"the planner's {planner.family}")
        return Choice(chosen, question)
    if name in FAMILY_IDS:
        return Choice(planner, question, f"the LLM chose {name}, a move the planner did not "
                                         "offer (covered or asked already)")
    return Choice(planner, question, f"the LLM named an unknown move '{name[:20]}'")
