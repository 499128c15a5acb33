"""The real ``voice-interview practice`` command in a real terminal (tmux), read off the screen.

tmux runs the command at 120x40 on a private server socket; ``capture-pane``
gives the screen as text. The candidate is a synthesized answer played with
``--input``; the interviewer is shown, not spoken (``--no-voice``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.audio_helpers import SR, write_wav16

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Tmux:
    """One detached tmux session on a private server (ended in ``close``)."""

    def __init__(self, name: str, command: str, width: int = 120, height: int = 40):
        self.socket = name
        self.name = name
        self.size = f"{width}x{height}"
        # The command waits until the window is fixed at its size, then runs.
        gate = f"tmux -L {shlex.quote(name)} wait-for {shlex.quote(name)}-go; "
        self._tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height),
                   gate + command)
        self._tmux("set-option", "-g", "window-size", "manual")
        self._tmux("resize-window", "-t", name, "-x", str(width), "-y", str(height))
        assert self.window_size() == self.size, self.window_size()
        self._tmux("wait-for", "-S", f"{name}-go")

    def _tmux(self, *args: str) -> str:
        # -f /dev/null: no user configuration changes what the test sees.
        res = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                             capture_output=True, text=True, timeout=20)
        if res.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {res.stderr.strip()}")
        return res.stdout

    def window_size(self) -> str:
        return self._tmux("display-message", "-p", "-t", self.name,
                          "#{window_width}x#{window_height}").strip()

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def press(self, key: str) -> None:
        self._tmux("send-keys", "-t", self.name, key)

    def wait_for(self, needle: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if needle in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared; the screen "
                                     f"({self.window_size()}):\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       timeout=20)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(SR * seconds), np.float32)


def test_practice_command_in_a_terminal(tmp_path, sentences):
    s = sentences
    audio = np.concatenate([
        _silence(0.5), s[0], _silence(0.4), s[1], _silence(0.4), s[2], _silence(3.5),
        s[3], _silence(0.4), s[4], _silence(30),
    ])
    path = write_wav16(tmp_path / "answers.wav", audio)
    exit_file = tmp_path / "exit-code"
    env = {"VOICE_INTERVIEW_HOME": str(tmp_path / "home"), "TERM": "xterm-256color"}
    env_args = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (
        f"cd {shlex.quote(str(ROOT))} && env {env_args} {shlex.quote(sys.executable)} "
        f"-m voice_interview practice --input {shlex.quote(str(path))} --no-voice "
        f"--patience 2 --max-probes 2; echo $? > {shlex.quote(str(exit_file))}; sleep 120"
    )
    tmux = Tmux(f"vi-tui-{os.getpid()}", command)
    try:
        started = time.monotonic()
        # The screen is up while the models load: the loading state shows first.
        first = tmux.wait_for("Loading the speech model", timeout=60)
        print(f"loading screen after {time.monotonic() - started:.2f} s")
        assert "Pick an AI project" not in first, first

        tmux.wait_for("Pick an AI project you built yourself")
        screen = tmux.wait_for("support")  # a transcript line
        assert "You" in screen and "Answer time" in screen and "Pace" in screen
        tmux.wait_for("depth 1")  # the interviewer's probe in the transcript

        tmux.press("q")
        screen = tmux.wait_for("Session feedback", timeout=60)
        assert "Probes asked" in screen and "Depth reached" in screen
        assert "Traceback" not in screen
        tmux.press("q")
        assert exit_code(tmux, exit_file, within_s=30) == "0"
        assert "Traceback" not in tmux.screen()
    finally:
        tmux.close()


def _stuck_session(tmp_path, name: str, *args: str) -> tuple[Tmux, Path]:
    """``tests.stuck_session`` (the named stand-in) in tmux; its exit code goes
    to the returned file."""
    exit_file = tmp_path / "exit-code"
    command = (
        f"cd {shlex.quote(str(ROOT))} && env TERM=xterm-256color "
        f"VOICE_INTERVIEW_HOME={shlex.quote(str(tmp_path / 'home'))} "
        f"{shlex.quote(sys.executable)} -m tests.stuck_session "
        f"{' '.join(shlex.quote(a) for a in args)}; "
        f"echo $? > {shlex.quote(str(exit_file))}; sleep 120"
    )
    return Tmux(f"vi-{name}-{os.getpid()}", command), exit_file


def exit_code(tmux: Tmux, exit_file: Path, within_s: float) -> str:
    deadline = time.monotonic() + within_s
    while not exit_file.exists() or not exit_file.read_text().strip():
        assert time.monotonic() < deadline, tmux.screen()
        time.sleep(0.1)
    return exit_file.read_text().strip()


def test_ctrl_q_leaves_even_when_the_session_does_not_wind_down(tmp_path):
    """q asks the session to end; if it never does, a second q says how to
    leave, and ctrl+q exits within the short grace period with one line."""
    tmux, exit_file = _stuck_session(tmp_path, "stuck")
    try:
        tmux.wait_for("Loading the speech model", timeout=60)
        time.sleep(0.5)
        tmux.press("q")
        tmux.wait_for("Ending the session")
        tmux.press("q")
        tmux.wait_for("Still finishing")
        tmux.press("C-q")
        assert exit_code(tmux, exit_file, within_s=15) == "1"
        screen = tmux.screen()
        assert "quit before the session finished winding down" in screen, screen
        assert "Traceback" not in screen
    finally:
        tmux.close()


def test_ctrl_q_while_the_models_load_waits_for_the_load_and_closes(tmp_path):
    """A load slower than ctrl+q's grace period: the program still lets it
    finish, closes what it opened, and exits 0 without claiming a recording."""
    closed = tmp_path / "closed"
    tmux, exit_file = _stuck_session(tmp_path, "loadq", "--load-s", "5",
                                     "--closed-file", str(closed))
    try:
        tmux.wait_for("Loading the speech model", timeout=60)
        tmux.press("C-q")
        assert exit_code(tmux, exit_file, within_s=30) == "0"
        assert closed.read_text() == "aborted"
        screen = tmux.screen()
        assert "recorded so far" not in screen and "Traceback" not in screen, screen
    finally:
        tmux.close()
