"""Transcriber guards: model resolution without a network, invented outros."""

from __future__ import annotations

import pytest

from voice_interview.errors import ModelError
from voice_interview.speech.transcriber import Word, drop_trailing_hallucination, resolve_model


def w(text, start, end, p=0.9):
    return Word(text, start, end, p)


def test_bundled_model_resolves_offline():
    path = resolve_model("tiny.en")
    assert path.endswith("model") and resolve_model("default") == path


def test_model_names_never_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ModelError, match="not on this machine"):
        resolve_model("small.en")
    with pytest.raises(ModelError, match="unknown model"):
        resolve_model("enormous")


@pytest.mark.parametrize(
    "tail,kept",
    [
        ([w("Thank", 2.9, 2.9, 0.99), w("you.", 2.9, 2.9, 0.99)], 2),  # squeezed into no time
        ([w("Thank", 2.1, 2.4, 0.3), w("you", 2.4, 2.6, 0.9)], 2),  # unsure
        ([w("Thank", 2.1, 2.4, 0.2)], 2),  # an outro cut off by the chunk's end
        ([w("We'll", 2.3, 2.4, 0.4), w("see", 2.4, 2.5, 0.9), w("you", 2.5, 2.6, 0.9),
          w("in", 2.6, 2.7, 0.9), w("the", 2.7, 2.8, 0.9), w("next", 2.8, 2.9, 0.9),
          w("one,", 2.9, 3.0, 0.9)], 2),  # a video's sign-off, unsure
        ([w("Thanks", 2.1, 2.4, 0.95), w("to", 2.4, 2.5, 0.95), w("Maria.", 2.5, 2.9, 0.95)], 5),
        ([w("Thank", 2.1, 2.4, 0.97), w("you.", 2.4, 2.7, 0.98)], 4),  # said clearly: kept
        # Real speech that merely starts like an outro, one word unsure: kept.
        ([w("Thank", 2.0, 2.2, 0.9), w("you,", 2.2, 2.4, 0.9), w("so", 2.4, 2.5, 0.3),
          w("the", 2.5, 2.6, 0.9), w("project", 2.6, 2.9, 0.9)], 7),
    ],
)
def test_invented_outros_are_dropped_only_when_they_look_invented(tail, kept):
    words = [w("It", 0.0, 0.5), w("worked.", 0.5, 1.5)] + tail
    assert len(drop_trailing_hallucination(words, chunk_end=3.0)) == kept


def _words(text: str, start: float, step: float, p: float = 0.9) -> list[Word]:
    return [Word(w, start + i * step, start + (i + 1) * step, p)
            for i, w in enumerate(text.split())]


def test_a_short_stretch_cannot_hold_more_words_than_it_takes_to_say():
    from voice_interview.speech.transcriber import keep_within_cap, over_cap, word_cap

    fast = _words("What in the world do they know about this", 0.0, 0.15)  # 6.7 words/s
    assert not over_cap(fast, 1.35)
    looped = _words("I think that's what we're going to be doing " * 5, 0.0, 0.1)
    assert over_cap(looped, 4.9)
    kept = keep_within_cap(looped, 4.9)
    assert len(kept) == word_cap(4.9) and kept == sorted(kept, key=lambda w: w.start)


def test_a_stock_phrase_over_seconds_of_speech_is_suspect():
    from voice_interview.speech.transcriber import is_stock_phrase

    assert is_stock_phrase(_words("I'm sorry, I'm sorry.", 31.5, 0.3), 4.96)
    assert is_stock_phrase(_words("Thank you.", 3.0, 0.3), 2.5)
    assert not is_stock_phrase(_words("Thank you.", 3.0, 0.3), 0.8)  # said, and short
    assert not is_stock_phrase(_words("sorry, the data was late", 3.0, 0.3), 2.0)


