"""Pacing metrics and plain-language feedback: pure functions, no I/O beyond the rubric.

Definitions (DESIGN §4): T runs from the first speech onset to the last speech
offset of the answer. A pause is a non-speech stretch of at least ``min_s``
inside T, measured on the VAD timeline (never from gaps between Whisper words);
a long pause is at least ``long_s``. Bands and thresholds come from
``rubrics/pacing.toml``.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from voice_interview.audio.vad import Segment
from voice_interview.datafiles import Entry, section
from voice_interview.resources import data_dir, load_toml
from voice_interview.speech.transcriber import Word
from voice_interview.timefmt import mmss, plural

# ----------------------------------------------------------------------------- rubric


@dataclass(frozen=True)
class PacingRubric:
    pause_min_s: float
    long_pause_s: float
    mid_sentence_warn: int
    pace_good: tuple[float, float]
    pace_borderline: tuple[float, float]
    change_report_pct: float
    overview_target: tuple[float, float]
    overview_soft_s: float
    overview_hard_s: float
    overview_too_short_s: float
    answer_long_s: float
    filler_warn_per_min: float
    filler_flag_per_min: float
    hesitations: tuple[str, ...]
    lexical_fillers: tuple[str, ...]
    window_s: float
    window_step_s: float
    patience_s: float


def load_pacing_rubric(path: str | Path | None = None) -> PacingRubric:
    """Load rubrics/pacing.toml; a bad value names the file, the line of its
    table and the setting (datafiles.Entry)."""
    path = Path(path) if path else data_dir("rubrics") / "pacing.toml"
    d = load_toml(path)
    t = {name: _table(path, d, name) for name in
         ("pauses", "pace", "overview", "answer", "fillers", "windows", "turn")}

    def num(table: str, key: str, lo: float = 0.0) -> float:
        value = t[table].number(key, lo=lo)
        assert value is not None  # required
        return float(value)

    def pair(table: str, key: str, unit: str) -> tuple[float, float]:
        value = t[table].span(key, unit=unit)
        assert value is not None  # required
        return value

    return PacingRubric(
        pause_min_s=num("pauses", "min_s"),
        long_pause_s=num("pauses", "long_s"),
        mid_sentence_warn=t["pauses"].integer("mid_sentence_warn", 0, 1000),
        pace_good=pair("pace", "good", "words per minute"),
        pace_borderline=pair("pace", "borderline", "words per minute"),
        change_report_pct=num("pace", "change_report_pct"),
        overview_target=pair("overview", "target", "seconds"),
        overview_soft_s=num("overview", "soft_warning_s"),
        overview_hard_s=num("overview", "hard_stop_s"),
        overview_too_short_s=num("overview", "too_short_s"),
        answer_long_s=num("answer", "long_s"),
        filler_warn_per_min=num("fillers", "warn_per_min"),
        filler_flag_per_min=num("fillers", "flag_per_min"),
        hesitations=tuple(x.lower() for x in t["fillers"].texts("hesitations")),
        lexical_fillers=tuple(x.lower() for x in t["fillers"].texts("lexical")),
        window_s=num("windows", "length_s"),
        window_step_s=num("windows", "step_s"),
        patience_s=num("turn", "patience_s"),
    )


def _table(path: Path, data: dict, name: str) -> Entry:
    e = section(path, data, name, missing="missing setting '[{name}]'")
    assert e is not None  # required
    return e



# ----------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Pause:
    start: float
    end: float
    duration_s: float
    long: bool
    mid_sentence: bool

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ("start", "end", "duration_s"):
            d[k] = round(d[k], 3)
        return d


@dataclass(frozen=True)
class Metrics:
    speech_span_s: float
    speaking_time_s: float
    word_count: int
    wpm: float | None
    articulation_wpm: float | None
    pause_count: int
    pauses_per_min: float | None
    median_pause_s: float | None
    long_pause_count: int
    mid_sentence_long_pause_count: int
    longest_pause_s: float | None
    filler_count: int
    hesitation_count: int
    lexical_filler_count: int
    fillers: dict
    monologue_s: float

    def to_json(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    word_count: int
    wpm: float
    pause_count: int

    def to_json(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Feedback:
    kind: str
    severity: str  # info | warn | flag
    message: str

    def to_json(self) -> dict:
        return asdict(self)


_WORD_RE = re.compile(r"[A-Za-z0-9]")
_TOKEN_RE = re.compile(r"[a-z0-9']+")


def is_word(token: str) -> bool:
    """Whisper tokens that count as spoken words.

    Bare punctuation is not a word, and neither is a piece Whisper split off the
    previous word: ",000" in "60 ,000", "-week" in "two -week", "%" in "61 %".
    """
    token = token.strip()
    return bool(_WORD_RE.search(token)) and token[:1] not in ",.-%:/"


def count_words(words: list[Word]) -> int:
    return sum(1 for w in words if is_word(w.word))


def find_pauses(segments: list[Segment], words: list[Word], rubric: PacingRubric) -> list[Pause]:
    """Gaps between speech segments of at least ``pause_min_s``; mid-sentence flags."""
    pauses = []
    for a, b in zip(segments, segments[1:], strict=False):
        gap = b.start - a.end
        if gap < rubric.pause_min_s:
            continue
        before = [w for w in words if w.start < a.end + 0.1 and is_word(w.word)]
        prev = before[-1].word.strip() if before else ""
        mid = bool(prev) and not prev.endswith((".", "?", "!"))
        pauses.append(Pause(a.end, b.start, gap, gap >= rubric.long_pause_s, mid))
    return pauses


def count_fillers(words: list[Word], rubric: PacingRubric) -> tuple[Counter, int, int]:
    tokens = [t for w in words for t in _TOKEN_RE.findall(w.word.lower())]
    counts: Counter = Counter()
    hes = set(rubric.hesitations)
    for tok in tokens:
        if tok in hes:
            counts[tok] += 1
    hesitations = sum(counts.values())
    text = " " + " ".join(tokens) + " "
    lexical = 0
    for phrase in rubric.lexical_fillers:
        n = text.count(f" {phrase} ")
        if n:
            counts[phrase] += n
            lexical += n
    return counts, hesitations, lexical


def compute_metrics(
    segments: list[Segment], words: list[Word], rubric: PacingRubric
) -> tuple[Metrics, list[Pause]]:
    pauses = find_pauses(segments, words, rubric)
    n_words = count_words(words)
    fillers, hes, lex = count_fillers(words, rubric)
    if not segments:
        empty = Metrics(0.0, 0.0, n_words, None, None, 0, None, None, 0, 0, None,
                        hes + lex, hes, lex, dict(fillers), 0.0)
        return empty, pauses
    span = segments[-1].end - segments[0].start
    paused = sum(p.duration_s for p in pauses)
    speaking = max(span - paused, 1e-6)
    long_pauses = [p for p in pauses if p.long]
    metrics = Metrics(
        speech_span_s=span,
        speaking_time_s=speaking,
        word_count=n_words,
        wpm=60.0 * n_words / span if span > 0 else None,
        articulation_wpm=60.0 * n_words / speaking if speaking > 0 else None,
        pause_count=len(pauses),
        pauses_per_min=60.0 * len(pauses) / span if span > 0 else None,
        median_pause_s=statistics.median(p.duration_s for p in pauses) if pauses else None,
        long_pause_count=len(long_pauses),
        mid_sentence_long_pause_count=sum(p.mid_sentence for p in long_pauses),
        longest_pause_s=max((p.duration_s for p in pauses), default=None),
        filler_count=hes + lex,
        hesitation_count=hes,
        lexical_filler_count=lex,
        fillers=dict(fillers),
        monologue_s=span,
    )
    return metrics, pauses


def rolling_windows(
    segments: list[Segment], words: list[Word], pauses: list[Pause], rubric: PacingRubric
) -> list[Window]:
    """Pace over ``window_s`` windows every ``window_step_s`` across the answer."""
    if not segments:
        return []
    t0, t1 = segments[0].start, segments[-1].end
    out = []
    start = t0
    spoken = [w for w in words if is_word(w.word)]
    while True:
        end = min(start + rubric.window_s, t1)
        length = end - start
        if length <= 0:
            break
        n = sum(1 for w in spoken if start <= (w.start + w.end) / 2 < end)
        np_ = sum(1 for p in pauses if start <= p.start < end)
        out.append(Window(start, end, n, 60.0 * n / length, np_))
        if end >= t1:
            break
        start += rubric.window_step_s
    return out


# ----------------------------------------------------------------------------- feedback


def feedback(
    metrics: Metrics,
    pauses: list[Pause],
    windows: list[Window],
    rubric: PacingRubric,
    overview: bool = True,
) -> list[Feedback]:
    """Plain-language feedback items, most important first within each theme."""
    items: list[Feedback] = []
    if metrics.word_count == 0 or metrics.wpm is None:
        items.append(
            Feedback("no_speech", "flag", "No speech was heard: check the microphone or the file.")
        )
        return items

    # Length of the answer.
    span = metrics.speech_span_s
    if overview:
        lo, hi = rubric.overview_target
        if span > rubric.overview_hard_s:
            items.append(Feedback("length", "flag", (
                f"The overview ran {mmss(span)}: past {mmss(rubric.overview_hard_s)} an "
                f"interviewer will cut in. Aim for {mmss(lo)}-{mmss(hi)}.")))
        elif span > rubric.overview_soft_s:
            items.append(Feedback("length", "warn", (
                f"The overview ran {mmss(span)}: inside the target, but past "
                f"{mmss(rubric.overview_soft_s)}; start wrapping up sooner.")))
        elif span < rubric.overview_too_short_s:
            items.append(Feedback("length", "warn", (
                f"The answer lasted {mmss(span)}; a project overview usually needs "
                f"{mmss(lo)}-{mmss(hi)} to cover the problem, approach and results.")))
        elif span < lo:
            items.append(Feedback("length", "info", (
                f"The overview lasted {mmss(span)}, a little under the "
                f"{mmss(lo)}-{mmss(hi)} target.")))
        else:
            items.append(Feedback("length", "info", (
                f"The overview lasted {mmss(span)}, inside the {mmss(lo)}-{mmss(hi)} target.")))
    elif span > rubric.answer_long_s:
        items.append(Feedback("length", "warn", (
            f"The answer ran {mmss(span)}; past {mmss(rubric.answer_long_s)} an interviewer "
            "is likely to cut in.")))

    # Pace.
    wpm = metrics.wpm
    glo, ghi = rubric.pace_good
    blo, bhi = rubric.pace_borderline
    if glo <= wpm <= ghi:
        items.append(
            Feedback("pace", "info", f"Pace {wpm:.0f} wpm: comfortable ({glo:.0f}-{ghi:.0f}).")
        )
    elif blo <= wpm <= bhi:
        word = "a little slow" if wpm < glo else "a little fast"
        items.append(Feedback("pace", "warn", (
            f"Pace {wpm:.0f} wpm: {word}; {glo:.0f}-{ghi:.0f} is easiest to follow.")))
    else:
        word = "slow" if wpm < blo else "fast"
        items.append(Feedback("pace", "flag", (
            f"Pace {wpm:.0f} wpm is {word}; aim for {glo:.0f}-{ghi:.0f} wpm.")))

    # Pace changes across the answer (only when larger than the reporting threshold).
    full = [w for w in windows if w.end - w.start >= rubric.window_s * 0.99]
    if len(full) >= 2:
        first, last = full[0], full[-1]
        if first.wpm > 0:
            change = 100.0 * (last.wpm - first.wpm) / first.wpm
            if abs(change) > rubric.change_report_pct:
                way = "sped up" if change > 0 else "slowed down"
                items.append(Feedback("pace_change", "info", (
                    f"You {way} by {abs(change):.0f}% from the first to the last 30 s "
                    f"({first.wpm:.0f} to {last.wpm:.0f} wpm).")))

    # Pauses.
    longs = [p for p in pauses if p.long]
    mids = [p for p in longs if p.mid_sentence]
    if mids and len(mids) >= rubric.mid_sentence_warn:
        where = ", ".join(mmss(p.start) for p in mids[:5])
        items.append(Feedback("pauses", "warn", (
            f"{plural(len(mids), 'long pause')} in the middle of a sentence (at {where}): "
            "finish the thought, then pause.")))
    elif longs:
        items.append(Feedback("pauses", "info", (
            f"{plural(len(longs), 'long pause')} of {rubric.long_pause_s:.0f} s or more, "
            f"the longest {metrics.longest_pause_s:.1f} s; pauses between points are fine.")))

    # Fillers (lower bound: Whisper drops some).
    minutes = max(metrics.speaking_time_s / 60.0, 1e-6)
    rate = metrics.filler_count / minutes
    if metrics.filler_count:
        top = ", ".join(f"'{k}' x{v}" for k, v in Counter(metrics.fillers).most_common(3))
        sev = (
            "flag" if rate >= rubric.filler_flag_per_min
            else "warn" if rate >= rubric.filler_warn_per_min
            else "info"
        )
        items.append(Feedback("fillers", sev, (
            f"At least {plural(metrics.filler_count, 'filler')} ({rate:.1f}/min): {top}.")))
    return items


@dataclass(frozen=True)
class Pacing:
    """Everything pacing says about one answer."""

    metrics: Metrics
    pauses: list[Pause]
    windows: list[Window]
    feedback: list[Feedback]

    def to_json(self) -> dict:
        return {
            "metrics": self.metrics.to_json(),
            "pauses": [p.to_json() for p in self.pauses],
            "windows": [w.to_json() for w in self.windows],
            "feedback": [f.to_json() for f in self.feedback],
        }


def assess(
    segments: list[Segment], words: list[Word], rubric: PacingRubric, overview: bool = True
) -> Pacing:
    """Metrics, pauses, rolling windows and feedback for one answer."""
    metrics, pauses = compute_metrics(segments, words, rubric)
    windows = rolling_windows(segments, words, pauses, rubric)
    return Pacing(metrics, pauses, windows, feedback(metrics, pauses, windows, rubric, overview))
