"""Structure scoring on hand-written answers, timed like speech, and on plain text."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from voice_interview.errors import ConfigError, UsageError
from voice_interview.interviewer.rubric import (
    find_terms,
    load_rubrics,
    score_structure,
)

GOOD = """At my last company I built a retrieval system for our support team that cut the \
average time to answer a ticket by 40%, from about nine minutes to just over five. The \
problem was that support agents were spending most of their day searching an old wiki by \
hand, and customers were waiting, so churn on the premium plan was going up. Leadership made \
it a priority for the quarter. The data was messy: about twelve thousand documents, lots of \
duplicates and outdated pages, and no labels at all. So I wrote a cleaning pass and had two \
senior agents label three hundred real questions with the right article, which became our \
test set. For the approach, I chose BM25 over dense embeddings at first because agents search \
with exact product codes, and keyword matching handles those much better. Then I added a small \
cross-encoder to rerank the top fifty results, instead of fine-tuning a bigger model, since we \
had only three hundred labels. To evaluate it, I measured recall at five on the labeled set: \
the old wiki search got 52%, and the new pipeline got 81%. After launch we ran an A/B test \
for two weeks against the old search, and handling time dropped by 40% in the treatment \
group. Looking back, I would have involved the agents earlier, and the main limitation is \
that it still struggles with questions that span two products. Next step would be query \
rewriting for those."""

RAMBLING = """So, um, this was a project at my previous job, it was kind of a big one. \
Basically there was a lot going on at the time and the team was growing, and there were a lot \
of different things people wanted. We had a bunch of meetings about it. And I think the idea \
was that it would be nice to have something that helped with the search stuff, because the \
search was not great. So we looked at a few things and tried some stuff, and eventually \
something came together. It took a while, honestly. There were a lot of moving pieces and \
people were busy. I worked on parts of it and other people worked on other parts. In the end \
it went out and people seemed to like it, it worked pretty well I think. Yeah, it was a good \
experience overall and I learned a lot about working with other teams."""

WE_HEAVY = """We built a fraud detection model for our payments team that reduced chargebacks \
by 30% in the first quarter. We started because we were losing a lot of money on disputed \
transactions. We pulled six months of transaction logs and we labeled them with the \
chargeback outcomes. We trained a gradient boosted model and we compared it with the old \
rules engine. We shipped it behind a flag and we watched precision and recall every day. We \
learned that our labels arrived weeks late, so we had to wait before retraining."""

NAMES = """I built an internal assistant that answers HR questions for employees. We used \
LangChain for the orchestration and Pinecone for the vectors. The model was GPT-4, and we \
deployed it on Kubernetes with FastAPI in front. Redis handled the caching. Then I added a \
reranker. It launched in March and people use it every day."""

LATE_NUMBER = """This started when our data science team kept complaining that the nightly \
feature jobs were failing and nobody owned them. The pipeline pulled from about forty \
different sources and the business reports were often a day late. I rewrote the scheduler \
around Airflow because we needed retries and clear ownership per task, and I added alerts \
that go straight to whoever owns the source. We also moved the heaviest joins into the \
warehouse instead of doing them in Python on one machine. After two months the failure rate \
went from twelve percent of runs to under two percent, compared with the quarter before."""

STAR = """Last year our team was about to launch a new search ranking model, and the product \
manager wanted to ship it two weeks early for a marketing event. My role was to own the \
offline evaluation and sign off on quality. I sat down with the product manager and showed \
her the error analysis, because the model was much worse on long-tail queries. I proposed a \
compromise: launch to ten percent of traffic first instead of everyone. In the end we shipped \
on time to a slice of users, caught a ranking bug in the first two days, and the full launch \
a week later improved click-through by 6%."""


def timed(text: str, start: float = 0.4) -> list[dict]:
    """Words timed like speech: length-dependent words, short gaps, longer pauses at
    commas and full stops (about 150 words a minute)."""
    words, t = [], start
    for w in text.split():
        dur = 0.12 + 0.045 * len(w.strip(".,:;"))
        words.append({"word": " " + w, "start": round(t, 3), "end": round(t + dur, 3),
                      "probability": 0.9})
        t += dur + 0.08
        if w.endswith((".", "?", "!")):
            t += 0.55
        elif w.endswith((",", ":", ";")):
            t += 0.2
    return words


def time_of(words: list[dict], phrase: str) -> float:
    """Start of the first word of ``phrase`` in the timed words."""
    wanted = phrase.split()
    plain = [w["word"].strip().strip(".,:;") for w in words]
    for i in range(len(plain) - len(wanted) + 1):
        if plain[i:i + len(wanted)] == [x.strip(".,:;") for x in wanted]:
            return words[i]["start"]
    raise AssertionError(f"{phrase!r} not in transcript")


def findings_of(report, part_id: str) -> str:
    return " | ".join(report.part(part_id).findings)


# --- good answer ---------------------------------------------------------------


def test_good_answer_covers_every_part_in_order_with_times():
    words = timed(GOOD)
    report = score_structure(words)
    assert report.timed and report.rubric == "deep_dive"
    assert report.covered == ("hook", "problem", "data", "approach", "evaluation", "reflection")
    starts = [p.start for p in report.parts]
    assert starts == sorted(starts)
    assert report.part("hook").start == words[0]["start"]
    assert report.part("problem").start == time_of(words, "The problem was")
    assert report.part("data").start == time_of(words, "The data was messy")
    assert report.part("approach").start == time_of(words, "For the approach")
    assert report.part("evaluation").start == time_of(words, "To evaluate it")
    # a sentence may serve several parts: the opening one touches four
    first_end = GOOD.split().index("five.")
    opening = [p.id for p in report.parts if p.evidences and p.evidences[0].index <= first_end]
    assert opening == ["hook", "problem", "approach", "evaluation"]  # "from nine to five"
    assert report.part("reflection").start == time_of(words, "Looking back")
    total = sum(p.seconds for p in report.parts) + report.unassigned_s
    assert total == pytest.approx(report.duration_s, abs=0.05)
    assert report.duration_s == pytest.approx(words[-1]["end"] - words[0]["start"], abs=0.01)


def test_good_answer_findings_quote_words_with_times():
    words = timed(GOOD)
    report = score_structure(words)
    cut = time_of(words, "cut the average time")
    assert report.part("hook").findings[0] == (
        f'quantified impact at {cut:.1f} s: "cut the average time to answer a ticket by 40%"'
    )
    assert report.early_impact
    approach = findings_of(report, "approach")
    assert "reason given at" in approach and "because agents search" in approach
    assert 'alternative weighed at' in approach and "chose BM25 over dense embeddings" in approach
    evaluation = findings_of(report, "evaluation")
    assert re.search(r'number at \d+\.\d s: "[^"]*52%"', evaluation)
    assert 'baseline at' in evaluation and "old wiki search" in evaluation
    assert report.findings[0] == ("covered 6 of 6 parts (hook, problem, data, approach, "
                                  "evaluation, reflection)")
    assert not report.ownership_flag
    assert {t.text: t.justified for t in report.tech} == {
        "BM25": True, "cross-encoder": True, "fine-tuning": True}
    assert not any("without a reason" in f for f in report.findings)
    assert any(f.startswith("decision backed by a reason at") and "because agents" in f
               for f in report.findings)


def test_plain_text_mode_has_no_times_but_the_same_structure():
    timed_report = score_structure(timed(GOOD))
    plain = score_structure(GOOD)
    assert not plain.timed
    assert plain.covered == timed_report.covered
    assert all(p.start is None and p.seconds is None for p in plain.parts)
    assert plain.duration_s is None
    assert plain.part("hook").findings[0] == (
        'quantified impact: "cut the average time to answer a ticket by 40%"')
    assert " at " not in plain.part("evaluation").findings[1].split(":")[0]


def test_json_contract():
    data = score_structure(timed(GOOD)).to_json()
    assert {"rubric", "parts", "findings"} <= set(data)
    assert data["rubric"] == "deep_dive"
    for part in data["parts"]:
        assert {"id", "covered", "start", "seconds", "findings"} <= set(part)
        assert isinstance(part["covered"], bool)
        assert isinstance(part["start"], float) and isinstance(part["seconds"], float)
        assert all(isinstance(f, str) for f in part["findings"])
    assert [p["id"] for p in data["parts"]] == [
        "hook", "problem", "data", "approach", "evaluation", "reflection"]
    plain = score_structure(RAMBLING).to_json()
    assert all(p["start"] is None and p["seconds"] is None for p in plain["parts"])


# --- weak answers --------------------------------------------------------------


def test_rambling_answer_without_numbers():
    report = score_structure(timed(RAMBLING))
    assert not report.has_numbers and report.impact is None
    assert not report.part("hook").covered
    assert report.part("hook").findings[0].startswith("no quantified impact anywhere")
    assert "no numbers anywhere in the answer" in " ".join(report.findings)
    for part in ("hook", "problem", "data"):
        assert not report.part(part).covered, part
        assert report.part(part).start is None and report.part(part).seconds == 0.0
    # "it worked pretty well I think" is a vague claim: it covers nothing
    assert not report.part("evaluation").covered
    assert not report.part("reflection").covered  # "I learned a lot about ..."
    vague = [c.text for c in report.claims if c.kind == "vague"]
    assert any("worked pretty well" in v for v in vague)
    assert any("learned a lot" in v for v in vague)


def test_result_that_comes_late_is_not_a_hook():
    words = timed(LATE_NUMBER)
    report = score_structure(words)
    hook = report.part("hook")
    assert not hook.covered
    late = time_of(words, "went from twelve percent")
    assert late > 30
    assert hook.findings[0] == (
        f"no number in the first 30 s; the first quantified result comes at {late:.1f} s: "
        f'"went from twelve percent of runs to under two percent"'
    )
    assert report.part("evaluation").covered
    assert "baseline at" in findings_of(report, "evaluation")
    # The same answer with the number moved to the front has its hook.
    front = "I cut pipeline failures from twelve percent of runs to under two percent. "
    assert score_structure(timed(front + LATE_NUMBER)).part("hook").covered


def test_we_heavy_answer_is_flagged_with_the_words():
    words = timed(WE_HEAVY)
    report = score_structure(words)
    assert report.ownership_flag
    # the message counts what it names: "we" as a word ("our" is not counted)
    we = len(re.findall(r"\bwe\b", WE_HEAVY, re.IGNORECASE))
    i = len(re.findall(r"\bI\b", WE_HEAVY))
    assert (report.i_count, report.we_count) == (i, we) == (0, 11)
    line = next(f for f in report.findings if f.startswith("ownership"))
    assert f'"we" {we} times, "I" {i} times' in line
    assert f'at {words[0]["start"]:.1f} s: "we built a fraud detection"' in line
    assert not score_structure(timed(GOOD)).ownership_flag
    # Saying who did what clears the flag.
    owned = ("I built a fraud detection model for the payments team that reduced chargebacks "
             "by 30%. I pulled six months of logs and labeled them myself. I trained the model "
             "and my teammate built the serving layer. We shipped it behind a flag and I "
             "watched precision every day.")
    mine = score_structure(owned)
    counts = (len(re.findall(r"\bI\b", owned)), len(re.findall(r"\bwe\b", owned, re.I)))
    assert (mine.i_count, mine.we_count) == counts and not mine.ownership_flag


def test_technology_names_without_a_why_are_flagged():
    words = timed(NAMES)
    report = score_structure(words)
    flagged = [f for f in report.findings if f.startswith("technology named without a reason")]
    assert len(flagged) == 4  # four shown ...
    assert any(f.startswith("... and 3 more") for f in report.findings)  # ... of seven
    assert {t.text for t in report.tech if not t.justified} == {
        "LangChain", "Pinecone", "GPT-4", "Kubernetes", "FastAPI", "Redis", "reranker"}
    at = time_of(words, "LangChain")
    assert flagged[0] == (f'technology named without a reason at {at:.1f} s: "LangChain" '
                          f'(in "We used LangChain for the orchestration")')
    assert "no reasons given" in findings_of(report, "approach")
    assert "no alternatives mentioned" in findings_of(report, "approach")


@pytest.mark.parametrize(
    ("text", "justified"),
    [
        ("We used Redis for the cache.", False),
        ("We used Redis for the cache because reads were ninety percent of traffic.", True),
        ("We used Redis so that sessions survived a restart.", True),
        ("We used Redis instead of Memcached.", True),
        ("We went with Redis over Memcached.", True),
        ("We used Redis for the cache. The reason was that reads dominated.", True),
        ("We used Redis for the cache. Then we built the API because users asked.", False),
        ("We used Redis for the cache over the last year.", False),
    ],
)
def test_reasons_next_to_a_name(text, justified):
    term = next(t for t in find_terms(text).tech if t.text == "Redis")
    assert term.justified is justified


def test_decision_without_a_reason_is_quoted():
    report = score_structure("We decided to move the queue to a separate service last spring.")
    assert 'decision without a reason: "We decided to move the queue"' in report.findings
    backed = score_structure("We decided to move the queue to a separate service because "
                             "the API kept timing out.")
    assert not any(f.startswith("decision without") for f in backed.findings)
    assert any(f.startswith('decision backed by a reason: "We decided to move the queue')
               for f in backed.findings)


# --- other rubrics and inputs --------------------------------------------------


def test_star_answer():
    report = score_structure(timed(STAR), "star")
    assert report.covered == ("situation", "task", "action", "result")
    assert "reason given at" in findings_of(report, "action")
    # a figure next to an impact word is the one worth quoting back, as a phrase;
    # "launch to ten percent of traffic" is a plan, not a result
    assert [t.text for t in find_terms(STAR).metric] == [
        "a week later improved click-through by 6%"]
    sail = score_structure(STAR + " Looking back, I learned to raise quality risks earlier.",
                           "sail")
    assert sail.covered == ("situation", "action", "impact", "learning")
    assert not score_structure(STAR, "sail").part("learning").covered


def test_intro_needs_a_number_in_its_highlight():
    text = ("I'm a machine learning engineer at a logistics startup. Before that I studied "
            "physics. I'm proudest of a demand forecast I built that cut empty truck miles by "
            "18%. I'm looking for a role closer to LLM products.")
    report = score_structure(text, "intro")
    assert report.covered == ("present", "highlight", "past", "why")
    assert 'number: "cut empty truck miles by 18%"' in findings_of(report, "highlight")


@dataclass(frozen=True)
class WhisperWord:  # the shape faster-whisper and our transcriber produce
    word: str
    start: float
    end: float
    probability: float


def test_word_objects_and_partial_timings():
    words = timed(GOOD)
    objects = [WhisperWord(**w) for w in words]
    assert score_structure(objects).to_json() == score_structure(words).to_json()
    as_numpy = [{"word": w["word"], "start": np.float32(w["start"]), "end": np.float64(w["end"])}
                for w in words]
    assert score_structure(as_numpy).timed
    assert score_structure([dict(w, start=True) for w in words]).timed is False
    untimed = [{"word": w["word"]} for w in words]
    report = score_structure(untimed)
    assert not report.timed and report.covered == score_structure(GOOD).covered
    with pytest.raises(UsageError, match="needs a 'word'"):
        score_structure([{"text": "hello"}])


def test_empty_transcript_and_unknown_rubric():
    report = score_structure("")
    assert report.covered == () and report.findings == ("empty transcript: nothing to score",)
    with pytest.raises(UsageError, match="unknown rubric 'vibes'.*deep_dive"):
        score_structure(GOOD, "vibes")


def test_scoring_is_deterministic():
    words = timed(GOOD + " " + NAMES)
    assert score_structure(words) == score_structure(words)
    assert score_structure(words).to_json() == score_structure(list(words)).to_json()


def test_long_unpunctuated_text_is_still_split():
    text = re.sub(r"[.,:]", "", GOOD).lower()
    report = score_structure(text)
    assert len(report.covered) >= 5
    assert report.part("hook").covered


# --- the rubric data files -------------------------------------------------------


def test_real_rubrics():
    rubrics = load_rubrics()
    assert set(rubrics.rubrics) >= {"deep_dive", "star", "sail", "intro", "technical"}
    deep = rubrics.get("deep_dive")
    assert [p.id for p in deep.parts] == [
        "hook", "problem", "data", "approach", "evaluation", "reflection"]
    assert deep.early_impact_part == "hook"
    assert [p.id for p in rubrics.get("star").parts] == ["situation", "task", "action", "result"]
    assert [p.id for p in rubrics.get("sail").parts] == ["situation", "action", "impact",
                                                         "learning"]
    assert rubrics.settings.impact_window_s == 30


STRUCTURE = """
[[rubric]]
id = "mini"
name = "Mini"

