"""Scoring an answer against a structure rubric (deep dive, STAR, SAIL, ...).

``score_structure(words, rubric_id)`` takes Whisper-style timed words (dicts or
objects with ``word``, ``start``, ``end``) or plain text, and reports which
parts of the rubric the answer covers, where each starts and how long it runs,
whether a quantified result comes early, how often the candidate says "I"
versus "we", and which decisions come with a reason.

It is deterministic phrase matching over rubrics/structure.toml,
rubrics/lexicon.toml and rubrics/claims.toml, so every finding quotes the words
that triggered it (with their time when the transcript is timed):
``quantified impact at 4.2 s: "cut latency by 40%"``.

How it works (``_label_sentences``, ``_part_report``, ``_report``): the answer
is cut into sentences (answer.py); each sentence carries claims (claims.py) and
serves every part whose cues or listed claims it has, so one sentence may
serve several parts; vague sentences without a number and injections serve
none. Its time goes to one main part (the one being told when it can), so the
seconds add up; a sentence that serves nothing continues the current part. A
part is covered when at least one sentence serves it; ``evidence`` quotes the
words that show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voice_interview.interviewer.answer import ParsedAnswer
from voice_interview.interviewer.claims import Claim
from voice_interview.interviewer.report import (  # noqa: F401 (the public names)
    AnswerTerms,
    Evidence,
    PartReport,
    StructureReport,
    Term,
    round2,
)
from voice_interview.interviewer.rubricset import (  # noqa: F401 (the public names)
    DEFAULT_EXPLORE,
    REQUIREMENTS,
    Lexicon,
    Rubric,
    RubricPart,
    RubricSet,
    Settings,
    clear_rubric_cache,
    load_rubrics,
)

# What each requirement is called when found, and the advice when it is not.
_REQUIRE_TEXT = {
    "number": ("number", "no numbers in this part: put a figure on it"),
    "baseline": ("baseline", "no baseline: say what the result was compared with"),
    "reason": ("reason given", "no reasons given: say why, not only what"),
    "alternative": ("alternative weighed",
                    "no alternatives mentioned: say what else you considered and why not"),
}


# ---------------------------------------------------------------------------
# Scoring


def find_terms(words: str | Sequence[Any], rubrics: RubricSet | None = None,
               rubric_id: str = "") -> AnswerTerms:
    """Concrete things said in an answer (tools, numbers, failures, "we ..." phrases)."""
    return ParsedAnswer(words, rubrics or load_rubrics(), rubric_id).terms()


def read_answer(words: str | Sequence[Any], rubrics: RubricSet | None = None,
                rubric_id: str = "") -> tuple[AnswerTerms, tuple[Claim, ...]]:
    """The terms a probe may quote and every claim, sentence by sentence."""
    ans = ParsedAnswer(words, rubrics or load_rubrics(), rubric_id)
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
    ans = ParsedAnswer(words, rubrics, rubric.id)
    early = _label_sentences(ans, rubric, opening_words)
    durations = _durations(ans)
    parts = [_part_report(ans, rubric, p, durations, early) for p in rubric.parts]
    return _report(ans, rubric, parts, durations, early)


def _label_sentences(ans: ParsedAnswer, rubric: Rubric, opening_words: int | None) -> bool:
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
        counts = {p.id: _cue_count(s, p.id) for p in cue_parts}
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
        if early and rubric.early_impact_part:
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


def _cue_count(s: Any, pid: str) -> int:
    """The part's cues in a sentence; its weak cues only beside a number, a
    baseline or one of its cues ("one dashboard" is what was built)."""
    strong = len(s.hits.get(f"p:{pid}", ()))
    if strong or s.numbers or s.has("m:baseline"):
        return strong + len(s.hits.get(f"w:{pid}", ()))
    return 0


def _durations(ans: ParsedAnswer) -> list[float | None]:
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


def _part_evidence(ans: ParsedAnswer, rubric: Rubric, part: RubricPart, k: int) -> Evidence | None:
    """The words of sentence k that show it serves ``part``."""
    s = ans.sentences[k]
    if part.id == rubric.early_impact_part:
        return s.impact
    cue = next(iter(s.hits.get(f"p:{part.id}", []) or s.hits.get(f"w:{part.id}", [])), None)
    if cue is not None:
        return ans.evidence(cue.i, cue.j, s.lo, s.hi)
    for c in ans.claims[k]:
        if c.kind in part.claims:
            return Evidence(c.text, c.start, c.index)
    return s.impact  # a result sentence recognised by its number


def _part_report(ans: ParsedAnswer, rubric: Rubric, p: RubricPart, durations: list[float | None],
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
    return PartReport(p.id, p.title, p.weight, p.probe, covered, start, round2(seconds),
                      tuple(findings), evidence[0] if evidence else None, tuple(evidence))


def _report(ans: ParsedAnswer, rubric: Rubric, parts: list[PartReport],
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
        duration_s=round2(duration),
        i_count=i_count,
        we_count=we_count,
        ownership_flag=flag,
        has_numbers=has_numbers,
        impact=next((s.impact for s in ans.sentences if s.impact and not s.silent), None),
        early_impact=early_found,
        tech=terms.tech,
        unassigned_s=round2(unassigned),
        claims=tuple(c for cs in ans.claims for c in cs),
    )


def _requirements(ans: ParsedAnswer, part: RubricPart, mine: list[int]) -> list[str]:
    """Check the part's requirements (numbers, baseline, reasons, alternatives)."""
    out = []
    for req in part.require:
        found: Evidence | None = None
        # a quantified result is the number worth quoting ("52%", not "three hundred")
        # from the part's own sentences first ("52%" under evaluation, not the
        # hook's); a quantified result is the number worth quoting
        order = sorted(mine, key=lambda k: (ans.sentences[k].label != part.id,
                                            req == "number" and ans.sentences[k].impact is None))
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


def _overall(ans: ParsedAnswer, rubric: Rubric, parts: list[PartReport], terms: AnswerTerms,
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
