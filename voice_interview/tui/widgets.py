"""Widgets of the practice screen: state badge, answer timer, pace meter, pause
stats and the live transcript.

Each widget renders from a small plain model (``AnswerModel``, ``Bands``...,
in ``tui.models``, importable from here too) that the screen updates on the UI
thread as engine events arrive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Digits, Static

from voice_interview.timefmt import mmss
from voice_interview.tui.models import (
    AnswerModel,
    Bands,
    PaceBands,
    timer_band,
)

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
