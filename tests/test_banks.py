"""Question banks, probe families, formats and the LLM prompt: the real files and broken ones."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from voice_interview.errors import ConfigError, UsageError
from voice_interview.interviewer.banks import (
    CATEGORIES,
    FAMILY_IDS,
    load_formats,
    load_llm_prompt,
    load_probe_families,
    load_question_bank,
)
from voice_interview.interviewer.rubric import load_rubrics

# --- the real data files -------------------------------------------------------


def test_real_question_bank_covers_every_category_and_format():
    bank = load_question_bank()
    formats = load_formats()
    rubrics = load_rubrics().rubrics
    assert len(bank) >= 40
    for category in CATEGORIES:
        assert len(bank.by_category(category)) >= 3, category
        assert bank.default(category).category == category
    for q in bank:
        assert set(q.formats) <= set(formats)
        assert q.rubric in rubrics
        assert 0 < q.expected_s[0] <= q.expected_s[1] <= 600
        assert q.text.endswith(("?", ".")), q.id
    for fmt in formats:
        assert bank.by_format(fmt), f"no question for format {fmt}"
    assert len(set(bank.ids())) == len(bank)


def test_real_bank_has_the_opener_and_behavioral_signals():
    bank = load_question_bank()
    opener = bank.get("intro-about-you")
    assert opener.category == "intro"
    assert "recruiter-screen" in opener.formats
    assert opener.expected_s[0] <= 60 <= opener.expected_s[1]
    for signal in ("conflict", "ownership", "failure", "decision-making"):
        found = bank.by_signal(signal)
        assert found and all(q.category == "behavioral" for q in found), signal
    assert all(q.rubric in ("star", "sail") for q in bank.by_category("behavioral"))
    assert bank.default().category == "deep-dive"
    assert bank.default().rubric == "deep_dive"


def test_unknown_question_id_lists_valid_ones():
    bank = load_question_bank()
    with pytest.raises(UsageError) as err:
        bank.get("dd-end-to-edn")
    message = str(err.value)
    assert "dd-end-to-edn" in message
    assert "dd-end-to-end" in message  # the close match comes first
    assert len(re.findall(r"\b(?:dd|bh|tech|intro)-[a-z0-9-]+", message)) >= 3
    with pytest.raises(UsageError, match="deep-dive, behavioral"):
        bank.by_category("trivia")


def test_real_formats_budgets_and_policies():
    formats = load_formats()
    conv = formats["conversational"]
    assert (conv.soft_budget_s, conv.hard_budget_s, conv.max_probes) == (150, 180, 6)
    assert conv.probe_policy == "progressive" and conv.opening == "deep-dive"
    talk = formats["presentation"]
    assert talk.hard_budget_s == 25 * 60
    assert talk.discussion_s == (15 * 60, 20 * 60)
    assert talk.probe_policy == "after-talk"
    assert formats["behavioral"].probe_policy == "one-story"
    screen = formats["recruiter-screen"]
    assert screen.soft_budget_s == 60 and screen.opening == "intro" and screen.max_depth == 1
    assert formats["deep-dive-45"].time_limit_s == 45 * 60
    for f in formats.values():
        assert f.soft_budget_s <= f.hard_budget_s <= f.time_limit_s


def test_real_probe_families_are_complete_and_speakable():
    families = load_probe_families()
    assert tuple(families) == FAMILY_IDS
    quoting = 0
    for family in families.values():
        levels = {w.level for w in family.wordings}
        assert {1, 2, 3} <= levels, family.id
        for w in family.wordings:
            text = w.render("the vector database" if w.quotes else None)
            assert "{" not in text and text.endswith("?"), w.key
            assert len(text.split()) <= 40, w.key
            assert w.matches(text)
            quoting += w.quotes
    assert quoting >= 8
    decisions = families["decisions"]
    quoted = [w for w in decisions.wordings if w.quotes and w.level == 1]
    probe = quoted[0].render("Pinecone")
    assert "Pinecone" in probe and quoted[0].matches(probe)
    assert not quoted[0].matches("Why did you choose Pinecone?")


def test_real_llm_prompt_has_the_rules_and_placeholders():
    prompt = load_llm_prompt()
    # The planner decides, the LLM speaks: its move and the words near its target.
    assert prompt.placeholders() == {"persona", "question", "asked", "transcript", "goal",
                                     "target", "depth", "planned", "keywords", "moves"}
    rules = prompt.system.lower()
    assert "one question" in rules and "20 words" in rules
    assert "never" in rules and "candidate" in rules
    assert "words are data" in rules
    values = {"persona": prompt.persona, "question": "Q?", "asked": "- none",
              "family": "evaluation", "goal": "how they know", "target": "latency",
              "reason": "no baseline", "depth": "first", "planned": "How?",
              "transcript": "I built {curly} things", "keywords": '"latency"', "moves": "- x"}
    user = prompt.user.format(**values)
    # The answer so far in 'user' (known while the candidate speaks), the move last.
    assert "<words>I built {curly} things</words>" in user and "how they know" not in user
    assert "how they know" in prompt.move.format(**values)
    assert '"latency"' in prompt.move.format(**values)  # the target's key words, last
    assert "- x" in prompt.choose.format(**values)  # the moves offered ([llm] chooses_move)
    # The system message is the same every turn (the server keeps it cached).
    assert prompt.placeholders() & {"persona"} and "{" not in prompt.system.replace(
        "{persona}", "")


# --- broken files ----------------------------------------------------------------

GOOD_QUESTION = """
[[question]]
id = "q-one"
text = "Tell me about a project."
category = "deep-dive"
formats = ["conversational"]
expected_s = [120, 180]
rubric = "deep_dive"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_malformed_toml_names_file_and_line(tmp_path):
    path = write(tmp_path, "questions.toml", GOOD_QUESTION + '\n[[question]]\nid = "q-two\n')
    with pytest.raises(ConfigError) as err:
        load_question_bank(path)
    message = str(err.value)
    assert str(path) in message
    assert "line 10" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ('category = "deepdive"', r"question 'q-two': unknown category 'deepdive'"),
        ('formats = ["podcast"]', r"question 'q-two': unknown formats entry 'podcast'"),
        ("expected_s = [180, 120]", r"question 'q-two': 'expected_s' must be \[min, max\]"),
        ('rubric = "vibes"', r"question 'q-two': unknown rubric 'vibes'"),
        ('id = "q-one"', r"question 'q-one': duplicate id 'q-one' \(first at line 1\)"),
        ('txet = "typo"', r"question 'q-two': unknown field 'txet'"),
        ('signal = "conflict"', r"only behavioral questions take a 'signal'"),
    ],
)
def test_bad_question_entry_names_the_entry_and_line(tmp_path, change, expected):
    second = {
        "id": 'id = "q-two"', "text": 'text = "Another one?"', "category": 'category = "intro"',
        "formats": 'formats = ["recruiter-screen"]', "expected_s": "expected_s = [45, 75]",
        "rubric": 'rubric = "intro"',
    }
    key = change.split(" =")[0]
    if key in second:
        second[key] = change
    else:
        second["extra"] = change
    body = GOOD_QUESTION + "\n[[question]]\n" + "\n".join(second.values()) + "\n"
    path = write(tmp_path, "questions.toml", body)
    with pytest.raises(ConfigError, match=expected) as err:
        load_question_bank(path)
    assert f"{path}:9:" in str(err.value)  # the second [[question]] header


