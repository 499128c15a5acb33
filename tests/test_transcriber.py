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
