"""The offline probe planner: which follow-up to ask next, and why.

After each answer the planner weighs a few candidate moves and turns the best
into a ``Probe`` from prompts/probes.toml:

- go one level deeper on the branch it is on (the family of the last probe),
  quoting something concrete from the answer when a wording fits;
- open the biggest uncovered part of the rubric (the part's ``probe`` family,
  preferring a wording written for that part);
- react to a clear signal: a technology named without a reason (decisions),
  "we" far outnumbering "I" (ownership), no numbers at all (evaluation);
- follow a new thread the last answer opened (a failure, an unexplained
  choice, a figure) into the branch that fits it;
- otherwise a branch the rubric suggests exploring (its ``explore`` list);
- when the answer replies to a probe (followups.py): press a dodge once more on
  the same branch, follow a new failure into debugging, move on after a real
  answer.

Probes quote the claim's own phrase and carry it as ``Probe.target``; a move
that quotes nothing (a gap, "no numbers", a branch to explore) carries the claim
it hangs on (``moves.aim_gap``: for a missing result what the candidate did, for
missing reflection the decision); a
wording written for a part the candidate covered is not used, and a tool the
candidate was moving away from is never quoted as a choice.

Each move has a score (constants below); the highest wins, and the reason
given with the probe says which move it was and which words triggered it.

A branch is a probe family; its depth is how many probes of that family were
asked. No wording is used twice in a session (quoted wordings included,
whatever term they quoted) and no term is quoted twice. Everything is a pure
function of the inputs and ``seed``: the seed only picks among equally good
wordings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from voice_interview.interviewer.banks import (
    FAMILY_IDS,
    MAX_LEVEL,
    InterviewFormat,
    ProbeFamily,
    Question,
    Wording,
    load_probe_families,
)
from voice_interview.interviewer.claims import Claim
from voice_interview.interviewer.followups import (
    PRESS_MARK,
    first_new,
    first_start,
    guess_family,
    reply_kind,
    said,
)
from voice_interview.interviewer.moves import (
    ANSWERED_FLOOR,
    ANSWERED_PENALTY,
    DEEPER,
    DEEPER_STEP,
    FALLBACK,
    FOLLOW,
    GAP,
    PLUMBING_PENALTY,
    SCORE_DEEPER,
    SCORE_FALLBACK,
    SCORE_FOLLOW,
    SCORE_FOLLOW_METRIC,
    SCORE_NEW_FAILURE,
    SCORE_NO_NUMBERS,
    SCORE_PRESS,
    SCORE_QUOTABLE,
    SCORE_TECH_WITHOUT_WHY,
    SCORE_WE_HEAVY,
    SIGNAL,
    Candidate,
    aim_gap,
    quotable,
    realize,
    squash,
)
from voice_interview.interviewer.rubric import (
    AnswerTerms,
    Rubric,
    RubricSet,
    StructureReport,
    load_rubrics,
    read_answer,
    score_structure,
)
from voice_interview.interviewer.text import tokens_of, word_parts
from voice_interview.interviewer.types import Probe

DEFAULT_RUBRIC = "deep_dive"

CLOSING = Probe(
    family="reflection",
    text="Is there anything important about this work that we have not talked about yet?",
    reason="every planned probe has been asked; closing question",
)

# What each family likes to quote from the last answer, best first.
_QUOTE_KINDS = {
    "context": ("topic",),
    "decisions": ("choice", "tech"),
    "debugging": ("problem",),
    "evaluation": ("metric",),
    "reflection": ("tech",),
    "ownership": ("team",),
}
# New things in the last answer worth following into another branch.
_FOLLOW = (("debugging", "problem", SCORE_FOLLOW), ("decisions", "choice", SCORE_FOLLOW),
           ("evaluation", "metric", SCORE_FOLLOW_METRIC))
_POLICY = {  # probe_policy -> (deepen bonus, max depth cap)
    "progressive": (0.0, MAX_LEVEL),
    "after-talk": (0.0, MAX_LEVEL),
    "one-story": (10.0, MAX_LEVEL),
    "screen": (0.0, 1),
}


def _question_text(question: Any) -> str:
    if isinstance(question, Question):
        return question.text
    return question if isinstance(question, str) else ""


def _rubric_of(question: Any, default: str = DEFAULT_RUBRIC) -> str:
    return question.rubric if isinstance(question, Question) else default


class ProbePlanner:
    """Chooses follow-up probes. ``next_probes`` is pure and deterministic."""

    def __init__(self, families: Mapping[str, ProbeFamily] | None = None, seed: int = 0, *,
                 max_depth: int = 3, deepen_bonus: float = 0.0,
                 rubrics: RubricSet | None = None, gap_targets: bool = True):
        self.families = dict(families) if families is not None else load_probe_families()
        self.seed = seed
        self.max_depth = max(1, min(max_depth, MAX_LEVEL))
        self.deepen_bonus = deepen_bonus
        self.rubrics = rubrics or load_rubrics()
        self.gap_targets = gap_targets  # aim moves that quote nothing at a claim (aim_gap)
        self._wordings: tuple[Wording, ...] = tuple(
            w for f in self.families.values() for w in f.wordings)

    @classmethod
    def for_format(cls, fmt: InterviewFormat, families: Mapping[str, ProbeFamily] | None = None,
                   seed: int = 0, **kw: Any) -> ProbePlanner:
        """A planner tuned to an interview format's depth and probing policy."""
        bonus, cap = _POLICY.get(fmt.probe_policy, (0.0, MAX_LEVEL))
        return cls(families, seed, max_depth=min(fmt.max_depth, cap), deepen_bonus=bonus, **kw)

    # -- public --------------------------------------------------------------

    @staticmethod
    def depth(asked: Sequence[Probe]) -> dict[str, int]:
        """How deep each branch (probe family) has gone (the closing question aside)."""
        counts = Counter(p.family for p in asked if p != CLOSING)
        return {f: counts.get(f, 0) for f in FAMILY_IDS}

    def probe_for(self, text: str) -> Probe:
        """A probe asked by someone else, known only by its words (``analyze --asked``).

        Its family is the family of the wording it was made from, or guessed
        from its words when it matches none.
        """
        text = " ".join(text.split())
        for w in self._wordings:
            if w.matches(text):
                return Probe(w.family, text, PRESS_MARK if w.press else "asked before")
        return Probe(guess_family(text), text, "asked before")

    def used_wordings(self, asked: Sequence[Probe]) -> set[str]:
        """Keys of the wordings already spoken (a quoted wording matches any term)."""
        used = set()
        for probe in asked:
            for w in self._wordings:
                if w.key not in used and w.matches(probe.text):
                    used.add(w.key)
        return used

    def next_probes(self, question: Any, transcript: str | Sequence[Any],
                    report: StructureReport, asked: Sequence[Probe] = (),
                    n: int = 3, *, gaps: bool = True) -> list[Probe]:
        """The next ``n`` probes, best first, from distinct families when possible.

        ``transcript`` is the candidate's latest answer (terms are quoted from
        it); ``report`` scores everything the candidate has said so far;
        ``asked`` are the probes already asked in this session, oldest first.
        Returns fewer (or none) when the planned probes run out. ``gaps=False``
        leaves out the moves that open uncovered parts (when ``report`` only
        holds a reply to a probe, the parts told before it are unknown).

        When ``asked`` is not empty the latest answer is read as the reply to
        the last probe: a dodge is pressed once more on the same branch, a new
        failure moves to debugging, a real answer moves on.
        """
        if n <= 0:
            return []
        terms, claims = read_answer(transcript, self.rubrics, report.rubric)
        start0 = first_start(transcript)
        depth = self.depth(asked)
        used = self.used_wordings(asked)
        spoken = {squash(p.text) for p in asked}
        spoken.add(squash(_question_text(question)))
        history = " ".join(spoken)
        rubric = self.rubrics.get(report.rubric)
        candidates = self._candidates(rubric, report, terms, depth, asked, history, used,
                                      claims, gaps)
        if self.gap_targets:
            toks = tokens_of(transcript)[0]
            candidates = [aim_gap(c, claims, toks) for c in candidates]
        covered = set(report.covered)
        candidates.sort(key=lambda c: (-c.score, c.kind, FAMILY_IDS.index(c.family), c.level))

        out: list[Probe] = []
        for distinct in (True, False):
            for c in candidates:
                if len(out) >= n:
                    return out
                if distinct and any(p.family == c.family for p in out):
                    continue
                probe = realize(self.families, self.seed, c, terms, used, spoken, history,
                                rubric, len(asked), start0, covered)
                if probe is not None:
                    out.append(probe)
        return out

    # -- candidates ---------------------------------------------------------

    def _candidates(self, rubric: Rubric, report: StructureReport, terms: AnswerTerms,
                    depth: dict[str, int], asked: Sequence[Probe], history: str,
                    used: set[str], claims: Sequence[Claim] = (),
                    gaps: bool = True) -> list[Candidate]:
        open_ = [f for f in FAMILY_IDS if depth[f] < self.max_depth]
        out: list[Candidate] = []

        def title(family: str) -> str:
            return self.families[family].title.lower()

        # The latest answer as a reply to the last probe.
        current = asked[-1].family if asked else None
        reply = reply_kind(asked[-1], claims, terms, report.words) if asked else None
        dodge = reply[1] if reply is not None and reply[0] == "dodged" else None
        if dodge is not None and current in open_ \
                and PRESS_MARK not in self.probe_for(asked[-1].text).reason \
                and PRESS_MARK not in asked[-1].reason:
            d = depth[current]
            out.append(Candidate(
                SCORE_PRESS, DEEPER, current, d + 1,
                f"one level deeper on {title(current)} (level {d + 1} of {self.max_depth}); "
                f'{PRESS_MARK}: the reply to "{asked[-1].text}" gave no real answer '
                f'("{dodge.text}")', press=True, target=dodge))
        if reply is not None and reply[0] == "failure" and "debugging" in open_ \
                and "debugging" in rubric.explore:
            t = next((t for t in terms.problem if not said(t, history)), None)
            if t is not None:
                out.append(Candidate(SCORE_NEW_FAILURE, FOLLOW, "debugging",
                                      depth["debugging"] + 1,
                                      f'the reply brought up a new failure: "{t.text}"',
                                      term=t))

        # Go one level deeper on the current branch.
        if current in open_:
            d = depth[current]
            term = quotable(self.families, current, d + 1, rubric.id, terms, history, used)
            score = SCORE_DEEPER - DEEPER_STEP * (d - 1) + self.deepen_bonus
            score += SCORE_QUOTABLE if term is not None else 0.0
            why = ""
            if reply is not None and reply[0] == "answered":
                # below every untold branch: a real answer moves on
                score = min(score - ANSWERED_PENALTY, ANSWERED_FLOOR)
                why = "; the reply answered it, so other branches come first"
            out.append(Candidate(score, DEEPER, current, d + 1,
                                  f"one level deeper on {title(current)} "
                                  f"(level {d + 1} of {self.max_depth}){why}", term=term))

        # Clear signals, each opening a new branch.
        unbacked = [t for t in terms.of_kind("choice") if not said(t, history)]
        unbacked.sort(key=lambda t: t.plumbing)  # a framework last
        if unbacked and depth["decisions"] == 0:
            t = unbacked[0]
            weighty = any(c.kind in ("decision", "failure", "result") for c in claims)
            score = SCORE_TECH_WITHOUT_WHY - (PLUMBING_PENALTY if t.plumbing and weighty else 0)
            out.append(Candidate(score, SIGNAL, "decisions", 1,
                                  f'"{t.text}" was named without a reason', term=t))
        if report.ownership_flag and depth["ownership"] == 0:
            out.append(Candidate(
                SCORE_WE_HEAVY, SIGNAL, "ownership", 1,
                f'"we" {report.we_count} times against "I" {report.i_count} times',
                term=first_new(terms, ("team",), history)))
        if not report.has_numbers and depth["evaluation"] == 0:
            out.append(Candidate(SCORE_NO_NUMBERS, SIGNAL, "evaluation", 1,
                                  "no numbers anywhere in the answer so far"))

        # Something new in the last answer that another branch can follow.
        for family, kind, base in _FOLLOW:
            if family == current or family not in open_ or family not in rubric.explore:
                continue
            # a failure already traced, a result with its baseline: nothing to ask
            t = next((t for t in terms.of_kind(kind)
                      if not said(t, history) and not (kind != "choice" and t.justified)),
                     None)
            if t is not None:
                d = depth[family]
                out.append(Candidate(base - DEEPER_STEP * d, FOLLOW, family, d + 1,
                                      f'the last answer brought up "{t.text}"', term=t))

        # The biggest uncovered parts of the rubric.
        for part in report.gaps() if gaps else ():
            if part.probe not in open_:
                continue
            if part.id == rubric.early_impact_part and report.impact is not None:
                continue  # a result was given later: asking for it again helps nobody
            d = depth[part.probe]
            out.append(Candidate(
                10.0 * part.weight, GAP, part.probe, d + 1,
                f"{part.title.lower()} not covered yet (weight {part.weight}): "
                f"{rubric.part(part.id).missing}", part=part.id))

        # Branches this kind of answer deserves, in the rubric's order; a branch
        # whose parts the candidate already covered comes after the others.
        # A told branch is asked again only about a claim of its own (a quoting
        # wording): its plain wordings would ask for what was said.
        told = {p.probe for p in rubric.parts} - {p.probe for p in report.gaps()}
        for rank, family in enumerate(rubric.explore):
            if family in open_:
                d = depth[family]
                why = "not explored yet" if d == 0 else f"back to it at level {d + 1}"
                late = len(rubric.explore) if family in told and d == 0 else 0
                term = quotable(self.families, family, d + 1, rubric.id, terms, history, used)
                if late and term is None:
                    continue
                out.append(Candidate(SCORE_FALLBACK - 0.5 * (rank + late) - d, FALLBACK,
                                      family, d + 1, f"{title(family)}: {why}", term=term,
                                      quote_only=bool(late)))
        return out

