"""Replay: the timeline model, the clock, the mixed audio, the TUI (Pilot, snapshot, tmux)."""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import ROOT
from tests.session_helpers import scripted_session
from voice_interview.session.files import SAMPLE_RATE
from voice_interview.session.replay_model import (
    ReplayAudio,
    ReplayClock,
    build_timeline,
    mixed_chunks,
)
from voice_interview.session.store import SessionStore


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def store(tmp_path):
    return SessionStore(tmp_path / "home" / "data" / "recordings")


@pytest.fixture
def session(store):
    sid = scripted_session(store)
    data = store.open(sid)
    # A fixed id, so the screen (which shows it) is the same on every run.
    return dataclasses.replace(data, info=dataclasses.replace(data.info,
                                                              id="20250102-093000-test"))


# ----------------------------------------------------------------------------- model


def test_timeline_gathers_words_pauses_prompts_and_fillers(session):
    tl = build_timeline(session)
    assert [b.prompt_kind for b in tl.blocks] == ["question", "probe"]
    assert tl.blocks[0].prompt.startswith("Walk me through")
    assert tl.blocks[1].prompt_t > tl.blocks[0].end  # the probe came after the answer
    assert [w.text for w in tl.words if w.filler] == ["Um", "like"]
    assert [p.kind for p in tl.pauses] == ["long_pause", "pause", "long_pause"]
    assert len(tl.interviewer) == 2
    # Words line up with the session timeline: the word at its own midpoint is itself.
    for i, w in enumerate(tl.words):
        assert tl.word_at((w.start + w.end) / 2) == i
    assert tl.word_at(0.0) is None
    lanes = tl.lanes(100)
    assert set(lanes["audio"]) <= set("█▒_! ") and len(lanes["audio"]) == 100
    assert lanes["marks"].count("Q") == 1 and lanes["marks"].count("P") == 1
    assert lanes["marks"].count("f") == 2 and "!" in lanes["audio"]


def test_timeline_of_an_unscored_session_uses_the_live_transcript(store):
    w = store.create({"question_text": "Q?", "started_at": "2025-01-01T00:00:00+00:00"})
    w.log_event({"type": "question_asked", "t": 0.1, "text": "Q?", "question_id": "q"})
    w.log_event({"type": "transcript_final", "t": 3.0, "segment_start": 1.0,
                 "segment_end": 2.5, "text": "um hello there",
                 "words": [{"word": "um", "start": 1.0, "end": 1.3},
                           {"word": "hello", "start": 1.4, "end": 1.9},
                           {"word": "there", "start": 2.0, "end": 2.5}]})
    w.write_candidate(np.zeros(SAMPLE_RATE * 4, dtype=np.float32))
    w.finish({})
    tl = build_timeline(store.open(w.id))
    assert [x.text for x in tl.words] == ["um", "hello", "there"]
    assert tl.words[0].filler and tl.blocks[0].prompt == "Q?"
    assert tl.duration_s == pytest.approx(4.0)


def test_unscored_replay_takes_a_polish_in_place_of_the_revisions_inside_it(store):
    w = store.create({"question_text": "Q?", "started_at": "2025-01-01T00:00:00+00:00"})

    def words(*spec):
        return [{"word": t, "start": a, "end": a + 0.3} for t, a in spec]

    w.log_event({"type": "question_asked", "t": 0.1, "text": "Q?", "question_id": "q"})
    for t, a, b, ws in [(3.0, 1.0, 1.6, words(("I", 1.0), ("use", 1.3))),
                        (5.0, 2.0, 2.6, words(("for", 2.0), ("tax", 2.3))),
                        (7.0, 3.0, 3.3, words(("ok", 3.0)))]:
        w.log_event({"type": "transcript_final", "t": t, "segment_start": a,
                     "segment_end": b, "text": "", "words": ws})
        w.log_event({"type": "transcript_revised", "t": t + 0.5, "start": a, "end": b,
                     "text": "", "words": ws})
        if a == 2.0:  # the two first windows polished as one
            w.log_event({"type": "transcript_revised", "t": t + 1.0, "start": 1.0, "end": 2.6,
                         "text": "", "polish": True,
                         "words": words(("argues", 1.0), ("for", 1.6), ("tax", 2.3))})
    w.write_candidate(np.zeros(SAMPLE_RATE * 4, dtype=np.float32))
    w.finish({})
    tl = build_timeline(store.open(w.id))
    assert [x.text for x in tl.words] == ["argues", "for", "tax", "ok"]


