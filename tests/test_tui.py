"""The practice TUI driven with Textual's Pilot.

Sessions here are the real ``PracticeSession`` (real Whisper, real VAD, real
turn manager) listening to synthesized answers played in real time with
``--input``; keys go through the real bindings. The deterministic checks at the
end feed event sequences to the app's public ``handle_event`` (no session).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tests.audio_helpers import SENTENCES, SR, join_clips, write_wav16
from tests.cli_helpers import ROOT
from voice_interview.events import (
    AnswerScored,
    EngineError,
    HardBudgetReached,
    MonologueTick,
    Notice,
    PauseEnded,
    ProbeAsked,
    QuestionAsked,
    SoftBudgetReached,
    StateChanged,
    TranscriptFinal,
    TranscriptPartial,
)
from voice_interview.speech.transcriber import Word
from voice_interview.tui.app import PracticeApp, load_ui_rubric, wound_down
from voice_interview.tui.models import AnswerModel, Bands, rolling_wpm, timer_band
from voice_interview.tui.screens import ErrorModal, FeedbackScreen, PracticeScreen

SIZE = (120, 40)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(SR * seconds), np.float32)


def _config(path, **kw):
    from voice_interview.session.orchestrator import SessionConfig

    kw.setdefault("voice", None)
    kw.setdefault("save", False)
    return SessionConfig(input_path=str(path), **kw)


async def _wait(pilot, condition, what: str, timeout: float = 90.0) -> None:
    """Let the app run until ``condition()`` holds (the timeout only guards a hang)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.1)
    await pilot.pause()  # let a screen that just arrived mount


def _types(app) -> list[str]:
    return [e.type for e in app.event_log]


def _notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICE_INTERVIEW_HOME", str(tmp_path / "home"))


# ----------------------------------------------------------------------------- launch


def test_tui_does_not_import_the_engine_at_launch(tmp_path):
    """The screen comes up before any model: the TUI modules import no heavy engine part,
    and read no data file (with a broken rubrics/pacing.toml the import still works; the
    session reports the file)."""
    import os
    import shutil

    shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    shutil.copytree(ROOT / "rubrics", tmp_path / "rubrics")
    (tmp_path / "rubrics" / "pacing.toml").write_text("[pace]\ngood = [\n")
    code = (
        "import sys, voice_interview.tui.app\n"
        "heavy = ['faster_whisper', 'ctranslate2', 'onnxruntime', 'piper', 'sounddevice',\n"
        "         'litellm', 'av', 'voice_interview.session.orchestrator']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    env = {**os.environ, "VOICE_INTERVIEW_DATA": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


def gated(gate):
    """The real PracticeSession whose ``load()`` starts only once ``gate`` is set.

    Models load in well under a second here; the gate holds the loading state
    long enough to look at it, deterministically.
    """

    def factory(config, on_event):
        from voice_interview.session.orchestrator import PracticeSession

        class _Gated(PracticeSession):
            closed: str | None = None

            def load(self):
                gate.wait(60)
                super().load()

            def close(self, reason: str = "aborted") -> None:
                self.closed = reason
                super().close(reason)

        return _Gated(config, on_event)

    return factory


@pytest.mark.anyio
@pytest.mark.slow
async def test_loading_then_question_then_feedback(tmp_path, sentences):
    """A whole session: loading state, the question, live transcript, probes, feedback."""
    s = sentences
    audio = np.concatenate([
        _silence(0.5), s[0], _silence(0.3), s[1], _silence(1.2), s[2], _silence(3.5),
        s[3], _silence(0.4), s[4], _silence(3.5), s[5], _silence(3.5),
    ])
    path = write_wav16(tmp_path / "answers.wav", audio)
    gate = threading.Event()
    app = PracticeApp(_config(path, max_probes=2), session_factory=gated(gate))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PracticeScreen)
        assert screen.badge.state == "loading"
        assert "Loading the speech model" in str(screen.query_one("#question").content)
        gate.set()

        await _wait(pilot, lambda: "question_asked" in _types(app), "the question")
        question = next(e for e in app.event_log if e.type == "question_asked")
        assert screen.question_text == question.text
        assert question.text in screen.transcript.plain_text()

        await _wait(pilot, lambda: screen.badge.state == "speaking", "candidate speaking")
        await _wait(pilot, lambda: "transcript_final" in _types(app), "a final transcript")
        assert screen.timer.seconds > 0
        # The pace the meter shows for the whole first answer (before the probe resets
        # it) is the known words over the known speech span of the three clips.
        readings: list[float] = []

        def first_answer_pace() -> bool:
            if "probe_asked" in _types(app):
                return True
            if screen.pace.wpm is not None:
                readings.append(screen.pace.wpm)
            return False

        await _wait(pilot, first_answer_pace, "the first probe", 120)
        first = join_clips(s[:3], [0.3, 1.2], words=sum(len(x.split()) for x in SENTENCES[:3]))
        true_wpm = 60 * first.words / (first.span[1] - first.span[0])
        assert readings and readings[-1] == pytest.approx(true_wpm, rel=0.10), (readings,
                                                                                true_wpm)

        await _wait(pilot, lambda: isinstance(app.screen, FeedbackScreen), "feedback", 150)
        seen_states = {e.state for e in app.event_log if e.type == "state_changed"}
        assert {"listening", "speaking", "thinking", "interviewer", "ended"} <= seen_states

        text = screen.transcript.plain_text().lower()
        assert "support team" in text and "customers" in text
        assert "(pause " in text  # the 1.2 s gap is marked inline
        probes = [e for e in app.event_log if e.type == "probe_asked"]
        assert len(probes) == 2
        for p in probes:
            assert p.text in screen.transcript.plain_text()

        feedback = app.screen
        assert [a["kind"] for a in feedback.summary["answers"]] == ["question", "probe", "probe"]
        table = feedback.query_one("#fb-table")
        assert table.row_count == 3
        probes_text = str(feedback.query_one("#fb-probes").content)
        assert "Depth reached" in probes_text and probes[0].text in probes_text

        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


