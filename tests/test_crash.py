"""Crash safety: a real child process recording in real time, killed with SIGKILL.

After each ``kill -9`` the store must notice the interrupted session, repair it
and list it as interrupted but replayable, having lost at most one second of
audio and no event the child had finished logging. The audio is a known signal,
so what survives is compared sample for sample, not only counted.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.cli_helpers import ROOT, run_cli
from tests.crash_child import expected_pcm
from voice_interview.session.files import SAMPLE_RATE
from voice_interview.session.store import SessionStore

MAX_LOSS_S = 1.0


@dataclass
class Killed:
    session_id: str
    fed_frames: int  # frames the child had handed to the writer (reported before the kill)
    last_event: int  # sequence number of the last event whose log_event() had returned


def record_and_kill(delay_s: float, env: dict, root: Path | None = None) -> Killed:
    """Start the recording child, SIGKILL it ``delay_s`` after it is ready."""
    cmd = [sys.executable, "-m", "tests.crash_child", "--seconds", "60"]
    if root is not None:
        cmd += ["--root", str(root)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith("READY"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not ready.wait(60):
        proc.kill()
        proc.wait()
        pytest.fail(f"the child never started: {proc.stderr.read()}")
    time.sleep(delay_s)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join(10)
    assert proc.returncode == -signal.SIGKILL
    sid = lines[0].split()[1]
    fed = max([int(x.split()[1]) for x in lines if x.startswith("A ")], default=0)
    last = max([int(x.split()[1]) for x in lines if x.startswith("E ")], default=-1)
    return Killed(sid, fed, last)


def check_recovered(store: SessionStore, k: Killed) -> float:
    """Assert the repaired session is whole; return the seconds of audio lost."""
    data = store.open(k.session_id)
    assert data.status == "interrupted"
    assert data.warnings == (), data.warnings
    got = np.asarray(data.candidate_pcm())
    # Never more than was fed (+ the block in flight when the child died) ...
    assert got.size <= k.fed_frames + 512
    # ... exactly the signal that was fed, sample for sample ...
    np.testing.assert_array_equal(got, expected_pcm(got.size))
    # ... and at most a second short.
    lost = max(0, k.fed_frames - got.size) / SAMPLE_RATE
    assert lost <= MAX_LOSS_S, f"lost {lost:.2f} s"
    # Every event whose log_event() had returned is there, in order, whole.
    seqs = [e["seq"] for e in data.events if e.get("type") == "tick"]
    assert seqs == list(range(len(seqs)))
    assert len(seqs) >= k.last_event + 1
    if k.fed_frames:  # logged before the first block was fed
        assert data.events[0]["type"] == "session_started"
    return lost


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_at_most_a_second(tmp_path):
    rng = random.Random(5)
    home = tmp_path / "home"
    env = {**os.environ, "VOICE_INTERVIEW_HOME": str(home)}
    env.pop("VOICE_INTERVIEW_DEBUG", None)
    killed = [record_and_kill(0.0, env)]  # before the first flush
    killed += [record_and_kill(rng.uniform(0.3, 3.0), env) for _ in range(5)]

    # The next command notices, repairs and lists them as interrupted.
    res = run_cli("sessions", "--json", home=home)
    assert res.returncode == 0, res.stderr
    assert "repaired 6 interrupted sessions" in res.stderr
    listed = {s["id"]: s for s in json.loads(res.stdout)}
    assert {k.session_id for k in killed} == set(listed)
    assert {s["status"] for s in listed.values()} == {"interrupted"}

    store = SessionStore(home / "data" / "recordings")
    losses = [check_recovered(store, k) for k in killed]
    assert max(losses) <= MAX_LOSS_S
    assert sum(k.fed_frames for k in killed[1:]) > 0
    for k in killed[1:]:  # each listed length is the audio that survived
        assert listed[k.session_id]["audio_s"] >= k.fed_frames / SAMPLE_RATE - MAX_LOSS_S

    # Replayable: the report of an interrupted session works, and repair ran once.
    res = run_cli("report", killed[-1].session_id, "--format", "json", home=home)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["session"]["status"] == "interrupted"
    assert "repaired" not in res.stderr


@pytest.mark.slow
def test_a_live_recording_is_not_repaired_under_its_feet(tmp_path):
    """While the child records, `sessions` lists it as recording and leaves it alone."""
    root = tmp_path / "rec"
    env = {**os.environ}
    proc = subprocess.Popen([sys.executable, "-m", "tests.crash_child", "--seconds", "3",
                             "--root", str(root)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first.startswith("READY")
    sid = first.split()[1]
    time.sleep(0.8)
    store = SessionStore(root)
    assert store.repair_interrupted() == []
    assert {i.id: i.status for i in store.list()}[sid] == "recording"
    proc.stdout.read()
    assert proc.wait(30) == 0
    data = store.open(sid)
    assert data.status == "complete"
    assert data.candidate_frames == int(3 * SAMPLE_RATE / 512) * 512
