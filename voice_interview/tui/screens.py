"""Screens: the practice screen, the feedback screen, and the error modal.

The practice screen is driven by engine events (``apply_event``, UI thread
only); it never talks to the session itself: its key actions go to the app.
"""

from __future__ import annotations

from typing import Protocol, cast

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Static

from voice_interview import events
from voice_interview.analysis import AnswerAnalysis
from voice_interview.timefmt import plural
from voice_interview.tui.widgets import (
    AnswerModel,
    AnswerTimer,
    Bands,
    PaceBands,
    PaceMeter,
    PauseStats,
    StateBadge,
    TranscriptView,
    mmss,
    summarize_depth,
)

SEVERITY_STYLE = {"info": "green", "warn": "yellow", "flag": "bold red"}
SEVERITY_MARK = {"info": "✓", "warn": "!", "flag": "✗"}


class _Controls(Protocol):
    """What the screens ask of the practice app (``tui.app.PracticeApp``)."""

    def press_hold(self) -> None: ...

    def press_end_turn(self) -> None: ...

    def press_next_question(self) -> None: ...

    def press_stop(self) -> None: ...


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _f(value, default=None):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


# ----------------------------------------------------------------------------- practice


class PracticeScreen(Screen):
    """Question, live transcript, answer timer, pace meter, pauses and state."""

    BINDINGS = [
        Binding("space", "hold", "Hold (thinking)", priority=True),
        Binding("enter", "end_turn", "I'm done", priority=True),
        Binding("n", "next_question", "Next question"),
        Binding("q", "end_session", "End session"),
    ]

    def __init__(self, rubric, loading_text: str = ""):
        """``rubric``: a ``tui.app.UiRubric`` (timer bands, pace bands, pause threshold)."""
        super().__init__()
        self.bands: Bands = rubric.question_bands
        self.probe_bands: Bands = rubric.probe_bands
        self.pace_bands: PaceBands = rubric.pace
        self.long_pause_s: float = rubric.long_pause_s
        self.window_s: float = rubric.window_s
        self.loading_text = loading_text
        self.question_text = ""
        self.question_label = ""
        self.followup = ""
        self.questions = 0
        self.probes: list[dict] = []
        self.last_scored: AnswerAnalysis | None = None
        self.last_scored_index = 0  # whose figures last_scored holds
        self.holding = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static("voice-interview · practice", id="title")
            yield StateBadge(id="state")
        yield Static(id="question")
        with Horizontal(id="main"):
            yield TranscriptView(long_pause_s=self.long_pause_s, id="transcript")
            with Vertical(id="sidebar"):
                timer = AnswerTimer(id="timer")
                timer.bands = self.bands
                yield timer
                yield PaceMeter(self.pace_bands, self.window_s, id="pace")
                yield PauseStats(id="pauses")
                yield Static(id="session-stats")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#question", Static).border_title = "Loading"
        self._show_question()
        self._show_session_stats()
        self.query_one("#transcript", TranscriptView).border_title = "Transcript"
        ready = getattr(self.app, "practice_ready", None)
        if ready is not None:
            ready()

    # -- widgets -------------------------------------------------------------------
    @property
    def badge(self) -> StateBadge:
        return self.query_one("#state", StateBadge)

    @property
    def transcript(self) -> TranscriptView:
        return self.query_one("#transcript", TranscriptView)

    @property
    def timer(self) -> AnswerTimer:
        return self.query_one("#timer", AnswerTimer)

    @property
    def pace(self) -> PaceMeter:
        return self.query_one("#pace", PaceMeter)

    def _show_question(self) -> None:
        panel = self.query_one("#question", Static)
        if not self.question_text:
            panel.update(Text(self.loading_text, style="italic"))
            return
        body = Text().append(self.question_text, style="bold")
        if self.followup:
            body.append("\n↳ ", style="magenta")
            body.append(self.followup, style="magenta")
        panel.update(body)
        panel.border_title = self.question_label

    def _show_session_stats(self) -> None:
        out = Text().append("Session ", style="bold")
        out.append(f"question {max(self.questions, 0)} · probes {len(self.probes)}")
        depth = summarize_depth(self.probes)
        if depth:
            out.append(f" · deepest {max(depth.values())}")
        scored = self.last_scored
        if scored is not None:
            metrics, parts = scored.metrics, scored.parts
            out.append("\nlast answer ", style="bold")
            wpm = _f(metrics.wpm if metrics else None)
            bits = [mmss(_f(metrics.monologue_s if metrics else None, 0.0))]
            if wpm is not None:
                bits.append(f"{wpm:.0f} wpm")
            if parts:
                bits.append(f"structure {len(scored.covered())}/{len(parts)}")
            out.append(" · ".join(bits))
        if self.holding:
            out.append("\nhold on: take your time", style="yellow")
        self.query_one("#session-stats", Static).update(out)

    def _update_current(self, model: AnswerModel) -> None:
        """Refresh the sidebar if ``model`` is the answer in progress."""
        if model is not self.transcript.current:
            return
        self.pace.wpm = model.wpm(self.window_s)
        self.query_one("#pauses", PauseStats).show(model)

    def _new_answer(self, model: AnswerModel, bands: Bands) -> None:
        if self.holding:  # a new turn starts without the hold
            self.set_holding(False)
        self.timer.bands = bands
        self.timer.seconds = 0.0
        self.pace.wpm = None
        self.query_one("#pauses", PauseStats).show(model)

    # -- events (UI thread) ----------------------------------------------------------
    def apply_event(self, event: events.Event) -> None:
        handler = HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _on_state_changed(self, ev) -> None:
        state = str(getattr(ev, "state", "") or "")
        if state:
            self.badge.state = state

    def _on_session_started(self, ev) -> None:
        self.query_one("#question", Static).border_title = "Starting"

    def _bands_for(self, ev: events.QuestionAsked | events.ProbeAsked, default: Bands) -> Bands:
        """The event's own budget if it carries one (``budget_s``, ``soft_budget_s``)."""
        hard = _f(ev.budget_s)
        soft = _f(ev.soft_budget_s)
        if hard is None:
            return default
        bands = default.scaled_to(hard)
        if soft is not None and soft < hard:
            bands = Bands(min(bands.target_s, soft), soft, hard)
        return bands

    def _on_question_asked(self, ev: events.QuestionAsked) -> None:
        self.questions = int(ev.index or self.questions + 1)
        self.question_text = ev.text or ""
        self.followup = ""
        self.question_label = f"Question {self.questions}"
        self._show_question()
        model = self.transcript.add_prompt(self.question_text, ev.t, label="question")
        self._new_answer(model, self._bands_for(ev, self.bands))
        self._show_session_stats()

    def _on_probe_asked(self, ev: events.ProbeAsked) -> None:
        self.probes.append({"family": ev.family, "text": ev.text, "reason": ev.reason,
                            "source": ev.source, "depth": ev.depth})
        self.followup = ev.text
        self._show_question()
        label = f"{ev.family} · depth {ev.depth}"
        if ev.source == "llm":  # the planner's move, worded by the LLM
            label += " · worded by the LLM"
        if ev.cut_in:
            label += " · cut in"
        model = self.transcript.add_prompt(ev.text, ev.t, label=label)
        self._new_answer(model, self._bands_for(ev, self.probe_bands))
        self._show_session_stats()

    def _on_pause_ended(self, ev) -> None:
        model = self.transcript.pause(ev.t, ev.duration_s, ev.long)
        self._update_current(model)

    def _on_monologue_tick(self, ev) -> None:
        self.timer.seconds = ev.monologue_s

    def _on_soft_budget_reached(self, ev) -> None:
        self.timer.seconds = max(self.timer.seconds, ev.monologue_s, self.timer.bands.soft_s)
        self.transcript.note(f"— {mmss(ev.monologue_s)}: time to wrap up —", "yellow")

    def _on_hard_budget_reached(self, ev) -> None:
        self.timer.seconds = max(self.timer.seconds, ev.monologue_s, self.timer.bands.hard_s)
        self.transcript.note(f"— {mmss(ev.monologue_s)}: over budget —", "red")

    def _on_turn_ended(self, ev) -> None:
        if ev.monologue_s:
            self.timer.seconds = ev.monologue_s
        self.transcript.end_answer()

    def _on_transcript_partial(self, ev) -> None:
        model = self.transcript.partial(ev.segment_start, ev.text)
        self._update_current(model)

    def _on_transcript_final(self, ev) -> None:
        model = self.transcript.final(ev.segment_start, ev.segment_end, ev.text, ev.words)
        self._update_current(model)

    def _on_transcript_revised(self, ev) -> None:
        model = self.transcript.revise(ev.start, ev.end, ev.text, ev.words)
        self._update_current(model)

    def _on_answer_scored(self, ev: events.AnswerScored) -> None:
        if ev.answer_index < self.last_scored_index:
            return  # an earlier answer scored again (a late polish): not the one shown
        self.last_scored_index = ev.answer_index
        self.last_scored = AnswerAnalysis.from_json(ev.analysis)
        self._show_session_stats()

    def _on_session_ended(self, ev) -> None:
        self.badge.state = "ended"

    # -- keys ------------------------------------------------------------------------
    def set_holding(self, on: bool) -> None:
        self.holding = on
        self.badge.hold = on
        self._show_session_stats()

    def action_hold(self) -> None:
        cast(_Controls, self.app).press_hold()

    def action_end_turn(self) -> None:
        cast(_Controls, self.app).press_end_turn()

    def action_next_question(self) -> None:
        cast(_Controls, self.app).press_next_question()

    def action_end_session(self) -> None:
        cast(_Controls, self.app).press_stop()


