"""The real PortAudio capture path, through a PulseAudio virtual microphone (DESIGN §6)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.audio_helpers import SR
from tests.cli_helpers import ROOT, run_cli


def test_microphone_audio_is_captured_and_transcribed(pulse, sentences):
    speech = np.concatenate(
        [np.zeros(SR // 2, np.float32), sentences[0], np.zeros(int(SR * 1.5), np.float32),
         sentences[4], np.zeros(SR * 2, np.float32)]
    )
    seconds = speech.size / SR + 6.0
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.mic_listen", str(seconds)], cwd=ROOT,
        env=pulse.subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline().strip() == '{"type": "ready"}', child.stderr.read()
        time.sleep(0.3)
        pulse.write_mic(speech, realtime=True)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    finals = " ".join(e["text"] for e in events if e["type"] == "transcript_final").lower()
    assert "support team" in finals and "agents" in finals, finals
    pauses = [e for e in events if e["type"] == "pause_ended" and e["long"]]
    assert len(pauses) == 1 and abs(pauses[0]["duration_s"] - 1.5) < 0.4
    assert events[-1] == {"type": "stats", "dropped": 0}


def test_devices_lists_the_virtual_devices(pulse):
    proc = run_cli("devices", env=pulse.subprocess_env())
    assert proc.returncode == 0, proc.stderr
    assert "Input devices:" in proc.stdout and "pulse" in proc.stdout.lower()


def _has_sound_card() -> bool:
    try:
        return "no soundcards" not in open("/proc/asound/cards").read()
    except OSError:
        return False


no_card = pytest.mark.skipif(_has_sound_card(), reason="this machine has a real sound card")


@no_card
def test_no_devices_is_a_clear_message(tmp_path):
    # No sound card on this machine; point PulseAudio clients at a socket that
    # does not exist, so no daemon (ours or a stray one) provides devices.
    env = {"PULSE_SERVER": f"unix:{tmp_path}/none", "XDG_RUNTIME_DIR": str(tmp_path)}
    proc = run_cli("devices", env=env)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "No audio devices found" in proc.stdout


@no_card
def test_no_microphone_is_a_clear_message(tmp_path):
    # No sound card on this machine; point PulseAudio clients at a socket that
    # does not exist, so no daemon (ours or a stray one) provides devices.
    env = {"PULSE_SERVER": f"unix:{tmp_path}/none", "XDG_RUNTIME_DIR": str(tmp_path)}
    import os

    proc = subprocess.run([sys.executable, "-m", "tests.mic_listen", "1"], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "no microphone found" in proc.stderr
