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


def _listen(pulse, speech: np.ndarray, seconds: float, *args: str,
            settle_s: float = 0.3) -> list[dict]:
    """Play ``speech`` into the virtual microphone, ``settle_s`` after
    ``tests.mic_listen`` (a child with the private PulseAudio's environment)
    is ready; its events."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.mic_listen", str(seconds), *args], cwd=ROOT,
        env=pulse.subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline().strip() == '{"type": "ready"}', child.stderr.read()
        time.sleep(settle_s)
        pulse.write_mic(speech, realtime=True)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_microphone_audio_is_captured_and_transcribed(pulse, sentences):
    speech = np.concatenate(
        [np.zeros(SR // 2, np.float32), sentences[0], np.zeros(int(SR * 1.5), np.float32),
         sentences[4], np.zeros(SR * 2, np.float32)]
    )
    events = _listen(pulse, speech, speech.size / SR + 6.0)
    finals = " ".join(e["text"] for e in events if e["type"] == "transcript_final").lower()
    assert "support team" in finals and "agents" in finals, finals
    pauses = [e for e in events if e["type"] == "pause_ended" and e["long"]]
    assert len(pauses) == 1 and abs(pauses[0]["duration_s"] - 1.5) < 0.4
    assert events[-1]["type"] == "stats" and events[-1]["dropped"] == 0


def _listen_through_a_stall(pulse, sentences, gap: float, stall_in_second: float
                            ) -> tuple[list[dict], float]:
    """Two sentences into the virtual microphone; the listener (in a child, with
    the real PortAudio queue kept small) stalls 1.5 s once, ``stall_in_second``
    seconds after the second sentence starts (negative: before it), so blocks
    are dropped for real. Returns its events and when the second sentence starts."""
    lead = 0.5
    speech = np.concatenate(
        [np.zeros(int(SR * lead), np.float32), sentences[0], np.zeros(int(SR * gap), np.float32),
         sentences[4], np.zeros(SR * 2, np.float32)]
    )
    second_at = lead + (sentences[0].size / SR) + gap
    # Played as soon as the child is ready: its clock and the speech's agree.
    events = _listen(pulse, speech, speech.size / SR + 4.0, "--queue", "8",
                     "--stall-at", str(second_at + stall_in_second), "--stall", "1.5",
                     settle_s=0.0)
    stats = events[-1]
    assert stats["type"] == "stats" and stats["dropped"] > 20  # 1.5 s stall, 0.26 s queue
    return events, second_at


def test_audio_lost_when_falling_behind_is_reported_and_skipped_in_time(pulse, sentences):
    """A listener too slow for the microphone: the real PortAudio queue (kept
    small here) overflows and drops blocks. The user is told, and the clock
    skips the lost time, so later speech keeps its wall-clock position."""
    events, second_at = _listen_through_a_stall(pulse, sentences, gap=2.0, stall_in_second=-1.5)
    notices = [e for e in events if e["type"] == "notice"]
    assert len(notices) == 1 and "fell behind" in notices[0]["message"], notices
    starts = [e["t"] for e in events if e["type"] == "speech_started"]
    assert len(starts) == 2, events
    # Without the skip the second sentence would start ~1.2 s early on the timeline.
    assert abs(starts[1] - second_at) < 0.5, (starts, second_at)


def test_audio_lost_mid_sentence_leaves_the_earlier_audio_where_it_was(pulse, sentences):
    """Blocks dropped in the middle of an answer: the audio sent to Whisper for
    that segment must not slide back into the sentence before it (the history
    gets silence where the lost blocks were)."""
    events, _ = _listen_through_a_stall(pulse, sentences, gap=0.8, stall_in_second=1.0)
    finals = [e["text"].lower() for e in events if e["type"] == "transcript_final"]
    assert len(finals) >= 2 and "support team" in finals[0], finals
    later = " ".join(finals[1:])
    assert "earlier" in later, finals  # the end of the second sentence, after the gap
    # Shifted history put "...last year" (or more of the first sentence) in here.
    assert not any(w in later for w in ("year", "support", "team")), finals


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