# ----------------------------------------------------------------------------- feedback


def _answer_rows(answers: list[dict], pace_bands: PaceBands) -> list[tuple]:
    rows = []
    for i, ans in enumerate(answers, 1):
        analysis = AnswerAnalysis.from_json(ans.get("analysis"))
        m, parts = analysis.metrics, analysis.parts
        wpm = _f(m.wpm if m else None)
        grade = pace_bands.grade(wpm)
        style = {"good": "green", "borderline": "yellow", "flag": "bold red"}.get(grade, "")
        prompt = str(ans.get("prompt") or ans.get("question_id") or "")
        if len(prompt) > 44:
            prompt = prompt[:43] + "…"
        kind = "Q" if ans.get("kind", "question") == "question" else "↳"
        longest = _f(m.longest_pause_s if m else None)
        rows.append((
            str(ans.get("index", i)),
            f"{kind} {prompt}",
            mmss(_f(m.monologue_s, _f(m.speech_span_s, 0.0)) if m else 0.0),
            Text("—" if wpm is None else f"{wpm:.0f}", style=style),
            _count(m.pause_count if m else None),
            _count(m.long_pause_count if m else None),
            "—" if longest is None else f"{longest:.1f} s",
            _count(m.filler_count if m else None),
            f"{len(analysis.covered())}/{len(parts)}" if parts else "—",
        ))
    return rows


