"""The planner's candidate moves and how one becomes a probe's words.

A ``Candidate`` is one move the planner weighs (planner.py builds them and
sorts by score); ``realize`` picks an unused wording for it (part-specific,
quoting the candidate's own phrase, then plain) and ``quotable`` finds a new
term a wording of a family can quote. The score constants live here so the
moves and their weights are read in one place.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from collections.abc import Set as Set
from dataclasses import dataclass, replace
from typing import Any

from voice_interview.interviewer.banks import MAX_LEVEL, ProbeFamily, Wording
from voice_interview.interviewer.claims import Claim
from voice_interview.interviewer.followups import claim_target, rel_time, term_for
from voice_interview.interviewer.report import AnswerTerms, Term
from voice_interview.interviewer.rubricset import Rubric
from voice_interview.interviewer.text import CLAUSE_END, TRAILING_SMALL, tokens_of
from voice_interview.interviewer.types import Probe, ProbeTarget
from voice_interview.interviewer.validate import content_words

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

# -- the claim a move without a quoted term is aimed at --------------------

# A move that opens a part or a branch without quoting a term (a rubric gap, "no
# numbers", a branch to explore) is aimed at the claim it hangs on: a missing result
# at what the candidate did, missing reflection at the decision: these kinds first (in
# this order, the earliest claim of a kind first), then any claim but noise (a hedged
# one last). Without one the LLM was shown the answer's last sentences and wrote a
# general question (bench_llm: 23 of 35 dev moves had none).
GAP_TARGET_KINDS = {
    "evaluation": ("outcome", "action", "decision", "purpose"),
    "reflection": ("decision", "action", "failure", "outcome"),
    "debugging": ("failure", "action", "decision"),
    "decisions": ("decision", "action", "alternative"),
    "context": ("role", "action", "scene", "pain"),
    "ownership": ("action", "role", "decision"),
}
_NOT_A_TARGET = frozenset({"injection", "evasive", "vague", "away", "baseline",
                           "reason", "alternative", "found"})
# the reason or the aftermath is another claim: the clause stops before these
_CLAUSE_BREAK = frozenset({"because", "since", "so", "which", "where", "while", "when",
                           "then", "but"})
# the claim, carried on to its clause's end, at most this long (the small model
# echoes a long target back: "... build a forecast per store and per product family
# again" is refused as a copy of the candidate's words)
GAP_TARGET_WORDS = 12
_LOOSE_END = TRAILING_SMALL | {"per", "as", "into", "onto", "than", "we", "i", "they", "who",
                               "how", "what", "about", "is", "was", "were", "are"}
_GAP_TARGET_MIN_CONTENT = 2  # content words (beside "I", "the", "went") it needs


def aim_gap(c: Candidate, claims: Sequence[Claim], toks: Sequence[Any]) -> Candidate:
    """``c`` aimed at the claim it hangs on, when it quotes nothing and has no target."""
    if c.term is not None or c.target is not None or c.press or c.kind == DEEPER:
        return c
    kinds = GAP_TARGET_KINDS.get(c.family, ())
    def rank(cl: Claim) -> tuple[int, int]:  # a hedged claim only when nothing else is
        return (kinds.index(cl.kind) if cl.kind in kinds else
                len(kinds) + (cl.kind == "hedge"), cl.index)

    ranked = sorted((cl for cl in claims if cl.kind not in _NOT_A_TARGET), key=rank)
    for claim in ranked:
        if any(o.kind == "injection" and abs(o.sentence - claim.sentence) <= 1 for o in claims):
            continue  # never aim at words next to an instruction hidden in the answer
        aimed = _clause(claim, toks)
        if len([w for w in content_words(aimed) if len(w) > 3]) >= _GAP_TARGET_MIN_CONTENT:
            return replace(c, target=replace(claim, text=aimed))
    return c


def _clause(claim: Claim, toks: Sequence[Any]) -> str:
    """The claim's words carried on to the end of its clause (its object: "I rebuilt
    it as" -> "I rebuilt it as a retrieval pipeline over the policy pages")."""
    words = claim.text.split()
    norms = [t.norm for t in toks]
    first = _norm_word(words[0]) if words else ""
    at = next((p for p in range(max(0, claim.index - 3), min(len(toks), claim.index + 2))
               if norms[p] == first), None)
    if at is None:
        return claim.text
    end = at + 1
    while end < len(toks) and end - at < GAP_TARGET_WORDS \
            and not CLAUSE_END.search(toks[end - 1].raw) \
            and not (norms[end] in _CLAUSE_BREAK and end - at >= 3):
        end += 1
    while end > at + 1 and norms[end - 1] in _LOOSE_END:
        end -= 1
    text = " ".join(t.raw for t in toks[at:end])
    return text.rstrip(",;:.?!…").replace('"', "'")


def _norm_word(raw: str) -> str:
    return tokens_of(raw)[0][0].norm if raw.split() else ""
