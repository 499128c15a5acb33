"""The plain models the practice screen's widgets draw from, and their arithmetic.

``AnswerModel`` holds what the candidate said in one answer as the engine reported
it; ``Bands`` and ``PaceBands`` grade the answer timer and the pace. Nothing here
needs a terminal, so the tests check it directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.text import Text

from voice_interview.analysis import as_word
from voice_interview.pacing import is_word, load_pacing_rubric

# ----------------------------------------------------------------------------- helpers


def word_fields(word) -> tuple[str, float, float]:
    """(text, start, end) of a Whisper word: a ``Word`` dataclass or its JSON dict."""
    w = as_word(word)
    return str(w.word), float(w.start), float(w.end)


def rolling_wpm(
    words: Iterable[tuple[str, float, float]],
    now: float | None = None,
    window_s: float = 30.0,
    min_span_s: float = 4.0,
) -> float | None:
    """Words per minute over the last ``window_s`` seconds of an answer.

    ``words`` are (text, start, end) on the session timeline; only tokens that
    ``pacing.is_word`` accepts count. The window ends at ``now`` (default: the
    end of the last word) and never reaches back before the answer's first word,
    so pauses inside the window count (speech rate, DESIGN §4). Returns None
    until the window spans at least ``min_span_s``.
    """
    spoken = [(s, e) for text, s, e in words if is_word(text)]
    if not spoken:
        return None
    if now is None:
        now = max(e for _, e in spoken)
    first = min(s for s, _ in spoken)
    lo = max(now - window_s, first)
    span = now - lo
    if span < min_span_s:
        return None
    count = sum(1 for s, e in spoken if e > lo and s <= now)
    return 60.0 * count / span


@dataclass(frozen=True)
class Bands:
    """Budget bands for the answer timer, in seconds (defaults: 2:00 / 2:30 / 3:00)."""

    target_s: float = 120.0
    soft_s: float = 150.0
    hard_s: float = 180.0

    def scaled_to(self, hard_s: float) -> Bands:
        """The same proportions with a different hard budget (``--budget``)."""
        k = hard_s / self.hard_s if self.hard_s else 1.0
        return Bands(self.target_s * k, self.soft_s * k, hard_s)


def timer_band(seconds: float, bands: Bands) -> str:
    """``under`` the target, in the ``target`` range, past the ``soft`` warning, or ``over``."""
    if seconds >= bands.hard_s:
        return "over"
    if seconds >= bands.soft_s:
        return "soft"
    if seconds >= bands.target_s:
        return "target"
    return "under"


def _rubric_good() -> tuple[float, float]:
    return load_pacing_rubric().pace_good


def _rubric_borderline() -> tuple[float, float]:
    return load_pacing_rubric().pace_borderline


@dataclass(frozen=True)
class PaceBands:
    """Words-per-minute bands; by default those of rubrics/pacing.toml."""

    good: tuple[float, float] = field(default_factory=_rubric_good)
    borderline: tuple[float, float] = field(default_factory=_rubric_borderline)

    def grade(self, wpm: float | None) -> str:
        if wpm is None:
            return "none"
        if self.good[0] <= wpm <= self.good[1]:
            return "good"
        if self.borderline[0] <= wpm <= self.borderline[1]:
            return "borderline"
        return "flag"


# ----------------------------------------------------------------------------- answer model


@dataclass
class AnswerModel:
    """What the candidate has said in one answer, as the engine reported it.

    Finals are keyed by their segment start; a final replaces the partial of the
    segment it settles. Pauses are (start, duration_s, long).
    """

    t0: float
    long_pause_s: float = 1.0
    finals: dict = field(default_factory=dict)  # segment_start -> (end, text, words)
    partials: dict = field(default_factory=dict)  # segment_start -> text
    pauses: list = field(default_factory=list)  # (start, duration_s, long)
    ended: bool = False

    def partial(self, segment_start: float, text: str) -> None:
        if segment_start in self.finals:
            return  # a late partial of a settled segment
        if text.strip():
            self.partials[segment_start] = text.strip()
        else:
            self.partials.pop(segment_start, None)

    def final(self, segment_start: float, segment_end: float, text: str, words) -> None:
        self.finals[segment_start] = (segment_end, text.strip(), tuple(words or ()))
        for start in [s for s in self.partials if s < segment_end or s == segment_start]:
            del self.partials[start]

    def revise(self, start: float, end: float, text: str, words) -> None:
        """A window decoded again in context: its words replace the finals inside it."""
        for s in [s for s, (e, _t, _w) in self.finals.items()
                  if start - 0.05 <= s and e <= end + 0.05]:
            del self.finals[s]
        self.finals[start] = (end, text.strip(), tuple(words or ()))
        for s in [s for s in self.partials if s < end]:
            del self.partials[s]

    def pause(self, start: float, duration_s: float, long: bool) -> None:
        self.pauses.append((start, duration_s, bool(long) or duration_s >= self.long_pause_s))

    def end(self) -> None:
        self.ended = True

    # derived --------------------------------------------------------------
    def words(self) -> list[tuple[str, float, float]]:
        out: list[tuple[str, float, float]] = []
        for _start, (_end, _text, words) in sorted(self.finals.items()):
            out.extend(word_fields(w) for w in words)
        return out

    def wpm(self, window_s: float = 30.0) -> float | None:
        return rolling_wpm(self.words(), window_s=window_s)

    @property
    def pause_count(self) -> int:
        return len(self.pauses)

    @property
    def long_pause_count(self) -> int:
        return sum(1 for p in self.pauses if p[2])

    @property
    def longest_pause_s(self) -> float | None:
        return max((p[1] for p in self.pauses), default=None)

    def is_empty(self) -> bool:
        return not (self.finals or self.partials)

    def render_text(self) -> Text:
        """The answer as one paragraph: settled words, long pauses inline, then partials."""
        items: list[tuple[float, int, Text]] = []
        for start, (_end, text, words) in self.finals.items():
            if words:
                for w in words:
                    token, ws, _we = word_fields(w)
                    token = token.strip()
                    if token:
                        items.append((ws, 1, Text(token)))
            elif text:
                items.append((start, 1, Text(text)))
        for start, duration, long in self.pauses:
            if long:
                items.append((start, 0, Text(f"(pause {duration:.1f} s)", style="bold yellow")))
        for start, text in self.partials.items():
            items.append((start, 2, Text(text + " …", style="italic grey58")))
        items.sort(key=lambda item: (item[0], item[1]))
        out = Text()
        for _t, _kind, piece in items:
            if out:
                out.append(" ")
            out.append_text(piece)
        return out
