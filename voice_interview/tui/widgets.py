"""Widgets of the practice screen: state badge, answer timer, pace meter, pause
stats and the live transcript.

Each widget renders from a small plain model (``AnswerModel``, ``Bands``...) that
the screen updates on the UI thread as engine events arrive. The pure helpers
(``rolling_wpm``, ``timer_band``) carry the arithmetic so it can be
tested without a terminal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Digits, Static

from voice_interview.pacing import is_word, load_pacing_rubric
from voice_interview.timefmt import mmss

# ----------------------------------------------------------------------------- helpers


def word_fields(word) -> tuple[str, float, float]:
    """(text, start, end) of a Whisper word: a ``Word`` dataclass or its JSON dict."""
    if isinstance(word, dict):
        return str(word.get("word", "")), float(word["start"]), float(word["end"])
    return str(word.word), float(word.start), float(word.end)


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


# ----------------------------------------------------------------------------- widgets


STATE_LABELS = {
    "loading": "◌ Loading models",
    "listening": "● Listening",
    "speaking": "● You are speaking",
    "thinking": "◆ Thinking",
    "interviewer": "◀ Interviewer speaking",
    "ended": "■ Session ended",
}
HOLD_LABEL = "◆ Holding: take your time"


class StateBadge(Static):
    """listening / candidate speaking / thinking / interviewer speaking (+ loading, ended).

    ``hold`` (space) shows over listening, speaking and thinking: the turn stays open.
    """

    state: reactive[str] = reactive("loading")
    hold: reactive[bool] = reactive(False)

    def watch_state(self) -> None:
        self._refresh_view()

    def watch_hold(self) -> None:
        self._refresh_view()

    def on_mount(self) -> None:
        self._refresh_view()

    @property
    def shown(self) -> str:
        """The state shown: ``state``, or ``hold`` while the candidate holds the turn."""
        if self.hold and self.state in ("listening", "speaking", "thinking"):
            return "hold"
        return self.state

    @property
    def label(self) -> str:
        if self.shown == "hold":
            return HOLD_LABEL
        return STATE_LABELS.get(self.state, self.state.replace("_", " ").capitalize())

    def _refresh_view(self) -> None:
        shown = self.shown
        for name in [*STATE_LABELS, "hold", *(c[6:] for c in self.classes if c[:6] == "state-")]:
            self.set_class(name == shown, f"state-{name}")
        self.update(self.label)


class AnswerTimer(Vertical):
    """Time of the current answer, colored by the budget bands."""

    seconds: reactive[float] = reactive(0.0)
    bands: reactive[Bands] = reactive(Bands)

    def compose(self) -> ComposeResult:
        yield Static("Answer time", classes="panel-label")
        yield Digits("0:00", id="timer-digits")
        yield Static("", id="timer-hint")

    def on_mount(self) -> None:
        self._refresh_view()

    def watch_seconds(self) -> None:
        self._refresh_view()

    def watch_bands(self) -> None:
        self._refresh_view()

    def _refresh_view(self) -> None:
        if not self.is_mounted:
            return
        band = timer_band(self.seconds, self.bands)
        for name in ("under", "target", "soft", "over"):
            self.set_class(name == band, f"band-{name}")
        self.query_one("#timer-digits", Digits).update(mmss(self.seconds))
        b = self.bands
        hint = {
            "under": f"target {mmss(b.target_s)}–{mmss(b.hard_s)}",
            "target": "in the target range",
            "soft": f"past {mmss(b.soft_s)}: start wrapping up",
            "over": f"past {mmss(b.hard_s)}: the interviewer cuts in",
        }[band]
        self.query_one("#timer-hint", Static).update(hint)

    @property
    def band(self) -> str:
        return timer_band(self.seconds, self.bands)


class PaceMeter(Static):
    """Rolling words per minute over the last 30 s against the good band."""

    wpm: reactive[float | None] = reactive(None)
    SCALE = (60.0, 220.0)

    def __init__(self, bands: PaceBands | None = None, window_s: float = 30.0, **kwargs):
        super().__init__(**kwargs)
        self.pace_bands = bands or PaceBands()
        self.window_s = window_s

    def watch_wpm(self) -> None:
        grade = self.pace_bands.grade(self.wpm)
        for name in ("none", "good", "borderline", "flag"):
            self.set_class(name == grade, f"pace-{name}")
        self.refresh()

    def on_mount(self) -> None:
        self.watch_wpm()

    def render(self) -> Text:
        grade = self.pace_bands.grade(self.wpm)
        style = {"good": "bold green", "borderline": "bold yellow", "flag": "bold red"}.get(
            grade, "grey58"
        )
        lo, hi = self.pace_bands.good
        out = Text().append("Pace ", style="bold")
        out.append("— wpm" if self.wpm is None else f"{self.wpm:.0f} wpm", style=style)
        out.append(f"  (last {self.window_s:.0f} s)\n", style="grey58")
        width = max(10, (self.content_size.width or 30) - 2)
        a, b = self.SCALE

        def col(v: float) -> int:
            return min(width - 1, max(0, round((v - a) / (b - a) * (width - 1))))

        g0, g1 = col(lo), col(hi)
        marker = None if self.wpm is None else col(self.wpm)
        bar = Text("▕")
        for i in range(width):
            if i == marker:
                bar.append("●", style=style)
            elif g0 <= i <= g1:
                bar.append("━", style="green")
            else:
                bar.append("─", style="grey42")
        bar.append("▏")
        out.append_text(bar)
        out.append(f"\ngood {lo:.0f}–{hi:.0f} wpm", style="grey58")
        return out


class PauseStats(Static):
    """Pause count, long pauses and the longest pause of the current answer."""

    def show(self, model: AnswerModel | None) -> None:
        count = model.pause_count if model else 0
        long = model.long_pause_count if model else 0
        longest = model.longest_pause_s if model else None
        out = Text().append("Pauses ", style="bold")
        out.append(f"{count}")
        out.append(f"  long {long}", style="yellow" if long else "")
        out.append("\nlongest ")
        out.append("—" if longest is None else f"{longest:.1f} s")
        self.update(out)

    def on_mount(self) -> None:
        self.show(None)


class InterviewerLine(Static):
    """A question or probe from the interviewer, in the transcript."""

    def __init__(self, text: str, label: str = "", **kwargs):
        body = Text().append("Interviewer", style="bold magenta")
        if label:
            body.append(f"  {label}", style="magenta")
        body.append("\n")
        body.append(text)
        self.plain = body.plain
        super().__init__(body, **kwargs)


class NoteLine(Static):
    """A dim line in the transcript (a budget mark, a notice)."""

    def __init__(self, text: str, style: str = "grey58", **kwargs):
        self.plain = text
        super().__init__(Text(text, style=style), **kwargs)


class AnswerBlock(Widget):
    """The candidate's words for one answer, rendered from its ``AnswerModel``."""

    DEFAULT_CSS = "AnswerBlock { height: auto; }"

    def __init__(self, model: AnswerModel, **kwargs):
        super().__init__(**kwargs)
        self.model = model

    def render(self) -> Text:
        out = Text().append("You", style="bold cyan")
        out.append("\n")
        if self.model.is_empty():
            out.append("(no speech)" if self.model.ended else "…", style="italic grey58")
        else:
            out.append_text(self.model.render_text())
        return out


