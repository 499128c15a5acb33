"""The replay TUI: a recorded session played back with its transcript in sync.

The engine side (timeline, clock, audio) is ``voice_interview.session.replay_model``;
this module only draws it and maps keys:

- ``space`` play/pause, ``←``/``→`` seek 5 s, ``s`` speed 1x → 1.5x → 2x,
  ``home`` back to the start, ``q`` quit;
- two timeline lanes: the whole session and a one-minute zoom around the playhead
  (``█`` speech, ``▒`` interviewer, ``_`` pause, ``!`` long pause, ``Q``/``P`` the
  question and the probes, ``f`` fillers), and a playhead;
- the transcript, one block per prompt and answer: the current word highlighted,
  spoken words plain, the rest dim, fillers marked, pauses shown where they fell.

The output device is checked in a thread worker; with none, replay goes on with
the transcript alone and says so. Audio restarts (seek, speed) also run off the
UI thread.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from voice_interview.session.replay_model import (
    SEEK_S,
    ReplayAudio,
    ReplayClock,
    Span,
    Timeline,
)
from voice_interview.session.report import plural
from voice_interview.session.store import SessionData
from voice_interview.timefmt import mmss

TICK_S = 0.1
# The way out that works here (replay's own option); tests/test_messages.py checks it.
NO_DEVICE_ADVICE = "choose a speaker with --device (voice-interview devices lists them)"
ZOOM_S = 60.0
LABEL_W = 8

LANE_STYLE = {"█": "green", "▒": "blue", "_": "yellow", "!": "bold red", "Q": "bold cyan",
              "P": "bold magenta", "f": "yellow"}


def _lane(label: str, cells: str) -> Text:
    text = Text(f"{label:<{LABEL_W}}", style="dim")
    for ch in cells:
        text.append(ch, style=LANE_STYLE.get(ch, ""))
    return text


class Lanes(Static):
    """The session's timeline in text cells, with a playhead."""

    def __init__(self, timeline: Timeline, **kw) -> None:
        super().__init__(**kw)
        self.timeline = timeline
        self.position = 0.0
        self._overview: tuple[int, dict[str, str]] | None = None
        self._key: tuple | None = None

    def cells_width(self) -> int:
        return max(10, self.content_size.width - LABEL_W - 1)

    def show(self, position: float) -> None:
        self.position = position
        width = self.cells_width()
        dur = max(self.timeline.duration_s, 1e-6)
        zoom_start = min(max(0.0, position - ZOOM_S / 2), max(0.0, dur - ZOOM_S))
        head = min(width - 1, int(position / dur * width))
        zhead = min(width - 1, int((position - zoom_start) / ZOOM_S * width))
        key = (width, head, zhead, round(zoom_start, 1))
        if key == self._key:
            return
        self._key = key
        if self._overview is None or self._overview[0] != width:
            self._overview = (width, self.timeline.lanes(width))
        over = self._overview[1]
        zoom = self.timeline.lanes(width, zoom_start, zoom_start + ZOOM_S)
        lines = [
            _lane("session", over["audio"]),
            _lane("", over["marks"]),
            Text(" " * LABEL_W + " " * head + "▲", style="bold"),
            _lane("1 min", zoom["audio"]),
            _lane("", zoom["marks"]),
            Text(f"{'':<{LABEL_W}}{mmss(zoom_start)}" + " " * max(1, zhead - 4) + "▲ "
                 + mmss(position), style="bold"),
        ]
        self.update(Text("\n").join(lines))


