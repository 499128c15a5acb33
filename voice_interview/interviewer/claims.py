"""Claims: what each sentence of an answer says that an interviewer would pick up on.

A sentence carries claims (a decision and whether a reason backs it, an
alternative weighed, a failure and whether it says how it was found, a
quantified result and whether it has a baseline, a vague success claim, a
hedge, an evasive non-answer, someone's pain, the scene, the candidate's role,
a tool being left behind, an attempt to instruct the interviewer). Each claim
quotes the words that triggered it, with their time when the words are timed.

The phrases live in rubrics/claims.toml (and rubrics/lexicon.toml for the
decision/reason/alternative/impact/baseline/problem markers); the few rules
that look at the shape of a sentence are below (``_opening_pain``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice_interview.datafiles import check_cues, section
from voice_interview.resources import data_dir, load_toml

if TYPE_CHECKING:  # pragma: no cover
    from voice_interview.interviewer.answer import ParsedAnswer

CLAIMS_FILE = "claims.toml"
PHRASE_KINDS = ("pain", "scene", "role", "away", "failure", "found", "vague", "hedge",
                "evasive", "injection", "outcome", "reflection")
# Kinds a rubric part may list under `claims` (the phrase kinds and the derived ones).
COVERING_KINDS = ("pain", "purpose", "scene", "role", "alternative", "failure", "result",
                  "outcome", "reflection", "action")
# "I'd / I would" + these is not looking back ("I'd like to", "I'd have to check").
_NOT_REFLECTION = frozenset({
    "like", "love", "want", "say", "be", "need", "guess", "think", "imagine", "prefer",
    "rather", "hope", "expect", "argue",
})
# "I" + these is not an action ("I was", "I needed to", "I learned").
_NOT_ACTION = frozenset({
    "needed", "wanted", "liked", "loved", "learned", "realized", "realised", "joined",
    "used", "hated", "enjoyed", "believed", "supposed", "assumed", "expected", "guessed",
    "figured", "worked", "preferred", "felt", "thought", "had", "was", "did",
})
_IRREGULAR = frozenset({
    "wrote", "rewrote", "built", "rebuilt", "made", "ran", "put", "got", "set", "took", "sat",
    "told", "gave", "sent", "found", "led", "drove", "went", "met", "brought", "spoke", "chose",
    "cut", "froze", "kept", "began", "split", "shut", "fixed", "dug", "held", "paid", "sold",
})
_ADVERBS = frozenset({"then", "also", "first", "just", "finally", "quickly", "immediately",
                      "personally", "myself", "actually", "basically"})
# Subjects after which "were ...ing" tells the candidate's own action, not a pain.
_SELF = frozenset({"i", "we", "i'm", "we're"})
_PURPOSE_SUBJECT_SKIP = frozenset({"we", "i", "that"})


@dataclass(frozen=True)
class ClaimRules:
    phrases: dict[str, tuple[str, ...]]
    plumbing: tuple[str, ...]
    opening_sentences: int = 3
    away_window: int = 4


def load_claim_rules(path: Path | None = None) -> ClaimRules:
    """Load rubrics/claims.toml (phrases per claim kind, and the plumbing tools)."""
    path = Path(path) if path else data_dir("rubrics") / CLAIMS_FILE
    data = load_toml(path)
    r, p, t = (section(path, data, key) for key in ("rules", "phrases", "tech"))
    assert r is not None and p is not None and t is not None  # required sections
    r.allow(("opening_sentences", "away_window"))
    p.allow(PHRASE_KINDS)
    phrases = {}
    for kind in PHRASE_KINDS:
        phrases[kind] = p.texts(kind)
        check_cues(p, kind, phrases[kind])
    t.allow(("plumbing",))
    plumbing = t.texts("plumbing")
    check_cues(t, "plumbing", plumbing)
    return ClaimRules(phrases, plumbing,
                      r.integer("opening_sentences", 0, 50, required=False) or 3,
                      r.integer("away_window", 1, 20, required=False) or 4)


@dataclass(frozen=True)
class Claim:
    """One claim in one sentence, in the candidate's words.

    ``backed``: a decision with a reason or alternative, a failure with how it
    was found, a result with a baseline; None for kinds where it means nothing.
    """

    kind: str
    text: str
    start: float | None
    index: int  # first word
    sentence: int
    backed: bool | None = None

    def to_json(self) -> dict:
        start = None if self.start is None else round(self.start, 2)
        return {"kind": self.kind, "text": self.text, "start": start,
                "backed": self.backed}


def sentence_claims(ans: ParsedAnswer, k: int) -> list[Claim]:
    """The claims of sentence ``k`` of an analysed answer, in word order."""
    s = ans.sentences[k]
    out: list[Claim] = []

    def add(kind: str, i: int, j: int, backed: bool | None = None, **kw: int) -> None:
        ev = ans.evidence(i, j, s.lo, s.hi, **kw)
        out.append(Claim(kind, ev.text, ev.start, i, k, backed))

    for kind in PHRASE_KINDS:
        for h in s.hits.get(f"c:{kind}", ()):
            if kind == "failure" and ans.in_tech(h.i, h.j):
                continue
            add(kind, h.i, h.j, _found_near(ans, k) if kind == "failure" else None,
                before=2, after=4)
    for h in s.hits.get("m:problem", ()):
        if not ans.in_tech(h.i, h.j):
            a, b = _noun_phrase(ans, s, h.i, h.j)
            out.append(Claim("failure", ans.span_text(a, b), ans.toks[h.i].start, h.i, k,
                             _found_near(ans, k)))
    for h in s.hits.get("m:decision", ())[:1]:
        add("decision", h.i, h.j, backed=ans.backed(k), before=2, after=5)
    for label in ("m:alternative", "m:reason"):
        for h in s.hits.get(label, ())[:1]:
            add(label[2:], h.i, h.j)
    if s.impact is not None:
        out.append(Claim("result", s.impact.text, s.impact.start, s.impact.index, k,
                         s.has("m:baseline")))
    if k < ans.claim_rules.opening_sentences:
        out.extend(_opening_pain(ans, k))
        # the problem told as a bad event: "the job sent every invoice twice"
        out.extend(Claim("pain", c.text, c.start, c.index, k)
                   for c in list(out) if c.kind == "failure")
    if k == 0:  # a story's first sentence sets it up; it does not end it
        out = [c for c in out if c.kind != "outcome"]
    if s.numbers:  # what a figure was compared with ("the same eight weeks before")
        for h in s.hits.get("m:baseline", ())[:1]:
            add("baseline", h.i, h.j)
    out.extend(_first_person(ans, k))
    out.sort(key=lambda c: c.index)
    kept: list[Claim] = []
    for c in out:  # one claim per kind and place ("paged", "getting paged")
        if not any(o.kind == c.kind and abs(o.index - c.index) <= 3 for o in kept):
            kept.append(c)
    return kept


_LEAD_SMALL = frozenset({
    "was", "were", "is", "are", "of", "and", "but", "so", "there", "had",
    "have", "it", "we", "i", "because", "that", "which", "to", "with", "by", "from", "for",
})
_STOP_AFTER = frozenset({"when", "whenever", "because", "which", "that", "was", "were", "is",
                         "after", "before", "so", "but", "and", "in", "on", "at"})


def _noun_phrase(ans: ParsedAnswer, s: Any, i: int, j: int) -> tuple[int, int]:
    """A failure word with the words that make it a phrase: "a caching bug",
    "full of stale listings" (two words before, one after, no small words at the
    start, never across a comma)."""
    a = i
    while a > s.lo and i - a < 2 and not _ends_clause(ans, a - 1):
        a -= 1
    while a < i and ans.norms[a] in _LEAD_SMALL:
        a += 1
    b = j
    if b < s.hi and not _ends_clause(ans, b - 1) and ans.norms[b] not in _STOP_AFTER:
        b += 1
    return a, b


def _ends_clause(ans: ParsedAnswer, i: int) -> bool:
    return ans.toks[i].raw.rstrip("\"'”’)]")[-1:] in (",", ";", ":", ".", "?", "!", "…")


def _found_near(ans: ParsedAnswer, k: int) -> bool:
    """Whether sentence k (or the next) says how a failure was found."""
    return any(ans.sentences[j].has("c:found")
               for j in (k, k + 1) if j < len(ans.sentences))


def _opening_pain(ans: ParsedAnswer, k: int) -> list[Claim]:
    """Pain told by the shape of an opening sentence.

    "the pickers were walking huge distances" (people other than the candidate
    stuck doing something) and "so maintenance could stop ..." (what the
    work was for).
    """
    s = ans.sentences[k]
    norms = ans.cnorms_of(s)
    out = []
    for n, (i, word) in enumerate(norms):
        if word in ("were", "kept") and n + 1 < len(norms):
            nxt = norms[n + 1][1]
            subject = norms[n - 1][1] if n else ""
            # people stuck doing something: "the pickers were walking", "users kept
            # retrying" (not "the team was growing", not "we were trying")
            people = subject == "people" or (subject.endswith("s") and len(subject) > 3)
            if nxt.endswith("ing") and len(nxt) > 4 and people and subject not in _SELF:
                ev = ans.evidence(norms[max(0, n - 2)][0], norms[n + 1][0] + 1, s.lo, s.hi,
                                  before=0, after=3)
                out.append(Claim("pain", ev.text, ev.start, ev.index, k))
                break
        if word == "so" and n + 2 < len(norms):
            window = [w for _, w in norms[n + 1:n + 5]]
            if window and window[0] not in _PURPOSE_SUBJECT_SKIP and any(
                    w in ("could", "can", "would") for w in window[1:]):
                ev = ans.evidence(i, norms[min(len(norms) - 1, n + 4)][0] + 1, s.lo, s.hi,
                                  before=0, after=3)
                out.append(Claim("purpose", ev.text, ev.start, ev.index, k))
                break
    return out


def _first_person(ans: ParsedAnswer, k: int) -> list[Claim]:
    """What "I" says in sentence k: an action ("I froze new work", "I then
    rewrote ...") and looking back ("I'd split the slow suites next")."""
    s = ans.sentences[k]
    norms = ans.cnorms_of(s)
    out: list[Claim] = []
    for n, (i, word) in enumerate(norms):
        if word in ("i'd", "i") and n + 1 < len(norms):
            rest = [w for _, w in norms[n + 1:n + 4]]
            if word == "i" and rest[0] == "would":
                rest = rest[1:]
                word = "i'd"
            if word == "i'd" and rest and rest[0] not in _NOT_REFLECTION and not (
                    rest[0] == "have" and rest[1:2] == ["to"]) and not any(
                    c.kind == "reflection" for c in out):
                ev = ans.evidence(i, norms[min(len(norms) - 1, n + 2)][0] + 1, s.lo, s.hi,
                                  before=0, after=3)
                out.append(Claim("reflection", ev.text, ev.start, i, k))
                continue
            verbs = [w for w in rest if w not in _ADVERBS][:1]
            if word == "i" and verbs and verbs[0] not in _NOT_ACTION and (
                    verbs[0] in _IRREGULAR or (verbs[0].endswith("ed") and len(verbs[0]) > 4)) \
                    and not any(c.kind == "action" for c in out):
                ev = ans.evidence(i, i + 2, s.lo, s.hi, before=0, after=3)
                out.append(Claim("action", ev.text, ev.start, i, k))
    return out


def covers(claims: list[Claim], kinds: tuple[str, ...]) -> Claim | None:
    """The first claim of one of ``kinds`` (the part it covers is shown by it)."""
    for c in claims:
        if c.kind in kinds:
            return c
    return None


def is_silent(claims: list[Claim], has_number: bool) -> bool:
    """A sentence that covers no part: an injection, or vague without a number."""
    kinds = {c.kind for c in claims}
    return "injection" in kinds or ("vague" in kinds and not has_number)


def summary(claims: list[Any]) -> dict[str, int]:
    """How many claims of each kind (for reports and benchmarks)."""
    out: dict[str, int] = {}
    for c in claims:
        out[c.kind] = out.get(c.kind, 0) + 1
    return out