class TranscriptView(VerticalScroll):
    """Interviewer questions and probes, and the candidate's answers, as they happen."""

    def __init__(self, long_pause_s: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.long_pause_s = long_pause_s
        self.blocks: list[AnswerBlock] = []

    # -- structure -------------------------------------------------------------
    def add_prompt(self, text: str, t: float, label: str = "") -> AnswerModel:
        """An interviewer line, then a fresh answer block starting at ``t``."""
        if self.blocks:
            self.blocks[-1].model.end()
            self.blocks[-1].refresh(layout=True)
        block = AnswerBlock(AnswerModel(t0=t, long_pause_s=self.long_pause_s))
        self.blocks.append(block)
        self.mount(InterviewerLine(text, label, classes="interviewer"))
        self.mount(block)
        self._follow()
        return block.model

    def note(self, text: str, style: str = "grey58") -> None:
        self.mount(NoteLine(text, style, classes="transcript-note"))
        self._follow()

    @property
    def current(self) -> AnswerModel | None:
        return self.blocks[-1].model if self.blocks else None

    def _block_for(self, t: float) -> AnswerBlock:
        if not self.blocks:
            block = AnswerBlock(AnswerModel(t0=-math.inf, long_pause_s=self.long_pause_s))
            self.blocks.append(block)
            self.mount(block)
        for block in reversed(self.blocks):
            if block.model.t0 <= t + 0.5:
                return block
        return self.blocks[0]

    # -- events ------------------------------------------------------------------
    def partial(self, segment_start: float, text: str) -> AnswerModel:
        block = self._block_for(segment_start)
        block.model.partial(segment_start, text)
        return self._changed(block)

    def final(self, segment_start: float, segment_end: float, text: str, words) -> AnswerModel:
        block = self._block_for(segment_start)
        block.model.final(segment_start, segment_end, text, words)
        return self._changed(block)

    def revise(self, start: float, end: float, text: str, words) -> AnswerModel:
        block = self._block_for(start)
        block.model.revise(start, end, text, words)
        return self._changed(block)

    def pause(self, start: float, duration_s: float, long: bool) -> AnswerModel:
        block = self._block_for(start)
        block.model.pause(start, duration_s, long)
        return self._changed(block)

    def end_answer(self) -> None:
        if self.blocks:
            self.blocks[-1].model.end()
            self.blocks[-1].refresh(layout=True)

    def _changed(self, block: AnswerBlock) -> AnswerModel:
        block.refresh(layout=True)
        self._follow()
        return block.model

    def _follow(self) -> None:
        self.call_after_refresh(self.scroll_end, animate=False)

    def plain_text(self) -> str:
        """The transcript as plain text (tests, and the tmux check)."""
        lines = []
        for child in self.children:
            if isinstance(child, AnswerBlock):
                lines.append(child.render().plain)
            elif isinstance(child, InterviewerLine | NoteLine):
                lines.append(child.plain)
        return "\n".join(lines)


def summarize_depth(probes: Sequence[dict]) -> dict[str, int]:
    """Deepest level reached per probe family."""
    depth: dict[str, int] = {}
    for p in probes:
        fam = str(p.get("family", "?"))
        depth[fam] = max(depth.get(fam, 0), int(p.get("depth", 1) or 1))
    return depth
