"""The planner's candidate moves and how one becomes a probe's words.

A ``Candidate`` is one move the planner weighs (planner.py builds them and
sorts by score); ``realize`` picks an unused wording for it (part-specific,
quoting the candidate's own phrase, then plain) and ``quotable`` finds a new
term a wording of a family can quote. The score constants live here so the
moves and their weights are read in one place.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from collections.abc import Set as Set
from dataclasses import dataclass

from voice_interview.interviewer.banks import MAX_LEVEL, ProbeFamily, Wording
from voice_interview.interviewer.claims import Claim
from voice_interview.interviewer.followups import claim_target, rel_time, term_for
from voice_interview.interviewer.report import AnswerTerms, Term
from voice_interview.interviewer.rubricset import Rubric
from voice_interview.interviewer.types import Probe, ProbeTarget

# Candidate scores: the larger wins. Gaps score 10 x the part's weight (10-50).
SCORE_TECH_WITHOUT_WHY = 40.0  # a technology named without a reason
SCORE_WE_HEAVY = 38.0  # "we" far outnumbers "I"
SCORE_DEEPER = 36.0  # first step deeper on the current branch ...
DEEPER_STEP = 8.0  # ... each further level costs this much
SCORE_QUOTABLE = 6.0  # bonus when the next wording can quote the last answer
SCORE_NO_NUMBERS = 34.0  # no numbers anywhere
SCORE_FOLLOW = 30.0  # the last answer raised a new problem or unexplained choice
SCORE_FOLLOW_METRIC = 18.0  # ... or a new figure (below a missing weight-2 part)
SCORE_FALLBACK = 5.0  # a family the rubric suggests exploring (its `explore` list)
SCORE_PRESS = 60.0  # the reply dodged the probe it answers: press once more
SCORE_NEW_FAILURE = 55.0  # the reply revealed a new failure: move to debugging
ANSWERED_PENALTY = 24.0  # the reply answered its probe: move on rather than dig there
ANSWERED_FLOOR = 0.5  # ... and at most this, below the branches not explored yet
PLUMBING_PENALTY = 22.0  # a framework named without a reason, while better claims exist

# At equal scores: deeper, then a clear signal, then a gap, then a new thread.
DEEPER, SIGNAL, GAP, FOLLOW, FALLBACK = range(5)


@dataclass(frozen=True)
class Candidate:
    score: float
    kind: int  # DEEPER, SIGNAL, GAP, FOLLOW or FALLBACK
    family: str
    level: int
    reason: str
    part: str | None = None  # rubric part to open
    term: Term | None = None  # the term that motivated it (quoted if a wording fits)
    press: bool = False  # use a wording made for pressing an evasive reply
    target: Claim | None = None  # the claim it is aimed at when no term is quoted
    quote_only: bool = False  # a branch whose parts were told: only a quoting wording


def squash(text: str) -> str:
    return " ".join(text.lower().split())


def quotable(families: Mapping[str, ProbeFamily], family: str, level: int, rubric_id: str,
         terms: AnswerTerms, history: str, used: set[str]) -> Term | None:
    """A new term that an unused wording of ``family`` at ``level`` can quote."""
    for w in families[family].wordings:
        if (w.level == level and w.quotes and w.part is None and w.key not in used
                and w.fits(rubric_id)):
            term = term_for(w.term, None, terms, history, level == 1)
            if term is not None:
                return term
    return None

# -- wording -------------------------------------------------------------

def realize(families: Mapping[str, ProbeFamily], seed: int, c: Candidate, terms: AnswerTerms,
        used: set[str], spoken: set[str], history: str, rubric: Rubric, n_asked: int,
        start0: float | None = None, covered: Set[str] = frozenset()) -> Probe | None:
    """Pick an unused wording for a candidate: part-specific, quoting, then plain."""
    family = families[c.family]
    parts = {p.id for p in rubric.parts}
    levels = [c.level, *range(c.level + 1, MAX_LEVEL + 1), *range(c.level - 1, 0, -1)]
    if c.press:
        press = [w for w in family.wordings if w.press and w.key not in used]
        pool = [w for w in press if squash(w.text) not in spoken]
        if pool:
            rng = random.Random(f"{seed}:{c.family}:press:{n_asked}")
            wording = rng.choice(sorted(pool, key=lambda w: w.key))
            used.add(wording.key)
            return Probe(c.family, wording.text, c.reason,
                         target=claim_target(c.target, start0))
    for lv in levels:
        # never a wording made to ask for a part the candidate already covered
        pool = [w for w in family.wordings
                if w.level == lv and w.key not in used and w.fits(rubric.id) and not w.press
                and (w.part is None or w.part == c.part or w.part not in covered)]
        if not pool:
            continue
        Tier = list[tuple[Wording, Term | None]]
        quotable: Tier = []
        for w in pool:
            if w.quotes and (c.part is None or w.part in (None, c.part)):
                term = term_for(w.term, c.term, terms, history, lv == 1)
                if term is not None:
                    quotable.append((w, term))
        targeted: Tier = [(w, None) for w in pool if c.part and w.part == c.part and not w.quotes]
        plain: Tier = [(w, None) for w in pool if w.part is None and not w.quotes]
        # wordings made for another part of this rubric still fit, as a last resort
        other: Tier = [(w, None) for w in pool
                 if w.part in parts and w.part != c.part and not w.quotes]
        tiers: list[Tier] = [targeted, quotable, plain, other] if c.part \
            else [quotable, plain, other]
        if c.quote_only:
            tiers = [quotable]
        for tier in tiers:
            tier = [(w, t) for w, t in tier if squash(w.render(
                t.text if t else None)) not in spoken]
            if not tier:
                continue
            rng = random.Random(f"{seed}:{c.family}:{lv}:{n_asked}")
            wording, term = rng.choice(sorted(tier, key=lambda wt: wt[0].key))
            used.add(wording.key)
            reason = c.reason
            if term is not None and f'"{term.text}"' not in reason:
                reason += f'; quoting "{term.text}" from the answer'
            aim = term or c.term
            target = (ProbeTarget(aim.text, rel_time(aim.evidence.start, start0))
                      if aim is not None else claim_target(c.target, start0))
            return Probe(c.family, wording.render(term.text if term else None), reason,
                         target=target)
    return None