def test_clock_plays_pauses_seeks_and_changes_speed():
    now = [100.0]
    clock = ReplayClock(60.0, clock=lambda: now[0])
    assert clock.position() == 0.0 and not clock.playing
    clock.play()
    now[0] += 10
    assert clock.position() == pytest.approx(10.0)
    clock.set_speed(2.0)
    now[0] += 5
    assert clock.position() == pytest.approx(20.0)
    clock.pause()
    now[0] += 100
    assert clock.position() == pytest.approx(20.0)
    assert clock.seek(-25) == 0.0 and clock.seek(5) == 5.0
    assert clock.seek(1000) == 60.0 and clock.at_end
    clock.play()  # at the end, play starts over
    assert clock.position() == 0.0
    assert [clock.next_speed() for _ in range(3)] == [1.0, 1.5, 2.0]


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE)[np.argmax(spec)])


def test_mixed_audio_sums_both_tracks_and_speeds_up_without_changing_pitch(session):
    cand = np.asarray(session.candidate_pcm(), dtype=np.int32)
    voice = np.asarray(session.interviewer_pcm(), dtype=np.int32)
    n = max(cand.size, voice.size)
    want = np.zeros(n, np.int32)
    want[: cand.size] += cand
    want[: voice.size] += voice
    got = np.concatenate(list(mixed_chunks(session, 0.0)))
    np.testing.assert_allclose(got, np.clip(want, -32768, 32767) / 32768.0, atol=1e-6)
    # From 5 s: the first sample is the mix at 5 s.
    later = next(mixed_chunks(session, 5.0))
    assert later[0] == pytest.approx(got[5 * SAMPLE_RATE])
    # 2x: half as long, and the 330 Hz tone under the words is still 330 Hz.
    fast = np.concatenate(list(mixed_chunks(session, 0.0, speed=2.0)))
    assert fast.size == pytest.approx(n / 2, rel=0.02)
    w = build_timeline(session).words[3]
    a = int(w.start * SAMPLE_RATE / 2) + 200
    assert _peak_hz(fast[a:a + 2048]) == pytest.approx(330, abs=15)


# ----------------------------------------------------------------------------- the TUI


@pytest.mark.anyio
async def test_pilot_keys_move_the_transcript_highlight(session):
    from voice_interview.tui.replay import BlockView, ReplayApp

    tl = build_timeline(session)
    app = ReplayApp(session, tl, None, autoplay=False)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("right", "right")
        assert app.clock.position() == pytest.approx(10.0)
        first = app.query_one("#block-0", BlockView)
        assert first.current == tl.word_at(10.0) is not None
        await pilot.press("left")
        assert app.clock.position() == pytest.approx(5.0)
        assert first.current == tl.word_at(5.0)
        await pilot.press("s")
        assert app.clock.speed == 1.5
        await pilot.press("space")
        assert app.clock.playing
        await pilot.press("space")
        assert not app.clock.playing
        # Far into the second answer: the first block is all spoken, the second current.
        for _ in range(4):
            await pilot.press("right")
        second = app.query_one("#block-1", BlockView)
        assert second.current == tl.word_at(app.clock.position())
        assert first.current == tl.blocks[0].last_word
        status = str(app.query_one("#status").render())
        assert "1.5×" in status and "transcript only" in status


def test_replay_screen_snapshot(session, snap_compare):
    from tests.cli_helpers import screen_text
    from voice_interview.tui.replay import ReplayApp

    app = ReplayApp(session, build_timeline(session), None, autoplay=False)
    seen: dict = {}

    async def run_before(pilot) -> None:
        await pilot.press("right", "right")
        await pilot.pause()
        seen["text"] = screen_text(pilot.app)

    matches = snap_compare(app, run_before=run_before, terminal_size=(100, 34))
    # A fact read off the screen: every line of a prompt or an answer, wrapped lines
    # included, sits two columns in from its title ("Question", "Probe", "You").
    lines = seen["text"].split("─" * 20)[-1].splitlines()
    body = [ln for ln in lines[:-2] if ln.strip()]  # (the last two: message and status)
    titles = [ln for ln in body if re.match(r" (Question|Probe|You)\b", ln)]
    assert len(titles) == 4, body  # two prompts, two answers
    assert all(ln in titles or ln.startswith("   ") for ln in body), body
    assert len(body) > len(titles) + 4  # the answer wrapped: there is a line to check
    assert matches


