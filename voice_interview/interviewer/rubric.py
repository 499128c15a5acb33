"""Scoring an answer against a structure rubric (deep dive, STAR, SAIL, ...).

``score_structure(words, rubric_id)`` takes Whisper-style timed words (dicts or
objects with ``word``, ``start``, ``end``) or plain text, and reports which
parts of the rubric the answer covers, where each starts and how long it runs,
whether a quantified result comes early, how often the candidate says "I"
versus "we", and which decisions come with a reason.

It is deterministic word matching over the lists in rubrics/structure.toml and
rubrics/lexicon.toml, so every finding quotes the words that triggered it
(with their time when the transcript is timed):
``quantified impact at 4.2 s: "cut latency by 40%"``.

How it works: the answer is cut into sentences; each sentence goes to the part
whose cue words it matches most (ties stay with the part being told); a
sentence with no cue continues the current part. A part is covered when at
least one sentence matched its cues; its seconds are the time of all its
sentences, pauses included.
"""

from __future__ import annotations

import numbers
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from voice_interview.errors import ConfigError, UsageError
from voice_interview.interviewer.claims import (
    CLAIMS_FILE,
    COVERING_KINDS,
    Claim,
    ClaimRules,
    is_silent,
    load_claim_rules,
    sentence_claims,
)
from voice_interview.interviewer.datafiles import (
    Entry,
    check_cues,
    check_unique,
    entries,
    header_lines,
    table_line,
)
from voice_interview.interviewer.types import FAMILY_IDS
from voice_interview.resources import data_dir, load_toml

STRUCTURE_FILE = "structure.toml"
LEXICON_FILE = "lexicon.toml"
REQUIREMENTS = ("number", "baseline", "reason", "alternative")
# Probe families worth exploring once every part is covered, most telling first.
DEFAULT_EXPLORE = ("decisions", "debugging", "evaluation", "reflection", "ownership", "context")
MARKER_KEYS = (
    "reason", "alternative", "alternative_after_decision", "decision", "impact", "baseline",
    "relative_units", "number_words", "first_person", "team", "problem",
)
_MATCHED_MARKERS = (
    "reason", "alternative", "alternative_after_decision", "decision", "impact", "baseline",
    "problem",
)

# What each requirement is called when found, and the advice when it is not.
_REQUIRE_TEXT = {
    "number": ("number", "no numbers in this part: put a figure on it"),
    "baseline": ("baseline", "no baseline: say what the result was compared with"),
    "reason": ("reason given", "no reasons given: say why, not only what"),
    "alternative": ("alternative weighed",
                    "no alternatives mentioned: say what else you considered and why not"),
}
_WEAK_AFTER_WE = frozenset({
    "were", "was", "are", "had", "have", "just", "also", "kind", "sort", "then", "did",
    "do", "all", "both", "really", "basically", "actually",
})
_TRAILING_SMALL = frozenset({
    "the", "a", "an", "to", "and", "of", "in", "on", "for", "with", "that", "it", "our",
    "this", "so", "but", "or", "at", "by", "from",
})


# ---------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class RubricPart:
    id: str
    title: str
    weight: int  # how much a missing part hurts, 1-5
    probe: str  # probe family that opens this part
    cues: tuple[str, ...]
    missing: str  # advice when the part is absent
    require: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()  # claim kinds that also cover it (claims.py)


@dataclass(frozen=True)
class Rubric:
    id: str
    name: str
    parts: tuple[RubricPart, ...]
    early_impact_part: str | None = None
    result_part: str | None = None
    explore: tuple[str, ...] = DEFAULT_EXPLORE  # probe families that suit this kind of answer

    def part(self, part_id: str) -> RubricPart:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)


@dataclass(frozen=True)
class Settings:
    impact_window_s: float = 30.0
    words_per_second: float = 2.5
    max_sentence_words: int = 40
    reason_lookahead: int = 5
    dominant_share: float = 0.5
    ownership_min_we: int = 5
    ownership_we_per_i: float = 2.0


@dataclass(frozen=True)
class Lexicon:
    markers: dict[str, tuple[str, ...]]
    tech: tuple[str, ...]

    def words(self, key: str) -> frozenset[str]:
        return frozenset(self.markers[key])


