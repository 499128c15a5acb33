"""End to end: the real command in a terminal, a virtual microphone, a virtual speaker.

A private PulseAudio daemon provides the microphone (a FIFO we feed with speech
in real time) and the speaker (a null sink whose monitor we record). The
command ``voice-interview practice`` runs in tmux at 120x40 and is read off the
screen: the question is spoken, the candidate's answer comes through the real
PortAudio capture path, the probe is shown and spoken. Pulling the microphone
away (ending the daemon) must give the blocking-error modal, not a traceback.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
import time

import numpy as np
import pytest

from tests.audio_helpers import SR
from tests.heard import line_audio, line_text
from tests.speech_check import wer
from tests.test_practice import PROBE_WER
from tests.test_tui_tmux import ROOT, Tmux

pytestmark = [pytest.mark.slow, pytest.mark.mic]

BLOCK = 512


class MicFeeder:
    """Feeds the virtual microphone in real time: silence, or speech when given some.

    A pipe source delivers nothing unless written to, and a microphone that
    delivers nothing looks unplugged, so silence flows all along.
    """

    def __init__(self, pulse) -> None:
        self.pulse = pulse
        self._speech: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.error: Exception | None = None
        self.spoken = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mic-feeder", daemon=True)
        self._thread.start()

    def say(self, audio: np.ndarray) -> None:
        with self._lock:
            self.spoken.clear()
            self._speech.append(np.asarray(audio, np.float32))

    def _next_block(self) -> np.ndarray:
        with self._lock:
            if self._speech:
                cur = self._speech[0]
                block, rest = cur[:BLOCK], cur[BLOCK:]
                if rest.size:
                    self._speech[0] = rest
                else:
                    self._speech.pop(0)
                    if not self._speech:
                        self.spoken.set()
                if block.size < BLOCK:
                    block = np.concatenate([block, np.zeros(BLOCK - block.size, np.float32)])
                return block
        return np.zeros(BLOCK, np.float32)

    def _run(self) -> None:
        t0 = time.monotonic()
        n = 0
        try:
            while not self._stop.is_set():
                self.pulse.write_mic(self._next_block())
                n += 1
                ahead = t0 + n * BLOCK / SR - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        except OSError as exc:  # the daemon went away
            self.error = exc

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _command(tmp_path, pulse, *args: str) -> str:
    env = {**pulse.env, "VOICE_INTERVIEW_HOME": str(tmp_path / "home"),
           "TERM": "xterm-256color"}
    env_args = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    exit_file = tmp_path / "exit-code"
    return (
        f"cd {shlex.quote(str(ROOT))} && env {env_args} {shlex.quote(sys.executable)} "
        f"-m voice_interview practice {' '.join(args)}; "
        f"echo $? > {shlex.quote(str(exit_file))}; sleep 120"
    )


def _exit_code(tmp_path, tmux, timeout: float = 30.0) -> str:
    path = tmp_path / "exit-code"
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, tmux.screen()
        time.sleep(0.1)
    return path.read_text().strip()


def test_spoken_session_with_microphone_and_speaker(tmp_path, pulse, sentences, whisper):
    s = sentences
    rec = pulse.record_speaker()
    feeder = MicFeeder(pulse)
    tmux = Tmux(f"vi-e2e-{os.getpid()}",
                _command(tmp_path, pulse, "--voice", "piper", "--patience", "2",
                         "--max-probes", "1"))
    try:
        tmux.wait_for("Pick an AI project you built yourself", timeout=120)
        tmux.wait_for("● Listening", timeout=60)  # the question has been spoken
        feeder.say(np.concatenate([s[0], np.zeros(SR // 2, np.float32), s[1]]))
        screen = tmux.wait_for("support", timeout=60)
        assert "You" in screen
        screen = tmux.wait_for("depth 1", timeout=60)  # the probe, in the transcript
        lines = screen.splitlines()
        at = next(i for i, ln in enumerate(lines) if "Interviewer" in ln and "depth 1" in ln)
        probe = lines[at + 1].split("│")[1].strip()  # the probe's first line
        tmux.wait_for("● Listening", timeout=60)  # ... and spoken
        feeder.say(s[4])
        tmux.wait_for("agents", timeout=60)
        tmux.press("q")
        screen = tmux.wait_for("Session feedback", timeout=60)
        assert "Traceback" not in screen
        tmux.press("q")
        assert _exit_code(tmp_path, tmux) == "0"
        assert "Traceback" not in tmux.screen()  # nothing on the way out either
    finally:
        tmux.close()
        feeder.stop()
        heard = rec.stop()
    # The session's own log says what was spoken when; the probe shown on screen is the
    # second line, and only the audio from its voice_started on is transcribed.
    [log] = (tmp_path / "home").rglob("events.jsonl")
    events = [json.loads(ln) for ln in log.read_text().splitlines() if ln.strip()]
    said = line_text(events, 1)
    assert probe in said, (probe, said)
    for index in (0, 1):  # the question, then the probe
        text = " ".join(w.word for w in whisper.transcribe(line_audio(heard, events, index)))
        assert wer(line_text(events, index), text) <= PROBE_WER, (line_text(events, index),
                                                                  text)


def test_microphone_lost_is_a_modal_and_the_answer_is_kept(tmp_path, pulse, sentences):
    feeder = MicFeeder(pulse)
    tmux = Tmux(f"vi-e2e-lost-{os.getpid()}",
                _command(tmp_path, pulse, "--no-voice", "--patience", "30"))
    try:
        tmux.wait_for("● Listening", timeout=120)
        feeder.say(np.concatenate([sentences[0], np.zeros(SR // 2, np.float32), sentences[1]]))
        tmux.wait_for("support", timeout=60)
        pulse.stop()  # the microphone disappears
        screen = tmux.wait_for("The session stopped", timeout=60)
        assert "microphone" in screen
        assert "Traceback" not in screen
        assert "pa_linux_alsa" not in screen and "Expression" not in screen  # no C noise
        tmux.press("f")
        screen = tmux.wait_for("Session feedback", timeout=30)
        assert "Pick an AI project" in screen  # the answer given before the loss was kept
        tmux.press("q")
        assert _exit_code(tmp_path, tmux) not in ("", "0")
        screen = tmux.screen()
        assert "Traceback" not in screen and "pa_linux_alsa" not in screen, screen
    finally:
        tmux.close()
        feeder.stop()