class BlockView(Static):
    """One prompt and the answer to it; re-rendered when the current word moves."""

    def __init__(self, timeline: Timeline, index: int, **kw) -> None:
        super().__init__(**kw)
        self.timeline = timeline
        self.block = timeline.blocks[index]
        b = self.block
        pauses = [p for p in timeline.pauses
                  if b.start is not None and b.end is not None
                  and b.start - 0.01 <= p.start <= b.end + 0.01]
        # The answer as tokens: ("w", word index) or ("p", pause span), in time order.
        self.tokens: list[tuple[str, int | Span]] = []
        k = 0
        for j in range(b.first_word, b.last_word):
            while k < len(pauses) and pauses[k].start <= timeline.words[j].start:
                self.tokens.append(("p", pauses[k]))
                k += 1
            self.tokens.append(("w", j))
        self.tokens += [("p", p) for p in pauses[k:]]
        self.current: int | None = None

    def header(self) -> list[RenderableType]:
        """The prompt's title line, the prompt, and the answer's facts line."""
        b = self.block
        out: list[RenderableType] = []
        who = "Question" if b.prompt_kind == "question" else "Probe"
        when = "" if b.prompt_t is None else f" · {mmss(b.prompt_t)}"
        if b.prompt:
            out.append(Text(f"{who}{when}", style="bold cyan" if who == "Question" else
                            "bold magenta"))
            out.append(indented(Text(b.prompt, style="italic")))
        m = b.metrics or {}
        facts = []
        if b.start is not None:
            facts.append(f"{mmss(b.start)}–{mmss(b.end or b.start)}")
        if m.get("wpm"):
            facts.append(f"{m['wpm']:.0f} wpm")
        if m.get("long_pause_count") is not None:
            facts.append(plural(m["long_pause_count"], "long pause"))
        if m.get("filler_count") is not None:
            facts.append(plural(m["filler_count"], "filler"))
        out.append(Text("You" + (" · " + " · ".join(facts) if facts else ""), style="bold"))
        return out

    def body(self, current: int | None) -> Text:
        """The answer's words; runs of words in the same style are one span (fast to draw)."""
        text = Text()
        words = self.timeline.words
        runs: list[list] = [["", ""]]

        def add(piece: str, style: str) -> None:
            if runs[-1][1] == style:
                runs[-1][0] += piece
            else:
                runs.append([piece, style])

        if not self.tokens:
            add("(no words recorded)", "dim")
        for kind, item in self.tokens:
            if kind == "p":
                span = item
                assert isinstance(span, Span)
                if span.kind == "long_pause":
                    add(f"‖{span.duration:.1f}s", "bold red")
                else:
                    add("·", "yellow")
                add(" ", "")
                continue
            assert isinstance(item, int)
            w = words[item]
            if current is not None and item == current:
                style = "reverse bold"
            elif current is not None and item < current:
                style = ""
            else:
                style = "dim"
            if w.filler:
                style = (style + " yellow underline").strip()
            add(w.text, style)
            add(" ", "" if style == "reverse bold" or w.filler else style)
        for piece, style in runs:
            text.append(piece, style=style or None)
        return text

    def render_block(self, current: int | None) -> Group:
        """The block: a wrapped line keeps the indent of its paragraph (a hanging indent)."""
        return Group(*self.header(), indented(self.body(current)))

    def show(self, current: int | None) -> None:
        if current is not None and not (self.block.first_word <= current < self.block.last_word):
            # Before this block: all dim; after it: all spoken.
            current = None if current < self.block.first_word else self.block.last_word
        if self.current == current and self._rendered:
            return
        self.current = current
        self._rendered = True
        self.update(self.render_block(current))

    _rendered = False

    def line_of(self, word: int, width: int) -> int:
        """Which wrapped line of this block shows ``word`` (to keep it on screen)."""
        width = max(10, width)
        console = self.app.console
        head = sum(len(console.render_lines(part, console.options.update_width(width),
                                            pad=False)) for part in self.header())
        body = self.body(word)
        offset = 0
        plain = body.plain
        for kind, item in self.tokens:
            if kind == "w" and item == word:
                offset = plain.find(self.timeline.words[word].text, offset)
                break
        lines = body.wrap(console, max(8, width - INDENT))
        pos = 0
        for i, line in enumerate(lines):
            pos += len(line.plain) + 1
            if pos > offset:
                return head + i
        return head


INDENT = 2


def indented(renderable) -> Padding:
    """``renderable`` two columns in, every wrapped line included."""
    return Padding(renderable, (0, 0, 0, INDENT))