def answer_detail(ans: dict, number: int) -> Group:
    """One answer's feedback: pacing notes and structure coverage. Each note is a
    paragraph two columns in; a note that wraps keeps that indent."""
    raw = ans.get("analysis")
    analysis = AnswerAnalysis.from_json(raw)
    kind = "Question" if ans.get("kind", "question") == "question" else "Probe"
    head = Text().append(f"{number}. {kind}: ", style="bold")
    head.append(str(ans.get("prompt") or ans.get("question_id") or ""), style="bold")
    lines: list = [head]
    for fb in analysis.feedback:
        sev = str(fb.severity or "info")
        note = Text(f"{SEVERITY_MARK.get(sev, '·')} ", style=SEVERITY_STYLE.get(sev, ""))
        note.append(str(fb.message or ""))
        lines.append(Padding(note, (0, 0, 0, 2)))
    parts = analysis.parts
    if parts:
        out = Text("structure  ", style="bold")
        for p in parts:
            ok = bool(p.get("covered"))
            out.append("✓ " if ok else "✗ ", style="green" if ok else "red")
            out.append(str(p.get("title") or p.get("id")), style="" if ok else "grey58")
            out.append("   ")
        lines.append(Padding(out, (0, 0, 0, 2)))
    transcript = str(ans.get("transcript") or "").strip()
    if not transcript and not raw:
        lines.append(Padding(Text("(no answer recorded)", style="italic grey58"), (0, 0, 0, 2)))
    return Group(*lines)


# Which PracticeScreen method shows which event (dispatch on the event's class).
HANDLERS = {
    events.StateChanged: PracticeScreen._on_state_changed,
    events.SessionStarted: PracticeScreen._on_session_started,
    events.QuestionAsked: PracticeScreen._on_question_asked,
    events.ProbeAsked: PracticeScreen._on_probe_asked,
    events.PauseEnded: PracticeScreen._on_pause_ended,
    events.MonologueTick: PracticeScreen._on_monologue_tick,
    events.SoftBudgetReached: PracticeScreen._on_soft_budget_reached,
    events.HardBudgetReached: PracticeScreen._on_hard_budget_reached,
    events.TurnEnded: PracticeScreen._on_turn_ended,
    events.TranscriptPartial: PracticeScreen._on_transcript_partial,
    events.TranscriptFinal: PracticeScreen._on_transcript_final,
    events.TranscriptRevised: PracticeScreen._on_transcript_revised,
    events.AnswerScored: PracticeScreen._on_answer_scored,
    events.SessionEnded: PracticeScreen._on_session_ended,
}