@dataclass(frozen=True)
class RubricSet:
    """Every rubric with the shared word lists and settings, ready to score."""

    rubrics: dict[str, Rubric]
    lexicon: Lexicon
    settings: Settings
    claim_rules: ClaimRules
    _matchers: dict[str, _Matcher] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        base = [(f"m:{k}", cue) for k in _MATCHED_MARKERS for cue in self.lexicon.markers[k]]
        base += [("tech", name) for name in self.lexicon.tech]
        base += [(f"c:{kind}", phrase) for kind, phrases in self.claim_rules.phrases.items()
                 for phrase in phrases]
        self._matchers[""] = _Matcher(base)
        for rubric in self.rubrics.values():
            cues = [(f"p:{p.id}", cue) for p in rubric.parts for cue in p.cues]
            self._matchers[rubric.id] = _Matcher(base + cues)

    def get(self, rubric_id: str) -> Rubric:
        try:
            return self.rubrics[rubric_id]
        except KeyError:
            raise UsageError(f"unknown rubric '{rubric_id}'; expected one of: "
                             f"{', '.join(self.rubrics)}") from None

    def matcher(self, rubric_id: str = "") -> _Matcher:
        return self._matchers[rubric_id]


_CACHE: dict[tuple, RubricSet] = {}


def _stamp(path: Path) -> tuple[str, int]:
    try:
        return (str(path.resolve()), path.stat().st_mtime_ns)
    except OSError:
        return (str(path), -1)


def load_rubrics(path: Path | None = None, lexicon_path: Path | None = None,
                 claims_path: Path | None = None) -> RubricSet:
    """Load rubrics/structure.toml, lexicon.toml and claims.toml (cached until they change).

    The lexicon and claims files default to the ones beside ``path`` (the
    installed claims.toml when there is none there).
    """
    path = Path(path) if path else data_dir("rubrics") / STRUCTURE_FILE
    lexicon_path = Path(lexicon_path) if lexicon_path else path.with_name(LEXICON_FILE)
    if claims_path is None:
        claims_path = path.with_name(CLAIMS_FILE)
        if not claims_path.exists():
            claims_path = data_dir("rubrics") / CLAIMS_FILE
    key = (_stamp(path), _stamp(lexicon_path), _stamp(Path(claims_path)))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    settings, rubrics = _load_structure(path)
    result = RubricSet(rubrics, _load_lexicon(lexicon_path), settings,
                       load_claim_rules(Path(claims_path)))
    _CACHE.clear()
    _CACHE[key] = result
    return result


def _load_structure(path: Path) -> tuple[Settings, dict[str, Rubric]]:
    data = load_toml(path)
    raw_settings = data.get("settings", {})
    s = Entry(path, "settings", 0, table_line(path, "settings"), raw_settings)
    s.label = "[settings]"
    s.allow(Settings.__dataclass_fields__)
    d = Settings()

    def pick(value: Any, default: Any) -> Any:
        return default if value is None else value

    settings = Settings(
        impact_window_s=pick(s.number("impact_window_s", required=False), d.impact_window_s),
        words_per_second=pick(s.number("words_per_second", required=False),
                              d.words_per_second),
        max_sentence_words=pick(s.integer("max_sentence_words", 5, 500, required=False),
                                d.max_sentence_words),
        reason_lookahead=pick(s.integer("reason_lookahead", 0, 50, required=False),
                              d.reason_lookahead),
        dominant_share=pick(s.number("dominant_share", required=False), d.dominant_share),
        ownership_min_we=pick(s.integer("ownership_min_we", 1, 1000, required=False),
                              d.ownership_min_we),
        ownership_we_per_i=pick(s.number("ownership_we_per_i", required=False),
                                d.ownership_we_per_i),
    )
    rubric_entries = entries(path, data, "rubric")
    check_unique(rubric_entries)
    part_lines = iter(header_lines(path, "rubric.part"))
    rubrics: dict[str, Rubric] = {}
    for e in rubric_entries:
        e.allow(("id", "name", "early_impact_part", "result_part", "explore", "part"))
        rid = e.text("id", ident=True)
        raw_parts = e.raw.get("part")
        if not isinstance(raw_parts, list) or not raw_parts:
            raise e.error("needs at least one [[rubric.part]]")
        part_entries = [
            Entry(path, f"rubric '{rid}' part", i, next(part_lines, None), raw)
            for i, raw in enumerate(raw_parts)
        ]
        check_unique(part_entries)
        early = e.text("early_impact_part", required=False)
        parts = []
        for pe in part_entries:
            pe.allow(("id", "title", "weight", "probe", "cues", "missing", "require", "claims"))
            pid = pe.text("id", ident=True)
            cues = pe.texts("cues", nonempty=pid != early)
            check_cues(pe, "cues", cues)
            parts.append(RubricPart(
                id=pid,
                title=pe.text("title"),
                weight=pe.integer("weight", 1, 5),
                probe=pe.text("probe", choices=FAMILY_IDS),
                cues=tuple(c.lower() for c in cues),
                missing=" ".join(pe.text("missing").split()),
                require=pe.texts("require", required=False, choices=REQUIREMENTS),
                claims=pe.texts("claims", required=False, choices=COVERING_KINDS),
            ))
        ids = tuple(p.id for p in parts)
        result = e.text("result_part", required=False)
        for key, value in (("early_impact_part", early), ("result_part", result)):
            if value is not None and value not in ids:
                raise e.error(f"{key} '{value}' is not one of its parts ({', '.join(ids)})")
        explore = e.texts("explore", required=False, choices=FAMILY_IDS) or DEFAULT_EXPLORE
        rubrics[rid] = Rubric(rid, e.text("name"), tuple(parts), early, result, explore)
    return settings, rubrics