class ReplayApp(App):
    """Replay one recorded session. ``audio=None``: transcript only."""

    CSS_PATH = "replay.tcss"
    TITLE = "voice-interview replay"
    BINDINGS = [
        Binding("space", "play_pause", "play/pause", priority=True),
        Binding("left", "seek(-1)", "-5 s", priority=True),
        Binding("right", "seek(1)", "+5 s", priority=True),
        Binding("s", "speed", "speed", priority=True),
        Binding("home", "restart", "start", priority=True),
        Binding("q", "quit", "quit", priority=True),
    ]

    def __init__(self, data: SessionData, timeline: Timeline, audio: ReplayAudio | None, *,
                 autoplay: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.data = data
        self.timeline = timeline
        self.audio = audio
        self.autoplay = autoplay
        self.clock = ReplayClock(timeline.duration_s, clock)
        self.audio_ok = False
        self.audio_checked = audio is None
        self.message = "" if audio is not None else "audio off: transcript-only replay"
        self._block: int | None = None
        self._word: int | None = None
        self._block_starts = [b.start if b.start is not None else (b.prompt_t or 0.0)
                              for b in timeline.blocks]

    # -- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        info = self.data.info
        question = info.question or "(no question recorded)"
        yield Static(Text.assemble(("Replay ", "bold"), (info.id, "bold cyan"),
                                   f" · {info.started_at[:16].replace('T', ' ')} · ",
                                   (info.status, "bold yellow" if info.status != "complete"
                                    else "green"), f"\n{question}"), id="title")
        yield Lanes(self.timeline, id="lanes")
        with VerticalScroll(id="transcript"):
            for i in range(len(self.timeline.blocks)):
                yield BlockView(self.timeline, i, id=f"block-{i}", classes="block")
        yield Static(id="message")
        yield Static(id="status")

    def on_mount(self) -> None:
        notes = list(self.data.warnings)
        if self.data.status == "interrupted":
            notes.insert(0, "this session was interrupted and repaired")
        self._notes = notes
        self._show_message()
        for view in self.query(BlockView):
            view.show(None)
        if self.audio is not None:
            self.check_audio()
        elif self.autoplay:
            self.clock.play()
        self.set_interval(TICK_S, self.tick)
        self.tick()

    def _show_message(self) -> None:
        parts = ([self.message] if self.message else []) + self._notes[:2]
        widget = self.query_one("#message", Static)
        widget.update(Text(" · ".join(parts), style="yellow"))
        widget.display = bool(parts)

    # -- audio (off the UI thread) -----------------------------------------------------

    @work(thread=True, exclusive=True, group="audio-check")
    def check_audio(self) -> None:
        ok = self.audio.available() if self.audio is not None else False
        self.call_from_thread(self._audio_checked, ok)

    def _audio_checked(self, ok: bool) -> None:
        self.audio_ok = ok
        self.audio_checked = True
        if not ok and self.audio is not None:
            self.message = self.audio.message or "no audio output: transcript-only replay"
            if self.audio.no_device:
                self.message += f"; {NO_DEVICE_ADVICE}"
            self._show_message()
        if self.autoplay:
            self.clock.play()
            self._restart_audio()
        self.tick()

    def _restart_audio(self) -> None:
        if self.audio_ok and self.audio is not None:
            self._audio_worker(self.clock.position() if self.clock.playing else None,
                               self.clock.speed)

    @work(thread=True, exclusive=True, group="audio")
    def _audio_worker(self, position: float | None, speed: float) -> None:
        assert self.audio is not None
        if position is None:
            self.audio.stop()
        else:
            self.audio.start(position, speed)

    # -- keys ------------------------------------------------------------------------

    def action_play_pause(self) -> None:
        self.clock.toggle()
        self._restart_audio()
        self.tick()

    def action_seek(self, direction: int) -> None:
        self.clock.seek(SEEK_S * direction)
        self._restart_audio()
        self.tick()

    def action_speed(self) -> None:
        self.clock.next_speed()
        self._restart_audio()
        self.tick()

    def action_restart(self) -> None:
        self.clock.seek_to(0.0)
        self._restart_audio()
        self.tick()

    async def action_quit(self) -> None:
        if self.audio is not None:
            self.audio.stop()
        self.exit()

    # -- the clock ---------------------------------------------------------------------

    def tick(self) -> None:
        pos = self.clock.position()
        if self.clock.playing and self.clock.at_end:
            self.clock.pause()
        self.query_one("#lanes", Lanes).show(pos)
        word = self.timeline.word_at(pos)
        current: int | None
        if word is not None and pos > self.timeline.words[word].end + 1.0:
            current = word + 1  # in a pause or a prompt: everything before is spoken
        else:
            current = word
        block = self._block_for(pos)
        if current != self._word or block != self._block:
            for view in self.query(BlockView):
                view.show(current)
            if block is not None and (block != self._block or current != self._word):
                self._keep_visible(block, current)
            self._word, self._block = current, block
        self._status(pos)

    def _block_for(self, pos: float) -> int | None:
        i = bisect.bisect_right(self._block_starts, pos) - 1
        return i if i >= 0 else (0 if self.timeline.blocks else None)

    def _keep_visible(self, block: int, word: int | None) -> None:
        view = self.query_one(f"#block-{block}", BlockView)
        scroller = self.query_one("#transcript", VerticalScroll)
        line = 0
        if word is not None and view.block.first_word <= word < view.block.last_word:
            line = view.line_of(word, view.content_size.width)
        target = view.virtual_region.y + max(0, line - 2)
        if not (scroller.scroll_y <= target < scroller.scroll_y + scroller.size.height - 2):
            scroller.scroll_to(y=target, animate=False)

    def _status(self, pos: float) -> None:
        state = "▶" if self.clock.playing else "‖"
        audio = ("audio" if self.audio_ok else
                 "checking audio…" if not self.audio_checked else "transcript only")
        text = Text.assemble(
            (f" {state} {mmss(pos)} / {mmss(self.timeline.duration_s)} ", "bold"),
            f" {self.clock.speed:g}× · {audio}   ",
            ("space", "bold"), " play/pause  ", ("←/→", "bold"), " 5 s  ",
            ("s", "bold"), " speed  ", ("home", "bold"), " start  ", ("q", "bold"), " quit")
        self.query_one("#status", Static).update(text)
