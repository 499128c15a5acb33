"""One transcript analysed: tokens, sentences, cue and claim matches, quotable terms.

``ParsedAnswer`` is shared by structure scoring (rubric.py) and the planner (via
``read_answer``): it cuts the answer into sentences, matches the rubric's cues,
the lexicon's markers and the claim phrases in each (fillers and stutters left
out), finds quantified results, and lists the terms a probe may quote.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voice_interview.interviewer.claims import Claim, is_silent, sentence_claims
from voice_interview.interviewer.report import AnswerTerms, Evidence, Term
from voice_interview.interviewer.text import (
    CLAUSE_END,
    NUMBER,
    RELATIVE_NUMBER,
    TRAILING_SMALL,
    YEAR,
    Hit,
    split_spans,
    tokens_of,
)

if TYPE_CHECKING:  # pragma: no cover
    from voice_interview.interviewer.rubricset import RubricSet

_LEAD_SMALL = frozenset({"and", "but", "so", "for", "it", "that", "which", "then", "of", "to",
                         "with", "while", "because"})
# Words that start a clause: a quote's lead-in stops after them, so it never starts
# inside the clause before ("team and it cut the time" -> "cut the time").
_CLAUSE_JOINS = frozenset({"and", "but", "so", "which", "while", "because", "where", "when",
                           "who", "since", "whereas"})


def _trim_lead(text: str) -> str:
    """A quoted phrase without the small words it happens to start with."""
    words = text.split()
    while len(words) > 3 and words[0].lower() in _LEAD_SMALL:
        words.pop(0)
    return " ".join(words)


_COPULAS = frozenset({"was", "were", "is", "are"})
_WEAK_AFTER_WE = frozenset({
    "were", "was", "are", "had", "have", "just", "also", "kind", "sort", "then", "did",
    "do", "all", "both", "really", "basically", "actually",
})

@dataclass
class _Sentence:
    lo: int
    hi: int
    hits: dict[str, list[Hit]]
    numbers: list[int]
    impact: Evidence | None = None
    figure: str = ""  # the number of the impact, as said ("40%")
    label: str | None = None
    evidence: bool = False  # matched its part's cues (not just carried over)
    c_lo: int = 0  # the sentence in Answer.kept (words without fillers)
    c_hi: int = 0
    silent: bool = False  # an injection, or vague: covers no part
    compare: tuple[int, int] | None = None  # a figure against a figure ("from 2% to 0")
    serves: tuple[str, ...] = ()  # the rubric parts it covers

    def has(self, label: str) -> bool:
        return bool(self.hits.get(label))


_RESULT_PARTS = ("evaluation", "result", "impact", "highlight")
_UNITS = frozenset({
    "ms", "milliseconds", "seconds", "secs", "minutes", "mins", "hours", "days", "weeks",
    "months", "years", "dollars", "euros", "pounds", "tickets", "errors", "incidents",
})
_ONE_BEFORE = frozenset({"point", "percent", "hundred", "thousand", "million"})
# Words that set one figure against another ("two hours instead of two days").
_COMPARE_ONE = frozenset({"versus", "vs", "against", "than"})
_COMPARE_TWO = frozenset({"instead of", "rather than", "compared to", "compared with"})
_FILLERS = frozenset({"um", "uh", "erm", "uhm", "hmm", "er", "ah", "mm", "umm", "uhh"})


def _units(hits: dict[str, list[Hit]]) -> None:
    """Technique names are units: drop tech names inside longer ones ("boosted trees"
    in "gradient boosted trees") and cue or marker hits inside a name ("regression"
    in "logistic regression")."""
    tech = hits.get("tech")
    if not tech:
        return
    tech[:] = [h for h in tech
               if not any(o is not h and o.i <= h.i and h.j <= o.j and o.j - o.i > h.j - h.i
                          for o in tech)]
    for label in ("m:problem", "c:failure"):
        if label in hits:
            hits[label] = [h for h in hits[label]
                           if not any(t.i <= h.i and h.j <= t.j for t in tech)]


# ---------------------------------------------------------------------------
# Analysis


class ParsedAnswer:
    """Tokens, sentences and matches of one transcript; shared by scoring and terms."""

    def __init__(self, words: str | Sequence[Any], rubrics: RubricSet, rubric_id: str = ""):
        self.rubrics = rubrics
        self.settings = rubrics.settings
        lex = rubrics.lexicon
        self.toks, self.timed = tokens_of(words)
        self.norms = [t.norm for t in self.toks]
        self.number_words = lex.words("number_words")
        self.vague_amounts = lex.words("vague_amounts")
        self.comparative = lex.words("comparative")
        self.relative_units = lex.words("relative_units")
        self.first_person = lex.words("first_person")
        self.team = lex.words("team")
        self.claim_rules = rubrics.claim_rules
        self.rubric = rubrics.rubrics.get(rubric_id)
        matcher = rubrics.matcher(rubric_id)
        # Phrases are matched with fillers and stutters left out ("I, uh, I rewrote
        # the, the aggregation"); hits point back at the real words.
        self.kept = [i for i, n in enumerate(self.norms)
                     if n and n not in _FILLERS and not (i and n == self.norms[i - 1])]
        kept_norms = [self.norms[i] for i in self.kept]
        self.sentences: list[_Sentence] = []
        self._tech_spans: list[tuple[int, int]] = []
        c = 0
        for lo, hi in split_spans(self.toks, self.settings.max_sentence_words):
            c_lo = c
            while c < len(self.kept) and self.kept[c] < hi:
                c += 1
            hits: dict[str, list[Hit]] = defaultdict(list)
            for h in matcher.scan(kept_norms, c_lo, c):
                hits[h.label].append(Hit(h.label, self.kept[h.i], self.kept[h.j - 1] + 1))
            _units(hits)
            self._tech_spans += [(h.i, h.j) for h in hits.get("tech", ())]
            numbers = [i for i in range(lo, hi) if self.is_number(i)]
            s = _Sentence(lo, hi, hits, numbers, c_lo=c_lo, c_hi=c)
            s.compare = self._comparison(s)
            found = self._impact(s)
            if found is not None:
                s.impact, s.figure = found
            self.sentences.append(s)
        self.claims: list[list[Claim]] = [sentence_claims(self, k)
                                          for k in range(len(self.sentences))]
        for s, claims in zip(self.sentences, self.claims, strict=True):
            s.silent = is_silent(claims, bool(s.numbers))

    # -- helpers ------------------------------------------------------------

    def in_tech(self, i: int, j: int) -> bool:
        """Whether words i..j lie inside a technology's name ("logistic regression")."""
        return any(a <= i and j <= b for a, b in self._tech_spans)

    def cnorms_of(self, s: _Sentence) -> list[tuple[int, str]]:
        """(index, word) of the sentence's words, fillers and stutters left out."""
        return [(i, self.norms[i]) for i in self.kept[s.c_lo:s.c_hi]]

    def is_number(self, i: int) -> bool:
        n = self.norms[i]
        if (NUMBER.match(n) and not YEAR.match(n)) or n in self.number_words:
            return True
        nxt = self.norms[i + 1] if i + 1 < len(self.norms) else ""
        if n == "one":  # "one point two seconds", not "one big instance"
            return nxt in _ONE_BEFORE
        if n in self.vague_amounts:  # "a few points", "a couple of percent"
            return self._unit_at(i + 1) is not None
        return False

    def _unit_at(self, i: int) -> int | None:
        """The index of a relative unit at i (or after an "of" at i), if there is one."""
        if i < len(self.norms) and self.norms[i] == "of":
            i += 1
        if i < len(self.norms) and self.norms[i] in self.relative_units:
            return i
        return None

    def _comparison(self, s: _Sentence) -> tuple[int, int] | None:
        """A figure set against another in the sentence: "from two percent to almost
        zero", "two hours instead of two days", "six weeks versus twelve".

        The span counts as a baseline (a synthetic ``m:baseline`` hit), and the
        comparing words are not an alternative the candidate weighed.
        """
        if len(s.numbers) < 2:
            return None
        nums = s.numbers

        def num_in(a: int, b: int) -> int | None:
            return next((i for i in nums if a <= i < b), None)

        words = self.cnorms_of(s)
        for n, (i, w) in enumerate(words):
            if w == "from":
                n1 = num_in(i + 1, min(s.hi, i + 4))
                if n1 is None:
                    continue
                to = next((k for k in range(n1 + 1, min(s.hi, n1 + 6))
                           if self.norms[k] in ("to", "under", "below")), None)
                n2 = num_in(to + 1, min(s.hi, to + 4)) if to is not None else None
                if n2 is not None:
                    return self._mark_compare(s, i, self._past_unit(n2))
            two = " ".join(x for _, x in words[n:n + 2])
            if w in _COMPARE_ONE or two in _COMPARE_TWO:
                end = i + (1 if w in _COMPARE_ONE else 2)
                n1 = next((k for k in reversed(nums) if i - 4 <= k < i), None)
                n2 = num_in(end, min(s.hi, end + 4))
                if n1 is not None and n2 is not None:
                    for label in ("m:alternative", "c:away", "p:approach", "p:tradeoffs"):
                        if label in s.hits:
                            s.hits[label] = [h for h in s.hits[label]
                                             if not (i <= h.i < end)]
                    return self._mark_compare(s, n1, self._past_unit(n2))
        return None

    def _past_unit(self, i: int) -> int:
        """One past a figure and its unit ("two percent", "three days")."""
        unit = self._unit_at(i + 1)
        if unit is None and i + 1 < len(self.norms) and self.norms[i + 1] in _UNITS \
                and not CLAUSE_END.search(self.toks[i].raw):
            unit = i + 1
        return (unit if unit is not None else i) + 1

    def _mark_compare(self, s: _Sentence, a: int, b: int) -> tuple[int, int]:
        s.hits.setdefault("m:baseline", []).append(Hit("m:baseline", a, b))
        return a, b

    def quote(self, i: int, j: int, lo: int, hi: int, before: int = 2, after: int = 3) -> str:
        """The words i..j with a little context, not crossing clause punctuation."""
        j = min(j, hi)  # a figure read as more words than it has ("61%": "sixty one ...")
        a = i
        while a > lo and i - a < before and not CLAUSE_END.search(self.toks[a - 1].raw):
            a -= 1
        b = j
        if not CLAUSE_END.search(self.toks[b - 1].raw):
            while b < hi and b - j < after:
                b += 1
                if CLAUSE_END.search(self.toks[b - 1].raw):
                    break
        while b > j and self.norms[b - 1] in TRAILING_SMALL:
            b -= 1
        return self.span_text(a, b)

    def span_text(self, a: int, b: int) -> str:
        text = " ".join(t.raw for t in self.toks[a:b]).replace('"', "'")
        return text.strip(" ,.;:!?'\"“”‘’()[]—–-")

    def evidence(self, i: int, j: int, lo: int, hi: int, **kw: int) -> Evidence:
        return Evidence(self.quote(i, j, lo, hi, **kw), self.toks[i].start, i)

    def start_of(self, s: _Sentence) -> float | None:
        return self.toks[s.lo].start

    def elapsed(self, i: int) -> float:
        """Seconds since the answer began (estimated from word count when untimed)."""
        if self.timed:
            return (self.toks[i].start or 0.0) - (self.toks[0].start or 0.0)
        return i / self.settings.words_per_second

    def _clause_break(self, a: int, b: int) -> bool:
        """Whether clause punctuation ends one of the words a-1 .. b-1."""
        return any(CLAUSE_END.search(self.toks[i].raw) for i in range(max(0, a - 1), b))

    def _impact(self, s: _Sentence) -> tuple[Evidence, str] | None:
        """The sentence's quantified result and its figure ("40%"), if it has one.

        A number is a result when an impact word is close to it ("cut latency by
        40%", "40% fewer tickets") or when it is relative on its own ("81%",
        "3x", "ten percent"); numbers next to an impact word win.
        """
        impact_hits = s.hits.get("m:impact", [])
        best: tuple[int, int, Evidence, str] | None = None
        for idx in s.numbers:
            at = self._unit_at(idx + 1)
            unit = at is not None and at < s.hi
            relative = unit or bool(RELATIVE_NUMBER.match(self.norms[idx]))
            end = at + 1 if unit and at is not None else idx + 1
            before = [h for h in impact_hits if h.i <= idx and idx - h.i <= 10
                      and not self._clause_break(h.j, idx)]
            after = [h for h in impact_hits if h.i >= end and h.i - end <= 2]
            # "thirty percent more fraud": a comparative right after a relative figure
            more = relative and any(end + d < s.hi and self.norms[end + d] in self.comparative
                                    for d in (0, 1))
            if before:
                rank, a, b = 0, before[-1].i, end
                if s.compare is not None and s.compare[0] <= idx < s.compare[1]:
                    b = max(b, s.compare[1])  # "dropped from two percent to almost zero"
            elif after:
                rank, a, b = 0, idx, min(s.hi, after[0].j + 1)
            elif more or (s.compare is not None and s.compare[0] <= idx < s.compare[1]):
                a, b = (idx, min(s.hi, end + 2)) if more else s.compare  # type: ignore[misc]
                rank = 0
            elif relative and (s.has("m:baseline") or any(
                    s.has(f"p:{pid}") for pid in _RESULT_PARTS)):
                # "81%" alone is a result in a sentence about results or with a
                # baseline, not in "it ran at ninety percent CPU"
                rank, a, b = 1, idx, end
            else:
                continue
            if best is None or rank < best[0]:
                if rank == 1:
                    text = self.quote(a, b, s.lo, s.hi, before=3, after=1)
                else:
                    text = self.span_text(a, b)
                best = (rank, idx, Evidence(text, self.toks[a].start, a),
                        self.span_text(idx, end))
            if rank == 0:
                break
        return (best[2], best[3]) if best else None

    def backing(self, k: int) -> tuple[int, Hit] | None:
        """The reason or alternative that backs sentence k: in it, or opening the next."""
        s = self.sentences[k]
        for label in ("m:reason", "m:alternative"):
            if s.has(label):
                return k, s.hits[label][0]
        if s.has("m:alternative_after_decision") and s.has("m:decision"):
            return k, s.hits["m:alternative_after_decision"][0]
        look = self.settings.reason_lookahead
        if k + 1 < len(self.sentences) and look:
            nxt = self.sentences[k + 1]
            for h in nxt.hits.get("m:reason", []):
                if h.i < nxt.lo + look:
                    return k + 1, h
        return None

    def backed(self, k: int) -> bool:
        return self.backing(k) is not None

    # -- terms --------------------------------------------------------------

    def terms(self) -> AnswerTerms:
        """What a probe may quote: tools, results, failures and "we ..." phrases."""
        tech: dict[str, Term] = {}
        metric: list[tuple[bool, int, Term]] = []  # results without a baseline first
        problem: dict[str, Term] = {}
        team: list[tuple[bool, int, Term]] = []
        plumbing = frozenset(self.claim_rules.plumbing)
        for k, s in enumerate(self.sentences):
            if any(c.kind == "injection" for c in self.claims[k]):
                continue  # never quote an attempt to instruct the interviewer
            self._tech_terms(k, tech, plumbing)
            if s.impact is not None:
                based = s.has("m:baseline")
                i = s.impact.index
                join = next((n for n in range(i - 1, max(s.lo, i - 3) - 1, -1)
                             if self.norms[n] in _CLAUSE_JOINS), None)
                text = _trim_lead(self.quote(i, i + len(s.impact.text.split()), s.lo, s.hi,
                                             before=3 if join is None else i - join - 1,
                                             after=8))
                ev = Evidence(text, s.impact.start, i)
                metric.append((based, k, Term("metric", text, ev, based)))
            for c in self.claims[k]:
                if c.kind == "failure" and c.text.lower() not in problem:
                    text = self._fragment_phrase(k, c)
                    ev = Evidence(text, c.start, c.index)
                    problem[c.text.lower()] = Term("problem", text, ev, bool(c.backed))
            for i in range(s.lo, s.hi):
                if self.norms[i] == "we":
                    phrase = self._we_phrase(i, s.hi)
                    if phrase:
                        weak = self.norms[i + 1] in _WEAK_AFTER_WE
                        ev = Evidence(phrase, self.toks[i].start, i)
                        team.append((weak, i, Term("team", phrase, ev)))
        return AnswerTerms(
            tech=tuple(tech.values()),
            metric=tuple(t for _, _, t in sorted(metric, key=lambda x: (x[0], x[1]))),
            problem=tuple(problem.values()),
            team=tuple(t for _, _, t in sorted(team, key=lambda x: (x[0], x[1]))),
        )

    def _tech_terms(self, k: int, tech: dict[str, Term], plumbing: frozenset[str]) -> None:
        s = self.sentences[k]
        window = self.claim_rules.away_window
        left = self._left_tools(s, window)
        backed = None
        for h in s.hits.get("tech", []):
            if backed is None:
                backed = self.backed(k)
            key = " ".join(self.norms[h.i:h.j])
            away = h.i in left
            # weighed with a "but" ("keyword search was cheap but missed paraphrases"):
            # an option sized up, not one named without a reason; and, in a sentence
            # that decides nothing, one turned down: never asked about as the choice
            weighed = "but" in self.norms[h.j:min(s.hi, h.j + 5)]
            away = away or (weighed and not s.has("m:decision"))
            ev = self.evidence(h.i, h.j, s.lo, s.hi, before=4, after=3)
            old = tech.get(key)
            if old is None:
                tech[key] = Term("tech", self.span_text(h.i, h.j), ev, backed or weighed, away,
                                 key in plumbing)
            elif ((backed or weighed) and not old.justified) or (away and not old.away):
                tech[key] = Term("tech", old.text, old.evidence,
                                 bool(backed or weighed or old.justified),
                                 away or old.away, old.plumbing)

    def _left_tools(self, s: _Sentence, window: int) -> set[int]:
        """Where the tools being left behind start: the first tool within ``window``
        words after an `away` phrase, and tools joined to it by "and"/"or"/","
        ("off MySQL and Oracle"), not the one it is left for ("for Postgres");
        also a tool said with "before" ("we were on Jenkins before")."""
        tech = sorted(s.hits.get("tech", []), key=lambda h: h.i)
        out: set[int] = set()
        for a in s.hits.get("c:away", ()):
            first = next((t for t in tech if 0 <= t.i - a.j < window), None)
            if first is None:
                continue
            out.add(first.i)
            end = first.j
            for t in tech:
                joined = t.i == end + 1 and self.norms[end] in ("and", "or")
                listed = t.i == end and bool(CLAUSE_END.search(self.toks[end - 1].raw))
                if joined or listed:
                    out.add(t.i)
                    end = t.j
        for t in tech:
            if t.j < s.hi and self.norms[t.j] in ("before", "previously"):
                out.add(t.i)
        return out

    def _fragment_phrase(self, k: int, c: Claim) -> str:
        """A failure's phrase; a one- or two-word sentence ("Duplicates.") takes the
        first clause of the next sentence with it, and so does a one- or two-word clause
        inside a sentence ("Duplicates, so I wrote ..."), so a probe never quotes a fragment."""
        s = self.sentences[k]
        n = len(c.text.split())
        end = c.index + n
        if (s.hi - s.lo > 2 and n <= 2 and s.lo <= c.index and end < s.hi
                and CLAUSE_END.search(self.toks[end - 1].raw)):
            rest = self.quote(end, end + 1, end, s.hi, before=0, after=5)
            return f"{c.text}, {rest[:1].lower()}{rest[1:]}".rstrip(",")
        if s.hi - s.lo > 2 or k + 1 >= len(self.sentences):
            return c.text
        nxt = self.sentences[k + 1]
        rest = self.quote(nxt.lo, nxt.lo + 1, nxt.lo, nxt.hi, before=0, after=8)
        head = self.span_text(s.lo, s.hi)
        return f"{head[:1].lower()}{head[1:]}, {rest[:1].lower()}{rest[1:]}"

    def _we_phrase(self, i: int, hi: int) -> str | None:
        if i + 2 < hi and self.norms[i + 2] in _COPULAS:
            return None  # inside a clause: "every choice we made was checked"
        b = i + 1
        while b < hi and b - i < 5:
            b += 1
            if re.search(r"[,.;:!?]$", self.toks[b - 1].raw):
                break
        while b > i + 1 and self.norms[b - 1] in TRAILING_SMALL:
            b -= 1
        if b <= i + 1:
            return None
        text = self.span_text(i, b)
        return "we" + text[2:] if text.startswith("We") else text
