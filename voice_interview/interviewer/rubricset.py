"""The structure rubrics and the word lists they share, loaded from rubrics/.

One loader per data file: ``_load_structure`` (structure.toml),
``_load_lexicon`` (lexicon.toml) and claims.load_claim_rules (claims.toml);
``load_rubrics`` puts them together into a cached ``RubricSet``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice_interview.datafiles import (
    Entry,
    check_cues,
    check_unique,
    entries,
    header_lines,
    section,
)
from voice_interview.errors import UsageError
from voice_interview.interviewer.claims import (
    CLAIMS_FILE,
    COVERING_KINDS,
    ClaimRules,
    load_claim_rules,
)
from voice_interview.interviewer.text import Matcher
from voice_interview.interviewer.types import FAMILY_IDS
from voice_interview.resources import data_dir, load_toml

STRUCTURE_FILE = "structure.toml"
LEXICON_FILE = "lexicon.toml"
REQUIREMENTS = ("number", "baseline", "reason", "alternative")
# Probe families worth exploring once every part is covered, most telling first.
DEFAULT_EXPLORE = ("decisions", "debugging", "evaluation", "reflection", "ownership", "context")
MARKER_KEYS = (
    "reason", "alternative", "alternative_after_decision", "decision", "impact", "baseline",
    "relative_units", "number_words", "first_person", "team", "problem", "comparative",
    "vague_amounts",
)
_MATCHED_MARKERS = (
    "reason", "alternative", "alternative_after_decision", "decision", "impact", "baseline",
    "problem",
)

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
    weak_cues: tuple[str, ...] = ()  # cues that count only beside a number, baseline or cue


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
    _matchers: dict[str, Matcher] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        base = [(f"m:{k}", cue) for k in _MATCHED_MARKERS for cue in self.lexicon.markers[k]]
        base += [("tech", name) for name in self.lexicon.tech]
        base += [(f"c:{kind}", phrase) for kind, phrases in self.claim_rules.phrases.items()
                 for phrase in phrases]
        self._matchers[""] = Matcher(base)
        for rubric in self.rubrics.values():
            cues = [(f"p:{p.id}", cue) for p in rubric.parts for cue in p.cues]
            cues += [(f"w:{p.id}", cue) for p in rubric.parts for cue in p.weak_cues]
            self._matchers[rubric.id] = Matcher(base + cues)

    def get(self, rubric_id: str) -> Rubric:
        try:
            return self.rubrics[rubric_id]
        except KeyError:
            raise UsageError(f"unknown rubric '{rubric_id}'; expected one of: "
                             f"{', '.join(self.rubrics)}") from None

    def matcher(self, rubric_id: str = "") -> Matcher:
        return self._matchers[rubric_id]


_CACHE: dict[tuple, RubricSet] = {}


def clear_rubric_cache() -> None:
    """Forget the loaded rubric sets (the benchmarks time a cold load)."""
    _CACHE.clear()



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
        if not claims_path.exists():  # a user's own rubrics/ without one: the bundled file
            claims_path = data_dir("rubrics") / CLAIMS_FILE
            if not claims_path.exists():
                claims_path = Path(__file__).resolve().parents[2] / "rubrics" / CLAIMS_FILE
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
    s = section(path, data, "settings", required=False) or Entry(path, "settings", 0, None, {})
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
            pe.allow(("id", "title", "weight", "probe", "cues", "weak_cues", "missing",
                      "require", "claims"))
            pid = pe.text("id", ident=True)
            cues = pe.texts("cues", nonempty=pid != early)
            check_cues(pe, "cues", cues)
            weak = pe.texts("weak_cues", required=False)
            check_cues(pe, "weak_cues", weak)
            parts.append(RubricPart(
                id=pid,
                title=pe.text("title"),
                weight=pe.integer("weight", 1, 5),
                probe=pe.text("probe", choices=FAMILY_IDS),
                cues=tuple(c.lower() for c in cues),
                missing=" ".join(pe.text("missing").split()),
                require=pe.texts("require", required=False, choices=REQUIREMENTS),
                claims=pe.texts("claims", required=False, choices=COVERING_KINDS),
                weak_cues=tuple(c.lower() for c in weak),
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
    m, t = section(path, data, "markers"), section(path, data, "tech")
    assert m is not None and t is not None  # required sections
    m.allow(MARKER_KEYS)
    markers = {}
    for key in MARKER_KEYS:
        words = m.texts(key)
        check_cues(m, key, words)
        markers[key] = words
    t.allow(("names",))
    names = t.texts("names")
    check_cues(t, "names", names)
    return Lexicon(markers, names)