@pytest.mark.anyio
@pytest.mark.slow
@pytest.mark.parametrize("quit_key", ["q", "ctrl+q"])
async def test_keys_answer_while_the_models_load(tmp_path, sentences, quit_key):
    path = write_wav16(tmp_path / "answer.wav", np.concatenate([sentences[0], _silence(3)]))
    gate = threading.Event()
    app = PracticeApp(_config(path), session_factory=gated(gate))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.badge.state == "loading"
        await pilot.press("space")
        assert "Still loading the models…" in _notifications(app)
        assert not app.screen.holding
        await pilot.press(quit_key)  # leave before anything was said
        await pilot.pause()
        gate.set()  # the load finishes in the background; the session never starts
    assert app.return_code == 0
    # What run_practice waits for: the load ends, and what it opened is closed.
    assert wound_down(app, 30.0)
    assert app.session.closed == "aborted" and not app.running
    assert "question_asked" not in _types(app)


class SpySession:
    """The real PracticeSession, recording which controls the keys called."""

    def __new__(cls, config, on_event):
        from voice_interview.session.orchestrator import PracticeSession

        class _Spy(PracticeSession):
            def __init__(self, config, on_event):
                super().__init__(config, on_event)
                self.calls: list[tuple] = []

            def hold(self, on):
                self.calls.append(("hold", on))
                super().hold(on)

            def end_turn(self):
                self.calls.append(("end_turn",))
                super().end_turn()

            def next_question(self):
                self.calls.append(("next_question",))
                super().next_question()

            def stop(self):
                self.calls.append(("stop",))
                super().stop()

        return _Spy(config, on_event)


