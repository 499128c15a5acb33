"""Question banks, probe families, interview formats and the LLM prompt.

Everything comes from TOML files in prompts/ and is validated when loaded: a
syntax error, a missing field, a wrong type or an unknown category raises
``ConfigError`` naming the file, the line of the entry and the entry itself
(``prompts/questions.toml:42: question 'dd-x': unknown category 'deepdive' ...``).
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from voice_interview.datafiles import (  # noqa: F401 (re-exported)
    Entry,
    check_unique,
    choices_text,
    entries,
    header_lines,
    table_line,
)
from voice_interview.errors import ConfigError, UsageError
from voice_interview.interviewer.types import FAMILY_IDS
from voice_interview.resources import data_dir, load_toml

CATEGORIES = ("deep-dive", "behavioral", "technical", "intro")
TERM_KINDS = ("tech", "choice", "metric", "problem", "team", "topic")
PROBE_POLICIES = ("progressive", "after-talk", "one-story", "screen")
SIGNALS = (
    "conflict", "collaboration", "communication", "ownership", "leadership", "failure",
    "growth", "decision-making", "time-management", "adaptability", "problem-solving",
    "ai-practice",
)
MAX_LEVEL = 4
LLM_PLACEHOLDERS = ("persona", "question", "gaps", "asked", "transcript", "family", "goal",
                    "target", "reason", "depth", "planned", "excerpt", "keywords", "moves")
LLM_REQUIRED = ("asked",)
LLM_WORDS = ("transcript", "excerpt")  # the candidate's words: fenced, in 'user' only

QUESTIONS_FILE = "questions.toml"
PROBES_FILE = "probes.toml"
FORMATS_FILE = "formats.toml"
LLM_PROMPT_FILE = "llm_interviewer.toml"

def _default_path(name: str) -> Path:
    return data_dir("prompts") / name


# ---------------------------------------------------------------------------
# Interview formats


@dataclass(frozen=True)
class InterviewFormat:
    """One kind of interview round: budgets for the opening answer and probing policy."""

    id: str
    name: str
    description: str
    opening: str  # question category the session starts with
    soft_budget_s: float  # gentle warning for the opening answer
    hard_budget_s: float  # the interviewer cuts in
    time_limit_s: float  # whole session
    max_probes: int
    max_depth: int
    probe_policy: str
    followup_s: tuple[float, float]
    discussion_s: tuple[float, float] | None = None


def load_formats(path: Path | None = None) -> dict[str, InterviewFormat]:
    """Interview formats by id, in file order."""
    path = Path(path) if path else _default_path(FORMATS_FILE)
    data = load_toml(path)
    items = entries(path, data, "format")
    check_unique(items)
    formats: dict[str, InterviewFormat] = {}
    for e in items:
        e.allow(("id", "name", "description", "opening", "soft_budget_s", "hard_budget_s",
                 "time_limit_s", "max_probes", "max_depth", "probe_policy", "followup_s",
                 "discussion_s"))
        fmt = InterviewFormat(
            id=e.text("id", ident=True),
            name=e.text("name"),
            description=" ".join(e.text("description").split()),
            opening=e.text("opening", choices=CATEGORIES),
            soft_budget_s=e.number("soft_budget_s"),
            hard_budget_s=e.number("hard_budget_s"),
            time_limit_s=e.number("time_limit_s"),
            max_probes=e.integer("max_probes", 0, 50),
            max_depth=e.integer("max_depth", 1, MAX_LEVEL),
            probe_policy=e.text("probe_policy", choices=PROBE_POLICIES),
            followup_s=e.span("followup_s"),
            discussion_s=e.span("discussion_s", required=False),
        )
        if fmt.soft_budget_s > fmt.hard_budget_s:
            raise e.error("soft_budget_s must not be larger than hard_budget_s")
        if fmt.hard_budget_s > fmt.time_limit_s:
            raise e.error("hard_budget_s must not be larger than time_limit_s")
        formats[fmt.id] = fmt
    return formats


# ---------------------------------------------------------------------------
# Questions


@dataclass(frozen=True)
class Question:
    """One opening question."""

    id: str
    text: str
    category: str  # deep-dive | behavioral | technical | intro
    formats: tuple[str, ...]
    expected_s: tuple[float, float]  # a well-paced spoken answer, [min, max] seconds
    rubric: str  # rubric id in rubrics/structure.toml
    signal: str | None = None  # behavioral: what the story should show

    def to_json(self) -> dict:
        return {
            "id": self.id, "text": self.text, "category": self.category,
            "formats": list(self.formats), "expected_s": list(self.expected_s),
            "rubric": self.rubric, "signal": self.signal,
        }


@dataclass(frozen=True)
class QuestionBank:
    questions: tuple[Question, ...]
    path: str = ""
    _index: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({q.id: q for q in self.questions})

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions)

    def __len__(self) -> int:
        return len(self.questions)

    def __contains__(self, qid: object) -> bool:
        return qid in self._index

    def ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    def get(self, qid: str) -> Question:
        try:
            return self._index[qid]
        except KeyError:
            close = difflib.get_close_matches(qid, self.ids(), n=3, cutoff=0.5)
            others = [i for i in self.ids() if i not in close]
            hints = (close + others)[:5]
            raise UsageError(
                f"unknown question '{qid}'; try one of: {', '.join(hints)} "
                f"({len(self)} questions in {self.path or 'the bank'})"
            ) from None

    def by_category(self, category: str) -> tuple[Question, ...]:
        if category not in CATEGORIES:
            raise UsageError(f"unknown question category '{category}'; "
                             f"expected one of: {choices_text(CATEGORIES)}")
        return tuple(q for q in self.questions if q.category == category)

    def by_format(self, format_id: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if format_id in q.formats)

    def by_signal(self, signal: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.signal == signal)

    def default(self, category: str = "deep-dive") -> Question:
        """The first question of a category, in file order."""
        found = self.by_category(category)
        if not found:
            raise UsageError(f"the question bank has no '{category}' question")
        return found[0]


def load_question_bank(path: Path | None = None, *, formats: Iterable[str] | None = None,
                       rubrics: Iterable[str] | None = None) -> QuestionBank:
    """Load and check prompts/questions.toml.

    ``formats`` and ``rubrics`` are the valid ids a question may refer to; by
    default they come from formats.toml beside the bank (or the default one)
    and from rubrics/structure.toml.
    """
    path = Path(path) if path else _default_path(QUESTIONS_FILE)
    if formats is None:
        sibling = path.with_name(FORMATS_FILE)
        formats = load_formats(sibling if sibling.is_file() else None)
    if rubrics is None:
        from voice_interview.interviewer.rubric import load_rubrics

        rubrics = load_rubrics().rubrics
    format_ids = tuple(formats)
    rubric_ids = tuple(rubrics)
    data = load_toml(path)
    items = entries(path, data, "question")
    check_unique(items)
    questions = []
    for e in items:
        e.allow(("id", "text", "category", "formats", "expected_s", "rubric", "signal"))
        category = e.text("category", choices=CATEGORIES)
        signal = e.text("signal", required=False, choices=SIGNALS)
        if category == "behavioral" and signal is None:
            raise e.error(f"behavioral questions need a 'signal' ({choices_text(SIGNALS)})")
        if category != "behavioral" and signal is not None:
            raise e.error("only behavioral questions take a 'signal'")
        questions.append(Question(
            id=e.text("id", ident=True),
            text=" ".join(e.text("text").split()),
            category=category,
            formats=e.texts("formats", choices=format_ids),
            expected_s=e.span("expected_s"),
            rubric=e.text("rubric", choices=rubric_ids),
            signal=signal,
        ))
    return QuestionBank(tuple(questions), str(path))


# ---------------------------------------------------------------------------
# Probe families


_TERM_SLOT = re.compile(r"\\\{term\\\}")


@dataclass(frozen=True)
class Wording:
    """One way of asking a probe. ``{term}`` in ``text`` quotes the candidate."""

    key: str  # "decisions/3": family and position, stable across runs
    family: str
    level: int  # 1 opens the topic; higher digs deeper
    text: str
    term: str | None = None  # kind of term quoted, when text has {term}
    part: str | None = None  # rubric part this wording opens
    rubrics: tuple[str, ...] = ()  # rubrics it suits; empty = all
    press: bool = False  # only for pressing once more on an evasive reply
    pattern: re.Pattern = field(compare=False, repr=False, default=None)  # type: ignore

    def __post_init__(self) -> None:
        if self.pattern is None:
            body = _TERM_SLOT.sub(lambda _m: r".+?", re.escape(self.text))
            object.__setattr__(self, "pattern", re.compile(body, re.IGNORECASE | re.DOTALL))

    @property
    def quotes(self) -> bool:
        return self.term is not None

    def fits(self, rubric_id: str) -> bool:
        return not self.rubrics or rubric_id in self.rubrics

    def render(self, term: str | None = None) -> str:
        if self.term is None:
            return self.text
        if not term:
            raise ValueError(f"wording {self.key} needs a term to quote")
        return self.text.replace("{term}", term)

    def matches(self, text: str) -> bool:
        """Whether ``text`` was produced from this wording (any quoted term)."""
        return self.pattern.fullmatch(" ".join(text.split())) is not None


@dataclass(frozen=True)
class ProbeFamily:
    id: str
    title: str
    description: str
    wordings: tuple[Wording, ...]

    def at_level(self, level: int) -> tuple[Wording, ...]:
        return tuple(w for w in self.wordings if w.level == level)

    @property
    def max_level(self) -> int:
        return max(w.level for w in self.wordings)


def _placeholders(entry: Entry, key: str, text: str) -> set[str]:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise entry.error(f"'{key}' has a broken placeholder ({exc})") from None
    return names


def _flag(entry: Entry, key: str) -> bool:
    value = entry.raw.get(key, False)
    if not isinstance(value, bool):
        raise entry.error(f"'{key}' must be true or false")
    return value


def load_probe_families(path: Path | None = None, *, parts: Iterable[str] | None = None,
                        rubrics: Iterable[str] | None = None) -> dict[str, ProbeFamily]:
    """Load prompts/probes.toml: the six families, each with its wordings by level.

    ``parts`` and ``rubrics`` are the rubric part ids and rubric ids a wording
    may name (default: those of rubrics/structure.toml).
    """
    path = Path(path) if path else _default_path(PROBES_FILE)
    if parts is None or rubrics is None:
        from voice_interview.interviewer.rubric import load_rubrics

        known = load_rubrics().rubrics
        if parts is None:
            parts = {p.id for r in known.values() for p in r.parts}
        if rubrics is None:
            rubrics = tuple(known)
    part_ids = tuple(sorted(parts))
    rubric_ids = tuple(rubrics)
    data = load_toml(path)
    fam_entries = entries(path, data, "family")
    check_unique(fam_entries)
    meta: dict[str, tuple[str, str]] = {}
    for e in fam_entries:
        e.allow(("id", "title", "description"))
        fid = e.text("id", choices=FAMILY_IDS)
        meta[fid] = (e.text("title"), " ".join(e.text("description").split()))
    missing = [f for f in FAMILY_IDS if f not in meta]
    if missing:
        raise ConfigError(f"{path}: probe family '{missing[0]}' is missing "
                          f"(all of {choices_text(FAMILY_IDS)} are needed)")
    by_family: dict[str, list[Wording]] = {f: [] for f in FAMILY_IDS}
    seen_text: dict[str, Entry] = {}
    for e in entries(path, data, "probe"):
        e.allow(("family", "level", "text", "term", "part", "rubrics", "press"))
        family = e.text("family", choices=FAMILY_IDS)
        e.label = f"probe #{e.label.split('#')[-1]} ({family})"
        text = " ".join(e.text("text").split())
        names = _placeholders(e, "text", text)
        if names - {"term"}:
            raise e.error(f"unknown placeholder '{{{sorted(names - {'term'})[0]}}}' "
                          "(only {term} is allowed)")
        term = e.text("term", required=False, choices=TERM_KINDS)
        if "term" in names and term is None:
            raise e.error(f"a wording with {{term}} needs 'term' ({choices_text(TERM_KINDS)})")
        if term is not None and "term" not in names:
            raise e.error("'term' is set but the text has no {term}")
        if text.lower() in seen_text:
            raise e.error(f"same text as line {seen_text[text.lower()].line}")
        seen_text[text.lower()] = e
        wording = Wording(
            key=f"{family}/{len(by_family[family]) + 1}",
            family=family,
            level=e.integer("level", 1, MAX_LEVEL),
            text=text,
            term=term,
            part=e.text("part", required=False, choices=part_ids),
            rubrics=e.texts("rubrics", required=False, choices=rubric_ids),
            press=_flag(e, "press"),
        )
        by_family[family].append(wording)
    families: dict[str, ProbeFamily] = {}
    for fid in FAMILY_IDS:
        wordings = tuple(by_family[fid])
        if not any(w.level == 1 for w in wordings):
            raise ConfigError(f"{path}: probe family '{fid}' needs at least one level-1 "
                              "wording")
        title, description = meta[fid]
        families[fid] = ProbeFamily(fid, title, description, wordings)
    return families


# ---------------------------------------------------------------------------
# LLM interviewer prompt


@dataclass(frozen=True)
class LLMPrompt:
    """Persona and message templates for the LLM interviewer."""

    persona: str
    system: str
    user: str
    path: str = ""
    move: str = ""  # read last: the planner's move, known only when the pause comes
    choose: str = ""  # read last instead of 'move' when the LLM chooses the move

    def placeholders(self) -> set[str]:
        names: set[str] = set()
        for text in (self.system, self.user, self.move, self.choose):
            names |= {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
        return names


def load_llm_prompt(path: Path | None = None) -> LLMPrompt:
    """Load and check prompts/llm_interviewer.toml (an ``[llm]`` table)."""
    path = Path(path) if path else _default_path(LLM_PROMPT_FILE)
    data = load_toml(path)
    raw = data.get("llm")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: needs an [llm] table with 'system' and 'user'")
    e = Entry(path, "llm", 0, table_line(path, "llm"), raw)
    e.label = "[llm]"
    e.allow(("persona", "system", "user", "move", "choose"))
    prompt = LLMPrompt(
        persona=" ".join((e.text("persona", required=False) or "").split()),
        system=e.text("system"),
        user=e.text("user"),
        path=str(path),
        move=e.text("move", required=False) or "",
        choose=e.text("choose", required=False) or "",
    )
    names: set[str] = set()
    for key in ("system", "user", "move", "choose"):
        names |= _placeholders(e, key, getattr(prompt, key))
    unknown = sorted(names - set(LLM_PLACEHOLDERS))
    if unknown:
        raise e.error(f"unknown placeholder '{{{unknown[0]}}}' (allowed: "
                      f"{choices_text('{' + n + '}' for n in LLM_PLACEHOLDERS)})")
    absent = [n for n in LLM_REQUIRED if n not in names]
    if absent:
        raise e.error(f"the prompt never uses '{{{absent[0]}}}'")
    if not set(LLM_WORDS) & names:
        raise e.error("the prompt never uses '{transcript}' or '{excerpt}' (the answer)")
    if set(LLM_WORDS) & _placeholders(e, "system", prompt.system):
        raise e.error("'{transcript}' and '{excerpt}' belong in 'user', where they are "
                      "fenced as data")
    return prompt