def test_a_revision_replaces_the_finals_it_covers_and_only_those():
    from voice_interview.events import TranscriptFinal, TranscriptRevised
    from voice_interview.listener import settled
    from voice_interview.tui.widgets import AnswerModel

    a = _words("I'm sorry, I'm sorry.", 1.0, 0.5)
    b = _words("the data was late", 4.0, 0.3)
    c = _words("so we waited", 8.0, 0.3)
    finals = [TranscriptFinal(3.0, 1.0, 3.0, "I'm sorry, I'm sorry.", tuple(a)),
              TranscriptFinal(5.5, 4.0, 5.2, "the data was late", tuple(b)),
              TranscriptFinal(9.0, 8.0, 8.9, "so we waited", tuple(c))]
    fixed = _words("because keyword search missed paraphrases the data was late", 1.0, 0.4)
    rev = TranscriptRevised(6.0, start=1.0, end=5.2, words=tuple(fixed),
                            text="because keyword search missed paraphrases the data was late")
    pieces = settled(finals, [rev])
    assert [t for _s, t, _w in pieces] == [rev.text, "so we waited"]
    model = AnswerModel(t0=0.0)
    for f in finals:
        model.final(f.segment_start, f.segment_end, f.text, f.words)
    model.revise(rev.start, rev.end, rev.text, rev.words)
    assert [w for w, _s, _e in model.words()] == [w.word for w in fixed + c]


def test_a_polish_replaces_the_revisions_and_finals_inside_it():
    """The second tier (listener.polish): a later revision over earlier ones replaces
    them in the answer, the TUI and the replay's live transcript; one beside them not."""
    from voice_interview.events import TranscriptFinal, TranscriptRevised
    from voice_interview.listener import settled
    from voice_interview.tui.widgets import AnswerModel

    a, b, c = (_words("I use for a tax", 1.0, 0.3), _words("on wealth", 4.0, 0.3),
               _words("so we waited", 8.0, 0.3))
    finals = [TranscriptFinal(3.0, 1.0, 2.6, "I use for a tax", tuple(a)),
              TranscriptFinal(5.5, 4.0, 4.7, "on wealth", tuple(b)),
              TranscriptFinal(9.0, 8.0, 8.9, "so we waited", tuple(c))]
    fast = [TranscriptRevised(4.0, start=1.0, end=2.6, words=tuple(a), text="I use for a tax"),
            TranscriptRevised(6.0, start=4.0, end=4.7, words=tuple(b), text="on wealth"),
            TranscriptRevised(9.5, start=8.0, end=8.9, words=tuple(c), text="so we waited")]
    good = _words("argues for a tax on wealth", 1.0, 0.5)
    polish = TranscriptRevised(7.0, start=1.0, end=4.7, words=tuple(good),
                               text="argues for a tax on wealth", polish=True)
    revs = [fast[0], fast[1], polish, fast[2]]
    assert [t for _s, t, _w in settled(finals, revs)] == [polish.text, "so we waited"]
    model = AnswerModel(t0=0.0)
    for e in [finals[0], fast[0], finals[1], fast[1], polish, finals[2], fast[2]]:
        if isinstance(e, TranscriptFinal):
            model.final(e.segment_start, e.segment_end, e.text, e.words)
        else:
            model.revise(e.start, e.end, e.text, e.words)
    assert [w for w, _s, _e in model.words()] == [w.word for w in good + c]


def test_a_polish_that_falls_behind_is_skipped_and_counted():
    """A polish window the polisher reaches 30 s after its end is not decoded (the
    fast revisions stand) and is counted; it never blocks (the decoder is not called)."""
    import numpy as np

    from voice_interview.audio.vad import Segment
    from voice_interview.listener import ListenerSettings
    from voice_interview.listener.polish import Polisher

    class NotCalled:
        def transcribe(self, *a, **k):
            raise AssertionError("a late polish was decoded")

    out: list = []
    pol = Polisher(NotCalled(), ListenerSettings(), out.append, lambda: 100.0)
    segs = (Segment(10.0, 20.0), Segment(21.0, 30.0))
    assert not pol.add(segs[0]) and pol.add(Segment(30.5, 36.0))  # spans 26 s >= 25 s
    pol.start()
    pol.submit((9.6, np.zeros(16000 * 27, np.float32)), segs, turn=0)
    pol.join()
    assert (pol.skipped, pol.polished, out) == (1, 0, [])
