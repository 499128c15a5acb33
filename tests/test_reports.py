"""Session reports (md, html, json) through the real command, the HTML seen by Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess

import numpy as np
import pytest

from tests.cli_helpers import assert_clean_failure, run_cli
from tests.session_helpers import record_session
from voice_interview.session.store import SessionStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, synth, whisper):
    """A real two-answer session: Piper speech, Whisper transcripts, planner probe."""
    home = tmp_path_factory.mktemp("home")
    store = SessionStore(home / "data" / "recordings")
    sid = record_session(store, synth, whisper)
    return home, sid, store.open(sid)


def test_json_report_has_pacing_structure_probes_and_depth(recorded):
    home, sid, data = recorded
    res = run_cli("report", sid[:12], "--format", "json", home=home)
    assert res.returncode == 0, res.stderr
    rep = json.loads(res.stdout)
    assert rep["session"]["id"] == sid and rep["session"]["status"] == "complete"
    first, second = rep["answers"]
    stored = data.answers[0]["analysis"]["metrics"]
    assert first["wpm"] == pytest.approx(stored["wpm"], abs=0.1)
    assert first["long_pauses"] == stored["long_pause_count"] >= 1  # the 1.6 s gap
    assert first["kind"] == "question" and second["kind"] == "probe"
    assert first["structure"]["rubric"] == "deep_dive" and first["structure"]["covered"]
    [probe] = rep["probes"]
    assert probe["after_answer"] == 0 and first["probes_after"] == [probe]
    assert second["prompt"] == probe["text"]
    assert rep["depth"] == {"by_family": {probe["family"]: 1}, "max": 1, "branches": 1}
    tl = rep["timeline"]
    assert len(tl["interviewer"]) == 2 and len(tl["prompts"]) == 2
    assert any(long for _a, _b, long in tl["pauses"])
    # Times are on the session timeline: the second answer starts after the probe.
    assert first["end"] < probe["t"] < second["start"]


def test_markdown_report(recorded):
    home, sid, data = recorded
    res = run_cli("report", sid, home=home)
    assert res.returncode == 0, res.stderr
    md = res.stdout
    assert md.startswith(f"# Session {sid}")
    assert "| # | prompt | length | wpm |" in md
    assert "### Answer 1 (question)" in md and "### Answer 2 (probe)" in md
    assert "Structure (deep_dive): covered" in md
    probe = data.events_of("probe_asked")[0]["text"]
    assert probe in md and "## Probes and depth" in md


def _png(path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


def _html_report(recorded, tmp_path):
    home, sid, data = recorded
    out = tmp_path / "report.html"
    res = run_cli("report", sid, "--format", "html", "-o", str(out), home=home)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and f"wrote {out}" in res.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    return out, data


def test_html_report_is_self_contained(recorded, tmp_path):
    """The page's text checks need no browser: they run without Chromium too."""
    out, data = _html_report(recorded, tmp_path)
    page = out.read_text()
    # One file: no scripts, no stylesheets or images fetched from anywhere.
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", page)
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"] * 2
    assert page.count("<svg") == 2 and "<style>" in page
    n_segments = sum(len(a["analysis"]["speech_segments"]) for a in data.answers)
    assert page.count('fill="#2e9e5b"><title>speech') == n_segments
    assert page.count("<polyline") + page.count('r="3.5"') >= 1  # the wpm line (or point)


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium is not installed (apt-get install chromium)")
def test_html_report_renders(recorded, tmp_path):
    out, _ = _html_report(recorded, tmp_path)
    shot = tmp_path / "report.png"
    profile = tmp_path / "chromium-profile"
    proc = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={shot}",
         "--window-size=1200,900", f"file://{out}"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert shot.exists(), proc.stderr[-2000:]
    img = _png(shot)
    assert img.shape[:2] == (900, 1200)
    flat = img.reshape(-1, 3).astype(int)
    background = np.array([251, 251, 253])
    inked = np.abs(flat - background).sum(axis=1) > 30
    assert inked.mean() > 0.03  # text, lanes and chart, not a blank page
    assert len(np.unique(flat // 8, axis=0)) > 40
    # The SVG timeline itself was drawn: pixels of the speech green and the voice blue.
    for rgb in ((46, 158, 91), (79, 111, 214)):
        assert (np.abs(flat - np.array(rgb)).sum(axis=1) < 12).sum() > 300, rgb


def test_report_errors_are_one_clean_line(recorded, tmp_path):
    home, sid, _data = recorded
    assert_clean_failure(run_cli("report", "nope", home=home), "no session 'nope'")
    res = run_cli("report", sid, "--format", "html", "-o", str(tmp_path / "no" / "x.html"),
                  home=home)
    assert_clean_failure(res, "cannot write")
    res = run_cli("report", sid, "--format", "pdf", home=home)
    assert res.returncode == 2 and "invalid choice" in res.stderr
