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
from voice_interview.interviewer.datafiles import (
    Entry,
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
    _matchers: dict[str, _Matcher] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        base = [(f"m:{k}", cue) for k in _MATCHED_MARKERS for cue in self.lexicon.markers[k]]
        base += [("tech", name) for name in self.lexicon.tech]
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


def load_rubrics(path: Path | None = None, lexicon_path: Path | None = None) -> RubricSet:
    """Load rubrics/structure.toml and rubrics/lexicon.toml (cached until they change)."""
    path = Path(path) if path else data_dir("rubrics") / STRUCTURE_FILE
    lexicon_path = Path(lexicon_path) if lexicon_path else path.with_name(LEXICON_FILE)
    key = (_stamp(path), _stamp(lexicon_path))
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    settings, rubrics = _load_structure(path)
    result = RubricSet(rubrics, _load_lexicon(lexicon_path), settings)
    _CACHE.clear()
    _CACHE[key] = result
    return result


def _check_cues(e: Entry, key: str, cues: Iterable[str]) -> None:
    for cue in cues:
        words = cue.split()
        if cue != cue.lower() or any(w == "*" or "*" in w[:-1] for w in words):
            raise e.error(f"{key} entry '{cue}': use lower case, with '*' only at the end "
                          "of a word")


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
            pe.allow(("id", "title", "weight", "probe", "cues", "missing", "require"))
            pid = pe.text("id", ident=True)
            cues = pe.texts("cues", nonempty=pid != early)
            _check_cues(pe, "cues", cues)
            parts.append(RubricPart(
                id=pid,
                title=pe.text("title"),
                weight=pe.integer("weight", 1, 5),
                probe=pe.text("probe", choices=FAMILY_IDS),
                cues=tuple(c.lower() for c in cues),
                missing=" ".join(pe.text("missing").split()),
                require=pe.texts("require", required=False, choices=REQUIREMENTS),
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
        _check_cues(m, key, words)
        markers[key] = words
    t = Entry(path, "tech", 0, table_line(path, "tech"), data["tech"])
    t.label = "[tech]"
    t.allow(("names",))
    names = t.texts("names")
    _check_cues(t, "names", names)
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

    def has(self, label: str) -> bool:
        return bool(self.hits.get(label))


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
    text: str
    evidence: Evidence
    justified: bool | None = None  # tech only: a reason came with it


@dataclass(frozen=True)
class AnswerTerms:
    tech: tuple[Term, ...] = ()
    metric: tuple[Term, ...] = ()
    problem: tuple[Term, ...] = ()
    team: tuple[Term, ...] = ()

    def of_kind(self, kind: str) -> tuple[Term, ...]:
        if kind == "topic":
            return self.tech + self.problem + self.metric
        if kind == "tech":  # the ones given without a reason first
            return tuple(sorted(self.tech, key=lambda t: bool(t.justified)))
        if kind == "choice":
            return tuple(t for t in self.tech if not t.justified)
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
    evidence: Evidence | None = None

    def to_json(self) -> dict:
        return {
            "id": self.id, "title": self.title, "covered": self.covered,
            "start": _r(self.start), "seconds": _r(self.seconds),
            "findings": list(self.findings),
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
        matcher = rubrics.matcher(rubric_id)
        self.sentences: list[_Sentence] = []
        for lo, hi in _split(self.toks, self.settings.max_sentence_words):
            hits: dict[str, list[_Hit]] = defaultdict(list)
            for h in matcher.scan(self.norms, lo, hi):
                hits[h.label].append(h)
            numbers = [i for i in range(lo, hi) if self.is_number(i)]
            s = _Sentence(lo, hi, hits, numbers)
            found = self._impact(s)
            if found is not None:
                s.impact, s.figure = found
            self.sentences.append(s)

    # -- helpers ------------------------------------------------------------

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
            before = [h for h in impact_hits if h.i <= idx and idx - h.i <= 10]
            after = [h for h in impact_hits if h.i >= end and h.i - end <= 2]
            if before:
                rank, a, b = 0, before[-1].i, end
            elif after:
                rank, a, b = 0, idx, min(s.hi, after[0].j + 1)
            elif relative:
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
        tech: dict[str, Term] = {}
        metric: list[tuple[bool, int, Term]] = []  # figures with an impact word first
        problem: dict[str, Term] = {}
        team: list[tuple[bool, int, Term]] = []
        for k, s in enumerate(self.sentences):
            backed = None
            for h in s.hits.get("tech", []):
                if backed is None:
                    backed = self.backed(k)
                key = " ".join(self.norms[h.i:h.j])
                ev = self.evidence(h.i, h.j, s.lo, s.hi, before=4, after=3)
                old = tech.get(key)
                if old is None:
                    tech[key] = Term("tech", self.span_text(h.i, h.j), ev, backed)
                elif backed and not old.justified:
                    tech[key] = Term("tech", old.text, old.evidence, True)
            if s.impact is not None:
                metric.append((not s.has("m:impact"), k, Term("metric", s.figure, s.impact)))
            for h in s.hits.get("m:problem", []):
                key = " ".join(self.norms[h.i:h.j])
                if key not in problem:
                    ev = self.evidence(h.i, h.j, s.lo, s.hi)
                    problem[key] = Term("problem", self.span_text(h.i, h.j), ev)
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


def find_terms(words: str | Sequence[Any], rubrics: RubricSet | None = None) -> AnswerTerms:
    """Concrete things said in an answer (tools, numbers, failures, "we ..." phrases)."""
    return _Answer(words, rubrics or load_rubrics()).terms()


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
    settings = rubrics.settings
    cue_parts = [p.id for p in rubric.parts if p.id != rubric.early_impact_part]

    # 1. Label each sentence with a part.
    current: str | None = None
    first_impact: Evidence | None = None
    early_evidence: Evidence | None = None
    for s in ans.sentences:
        if s.impact is not None and first_impact is None:
            first_impact = s.impact
        counts = {pid: len(s.hits.get(f"p:{pid}", ())) for pid in cue_parts}
        if s.impact is not None:
            in_window = ans.elapsed(s.impact.index) <= settings.impact_window_s and (
                opening_words is None or s.impact.index < opening_words)
            if rubric.early_impact_part and in_window:
                s.label, s.evidence, current = rubric.early_impact_part, True, \
                    rubric.early_impact_part
                early_evidence = early_evidence or s.impact
                continue
            if rubric.result_part and rubric.result_part in counts:
                counts[rubric.result_part] += 1
        best = max(counts.values(), default=0)
        if best == 0:
            s.label = current
            continue
        tied = [pid for pid in cue_parts if counts[pid] == best]
        s.label = current if current in tied else tied[0]
        s.evidence = True
        current = s.label

    # 2. Time per sentence (pauses after a sentence count toward it).
    durations: list[float | None] = []
    for k, s in enumerate(ans.sentences):
        if not ans.timed:
            durations.append(None)
            continue
        start = ans.toks[s.lo].start or 0.0
        if k + 1 < len(ans.sentences):
            stop = ans.toks[ans.sentences[k + 1].lo].start or start
        else:
            stop = ans.toks[s.hi - 1].end or start
        durations.append(max(0.0, stop - start))

    # 3. Parts.
    parts = []
    for p in rubric.parts:
        mine = [k for k, s in enumerate(ans.sentences) if s.label == p.id]
        proof = [k for k in mine if ans.sentences[k].evidence]
        covered = bool(proof)
        seconds = (sum(durations[k] or 0.0 for k in mine) if covered else 0.0) \
            if ans.timed else None
        evidence = None
        findings: list[str] = []
        if covered:
            s = ans.sentences[proof[0]]
            if p.id == rubric.early_impact_part:
                evidence = s.impact
                findings.append(f'quantified impact{evidence.at()}: "{evidence.text}"')
            else:
                cue = next(iter(s.hits.get(f"p:{p.id}", [])), None)
                # no cue: a result sentence recognised by its number
                evidence = ans.evidence(cue.i, cue.j, s.lo, s.hi) if cue else s.impact
                if evidence is not None:
                    findings.append(f'starts{evidence.at()}: "{evidence.text}"')
            findings.extend(_requirements(ans, p, mine))
        elif p.id == rubric.early_impact_part:
            if first_impact is not None:
                findings.append(
                    f"no number in the first {settings.impact_window_s:g} s; the first "
                    f'quantified result comes{first_impact.at()}: "{first_impact.text}"'
                )
            else:
                findings.append(f"no quantified impact anywhere: {p.missing}")
        else:
            findings.append(f"not covered: {p.missing}")
        start = ans.start_of(ans.sentences[proof[0]]) if covered else None
        parts.append(PartReport(p.id, p.title, p.weight, p.probe, covered, start,
                                _r(seconds), tuple(findings), evidence))

    # 4. Whole-answer findings.
    terms = ans.terms()
    i_count = sum(1 for n in ans.norms if n in ans.first_person)
    we_count = sum(1 for n in ans.norms if n in ans.team)
    flag = (we_count >= settings.ownership_min_we
            and we_count > settings.ownership_we_per_i * i_count)
    has_numbers = any(s.numbers for s in ans.sentences)
    duration = None
    if ans.timed:
        duration = (ans.toks[-1].end or 0.0) - (ans.toks[0].start or 0.0)
    unassigned = None
    if ans.timed:
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
        impact=first_impact,
        early_impact=early_evidence is not None,
        tech=terms.tech,
        unassigned_s=_r(unassigned),
    )


def _requirements(ans: _Answer, part: RubricPart, mine: list[int]) -> list[str]:
    """Check the part's requirements (numbers, baseline, reasons, alternatives)."""
    out = []
    for req in part.require:
        found: Evidence | None = None
        for k in mine:
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