# ---------------------------------------------------------------------------
# A session that remembers


def _word(w: Any) -> Any:
    return word_parts(w)[0] or ""


class PlannerSession:
    """Remembers the answers and the probes asked, and plans the next probe.

    ``next_probe(question, transcript)`` takes the latest answer (plain text or
    timed words), scores everything said so far against the question's rubric,
    and returns the probe to ask, recording it. Probes asked by someone else
    (the LLM interviewer) are recorded with ``record``; answers heard on those
    turns with ``add_answer`` (``next_probe`` does not add the same answer
    twice). When the planned probes run out, it returns one closing question
    (``exhausted`` becomes true).
    """

    def __init__(self, planner: ProbePlanner | None = None, *, rubric_id: str | None = None,
                 seed: int = 0):
        self.planner = planner or ProbePlanner(seed=seed)
        self.rubric_id = rubric_id
        self._answers: list[str | Sequence[Any]] = []
        self._asked: list[Probe] = []
        self.exhausted = False

    @property
    def asked(self) -> tuple[Probe, ...]:
        return tuple(self._asked)

    @property
    def depth(self) -> dict[str, int]:
        return ProbePlanner.depth(self._asked)

    @property
    def branch(self) -> str | None:
        """The family of the last probe: the branch a deeper probe would follow."""
        return self._asked[-1].family if self._asked else None

    def add_answer(self, transcript: str | Sequence[Any]) -> None:
        """Remember a candidate answer (empty answers and repeats of the last are skipped)."""
        if isinstance(transcript, str) and not transcript.strip():
            return
        if not isinstance(transcript, str) and not transcript:
            return
        if self._answers and self._answers[-1] == transcript:
            return
        self._answers.append(transcript)

    def record(self, probe: Probe) -> None:
        self._asked.append(probe)

    def report(self, question: Any = None) -> StructureReport:
        """Everything said so far, scored against the session's rubric."""
        rubric = self.rubric_id or _rubric_of(question)
        opening = None
        if len(self._answers) > 1:
            first = self._answers[0]
            opening = len(first.split()) if isinstance(first, str) else sum(
                len(str(_word(w)).split()) for w in first)
        return score_structure(self._joined(), rubric, rubrics=self.planner.rubrics,
                               opening_words=opening)

    def suggestions(self, question: Any, transcript: str | Sequence[Any] = "",
                    n: int = 3) -> list[Probe]:
        """The next ``n`` probes without recording anything."""
        latest = transcript or (self._answers[-1] if self._answers else "")
        return self.planner.next_probes(question, latest, self.report(question), self._asked, n)

    def preview(self, question: Any, transcript: str | Sequence[Any]) -> Probe | None:
        """What ``next_probe(question, transcript)`` would return, recording nothing.

        The session uses it to prepare (and pre-synthesize) the probe while the
        candidate is silent, before the patience window has run out.
        """
        found = self.previews(question, transcript, 1)
        return found[0] if found else None

    def previews(self, question: Any, transcript: str | Sequence[Any],
                 n: int = 3) -> list[Probe]:
        """The ``n`` best next moves for this answer, recording nothing (the first is
        ``preview``'s); the moves offered to an LLM that chooses (llm_choice.py)."""
        saved = list(self._answers)
        try:
            self.add_answer(transcript)
            return [] if self.exhausted else self.suggestions(question, transcript, n=n)
        finally:
            self._answers = saved

    def next_probe(self, question: Any, transcript: str | Sequence[Any]) -> Probe:
        """Record the answer, plan, record and return the probe to ask.

        Once nothing is left it returns ``CLOSING`` (recorded once) and
        ``exhausted`` is true: time to end the session.
        """
        self.add_answer(transcript)
        found = [] if self.exhausted else self.suggestions(question, transcript, n=1)
        if found:
            probe = found[0]
        else:
            self.exhausted = True
            probe = CLOSING
            if CLOSING in self._asked:
                return probe
        self.record(probe)
        return probe

    def _joined(self) -> str | list[Any]:
        if self._answers and all(not isinstance(a, str) for a in self._answers):
            return [w for a in self._answers for w in a]
        texts = []
        for a in self._answers:
            text = a if isinstance(a, str) else " ".join(str(_word(w)) for w in a)
            text = text.strip()
            if text and text[-1] not in ".?!":
                text += "."
            texts.append(text)
        return " ".join(texts)


# ---------------------------------------------------------------------------
# For `voice-interview analyze`


def analyze_answer(transcript: str | Sequence[Any], question: Any = None, *,
                   rubric_id: str | None = None, seed: int = 0, n: int = 3,
                   planner: ProbePlanner | None = None, asked: Sequence[str] = ()) -> dict:
    """The "structure" and "probes" sections of the analyze JSON for one answer.

    ``transcript`` is timed words (start/seconds filled in) or plain text
    (start/seconds null). The probes are the next ``n`` the planner would ask,
    best first. ``asked``: the probes this answer replies to, oldest first
    (``analyze --asked``); the answer is then planned as a reply to the last,
    the way the live session does, and parts it does not cover are not asked
    for (what was said before it is unknown).
    """
    planner = planner or ProbePlanner(seed=seed)
    rubric = rubric_id or _rubric_of(question)
    report = score_structure(transcript, rubric, rubrics=planner.rubrics)
    before = [planner.probe_for(text) for text in asked if text.strip()]
    probes = planner.next_probes(question, transcript, report, before, n, gaps=not before)
    return {
        "structure": report.to_json(),
        "probes": [p.to_json() for p in probes],
    }