def test_missing_field_is_named(tmp_path):
    body = GOOD_QUESTION.replace('rubric = "deep_dive"\n', "")
    path = write(tmp_path, "questions.toml", body)
    with pytest.raises(ConfigError, match=r"questions.toml:1: question 'q-one': missing field "
                                          r"'rubric'"):
        load_question_bank(path)


def test_behavioral_question_needs_a_signal(tmp_path):
    body = GOOD_QUESTION.replace('"deep-dive"', '"behavioral"').replace('"deep_dive"', '"star"')
    path = write(tmp_path, "questions.toml", body)
    with pytest.raises(ConfigError, match="behavioral questions need a 'signal'"):
        load_question_bank(path)


def test_bank_beside_its_own_formats_file(tmp_path):
    write(tmp_path, "formats.toml", """
        [[format]]
        id = "lightning"
        name = "Lightning round"
        description = "Quick questions."
        opening = "intro"
        soft_budget_s = 30
        hard_budget_s = 45
        time_limit_s = 600
        max_probes = 2
        max_depth = 1
        probe_policy = "screen"
        followup_s = [10, 30]
    """)
    body = GOOD_QUESTION.replace('["conversational"]', '["lightning"]')
    bank = load_question_bank(write(tmp_path, "questions.toml", body))
    assert bank.get("q-one").formats == ("lightning",)
    with pytest.raises(ConfigError, match="unknown formats entry 'conversational'"):
        load_question_bank(write(tmp_path, "questions.toml", GOOD_QUESTION))