@pytest.mark.anyio
@pytest.mark.slow
async def test_keys_drive_the_session(tmp_path, sentences):
    audio = np.concatenate([_silence(0.5), sentences[0], _silence(0.4), sentences[1],
                            _silence(60)])
    path = write_wav16(tmp_path / "answer.wav", audio)
    # A long patience: only the keys end turns here.
    app = PracticeApp(_config(path, patience_s=30.0), session_factory=SpySession)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _wait(pilot, lambda: "transcript_final" in _types(app), "a final transcript")

        await pilot.press("space")
        assert screen.holding and screen.badge.shown == "hold"
        await pilot.press("space")
        assert not screen.holding and screen.badge.shown != "hold"

        await pilot.press("enter")
        await _wait(pilot, lambda: "probe_asked" in _types(app), "a probe")
        ended = next(e for e in app.event_log if e.type == "turn_ended")
        assert ended.reason == "user"

        await pilot.press("n")
        await _wait(
            pilot,
            lambda: sum(t == "question_asked" for t in _types(app)) == 2,
            "the next question",
        )
        second = [e for e in app.event_log if e.type == "question_asked"][-1]
        assert second.index == 2 and screen.question_text == second.text

        await pilot.press("q")
        await _wait(pilot, lambda: isinstance(app.screen, FeedbackScreen), "feedback")
        assert app.screen.summary["reason"] == "user"
        calls = app.session.calls  # (next_question ends the turn itself: end_turn again)
        assert calls[:4] == [("hold", True), ("hold", False), ("end_turn",), ("next_question",)]
        assert calls[-1] == ("stop",)
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.anyio
@pytest.mark.slow
async def test_blocking_error_is_a_modal_not_a_traceback(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 20000, np.uint8).tobytes())
    app = PracticeApp(_config(bad))
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, ErrorModal), "the error modal")
        modal = app.screen
        message = str(modal.query_one("#error-message").content)
        assert "not a readable audio file" in message and "Traceback" not in message
        await pilot.press("f")  # see what was kept
        await _wait(pilot, lambda: isinstance(app.screen, FeedbackScreen), "feedback")
        assert app.screen.query("#fb-empty")
        await pilot.press("q")
    assert app.return_code == 3  # AudioFileError's exit code


@pytest.mark.anyio
@pytest.mark.slow
async def test_recoverable_problem_is_a_notification(tmp_path, sentences):
    """An LLM that cannot be used: the offline interviewer takes over, the user is told."""
    audio = np.concatenate([_silence(0.5), sentences[0], _silence(3.0)])
    path = write_wav16(tmp_path / "answer.wav", audio)
    app = PracticeApp(_config(path, llm_model="nosuchprovider/some-model", max_probes=1))
    async with app.run_test(size=SIZE) as pilot:
        await _wait(pilot, lambda: "notice" in _types(app), "a notice", 120)
        notice = next(e for e in app.event_log if e.type == "notice")
        assert notice.message in _notifications(app)
        assert "offline interviewer" in notice.message
        assert not isinstance(app.screen, ErrorModal)
        await _wait(pilot, lambda: isinstance(app.screen, FeedbackScreen), "feedback", 120)
        assert app.screen.summary["answers"]
        await pilot.press("q")
    assert app.return_code == 0


# ----------------------------------------------------------------------------- events -> widgets


def _words(text: str, start: float, step: float = 0.4) -> tuple:
    return tuple(
        Word(f" {w}", start + i * step, start + i * step + step * 0.8, 0.9)
        for i, w in enumerate(text.split())
    )