[[rubric.part]]
id = "start"
title = "Start"
weight = 1
probe = "context"
cues = ["first"]
missing = "say where it began"

[[rubric.part]]
id = "end"
title = "End"
weight = 2
probe = "evaluation"
cues = ["finally"]
missing = "say how it ended"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_custom_rubric_file(tmp_path):
    path = write(tmp_path, "structure.toml", STRUCTURE)
    real_lexicon = load_rubrics().lexicon
    lexicon = write(tmp_path, "lexicon.toml", (Path(__file__).parent.parent / "rubrics" /
                                               "lexicon.toml").read_text())
    rubrics = load_rubrics(path, lexicon)
    assert rubrics.lexicon == real_lexicon
    report = score_structure("First we met. Finally we shipped.", "mini", rubrics=rubrics)
    assert report.covered == ("start", "end")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('probe = "evaluation"', 'probe = "metrics"',
         r"structure.toml:13: rubric 'mini' part 'end': unknown probe 'metrics'"),
        ('cues = ["finally"]', "cues = []", r"part 'end': 'cues' must not be empty"),
        ('cues = ["finally"]', 'cues = ["Fin*ally"]', r"part 'end': cues entry 'Fin\*ally'"),
        ("weight = 2", "weight = 9", r"part 'end': 'weight' must be a whole number from 1"),
        ('name = "Mini"', 'name = "Mini"\nearly_impact_part = "hook"',
         r"rubric 'mini': early_impact_part 'hook' is not one of its parts"),
        ('id = "end"', 'id = "start"', r"part 'start': duplicate id 'start'"),
    ],
)
def test_bad_rubric_entry(tmp_path, old, new, expected):
    path = write(tmp_path, "structure.toml", STRUCTURE.replace(old, new))
    lexicon = write(tmp_path, "lexicon.toml", (Path(__file__).parent.parent / "rubrics" /
                                               "lexicon.toml").read_text())
    with pytest.raises(ConfigError, match=expected):
        load_rubrics(path, lexicon)


def test_bad_lexicon(tmp_path):
    path = write(tmp_path, "structure.toml", STRUCTURE)
    lexicon = write(tmp_path, "lexicon.toml", '[markers]\nreason = ["because"]\n[tech]\n'
                                              'names = ["redis"]\n')
    with pytest.raises(ConfigError, match=r"lexicon.toml:1: \[markers\]: missing field "
                                          r"'alternative'"):
        load_rubrics(path, lexicon)
    broken = write(tmp_path, "lexicon.toml", "[markers\n")
    with pytest.raises(ConfigError, match=r"lexicon.toml.*line 1"):
        load_rubrics(path, broken)