class FeedbackScreen(Screen):
    """Per-answer pacing, structure coverage, probes asked and depth reached."""

    BINDINGS = [
        Binding("q", "app.quit_app", "Quit"),
        Binding("escape", "app.quit_app", "Quit", show=False),
    ]

    def __init__(self, summary: dict, pace_bands: PaceBands | None = None):
        super().__init__()
        self.summary = summary or {}
        self.pace_bands = pace_bands or PaceBands()

    def length_s(self) -> float | None:
        """The session's length on its own clock: the last event's time, the clock every
        other figure on screen uses (the summary's ``duration_s`` is wall-clock time
        from the start of the run, which a replayed or slow session stretches)."""
        log = getattr(self.app, "event_log", None) or []
        if log:
            return max(_f(getattr(e, "t", 0.0), 0.0) for e in log)
        return _f(self.summary.get("duration_s"))

    def compose(self) -> ComposeResult:
        s = self.summary
        answers = list(s.get("answers") or [])
        probes = list(s.get("probes") or [])
        head = Text().append("Session feedback", style="bold")
        bits = []
        if s.get("format_id"):
            bits.append(str(s["format_id"]))
        length = self.length_s()
        if length is not None:
            bits.append(mmss(length))
        bits.append(plural(len(answers), "answer"))
        if s.get("reason"):
            bits.append(f"ended: {s['reason']}")
        head.append("   " + " · ".join(bits), style="grey70")
        if s.get("session_id"):
            head.append(f"\nsession {s['session_id']}", style="grey58")
        yield Static(head, id="fb-title")
        with VerticalScroll(id="fb-body"):
            yield DataTable(id="fb-table", cursor_type="none", zebra_stripes=True)
            if not answers:
                yield Static(Text("No answers were recorded.", style="italic"), id="fb-empty")
            for i, ans in enumerate(answers, 1):
                yield Static(answer_detail(ans, i), classes="fb-answer")
            yield Static(self._probes_text(probes, s.get("depth")), id="fb-probes")
        yield Footer()

    def _probes_text(self, probes: list[dict], depth: dict | None) -> Text:
        out = Text().append("Probes asked", style="bold")
        if not probes:
            out.append("\n  none", style="grey58")
        for i, p in enumerate(probes, 1):
            out.append(f"\n  {i}. ")
            out.append(f"[{p.get('family', '?')} · depth {p.get('depth', 1)}] ", style="magenta")
            out.append(str(p.get("text", "")))
        depth = {k: v for k, v in (depth or summarize_depth(probes)).items() if v}
        out.append("\nDepth reached  ", style="bold")
        if depth:
            out.append("  ".join(f"{fam} {lvl}" for fam, lvl in sorted(depth.items())))
        else:
            out.append("—", style="grey58")
        return out

    def on_mount(self) -> None:
        table = self.query_one("#fb-table", DataTable)
        table.add_columns(
            "#", "Prompt", "Time", "Pace", "Pauses", "Long", "Longest", "Fillers", "Structure"
        )
        table.add_rows(_answer_rows(list(self.summary.get("answers") or []), self.pace_bands))


# ----------------------------------------------------------------------------- errors


class ErrorModal(ModalScreen[str]):
    """A blocking error: the message, and what the user can do next."""

    BINDINGS = [
        Binding("f", "choose('feedback')", "See feedback"),
        Binding("q", "choose('quit')", "Quit"),
        Binding("escape", "choose('feedback')", "See feedback", show=False),
    ]

    def __init__(self, message: str, title: str = "The session stopped", details=None):
        super().__init__()
        self.message = message
        self.title_text = title
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Static(Text(self.title_text, style="bold"), id="error-title")
            yield Static(self.message, id="error-message", markup=False)
            kept = "What you said so far was kept."
            if self.details:
                kept += f"\nDetails: {self.details}"
            yield Static(kept, id="error-kept", markup=False)
            with Horizontal(id="error-buttons"):
                yield Button("See feedback (f)", id="feedback", variant="primary")
                yield Button("Quit (q)", id="quit", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "quit")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
