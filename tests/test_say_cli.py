"""``voice-interview say``: the real command in a subprocess, real voices, real devices."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.speech_check import transcribe, wer

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "voice_interview", "say", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )


def no_pulse_env(tmp_path: Path) -> dict[str, str]:
    """An environment that can reach no PulseAudio daemon and will not spawn one."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    conf = tmp_path / "client.conf"
    conf.write_text("autospawn = no\n")
    env = dict(os.environ)
    env.update(XDG_RUNTIME_DIR=str(runtime), PULSE_SERVER=f"unix:{runtime}/no-such-socket",
               PULSE_CLIENTCONFIG=str(conf))
    return env


def assert_one_clean_line(res: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("voice-interview: ")
    return lines[0]


def read_wav_file(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.astype(np.float32) / 32768, w.getframerate()


@pytest.mark.parametrize("voice", ["piper", "pyttsx3"])
def test_say_out_writes_a_wav_file_without_any_device(tmp_path, voice):
    out = tmp_path / "probe.wav"
    text = "What would you do differently next time?"
    res = run_cli(text, "--voice", voice, "--out", str(out), env=no_pulse_env(tmp_path))
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    lines = res.stdout.splitlines()  # one line: nothing else (pyttsx3 likes to print)
    assert len(lines) == 1 and str(out) in lines[0], res.stdout
    audio, rate = read_wav_file(out)
    assert rate == 22050
    seconds = len(audio) / rate
    assert 1.0 < seconds < 6.0  # seven words: about two seconds of speech
    assert np.sqrt(np.mean(audio**2)) > 0.02  # not silence
    # the file holds these words: at most one of the seven misheard (espeak's "would"
    # can come back as "will"); intelligibility over many texts is in test_voices.py
    heard = transcribe(audio, rate)
    assert wer(text, heard) <= 1 / 7, heard


def test_say_without_a_sound_device_prints_one_line(tmp_path):
    env = no_pulse_env(tmp_path)
    probe = subprocess.run(
        [sys.executable, "-c", "import sounddevice as sd; "
         "print(sum(d['max_output_channels'] > 0 for d in sd.query_devices()))"],
        capture_output=True, text=True, env=env,
    )
    if probe.stdout.strip() != "0":
        pytest.skip("this machine has a real sound card; the no-device path needs none")
    res = run_cli("hi", env=env)
    assert res.returncode == 4
    line = assert_one_clean_line(res)
    assert "no audio output device found" in line and "--out" in line
    assert res.stdout == ""


def test_say_empty_text_is_a_usage_error(tmp_path):
    res = run_cli("   ", "--out", str(tmp_path / "x.wav"))
    assert res.returncode == 2
    assert "nothing to say" in assert_one_clean_line(res)
    assert not (tmp_path / "x.wav").exists()


def test_say_unknown_voice(tmp_path):
    res = run_cli("hello", "--voice", "robot", "--out", str(tmp_path / "x.wav"))
    assert res.returncode == 8
    line = assert_one_clean_line(res)
    assert "robot" in line and "piper" in line and "pyttsx3" in line


def test_say_out_to_a_missing_folder(tmp_path):
    res = run_cli("hello", "--out", str(tmp_path / "nope" / "x.wav"))
    assert res.returncode == 3
    assert "nope" in assert_one_clean_line(res)


@pytest.mark.mic
@pytest.mark.slow
def test_say_plays_through_the_default_device(pulse_speaker):
    # Long enough that tiny.en mishearing one pair of words of the noisy voice ("bug
    # you" as "spudgy", seen once in a rehearsal) stays inside the bound; a lost or
    # cut line does not.
    text = ("Tell me about the hardest bug you fixed. What did you see first, how did "
            "you find the cause, and what did you change?")
    rec = pulse_speaker.record_speaker()
    res = run_cli(text, env=pulse_speaker.subprocess_env())
    heard = rec.stop()
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    said = transcribe(heard, 16000)
    assert wer(text, said) <= 0.10, said


@pytest.mark.mic
def test_say_unknown_device_lists_devices(pulse_speaker):
    res = run_cli("hello", "--device", "no-such-speaker", env=pulse_speaker.subprocess_env())
    assert res.returncode == 4
    line = assert_one_clean_line(res)
    assert "no-such-speaker" in line and "pulse" in line
