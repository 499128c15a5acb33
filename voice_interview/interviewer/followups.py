"""What a probe is aimed at, and how an answer replies to the probe before it.

``reply_kind`` reads the latest answer as a reply to the last probe: a dodge
("everybody uses it", "no complaints") is pressed once more on the same branch,
a new failure moves to debugging, a real answer moves on. The planner
(planner.py) turns that into candidate moves; the live session and ``analyze
--asked`` both go through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voice_interview.interviewer.claims import Claim
from voice_interview.interviewer.report import AnswerTerms, Term
from voice_interview.interviewer.text import word_parts
from voice_interview.interviewer.types import Probe, ProbeTarget

PRESS_MARK = "pressing once more"
ANSWERED_MIN_WORDS = 12  # a reply this long with claims in it answered its probe


# The family of a probe known only by its words, first match wins.
_GUESS = (
    ("ownership", ("yourself", "your role", "you personally", "which part", "responsib")),
    ("debugging", ("wrong", "bug", "debug", "find out", "broke", "fail", "harder than")),
    ("evaluation", ("measure", "know it", "know the", "metric", "worked", "baseline",
                    "number", "better", "compare", "against", "helped")),
    ("reflection", ("differently", "again", "learn", "looking back")),
    ("decisions", ("why", "choose", "chose", "instead", "trade", "alternative", "go with",
                   "rather than")),
)


def guess_family(text: str) -> str:
    """The family of a probe known only by its words (context when nothing fits)."""
    low = text.lower()
    return next((f for f, words in _GUESS if any(x in low for x in words)), "context")


def first_start(transcript: str | Sequence[Any]) -> float | None:
    if isinstance(transcript, str) or not transcript:
        return None
    w = transcript[0]
    start = word_parts(w)[1]
    return float(start) if isinstance(start, int | float) else None


def rel_time(start: float | None, start0: float | None) -> float | None:
    """A time in the answer, counted from its first word."""
    if start is None or start0 is None:
        return None
    return round(max(0.0, start - start0), 2)


def claim_target(claim: Claim | None, start0: float | None) -> ProbeTarget | None:
    return None if claim is None else ProbeTarget(claim.text, rel_time(claim.start, start0))


# What a reply must hold to answer a probe of each family.
_ANSWERS = {
    "decisions": ("reason", "alternative"),
    "evaluation": ("result", "baseline"),
    "debugging": ("found", "failure"),
    "reflection": (),
    "ownership": (),
    "context": ("pain", "purpose"),
}


def reply_kind(probe: Probe, claims: Sequence[Claim], terms: AnswerTerms,
               words: int) -> tuple[str, Claim | None] | None:
    """How the latest answer replies to ``probe``, with the claim that shows it.

    "dodged": an evasive non-answer ("everybody uses it", "no complaints") and
    none of what the probe asked for; "failure": it reveals a failure (asked
    outside debugging); "answered": what the probe asked for, or a reply of some
    length with claims in it. None for an empty or thin reply ("Not much,
    honestly."): nothing to press and nothing to move on from.
    """
    if not words:
        return None
    kinds = {c.kind for c in claims}
    wanted = _ANSWERS.get(probe.family, ())
    dodge = next((c for c in claims if c.kind in ("evasive", "vague")), None)
    if dodge is not None and not kinds.intersection(wanted):
        return "dodged", dodge
    if probe.family != "debugging" and any(c.kind == "failure" for c in claims):
        return "failure", next(c for c in claims if c.kind == "failure")
    substantive = kinds - {"hedge", "evasive", "vague", "injection", "scene", "baseline"}
    if kinds.intersection(wanted) or (words >= ANSWERED_MIN_WORDS and substantive) \
            or (probe.family == "ownership" and words >= ANSWERED_MIN_WORDS):
        return "answered", None
    return None


def said(term: Term, history: str) -> bool:
    return term.text.lower() in history


def first_new(terms: AnswerTerms, kinds: Sequence[str], history: str) -> Term | None:
    for kind in kinds:
        for t in terms.of_kind(kind):
            if not said(t, history):
                return t
    return None


def term_for(kind: str | None, preferred: Term | None, terms: AnswerTerms,
              history: str, opening: bool = False) -> Term | None:
    """A term of ``kind`` not quoted before, the candidate's own term first.

    ``opening``: for a level-1 wording, which asks what a result was compared
    with or how a failure was found: a result that came with its baseline, or a
    failure the answer says how it found, would be asked again in other words.
    """
    if kind is None:
        return None

    def fits(t: Term) -> bool:
        return not (opening and t.kind in ("metric", "problem") and t.justified)

    if preferred is not None and not said(preferred, history) and fits(preferred) and (
        kind in ("topic", preferred.kind)
        or (kind == "choice" and preferred.kind == "tech" and not preferred.justified)
    ):
        return preferred
    return next((t for t in terms.of_kind(kind) if not said(t, history) and fits(t)), None)