@pytest.mark.anyio
async def test_no_output_device_means_transcript_only_with_a_message(session):
    from voice_interview.tui.replay import ReplayApp

    audio = ReplayAudio(session, device="no-such-output-device-xyz")
    app = ReplayApp(session, build_timeline(session), audio, autoplay=True)
    async with app.run_test(size=(100, 34)) as pilot:
        for _ in range(50):
            await pilot.pause(0.05)
            if app.audio_checked:
                break
        assert app.audio_checked and not app.audio_ok
        message = str(app.query_one("#message").render())
        assert "transcript-only" in message and "no audio output" in message
        assert app.clock.playing  # the transcript replays on its own clock
        await pilot.pause(0.3)
        assert app.clock.position() > 0


# ----------------------------------------------------------------------------- tmux


class Tmux:
    """The real command in a real terminal (a private tmux server)."""

    def __init__(self, env: dict, size=(110, 36)) -> None:
        self.sock = f"vi-replay-{uuid.uuid4().hex[:8]}"
        self.env = env
        self.size = size

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.sock, *args], env=self.env,
                              capture_output=True, text=True, timeout=20).stdout

    def start(self, *cmd: str) -> None:
        """Run the command; its exit code goes to a file, and the pane stays open after
        it exits (whatever it printed on the way out, a traceback included, stays
        on the screen to be read)."""
        self.exit_file = Path(tempfile.mkdtemp(prefix="vi-replay-rc-")) / "exit-code"
        line = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "voice_interview", *cmd])
        line += f"; echo $? > {shlex.quote(str(self.exit_file))}; sleep 120"
        self.tmux("new-session", "-d", "-x", str(self.size[0]), "-y", str(self.size[1]),
                  "-c", str(ROOT), line)

    def exit_code(self, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while not self.exit_file.exists() or not self.exit_file.read_text().strip():
            assert time.monotonic() < deadline, f"the program did not exit:\n{self.screen()}"
            time.sleep(0.1)
        return self.exit_file.read_text().strip()

    def assert_clean_exit(self, code: str = "0") -> None:
        """The program exited with ``code`` and nothing like a traceback reached the
        screen (stderr is the terminal here)."""
        assert self.exit_code() == code, self.screen()
        screen = self.screen()
        assert "Traceback" not in screen, screen
        assert not re.search(r"\b\w+(Error|Exception)\b", screen), screen

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; screen:\n{screen}")

    def stop(self) -> None:
        self.tmux("kill-server")


def _tmux_env(tmp_path, store, extra: dict) -> dict:
    env = {**os.environ, "VOICE_INTERVIEW_HOME": str(store.root.parent.parent),
           "TERM": "xterm-256color", **extra}
    env.pop("VOICE_INTERVIEW_DEBUG", None)
    env.pop("TMUX", None)
    return env


def _no_pulse(tmp_path) -> dict:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    conf = tmp_path / "client.conf"
    conf.write_text("autospawn = no\n")
    return {"XDG_RUNTIME_DIR": str(runtime), "PULSE_SERVER": f"unix:{runtime}/no-such-socket",
            "PULSE_CLIENTCONFIG": str(conf)}


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_replay_command_in_tmux_without_a_device(tmp_path, store):
    sid = scripted_session(store)
    term = Tmux(_tmux_env(tmp_path, store, _no_pulse(tmp_path)))
    try:
        term.start("replay", sid[:10])
        screen = term.wait_for("transcript only")
        assert "no audio output" in screen and "transcript-only" in screen
        assert "Walk me through a project" in screen and "search tool" in screen
        term.tmux("send-keys", "q")
        term.assert_clean_exit("0")
        assert "transcript only" not in term.screen()
    finally:
        term.stop()


@pytest.mark.mic
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_replay_command_plays_the_session_through_the_speaker(tmp_path, store, pulse_speaker):
    sid = scripted_session(store)
    term = Tmux(_tmux_env(tmp_path, store, pulse_speaker.env))
    rec = pulse_speaker.record_speaker()
    try:
        term.start("replay", sid)
        screen = term.wait_for("audio   ")
        assert "transcript only" not in screen
        time.sleep(6.0)  # the question (220 Hz tone) and the start of the answer (330 Hz)
        term.tmux("send-keys", "q")
        term.assert_clean_exit("0")
    finally:
        heard = rec.stop()
        term.stop()
    loud = np.abs(heard) > 0.02
    assert loud.sum() > SAMPLE_RATE  # over a second of the session was played
    assert _peak_hz(heard[np.argmax(loud):][:4096]) == pytest.approx(220, abs=15)