@pytest.mark.anyio
async def test_partials_are_provisional_and_finals_settle():
    app = PracticeApp(_config("unused.wav"), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        app.handle_event(QuestionAsked(0.0, question_id="q", text="Tell me about it.", index=1))
        app.handle_event(StateChanged(0.1, state="listening"))
        app.handle_event(TranscriptPartial(2.0, segment_start=1.0, text="I built a"))
        await pilot.pause()
        screen = app.screen
        model = screen.transcript.current
        assert model.partials == {1.0: "I built a"}
        assert "I built a …" in screen.transcript.plain_text()

        words = _words("I built a search tool", 1.0)
        app.handle_event(TranscriptFinal(3.5, segment_start=1.0, segment_end=3.0,
                                         text="I built a search tool", words=words))
        await pilot.pause()
        assert model.partials == {}
        assert "I built a search tool" in screen.transcript.plain_text()
        assert "…" not in screen.transcript.plain_text().split("You", 1)[1]


@pytest.mark.anyio
async def test_long_pause_is_marked_inline_and_counted():
    app = PracticeApp(_config("unused.wav"), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        app.handle_event(QuestionAsked(0.0, question_id="q", text="Tell me about it.", index=1))
        first, second = "I built a search", "tool for support"
        app.handle_event(TranscriptFinal(3.0, segment_start=1.0, segment_end=2.6,
                                         text=first, words=_words(first, 1.0)))
        app.handle_event(PauseEnded(2.6, end=4.0, duration_s=1.4, long=True))
        app.handle_event(PauseEnded(5.0, end=5.3, duration_s=0.3, long=False))
        app.handle_event(TranscriptFinal(6.5, segment_start=4.0, segment_end=6.0,
                                         text=second, words=_words(second, 4.0)))
        await pilot.pause()
        text = app.screen.transcript.plain_text()
        assert "I built a search (pause 1.4 s) tool for support" in text
        assert "0.3 s" not in text  # short pauses are counted, not marked
        model = app.screen.transcript.current
        assert (model.pause_count, model.long_pause_count, model.longest_pause_s) == (2, 1, 1.4)


@pytest.mark.anyio
async def test_timer_colors_follow_the_budget_bands():
    app = PracticeApp(_config("unused.wav"), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        app.handle_event(QuestionAsked(0.0, question_id="q", text="Walk me through it.", index=1))
        timer = app.screen.timer
        assert timer.bands == Bands(120.0, 150.0, 180.0)
        for seconds, band in ((60.0, "under"), (121.0, "target"), (151.0, "soft")):
            app.handle_event(MonologueTick(seconds, monologue_s=seconds, speaking=True))
            await pilot.pause()
            assert timer.has_class(f"band-{band}"), (seconds, timer.classes)
        app.handle_event(SoftBudgetReached(150.0, monologue_s=150.0))
        app.handle_event(HardBudgetReached(180.0, monologue_s=180.0))
        await pilot.pause()
        assert timer.has_class("band-over")
        assert "over budget" in app.screen.transcript.plain_text()
        # A probe starts a new answer with the follow-up budget.
        app.handle_event(ProbeAsked(181.0, family="decisions", text="Why that?", reason="r",
                                    source="planner", depth=1, cut_in=True))
        await pilot.pause()
        assert timer.seconds == 0 and timer.has_class("band-under")
        assert timer.bands == Bands(30.0, 100.0, 120.0)
        assert "cut in" in app.screen.transcript.plain_text()


@pytest.mark.anyio
async def test_pace_meter_and_state_badge():
    app = PracticeApp(_config("unused.wav"), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        app.handle_event(QuestionAsked(0.0, question_id="q", text="Walk me through it.", index=1))
        for state in ("listening", "speaking", "thinking", "interviewer"):
            app.handle_event(StateChanged(1.0, state=state))
            await pilot.pause()
            assert app.screen.badge.has_class(f"state-{state}")
        # 30 words over 12 s: 150 wpm, inside the good band.
        text = " ".join(["word"] * 30)
        app.handle_event(TranscriptFinal(13.0, segment_start=0.5, segment_end=12.5, text=text,
                                         words=_words(text, 0.5, step=0.4)))
        await pilot.pause()
        pace = app.screen.pace
        assert pace.wpm == pytest.approx(150, abs=2)
        assert pace.has_class("pace-good")


@pytest.mark.anyio
async def test_an_answer_scored_again_replaces_its_score():
    """A late polish scores an answer again: the feedback keeps one score per
    answer, the later; the sidebar shows the newest answer's, not an older one's."""
    def analysis(wpm: float) -> dict:
        return {"metrics": {"wpm": wpm, "monologue_s": 60.0, "word_count": int(wpm)}}

    app = PracticeApp(_config("unused.wav"), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        app.handle_event(QuestionAsked(0.0, question_id="q", text="Walk me through it.", index=1))
        app.handle_event(AnswerScored(60.0, answer_index=1, question_id="q",
                                      analysis=analysis(120.0)))
        app.handle_event(ProbeAsked(61.0, family="decisions", text="Why?", reason="r",
                                    source="planner", depth=1))
        app.handle_event(AnswerScored(66.0, answer_index=1, question_id="q",
                                      analysis=analysis(131.0), rescored=True))
        await pilot.pause()
        assert "131 wpm" in str(app.screen.query_one("#session-stats").render())
        app.handle_event(AnswerScored(90.0, answer_index=2, question_id="q",
                                      analysis=analysis(150.0)))
        app.handle_event(AnswerScored(91.0, answer_index=1, question_id="q",
                                      analysis=analysis(133.0), rescored=True))
        await pilot.pause()
        assert "150 wpm" in str(app.screen.query_one("#session-stats").render())
        answers = app.collected_summary()["answers"]
        assert [(a["index"], a["analysis"]["metrics"]["wpm"]) for a in answers] == [
            (1, 133.0), (2, 150.0)]
        assert [a["kind"] for a in answers] == ["question", "probe"]


@pytest.mark.anyio
async def test_fed_fatal_error_opens_the_modal_and_notice_notifies():
    app = PracticeApp(_config("unused.wav"), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        app.handle_event(Notice(0.0, message="the LLM timed out; the offline interviewer "
                                              "takes over", level="warning"))
        app.handle_event(EngineError(1.0, message="the recording stopped: disk full",
                                     fatal=False))
        await pilot.pause()
        assert not isinstance(app.screen, ErrorModal)
        shown = _notifications(app)
        assert any("offline interviewer" in m for m in shown)
        assert any("disk full" in m for m in shown)
        app.handle_event(EngineError(2.0, message="the microphone was disconnected", fatal=True))
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        await pilot.press("q")
    assert app.return_code == 1


# ----------------------------------------------------------------------------- pure helpers


def test_rolling_wpm_window():
    words = [("w", i * 0.5, i * 0.5 + 0.4) for i in range(120)]  # 120 wpm for 60 s
    assert rolling_wpm(words) == pytest.approx(120, abs=3)
    assert rolling_wpm(words[:4]) is None  # under the minimum span
    assert rolling_wpm([(",", 0.0, 1.0), (".", 5.0, 6.0)]) is None  # punctuation is no word
    # Only the last 30 s count: a slow start does not drag the rate down.
    slow = [("w", i * 2.0, i * 2.0 + 0.5) for i in range(15)]
    fast = [("w", 30 + i * 0.3, 30 + i * 0.3 + 0.25) for i in range(100)]
    assert rolling_wpm(slow + fast) == pytest.approx(200, abs=5)


def test_timer_band_edges():
    b = Bands()
    assert [timer_band(x, b) for x in (0, 119.9, 120, 149.9, 150, 179.9, 180)] == [
        "under", "under", "target", "target", "soft", "soft", "over"
    ]
    assert Bands().scaled_to(90) == Bands(60.0, 75.0, 90.0)


def test_ui_rubric_follows_format_and_budget():
    from voice_interview.session.orchestrator import SessionConfig

    ui = load_ui_rubric(SessionConfig())
    assert ui.question_bands == Bands(120.0, 150.0, 180.0)
    assert ui.pace.good == (120.0, 165.0)
    assert ui.probe_bands == Bands(30.0, 100.0, 120.0)
    short = load_ui_rubric(SessionConfig(budget_s=60.0))
    assert short.question_bands.hard_s == 60.0
    assert short.question_bands.soft_s == pytest.approx(50.0)
    # a follow-up is not given longer than the opening answer it follows
    assert short.probe_bands == Bands(30.0, 50.0, 60.0)


def test_answer_model_routes_late_partials():
    m = AnswerModel(t0=0.0)
    m.final(1.0, 2.0, "hello there", ())
    m.partial(1.0, "hello")  # a partial that arrives after its final is ignored
    assert m.partials == {} and m.render_text().plain == "hello there"
