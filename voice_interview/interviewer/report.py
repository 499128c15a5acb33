"""What structure scoring reports: parts, evidence, terms a probe may quote."""

from __future__ import annotations

from dataclasses import dataclass

from voice_interview.interviewer.claims import Claim

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
        return {"text": self.text, "start": round2(self.start), "index": self.index}


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
            "start": round2(self.start), "seconds": round2(self.seconds),
            "findings": list(self.findings),
            "evidence": [{"text": e.text, "start": round2(e.start)} for e in self.evidences],
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
                {"term": t.text, "justified": bool(t.justified), "start": round2(t.evidence.start)}
                for t in self.tech
            ],
            "words": self.words,
            "duration_s": round2(self.duration_s),
            "claims": [c.to_json() for c in self.claims],
        }


def round2(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
