"""`sessions`, `progress` and `rescore` through the real command line."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from tests.cli_helpers import assert_clean_failure, run_cli
from tests.session_helpers import SCRIPT, abandon, record_session, scripted_session
from tests.speech_check import wer
from voice_interview.session.files import FORMAT_VERSION, META
from voice_interview.session.store import SessionStore

KEYS = {"id", "path", "started_at", "question", "status", "audio_s", "answers"}


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def store(home):
    return SessionStore(home / "data" / "recordings")


def three_sessions(store) -> list[str]:
    """Oldest to newest, pace falling from ~190 to ~125 wpm (scripted word rates)."""
    return [scripted_session(store, started_at=f"2025-01-0{d}T09:30:00+00:00", wpm=wpm)
            for d, wpm in ((1, 230.0), (3, 190.0), (5, 150.0))]


def test_nothing_recorded_yet(home):
    res = run_cli("sessions", home=home)
    assert res.returncode == 0 and "No recorded sessions yet" in res.stdout
    res = run_cli("sessions", "--json", home=home)
    assert res.returncode == 0 and json.loads(res.stdout) == []
    res = run_cli("progress", home=home)
    assert res.returncode == 0 and "No scored sessions yet" in res.stdout
    assert_clean_failure(run_cli("replay", home=home), "no recorded sessions yet")


def test_sessions_table_and_json(home, store):
    ids = three_sessions(store)
    res = run_cli("sessions", home=home)  # piped: 80 columns (COLUMNS unset), no colour
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split()[:4] == ["session", "·", "question", "length"]
    assert max(len(ln) for ln in lines) <= 80 and "\x1b[" not in res.stdout
    rows = [ln for ln in lines if ln.startswith(tuple(ids))]
    assert [r.split()[0] for r in rows] == ids[::-1]  # newest first
    cells = rows[0].split()  # id, length, wpm, long, cover, status
    assert len(cells) == 6 and cells[-1] == "complete" and cells[3] == "2"
    below = lines[lines.index(rows[0]) + 1]
    assert below.startswith("Walk me through a project") and "3 sessions" in res.stdout
    # Wide enough, the date gets a column of its own and the question one line.
    res = run_cli("sessions", home=home, env={"COLUMNS": "150"})
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["date", "question", "length"]
    rows = [ln for ln in lines if ln.endswith(tuple(ids))]
    assert [r.split()[-1] for r in rows] == ids[::-1]
    assert rows[0].startswith("2025-01-05 09:30") and "complete" in rows[0]
    assert SCRIPT[0][0] in rows[0]

    res = run_cli("sessions", "--json", home=home)
    listed = json.loads(res.stdout)
    assert [s["id"] for s in listed] == ids[::-1]
    for s in listed:
        assert set(s) >= KEYS
        assert s["status"] == "complete" and s["answers"] == 2 and s["audio_s"] > 20
        assert s["question"] == SCRIPT[0][0]
        assert s["long_pauses"] == 2 and 0 < s["coverage"] < 1
    assert listed[0]["wpm"] < listed[1]["wpm"] < listed[2]["wpm"]
    res = run_cli("sessions", "--json", "--limit", "1", home=home)
    assert [s["id"] for s in json.loads(res.stdout)] == ids[-1:]


def test_interrupted_damaged_and_newer_sessions_in_the_listing(home, store):
    good = scripted_session(store, started_at="2025-01-01T09:00:00+00:00")
    w = scripted_session(store, started_at="2025-01-02T09:00:00+00:00", finish=False)
    abandon(w)
    res = run_cli("sessions", "--json", home=home)
    assert res.returncode == 0
    assert f"repaired 1 interrupted session ({w.id})" in res.stderr
    status = {s["id"]: s["status"] for s in json.loads(res.stdout)}
    assert status == {good: "complete", w.id: "interrupted"}
    res = run_cli("report", w.id, home=home)
    assert res.returncode == 0 and "interrupted" in res.stdout

    meta = store.root / good / META
    doc = json.loads(meta.read_text())
    meta.write_text(json.dumps({**doc, "format": FORMAT_VERSION + 1}))
    err = assert_clean_failure(run_cli("report", good, home=home), "newer voice-interview")
    assert "upgrade" in err
    assert_clean_failure(run_cli("replay", good, home=home), "newer voice-interview")
    meta.write_text("{ not json")
    assert_clean_failure(run_cli("rescore", good, home=home), "damaged")
    assert run_cli("sessions", home=home).returncode == 0  # the list still works
    assert_clean_failure(run_cli("report", "2025", home=home), "matches 2 sessions")


def test_progress_chart_and_series(home, store):
    ids = three_sessions(store)
    res = run_cli("progress", home=home)  # not a terminal: the plain-text form
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "Progress over 3 sessions" in out
    for title in ("Pace (wpm)", "Long pauses (/min)", "Fillers (/min)",
                  "Structure coverage (%)"):
        assert title in out
    assert "inside the 120–165 band" in out  # ~190 -> ~125 wpm
    # One row per session, oldest first, with its numbers.
    rows = [ln for ln in out.splitlines() if ln.endswith(tuple(ids))]
    assert [r.split()[-1] for r in rows] == ids
    assert [float(r.split()[2]) for r in rows] == sorted(
        (float(r.split()[2]) for r in rows), reverse=True)
    assert "\x1b[" not in out and "┤" not in out  # no chart, no colour in a pipe
    res = run_cli("progress", "--json", home=home)
    doc = json.loads(res.stdout)
    assert [p["id"] for p in doc["sessions"]] == ids  # oldest first
    wpm = [p["wpm"] for p in doc["sessions"]]
    assert wpm == sorted(wpm, reverse=True) and wpm[0] > 165 > wpm[-1]
    assert all(p["long_pauses_per_min"] > 0 for p in doc["sessions"])


def _in_tmux(tmp_path, home, command: str, height: int) -> tuple[str, str]:
    """Run ``voice-interview COMMAND`` in a real 80-column terminal; (screen, exit code)."""
    import os
    import shlex
    import sys

    from tests.test_tui_tmux import ROOT, Tmux, exit_code

    exit_file = tmp_path / f"exit-{command}"
    line = (f"cd {shlex.quote(str(ROOT))} && env TERM=xterm-256color "
            f"VOICE_INTERVIEW_HOME={shlex.quote(str(home))} {shlex.quote(sys.executable)} "
            f"-m voice_interview {command}; echo $? > {shlex.quote(str(exit_file))}; sleep 60")
    tmux = Tmux(f"vi-{command}-{os.getpid()}", line, width=80, height=height)
    try:
        code = exit_code(tmux, exit_file, within_s=60)
        return tmux.screen(), code
    finally:
        tmux.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_sessions_and_progress_in_an_80_column_terminal(tmp_path, home, store):
    ids = three_sessions(store)
    screen, code = _in_tmux(tmp_path, home, "sessions", height=30)
    assert code == "0" and "Traceback" not in screen, screen
    lines = screen.splitlines()
    assert all(len(ln) <= 80 for ln in lines)
    header = next(ln for ln in lines if "question" in ln)
    assert header.split()[-5:] == ["length", "wpm", "long", "cover", "status"], screen
    rows = [ln for ln in lines if ln.startswith(tuple(ids))]
    assert [r.split()[0] for r in rows] == ids[::-1] and all("complete" in r for r in rows)
    assert sum("Walk me through a project" in ln for ln in lines) == 3, screen
    assert "3 sessions" in screen

    screen, code = _in_tmux(tmp_path, home, "progress", height=80)
    assert code == "0" and "Traceback" not in screen, screen
    assert "Progress over 3 sessions" in screen and "inside the 120–165 band" in screen
    lines = screen.splitlines()
    # Four line charts, each with a y axis (ticks ┤), a box and the sessions' dates
    # on its x axis.
    assert sum(ln.lstrip().startswith("└┬") for ln in lines) == 4, screen
    assert sum("2025-01-01" in ln and "2025-01-05" in ln and "→" not in ln
               for ln in lines) == 4, screen
    pace = lines[next(k for k, ln in enumerate(lines) if ln.startswith("Pace (wpm)")):]
    pace = pace[:next(k for k, ln in enumerate(pace) if ln.lstrip().startswith("└"))]
    # The good band: two horizontal lines across the plot, at the y labels of its edges.
    band = [ln.split("├")[0].strip() for ln in pace if "├" in ln[:6] and ln.count("─") > 20]
    assert band == ["165", "120"], "\n".join(pace)
    assert any(c in "".join(pace) for c in "⠁⠂⠄⡀⠈⠐⠠⢀⣀⠤⠒⠉"), pace  # the line itself


def _digest(folder) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_rescore_with_another_rubric_leaves_the_session_alone(home, store):
    sid = scripted_session(store)
    before = _digest(store.root / sid)
    res = run_cli("rescore", sid, "--rubric", "star", "--json", home=home)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    first = doc["answers"][0]
    assert first["original"]["rubric"] == "deep_dive"
    assert first["rescored"]["rubric"] == "star"
    assert {"situation", "task", "action", "result"} >= set(first["rescored"]["covered"]) | \
        set(first["rescored"]["missing"])
    assert first["rescored"]["probes"] and first["rescored"]["words"] == \
        first["original"]["words"]
    assert first["rescored"]["wpm"] == pytest.approx(first["original"]["wpm"], abs=0.1)
    assert doc["asked"][0]["family"] == "decisions"
    res = run_cli("rescore", sid, "--rubric", "star", home=home)
    assert res.returncode == 0 and "rescored (star)" in res.stdout
    assert "the recording is unchanged" in res.stdout
    assert _digest(store.root / sid) == before
    assert_clean_failure(run_cli("rescore", sid, "--rubric", "nope", home=home),
                         "unknown rubric 'nope'")


@pytest.mark.slow
def test_rescore_transcribes_again_with_a_model(home, store, synth, whisper):
    sid = record_session(store, synth, whisper)
    before = _digest(store.root / sid)
    res = run_cli("rescore", sid, "--model", "tiny.en", "--json", home=home)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    data = store.open(sid)
    for ans, stored in zip(doc["answers"], data.answers, strict=True):
        again = ans["analysis"]
        assert again["span"]["start"] < stored["analysis"]["words"][0]["start"]
        # Same audio, same model: (nearly) the same words -- Whisper may differ by a
        # word on a differently cut slice -- on the session timeline, not the slice's:
        # speech found where it was (VAD, 32 ms steps), words near it.
        # Two decodes of differently cut slices of the same (randomly synthesized)
        # speech: seen to differ by up to 3 words in 18 ("help"/"helped", a comma).
        assert wer(stored["analysis"]["transcript"], again["transcript"]) <= 0.25
        assert abs(ans["rescored"]["words"] - ans["original"]["words"]) <= max(
            3, 0.25 * ans["original"]["words"])  # the same 25 % as the WER bound above
        assert again["speech_segments"][0]["start"] == pytest.approx(
            stored["analysis"]["speech_segments"][0]["start"], abs=0.15)
        assert again["words"][0]["start"] == pytest.approx(
            stored["analysis"]["words"][0]["start"], abs=0.6)
    assert _digest(store.root / sid) == before
    assert_clean_failure(run_cli("rescore", sid, "--model", "no-such-model", home=home))


def test_replay_outside_a_terminal_points_to_the_report(home, store):
    sid = scripted_session(store)
    err = assert_clean_failure(run_cli("replay", sid[:10], home=home), "needs a terminal")
    assert f"voice-interview report {sid}" in err


def test_rescore_asks_an_llm_and_falls_back_when_it_is_down(home, store):
    """An LLM server that is not there (a closed loopback port): the planner answers."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sid = scripted_session(store)
    res = run_cli("rescore", sid, "--llm", "openai/local-model", "--api-base",
                  f"http://127.0.0.1:{port}/v1", "--json", home=home, timeout=120)
    assert res.returncode == 0, res.stderr
    probe = json.loads(res.stdout)["answers"][0]["analysis"]["llm_probe"]
    assert probe["source"] == "planner" and "planner probe used" in probe["reason"]
    assert probe["text"].endswith("?")