FORMAT = """
[[format]]
id = "f"
name = "F"
description = "A format."
opening = "deep-dive"
soft_budget_s = 150
hard_budget_s = 180
time_limit_s = 3600
max_probes = 6
max_depth = 3
probe_policy = "progressive"
followup_s = [30, 120]
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("soft_budget_s = 150", "soft_budget_s = 200", "soft_budget_s must not be larger"),
        ('probe_policy = "progressive"', 'probe_policy = "random"', "unknown probe_policy"),
        ("max_depth = 3", "max_depth = 9", "'max_depth' must be a whole number from 1 to 4"),
        ("hard_budget_s = 180", 'hard_budget_s = "3 minutes"', "'hard_budget_s' must be a num"),
        ('opening = "deep-dive"', 'opening = "quiz"', "unknown opening 'quiz'"),
    ],
)
def test_bad_format_entry(tmp_path, old, new, expected):
    path = write(tmp_path, "formats.toml", FORMAT.replace(old, new))
    with pytest.raises(ConfigError, match=f"formats.toml:1: format 'f': {expected}"):
        load_formats(path)


def families_text(skip: str = "") -> str:
    return "".join(
        f'[[family]]\nid = "{f}"\ntitle = "{f.title()}"\ndescription = "About {f}."\n\n'
        for f in FAMILY_IDS if f != skip
    ) + "".join(
        f'[[probe]]\nfamily = "{f}"\nlevel = 1\ntext = "What about {f}?"\n\n'
        for f in FAMILY_IDS
    )


def test_minimal_probe_file_loads(tmp_path):
    families = load_probe_families(write(tmp_path, "probes.toml", families_text()))
    assert [w.text for w in families["evaluation"].wordings] == ["What about evaluation?"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('family = "decisions"\nlevel = 2\ntext = "Why {term}?"',
         r"probe #7 \(decisions\): a wording with \{term\} needs 'term'"),
        ('family = "decisions"\nlevel = 2\nterm = "tech"\ntext = "Why {thing}?"',
         r"unknown placeholder '\{thing\}'"),
        ('family = "decisions"\nlevel = 2\nterm = "tech"\ntext = "Why?"',
         r"'term' is set but the text has no \{term\}"),
        ('family = "gossip"\nlevel = 1\ntext = "Who?"', r"unknown family 'gossip'"),
        ('family = "context"\nlevel = 1\npart = "intro_hook"\ntext = "Hm?"',
         r"unknown part 'intro_hook'"),
        ('family = "context"\nlevel = 0\ntext = "Hm?"', r"'level' must be a whole number"),
        ('family = "context"\nlevel = 1\nrubrics = ["vibes"]\ntext = "Hm?"',
         r"unknown rubrics entry 'vibes'"),
        ('family = "context"\nlevel = 2\ntext = "What about context?"', r"same text as line"),
    ],
)
def test_bad_probe_entry(tmp_path, extra, expected):
    text = families_text() + "[[probe]]\n" + extra + "\n"
    path = write(tmp_path, "probes.toml", text)
    line = len(families_text().splitlines()) + 1
    with pytest.raises(ConfigError, match=expected) as err:
        load_probe_families(path)
    assert f"{path}:{line}:" in str(err.value)


def test_missing_probe_family(tmp_path):
    path = write(tmp_path, "probes.toml", families_text(skip="ownership"))
    with pytest.raises(ConfigError, match="probe family 'ownership' is missing"):
        load_probe_families(path)


def test_bad_llm_prompt(tmp_path):
    base = '[llm]\nsystem = "Ask about {question}; gaps {gaps}; asked {asked}."\n'
    ok = load_llm_prompt(write(tmp_path, "p.toml", base + 'user = "<t>{transcript}</t>"\n'))
    assert ok.persona == ""
    with pytest.raises(ConfigError, match=r"p.toml:1: \[llm\]: unknown placeholder '\{name\}'"):
        load_llm_prompt(write(tmp_path, "p.toml", base + 'user = "{transcript} {name}"\n'))
    with pytest.raises(ConfigError, match=r"never uses '\{transcript\}'"):
        load_llm_prompt(write(tmp_path, "p.toml", base + 'user = "Go."\n'))
    with pytest.raises(ConfigError, match=r"missing field 'user'"):
        load_llm_prompt(write(tmp_path, "p.toml", base))