def _load_lexicon(path: Path) -> Lexicon:
    data = load_toml(path)
    for key in ("markers", "tech"):
        if not isinstance(data.get(key), dict):
            raise ConfigError(f"{path}: needs a [{key}] table")
    m = Entry(path, "markers", 0, table_line(path, "markers"), data["markers"])
    m.label = "[markers]"
    m.allow(MARKER_KEYS)
    markers = {}
    for key in MARKER_KEYS:
        words = m.texts(key)
        check_cues(m, key, words)
        markers[key] = words
    t = Entry(path, "tech", 0, table_line(path, "tech"), data["tech"])
    t.label = "[tech]"
    t.allow(("names",))
    names = t.texts("names")
    check_cues(t, "names", names)
    return Lexicon(markers, names)


# ---------------------------------------------------------------------------
# Matching


@dataclass(frozen=True)
class _Phrase:
    label: str
    words: tuple[tuple[str, bool], ...]  # (text, is_prefix)


@dataclass(frozen=True)
class _Hit:
    label: str
    i: int  # first token
    j: int  # one past the last token


def _word_ok(norm: str, word: tuple[str, bool]) -> bool:
    text, prefix = word
    return norm.startswith(text) if prefix else norm == text


class _Matcher:
    """Finds cue phrases in normalised tokens; "*" ends a word as a prefix match."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self._exact: dict[str, list[_Phrase]] = defaultdict(list)
        self._prefix: dict[int, dict[str, list[_Phrase]]] = defaultdict(lambda: defaultdict(list))
        self._cache: dict[str, tuple[_Phrase, ...]] = {}
        for label, phrase in pairs:
            words = tuple((w[:-1], True) if w.endswith("*") else (w, False)
                          for w in phrase.lower().split())
            p = _Phrase(label, words)
            first, prefix = words[0]
            if prefix:
                self._prefix[len(first)][first].append(p)
            else:
                self._exact[first].append(p)
        self._prefix = {k: dict(v) for k, v in self._prefix.items()}  # type: ignore[assignment]

    def _candidates(self, norm: str) -> tuple[_Phrase, ...]:
        found = self._cache.get(norm)
        if found is None:
            items = list(self._exact.get(norm, ()))
            for length, table in self._prefix.items():
                if len(norm) >= length:
                    items.extend(table.get(norm[:length], ()))
            found = self._cache[norm] = tuple(items)
        return found

    def scan(self, norms: Sequence[str], lo: int, hi: int) -> list[_Hit]:
        best: dict[tuple[str, int], _Hit] = {}
        for i in range(lo, hi):
            for p in self._candidates(norms[i]):
                n = len(p.words)
                if i + n > hi:
                    continue
                if all(_word_ok(norms[i + k], p.words[k]) for k in range(1, n)):
                    key = (p.label, i)
                    old = best.get(key)
                    if old is None or old.j < i + n:
                        best[key] = _Hit(p.label, i, i + n)
        return sorted(best.values(), key=lambda h: (h.i, h.label))


# ---------------------------------------------------------------------------
# Tokens and sentences


@dataclass(frozen=True)
class _Tok:
    raw: str
    norm: str
    start: float | None
    end: float | None


_EDGE = "\"'“”‘’()[]{}<>.,;:!?…—–-*"
_NUMBER = re.compile(r"^[$€£]?\d+(?:[.,]\d+)*(?:%|x|k|m|b|ms|s|h)?$")
_RELATIVE_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*(?:%|x)$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*$")
_CLAUSE_END = re.compile(r"[,;:.?!…][\"'”’)\]]*$")


@lru_cache(maxsize=16384)
def _norm(raw: str) -> str:
    return raw.replace("’", "'").replace("‘", "'").lower().strip(_EDGE)


def _is_time(value: Any) -> bool:
    """A real number (numpy floats included), not a bool or None."""
    kind = type(value)
    if kind is float or kind is int:
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _tokens(words: str | Sequence[Any]) -> tuple[list[_Tok], bool]:
    """Normalise plain text or timed words; timed only if every word has times."""
    if isinstance(words, str):
        return [_Tok(w, _norm(w), None, None) for w in words.split()], False
    toks: list[_Tok] = []
    timed = True
    for w in words:
        if isinstance(w, dict):
            word, start, end = w.get("word"), w.get("start"), w.get("end")
        elif isinstance(w, str):
            word, start, end = w, None, None
        else:
            word = getattr(w, "word", None)
            start, end = getattr(w, "start", None), getattr(w, "end", None)
        if not isinstance(word, str):
            raise UsageError("each transcript word needs a 'word' text")
        if _is_time(start) and _is_time(end):
            start, end = float(start), float(end)
        else:
            timed, start, end = False, None, None
        pieces = word.split()
        if len(pieces) == 1:
            toks.append(_Tok(pieces[0], _norm(pieces[0]), start, end))
        else:
            toks.extend(_Tok(p, _norm(p), start, end) for p in pieces)
    if not timed:
        toks = [_Tok(t.raw, t.norm, None, None) for t in toks]
    return toks, timed and bool(toks)


@dataclass
class _Sentence:
    lo: int
    hi: int
    hits: dict[str, list[_Hit]]
    numbers: list[int]
    impact: Evidence | None = None
    figure: str = ""  # the number of the impact, as said ("40%")
    label: str | None = None
    evidence: bool = False  # matched its part's cues (not just carried over)
    c_lo: int = 0  # the sentence in Answer.kept (words without fillers)
    c_hi: int = 0
    silent: bool = False  # an injection, or vague: covers no part
    serves: tuple[str, ...] = ()  # the rubric parts it covers

    def has(self, label: str) -> bool:
        return bool(self.hits.get(label))


_RESULT_PARTS = ("evaluation", "result", "impact", "highlight")
_FILLERS = frozenset({"um", "uh", "erm", "uhm", "hmm", "er", "ah", "mm", "umm", "uhh"})


def _units(hits: dict[str, list[_Hit]]) -> None:
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


def _split(toks: list[_Tok], max_words: int) -> list[tuple[int, int]]:
    spans, lo = [], 0
    for i, t in enumerate(toks):
        if _SENTENCE_END.search(t.raw) or i + 1 - lo >= max_words:
            spans.append((lo, i + 1))
            lo = i + 1
    if lo < len(toks):
        spans.append((lo, len(toks)))
    return spans


# ---------------------------------------------------------------------------
# Report types


@dataclass(frozen=True)
class Evidence:
    """Words in the transcript that triggered a finding."""

    text: str
    start: float | None  # seconds, when the transcript is timed
    index: int  # word position

    def at(self) -> str:
        return f" at {self.start:.1f} s" if self.start is not None else ""

    def to_json(self) -> dict:
        return {"text": self.text, "start": _r(self.start), "index": self.index}


@dataclass(frozen=True)
class Term:
    """Something concrete the candidate said that a probe may quote."""

    kind: str  # tech | metric | problem | team ("choice" = tech without a reason)
    text: str  # what a probe quotes: a tool's name, or the claim's own phrase
    evidence: Evidence
    # tech: a reason or alternative came with it; metric: a baseline did;
    # problem: the answer says how it was found
    justified: bool | None = None
    away: bool = False  # tech: the candidate was moving away from it
    plumbing: bool = False  # tech: a framework or platform (claims.toml [tech] plumbing)


@dataclass(frozen=True)
class AnswerTerms:
    tech: tuple[Term, ...] = ()
    metric: tuple[Term, ...] = ()
    problem: tuple[Term, ...] = ()
    team: tuple[Term, ...] = ()

    def of_kind(self, kind: str) -> tuple[Term, ...]:
        tech = tuple(t for t in self.tech if not t.away)  # never quote what was left
        if kind == "topic":
            return tech + self.problem + self.metric
        if kind == "tech":  # the ones given without a reason first
            return tuple(sorted(tech, key=lambda t: bool(t.justified)))
        if kind == "choice":  # a framework only while no choice was explained
            explained = any(t.justified for t in tech)
            return tuple(t for t in tech if not t.justified and not (t.plumbing and explained))
        return getattr(self, kind)


@dataclass(frozen=True)
class PartReport:
    id: str
    title: str
    weight: int
    probe: str
    covered: bool
    start: float | None
    seconds: float | None
    findings: tuple[str, ...]
    evidence: Evidence | None = None  # the first of ``evidences``
    evidences: tuple[Evidence, ...] = ()  # the words that show it (up to three sentences)

    def to_json(self) -> dict:
        return {
            "id": self.id, "title": self.title, "covered": self.covered,
            "start": _r(self.start), "seconds": _r(self.seconds),
            "findings": list(self.findings),
            "evidence": [{"text": e.text, "start": _r(e.start)} for e in self.evidences],
        }


@dataclass(frozen=True)
class StructureReport:
    rubric: str
    timed: bool
    parts: tuple[PartReport, ...]
    findings: tuple[str, ...]
    words: int
    duration_s: float | None
    i_count: int
    we_count: int
    ownership_flag: bool  # "we" far outnumbers "I"
    has_numbers: bool
    impact: Evidence | None  # first quantified result anywhere
    early_impact: bool  # ... and it came inside the impact window
    tech: tuple[Term, ...] = ()
    unassigned_s: float | None = None  # talk before any part could be recognised
    claims: tuple[Claim, ...] = ()  # every claim found, sentence by sentence

    def part(self, part_id: str) -> PartReport:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)

    @property
    def covered(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parts if p.covered)

    def gaps(self) -> tuple[PartReport, ...]:
        """Uncovered parts, biggest weight first (rubric order breaks ties)."""
        missing = [(i, p) for i, p in enumerate(self.parts) if not p.covered]
        return tuple(p for _, p in sorted(missing, key=lambda ip: (-ip[1].weight, ip[0])))

    def to_json(self) -> dict:
        return {
            "rubric": self.rubric,
            "timed": self.timed,
            "parts": [p.to_json() for p in self.parts],
            "findings": list(self.findings),
            "ownership": {"i": self.i_count, "we": self.we_count,
                          "flagged": self.ownership_flag},
            "quantified_impact": self.impact.to_json() if self.impact else None,
            "technologies": [
                {"term": t.text, "justified": bool(t.justified), "start": _r(t.evidence.start)}
                for t in self.tech
            ],
            "words": self.words,
            "duration_s": _r(self.duration_s),
            "claims": [c.to_json() for c in self.claims],
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# ---------------------------------------------------------------------------
# Analysis


class _Answer:
    """Tokens, sentences and matches of one transcript; shared by scoring and terms."""

    def __init__(self, words: str | Sequence[Any], rubrics: RubricSet, rubric_id: str = ""):
        self.rubrics = rubrics
        self.settings = rubrics.settings
        lex = rubrics.lexicon
        self.toks, self.timed = _tokens(words)
        self.norms = [t.norm for t in self.toks]
        self.number_words = lex.words("number_words")
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
        for lo, hi in _split(self.toks, self.settings.max_sentence_words):
            c_lo = c
            while c < len(self.kept) and self.kept[c] < hi:
                c += 1
            hits: dict[str, list[_Hit]] = defaultdict(list)
            for h in matcher.scan(kept_norms, c_lo, c):
                hits[h.label].append(_Hit(h.label, self.kept[h.i], self.kept[h.j - 1] + 1))
            _units(hits)
            self._tech_spans += [(h.i, h.j) for h in hits.get("tech", ())]
            numbers = [i for i in range(lo, hi) if self.is_number(i)]
            s = _Sentence(lo, hi, hits, numbers, c_lo=c_lo, c_hi=c)
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
        return (bool(_NUMBER.match(n)) and not _YEAR.match(n)) or n in self.number_words

    def quote(self, i: int, j: int, lo: int, hi: int, before: int = 2, after: int = 3) -> str:
        """The words i..j with a little context, not crossing clause punctuation."""
        a = i
        while a > lo and i - a < before and not _CLAUSE_END.search(self.toks[a - 1].raw):
            a -= 1
        b = j
        if not _CLAUSE_END.search(self.toks[b - 1].raw):
            while b < hi and b - j < after:
                b += 1
                if _CLAUSE_END.search(self.toks[b - 1].raw):
                    break
        while b > j and self.norms[b - 1] in _TRAILING_SMALL:
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
        return any(_CLAUSE_END.search(self.toks[i].raw) for i in range(max(0, a - 1), b))

    def _impact(self, s: _Sentence) -> tuple[Evidence, str] | None:
        """The sentence's quantified result and its figure ("40%"), if it has one.

        A number is a result when an impact word is close to it ("cut latency by
        40%", "40% fewer tickets") or when it is relative on its own ("81%",
        "3x", "ten percent"); numbers next to an impact word win.
        """
        impact_hits = s.hits.get("m:impact", [])
        best: tuple[int, int, Evidence, str] | None = None
        for idx in s.numbers:
            unit = idx + 1 < s.hi and self.norms[idx + 1] in self.relative_units
            relative = unit or bool(_RELATIVE_NUMBER.match(self.norms[idx]))
            end = idx + 2 if unit else idx + 1
            before = [h for h in impact_hits if h.i <= idx and idx - h.i <= 10
                      and not self._clause_break(h.j, idx)]
            after = [h for h in impact_hits if h.i >= end and h.i - end <= 2]
            if before:
                rank, a, b = 0, before[-1].i, end
            elif after:
                rank, a, b = 0, idx, min(s.hi, after[0].j + 1)
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

    def backing(self, k: int) -> tuple[int, _Hit] | None:
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
                text = self.quote(i, i + len(s.impact.text.split()), s.lo, s.hi, before=3,
                                  after=6)
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
        away_ends = [h.j for h in s.hits.get("c:away", ())]
        backed = None
        for h in s.hits.get("tech", []):
            if backed is None:
                backed = self.backed(k)
            key = " ".join(self.norms[h.i:h.j])
            away = any(0 <= h.i - j < window for j in away_ends)
            ev = self.evidence(h.i, h.j, s.lo, s.hi, before=4, after=3)
            old = tech.get(key)
            if old is None:
                tech[key] = Term("tech", self.span_text(h.i, h.j), ev, backed, away,
                                 key in plumbing)
            elif (backed and not old.justified) or (away and not old.away):
                tech[key] = Term("tech", old.text, old.evidence, bool(backed or old.justified),
                                 away or old.away, old.plumbing)

    def _fragment_phrase(self, k: int, c: Claim) -> str:
        """A failure's phrase; a one- or two-word sentence ("Duplicates.") takes the
        first clause of the next sentence with it, so a probe never quotes a fragment."""
        s = self.sentences[k]
        if s.hi - s.lo > 2 or k + 1 >= len(self.sentences):
            return c.text
        nxt = self.sentences[k + 1]
        rest = self.quote(nxt.lo, nxt.lo + 1, nxt.lo, nxt.hi, before=0, after=8)
        head = self.span_text(s.lo, s.hi)
        return f"{head[:1].lower()}{head[1:]}, {rest[:1].lower()}{rest[1:]}"

    def _we_phrase(self, i: int, hi: int) -> str | None:
        b = i + 1
        while b < hi and b - i < 5:
            b += 1
            if re.search(r"[,.;:!?]$", self.toks[b - 1].raw):
                break
        while b > i + 1 and self.norms[b - 1] in _TRAILING_SMALL:
            b -= 1
        if b <= i + 1:
            return None
        text = self.span_text(i, b)
        return "we" + text[2:] if text.startswith("We") else text


# ---------------------------------------------------------------------------
# Scoring


def find_terms(words: str | Sequence[Any], rubrics: RubricSet | None = None,
               rubric_id: str = "") -> AnswerTerms:
    """Concrete things said in an answer (tools, numbers, failures, "we ..." phrases)."""
    return _Answer(words, rubrics or load_rubrics(), rubric_id).terms()


def read_answer(words: str | Sequence[Any], rubrics: RubricSet | None = None,
                rubric_id: str = "") -> tuple[AnswerTerms, tuple[Claim, ...]]:
    """The terms a probe may quote and every claim, sentence by sentence."""
    ans = _Answer(words, rubrics or load_rubrics(), rubric_id)
    return ans.terms(), tuple(c for cs in ans.claims for c in cs)


def score_structure(words: str | Sequence[Any], rubric_id: str = "deep_dive", *,
                    rubrics: RubricSet | None = None,
                    opening_words: int | None = None) -> StructureReport:
    """Score a transcript (timed words or plain text) against a structure rubric.

    ``opening_words``: when the transcript joins several answers, only the first
    this many words (the opening answer) can hold the up-front impact.
    """
    rubrics = rubrics or load_rubrics()
    rubric = rubrics.get(rubric_id)
    ans = _Answer(words, rubrics, rubric.id)
    early = _label_sentences(ans, rubric, opening_words)
    durations = _durations(ans)
    parts = [_part_report(ans, rubric, p, durations, early) for p in rubric.parts]
    return _report(ans, rubric, parts, durations, early)


def _label_sentences(ans: _Answer, rubric: Rubric, opening_words: int | None) -> bool:
    """Mark the parts each sentence serves (several may) and its main part.

    A sentence serves a part when it matches one of the part's cues or carries
    a claim the part lists; a quantified result serves the result part, and the
    up-front impact part when it comes inside the window. Silent sentences
    (injections, vague claims without a number) serve nothing. The main part
    (``label``, which gets the sentence's time) stays with the part being told
    when it can; a sentence that serves nothing continues it. Returns whether an
    up-front impact was found.
    """
    settings = ans.settings
    cue_parts = [p for p in rubric.parts if p.id != rubric.early_impact_part]
    current: str | None = None
    early_found = False
    for k, s in enumerate(ans.sentences):
        if s.silent:
            s.label = current
            continue
        kinds = {c.kind for c in ans.claims[k]}
        counts = {p.id: len(s.hits.get(f"p:{p.id}", ())) for p in cue_parts}
        served = [p.id for p in cue_parts if counts[p.id] or kinds.intersection(p.claims)]
        early = False
        if s.impact is not None:
            early = bool(rubric.early_impact_part) and ans.elapsed(s.impact.index) <= \
                settings.impact_window_s and (opening_words is None
                                              or s.impact.index < opening_words)
            # a result serves the result part; the up-front one only with its
            # baseline ("down from forty"): otherwise it is the hook alone
            if rubric.result_part and rubric.result_part not in served and (
                    not early or s.has("m:baseline")):
                served.append(rubric.result_part)
                counts[rubric.result_part] = counts.get(rubric.result_part, 0) + 1
        if early:
            early_found = True
            s.label = current = rubric.early_impact_part
            s.serves, s.evidence = (rubric.early_impact_part, *served), True
            continue
        s.serves = tuple(served)
        if not served:
            s.label = current
            continue
        best = max(counts.get(pid, 0) for pid in served)
        tied = [pid for pid in served if counts.get(pid, 0) == best]
        s.label = current if current in tied else tied[0]
        s.evidence = True
        current = s.label
    return early_found


def _durations(ans: _Answer) -> list[float | None]:
    """Time per sentence (the pause after a sentence counts toward it)."""
    out: list[float | None] = []
    for k, s in enumerate(ans.sentences):
        if not ans.timed:
            out.append(None)
            continue
        start = ans.toks[s.lo].start or 0.0
        if k + 1 < len(ans.sentences):
            stop = ans.toks[ans.sentences[k + 1].lo].start or start
        else:
            stop = ans.toks[s.hi - 1].end or start
        out.append(max(0.0, stop - start))
    return out


def _part_evidence(ans: _Answer, rubric: Rubric, part: RubricPart, k: int) -> Evidence | None:
    """The words of sentence k that show it serves ``part``."""
    s = ans.sentences[k]
    if part.id == rubric.early_impact_part:
        return s.impact
    cue = next(iter(s.hits.get(f"p:{part.id}", [])), None)
    if cue is not None:
        return ans.evidence(cue.i, cue.j, s.lo, s.hi)
    for c in ans.claims[k]:
        if c.kind in part.claims:
            return Evidence(c.text, c.start, c.index)
    return s.impact  # a result sentence recognised by its number


def _part_report(ans: _Answer, rubric: Rubric, p: RubricPart, durations: list[float | None],
                 early_found: bool) -> PartReport:
    mine = [k for k, s in enumerate(ans.sentences) if s.label == p.id]
    serving = [k for k, s in enumerate(ans.sentences) if p.id in s.serves]
    covered = bool(serving)
    seconds = (sum(durations[k] or 0.0 for k in mine) if covered else 0.0) \
        if ans.timed else None
    evidence = [e for e in (_part_evidence(ans, rubric, p, k) for k in serving[:3]) if e]
    findings: list[str] = []
    if covered and evidence:
        first = evidence[0]
        if p.id == rubric.early_impact_part:
            findings.append(f'quantified impact{first.at()}: "{first.text}"')
        else:
            findings.append(f'starts{first.at()}: "{first.text}"')
    if covered:
        findings.extend(_requirements(ans, p, serving))
    elif p.id == rubric.early_impact_part:
        first_impact = next((s.impact for s in ans.sentences if s.impact), None)
        if first_impact is not None:
            findings.append(
                f"no number in the first {ans.settings.impact_window_s:g} s; the first "
                f'quantified result comes{first_impact.at()}: "{first_impact.text}"')
        else:
            findings.append(f"no quantified impact anywhere: {p.missing}")
    else:
        findings.append(f"not covered: {p.missing}")
    # it starts where it is the main thread (else where it is first touched)
    lead = next((k for k in mine if ans.sentences[k].evidence), serving[0] if covered else None)
    start = ans.start_of(ans.sentences[lead]) if lead is not None else None
    return PartReport(p.id, p.title, p.weight, p.probe, covered, start, _r(seconds),
                      tuple(findings), evidence[0] if evidence else None, tuple(evidence))


def _report(ans: _Answer, rubric: Rubric, parts: list[PartReport],
            durations: list[float | None], early_found: bool) -> StructureReport:
    """The whole-answer figures and findings around the parts."""
    settings = ans.settings
    terms = ans.terms()
    i_count = sum(1 for n in ans.norms if n in ans.first_person)
    we_count = sum(1 for n in ans.norms if n in ans.team)
    flag = (we_count >= settings.ownership_min_we
            and we_count > settings.ownership_we_per_i * i_count)
    has_numbers = any(s.numbers for s in ans.sentences if not s.silent)
    duration = unassigned = None
    if ans.timed:
        duration = (ans.toks[-1].end or 0.0) - (ans.toks[0].start or 0.0)
        unassigned = sum(durations[k] or 0.0 for k, s in enumerate(ans.sentences)
                         if s.label is None)
    findings = _overall(ans, rubric, parts, terms, i_count, we_count, flag, has_numbers,
                        duration, settings)
    return StructureReport(
        rubric=rubric.id,
        timed=ans.timed,
        parts=tuple(parts),
        findings=tuple(findings),
        words=len(ans.toks),
        duration_s=_r(duration),
        i_count=i_count,
        we_count=we_count,
        ownership_flag=flag,
        has_numbers=has_numbers,
        impact=next((s.impact for s in ans.sentences if s.impact and not s.silent), None),
        early_impact=early_found,
        tech=terms.tech,
        unassigned_s=_r(unassigned),
        claims=tuple(c for cs in ans.claims for c in cs),
    )


def _requirements(ans: _Answer, part: RubricPart, mine: list[int]) -> list[str]:
    """Check the part's requirements (numbers, baseline, reasons, alternatives)."""
    out = []
    for req in part.require:
        found: Evidence | None = None
        # a quantified result is the number worth quoting ("52%", not "three hundred")
        order = sorted(mine, key=lambda k: ans.sentences[k].impact is None) \
            if req == "number" else mine
        for k in order:
            s = ans.sentences[k]
            if req == "number":
                if s.numbers:
                    i = s.numbers[0]
                    found = s.impact or ans.evidence(i, i + 1, s.lo, s.hi)
            else:
                at, hit = k, next(iter(s.hits.get(f"m:{req}", [])), None)
                if hit is None and req == "alternative" and s.has("m:decision"):
                    hit = next(iter(s.hits.get("m:alternative_after_decision", [])), None)
                if hit is None and req == "reason":
                    backing = ans.backing(k)
                    if backing is not None and backing[0] != k:
                        at, hit = backing
                if hit is not None:
                    t = ans.sentences[at]
                    found = ans.evidence(hit.i, hit.j, t.lo, t.hi)
            if found is not None:
                break
        name, advice = _REQUIRE_TEXT[req]
        out.append(f'{name}{found.at()}: "{found.text}"' if found else advice)
    return out


def _overall(ans: _Answer, rubric: Rubric, parts: list[PartReport], terms: AnswerTerms,
             i_count: int, we_count: int, flag: bool, has_numbers: bool,
             duration: float | None, settings: Settings) -> list[str]:
    out: list[str] = []
    if not ans.toks:
        return ["empty transcript: nothing to score"]
    covered = [p.id for p in parts if p.covered]
    missing = [p.id for p in parts if not p.covered]
    line = f"covered {len(covered)} of {len(parts)} parts"
    if covered:
        line += f" ({', '.join(covered)})"
    if missing:
        line += f"; missing: {', '.join(missing)}"
    out.append(line)

    if not has_numbers:
        out.append("no numbers anywhere in the answer: nothing says how much changed")

    first_we = next((k for k, n in enumerate(ans.norms) if n in ans.team), None)
    if flag and first_we is not None:
        phrase = terms.team[0].evidence if terms.team else Evidence(
            ans.quote(first_we, first_we + 1, 0, len(ans.toks), before=0),
            ans.toks[first_we].start, first_we)
        out.append(
            f'ownership: "we" {we_count} times, "I" {i_count} times; say which parts were '
            f'yours (e.g.{phrase.at()}: "{phrase.text}")'
        )
    elif i_count or we_count:
        out.append(f'ownership: "I" {i_count} times, "we" {we_count} times')

    unbacked = [t for t in terms.tech if not t.justified]
    for t in unbacked[:4]:
        out.append(f'technology named without a reason{t.evidence.at()}: "{t.text}" '
                   f'(in "{t.evidence.text}")')
    if len(unbacked) > 4:
        out.append(f"... and {len(unbacked) - 4} more named without a reason")
    backed_shown = 0
    for k, s in enumerate(ans.sentences):
        if backed_shown >= 3:
            break
        if not (s.has("m:decision") or s.has("tech")):
            continue
        backing = ans.backing(k)
        if backing is not None:
            first = min(h.i for h in s.hits.get("m:decision", []) + s.hits.get("tech", []))
            _, why = backing
            if why.i > first and why.j - first <= 12:
                text = ans.quote(first, why.j, s.lo, len(ans.toks), before=1, after=4)
            else:
                text = (f"{ans.quote(first, first + 1, s.lo, s.hi, before=1, after=4)} … "
                        f"{ans.quote(why.i, why.j, why.i, len(ans.toks), before=0, after=4)}")
            ev = Evidence(text, ans.toks[first].start, first)
            out.append(f'decision backed by a reason{ev.at()}: "{ev.text}"')
            backed_shown += 1
        elif s.has("m:decision") and not s.has("tech"):
            h = s.hits["m:decision"][0]
            ev = ans.evidence(h.i, h.j, s.lo, s.hi, before=2, after=5)
            out.append(f'decision without a reason{ev.at()}: "{ev.text}"')

    if duration and duration >= 30:
        for p in parts:
            if p.seconds and p.seconds / duration > settings.dominant_share:
                out.append(f"{p.title} took {p.seconds:.0f} s of {duration:.0f} s "
                           f"({100 * p.seconds / duration:.0f}%): the other parts get squeezed")
    return out
