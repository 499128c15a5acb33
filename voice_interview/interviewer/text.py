"""Words and phrases: transcript tokens, sentences, and cue-phrase matching.

Plain text or Whisper-style timed words become normalised tokens; a
``Matcher`` finds cue phrases ("*" at the end of a word matches any ending)
in them. Shared by the answer analysis (answer.py) and the rubric set.
"""

from __future__ import annotations

import numbers
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from voice_interview.errors import UsageError

TRAILING_SMALL = frozenset({
    "the", "a", "an", "to", "and", "of", "in", "on", "for", "with", "that", "it", "our",
    "this", "so", "but", "or", "at", "by", "from",
})

# ---------------------------------------------------------------------------
# Matching


@dataclass(frozen=True)
class _Phrase:
    label: str
    words: tuple[tuple[str, bool], ...]  # (text, is_prefix)


@dataclass(frozen=True)
class Hit:
    label: str
    i: int  # first token
    j: int  # one past the last token


def _word_ok(norm: str, word: tuple[str, bool]) -> bool:
    text, prefix = word
    return norm.startswith(text) if prefix else norm == text


class Matcher:
    """Finds cue phrases in normalised tokens; "*" ends a word as a prefix match."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self._exact: dict[str, list[_Phrase]] = defaultdict(list)
        self._prefix: dict[int, dict[str, list[_Phrase]]] = defaultdict(lambda: defaultdict(list))
        self._cache: dict[str, tuple[_Phrase, ...]] = {}
        for label, phrase in pairs:
            words = tuple((w[:-1], True) if w.endswith("*") else (w, False)
                          for w in phrase.lower().split())
            p = _Phrase(label, words)
            first, prefix = words[0]
            if prefix:
                self._prefix[len(first)][first].append(p)
            else:
                self._exact[first].append(p)
        self._prefix = {k: dict(v) for k, v in self._prefix.items()}

    def _candidates(self, norm: str) -> tuple[_Phrase, ...]:
        found = self._cache.get(norm)
        if found is None:
            items = list(self._exact.get(norm, ()))
            for length, table in self._prefix.items():
                if len(norm) >= length:
                    items.extend(table.get(norm[:length], ()))
            found = self._cache[norm] = tuple(items)
        return found

    def scan(self, norms: Sequence[str], lo: int, hi: int) -> list[Hit]:
        best: dict[tuple[str, int], Hit] = {}
        for i in range(lo, hi):
            for p in self._candidates(norms[i]):
                n = len(p.words)
                if i + n > hi:
                    continue
                if all(_word_ok(norms[i + k], p.words[k]) for k in range(1, n)):
                    key = (p.label, i)
                    old = best.get(key)
                    if old is None or old.j < i + n:
                        best[key] = Hit(p.label, i, i + n)
        return sorted(best.values(), key=lambda h: (h.i, h.label))


# ---------------------------------------------------------------------------
# Tokens and sentences


@dataclass(frozen=True)
class _Tok:
    raw: str
    norm: str
    start: float | None
    end: float | None


_EDGE = "\"'“”‘’()[]{}<>.,;:!?…—–-*"
NUMBER = re.compile(r"^[$€£]?\d+(?:[.,]\d+)*(?:%|x|k|m|b|ms|s|h)?$")
RELATIVE_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*(?:%|x)$")
YEAR = re.compile(r"^(?:19|20)\d\d$")
_SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*$")
CLAUSE_END = re.compile(r"[,;:.?!…][\"'”’)\]]*$")


@lru_cache(maxsize=16384)
def _norm(raw: str) -> str:
    return raw.replace("’", "'").replace("‘", "'").lower().strip(_EDGE)


def _is_time(value: Any) -> bool:
    """A real number (numpy floats included), not a bool or None."""
    kind = type(value)
    if kind is float or kind is int:
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def word_parts(w: Any) -> tuple[Any, Any, Any]:
    """(text, start, end) of one transcript word as the interviewer gets it: a bare
    string (untimed: None, None), a ``Word``, or its JSON dict. The interviewer's one
    place that tells them apart (stored answers go through ``analysis.as_word``)."""
    if isinstance(w, str):
        return w, None, None
    if isinstance(w, dict):
        return w.get("word"), w.get("start"), w.get("end")
    return getattr(w, "word", None), getattr(w, "start", None), getattr(w, "end", None)


def tokens_of(words: str | Sequence[Any]) -> tuple[list[_Tok], bool]:
    """Normalise plain text or timed words; timed only if every word has times."""
    if isinstance(words, str):
        return [_Tok(w, _norm(w), None, None) for w in words.split()], False
    toks: list[_Tok] = []
    timed = True
    for w in words:
        word, start, end = word_parts(w)
        if not isinstance(word, str):
            raise UsageError("each transcript word needs a 'word' text")
        if _is_time(start) and _is_time(end):
            start, end = float(cast(float, start)), float(cast(float, end))
        else:
            timed, start, end = False, None, None
        pieces = word.split()
        if len(pieces) == 1:
            toks.append(_Tok(pieces[0], _norm(pieces[0]), start, end))
        else:
            toks.extend(_Tok(p, _norm(p), start, end) for p in pieces)
    if not timed:
        toks = [_Tok(t.raw, t.norm, None, None) for t in toks]
    return toks, timed and bool(toks)



def split_spans(toks: list[_Tok], max_words: int) -> list[tuple[int, int]]:
    spans, lo = [], 0
    for i, t in enumerate(toks):
        if _SENTENCE_END.search(t.raw) or i + 1 - lo >= max_words:
            spans.append((lo, i + 1))
            lo = i + 1
    if lo < len(toks):
        spans.append((lo, len(toks)))
    return spans
