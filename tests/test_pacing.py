"""Pacing metrics and feedback: pure functions over segments and words."""

from __future__ import annotations

import pytest

from voice_interview.audio.vad import Segment
from voice_interview.errors import ConfigError
from voice_interview.pacing import (
    compute_metrics,
    count_words,
    feedback,
    load_pacing_rubric,
    rolling_windows,
)
from voice_interview.speech.transcriber import Word


@pytest.fixture(scope="module")
def rubric():
    return load_pacing_rubric()


def words_over(text: str, start: float, end: float) -> list[Word]:
    toks = text.split()
    step = (end - start) / len(toks)
    return [Word(t, start + i * step, start + (i + 1) * step, 0.9) for i, t in enumerate(toks)]


def test_metrics_follow_the_definitions(rubric):
    segs = [Segment(1.0, 11.0), Segment(12.5, 22.5), Segment(22.8, 31.0)]
    texts = [
        "we built a tool that helped the support team answer faster and",  # 12 words
        "it um cut the time by forty percent you know which mattered.",  # 12 words
        "Then we measured it against the old search for a month.",  # 11 words
    ]
    words = [w for text, s in zip(texts, segs, strict=True)
             for w in words_over(text, s.start, s.end)]
    m, pauses = compute_metrics(segs, words, rubric)
    assert m.speech_span_s == pytest.approx(30.0)
    assert m.word_count == 35
    assert m.wpm == pytest.approx(60 * 35 / 30.0)
    assert m.pause_count == 2  # 1.5 s and 0.3 s; gaps under 0.25 s are not pauses
    assert m.speaking_time_s == pytest.approx(30.0 - 1.8)
    assert m.articulation_wpm == pytest.approx(60 * 35 / 28.2)
    assert m.long_pause_count == 1 and m.longest_pause_s == pytest.approx(1.5)
    assert m.median_pause_s == pytest.approx(0.9)
    assert pauses[0].long and pauses[0].mid_sentence  # "... faster and" | pause
    assert not pauses[1].long and not pauses[1].mid_sentence  # "... mattered." | pause
    assert m.fillers == {"um": 1, "you know": 1}
    assert m.hesitation_count == 1 and m.lexical_filler_count == 1


def test_feedback_counts_are_worded_for_one_and_for_many(rubric):
    def messages(text: str, gap: float) -> dict[str, str]:
        segs = [Segment(0.0, 10.0), Segment(10.0 + gap, 20.0)]
        half = text.split(" | ")
        ws = words_over(half[0], 0.0, 10.0) + words_over(half[1], 10.0 + gap, 20.0)
        m, pauses = compute_metrics(segs, ws, rubric)
        return {f.kind: f.message for f in feedback(m, pauses, [], rubric)}

    one = messages("we built a tool that um helped the team. | It cut the time by half.", 1.5)
    assert "At least 1 filler (" in one["fillers"] and "1 long pause of" in one["pauses"]
    two = messages("we um built a tool that um helped the team. | It cut the time by half.", 1.5)
    assert "At least 2 fillers (" in two["fillers"]


def test_split_number_pieces_are_not_extra_words():
    words = [Word(w, 0, 0.1, 1) for w in ["about", "60", ",000", "tickets", "a", "two", "-week",
                                          "trial", "61", "%", "."]]
    assert count_words(words) == 7


def test_no_speech_gives_a_flag_not_a_crash(rubric):
    m, pauses = compute_metrics([], [], rubric)
    assert m.word_count == 0 and m.wpm is None and pauses == []
    items = feedback(m, pauses, [], rubric)
    assert [(f.kind, f.severity) for f in items] == [("no_speech", "flag")]


@pytest.mark.parametrize(
    "span,words,severity_of",
    [
        (150.0, 350, {"pace": "info", "length": "info"}),  # 140 wpm, 2:30
        (200.0, 500, {"pace": "info", "length": "flag"}),  # 150 wpm, 3:20: cut in
        (165.0, 300, {"pace": "warn", "length": "warn"}),  # 109 wpm, 2:45
        (130.0, 480, {"pace": "flag", "length": "info"}),  # 221 wpm
    ],
)
def test_bands_come_from_the_rubric(rubric, span, words, severity_of):
    segs = [Segment(0.0, span)]
    ws = words_over(" ".join(["word."] * words), 0.0, span)
    m, pauses = compute_metrics(segs, ws, rubric)
    items = {f.kind: f.severity for f in feedback(m, pauses, [], rubric)}
    for kind, severity in severity_of.items():
        assert items[kind] == severity, (kind, items)


def test_pace_change_reported_only_above_threshold(rubric):
    def change_items(second_half_words):
        segs = [Segment(0.0, 60.0)]
        ws = words_over(" ".join(["a"] * 70), 0.0, 30.0) + words_over(
            " ".join(["b"] * second_half_words), 30.0, 60.0
        )
        m, p = compute_metrics(segs, ws, rubric)
        windows = rolling_windows(segs, ws, p, rubric)
        return [f for f in feedback(m, p, windows, rubric) if f.kind == "pace_change"]

    assert change_items(74) == []  # +6%: not reported
    (item,) = change_items(84)  # +20%
    assert "sped up by 20%" in item.message


def test_rolling_windows_cover_the_answer(rubric):
    segs = [Segment(0.0, 75.0)]
    ws = words_over(" ".join(["x"] * 150), 0.0, 75.0)
    m, p = compute_metrics(segs, ws, rubric)
    windows = rolling_windows(segs, ws, p, rubric)
    assert windows[0].start == 0.0 and windows[-1].end == 75.0
    assert all(w.wpm == pytest.approx(120.0, rel=0.1) for w in windows if w.end - w.start >= 30)


def test_bad_rubric_file_names_file_and_line(tmp_path):
    bad = tmp_path / "pacing.toml"
    bad.write_text("version = 1\n[pace]\ngood = [120, 165\nbad = \n")
    with pytest.raises(ConfigError, match=r"pacing.toml.*line"):
        load_pacing_rubric(bad)
    missing = tmp_path / "m.toml"
    missing.write_text("version = 1\n")
    with pytest.raises(ConfigError, match="missing setting"):
        load_pacing_rubric(missing)
