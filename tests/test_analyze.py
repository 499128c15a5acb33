"""`voice-interview analyze`: the real command on real and synthesized speech."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.audio_helpers import SENTENCES, SR, join_clips, shared_clip, write_wav16
from tests.cli_helpers import ROOT, assert_clean_failure, run_cli
from voice_interview.analysis import analyze_samples
from voice_interview.audio.sources import decode_file

# Gaps stay clear of the 1.0 s "long" line once the clips' own edge silences
# (about 0.1 s each) are added: 0.8 s gave true pauses of 0.95-1.05 s and a coin toss.
GAPS = [0.5, 1.2, 0.4, 2.0, 1.5, 0.6, 1.1, 0.6]
CONTRACT = {
    "audio": {"path", "duration_s", "sample_rate"},
    "metrics": {"speech_span_s", "speaking_time_s", "word_count", "wpm", "articulation_wpm",
                "pause_count", "pauses_per_min", "median_pause_s", "long_pause_count",
                "longest_pause_s", "filler_count", "fillers", "monologue_s"},
    "timings": {"model_load_s", "transcribe_s", "analyze_s", "rtf"},
}


@pytest.fixture(scope="module")
def answer(sentences):
    clips = sentences + sentences[:3]
    words = sum(len(s.split()) for s in SENTENCES + SENTENCES[:3])
    return join_clips(clips, GAPS, words=words)


def _check_analysis(result, joined, tol_pause=0.15, tol_wpm=0.07):
    true_wpm = 60 * joined.words / (joined.span[1] - joined.span[0])
    assert result.metrics.wpm == pytest.approx(true_wpm, rel=tol_wpm)
    long_truth = [p for p in joined.pauses if p[1] - p[0] >= 1.0]
    for t0, t1 in long_truth:  # every long pause found, its length right
        match = [p for p in result.pauses if abs(p.start - t0) < 0.3]
        assert match, f"pause {t0:.2f}-{t1:.2f} missed"
        assert abs(match[0].duration_s - (t1 - t0)) <= tol_pause
    for p in result.pauses:  # none invented: a long pause found is a long pause there
        if p.long:
            assert any(abs(p.start - t0) < 0.3 for t0, _ in long_truth), p


@pytest.mark.parametrize("noise", [None, -45.0])
def test_synthesized_answer_pauses_and_pace(answer, whisper, noise):
    joined = answer
    if noise is not None:
        rng = np.random.default_rng(7)
        joined = type(answer)(
            answer.samples + (10 ** (noise / 20)) * rng.standard_normal(answer.samples.size)
            .astype(np.float32), answer.pauses, answer.span, answer.words)
    result = analyze_samples(joined.samples, whisper)
    _check_analysis(result, joined)
    text = result.transcript.lower()
    assert "support team" in text and "agents" in text


def test_real_recordings_pauses_and_pace(whisper):
    from tests.audio_helpers import join_clips as join

    names = [f"spk{s}_snt{i}.wav" for s in (1, 2) for i in (1, 2, 3, 4)]
    clips = [decode_file(shared_clip(n)) for n in names]
    # Reference transcripts from ../shared/speech/README.md: 62 words.
    joined = join(clips, [1.0, 1.4, 0.5, 2.0, 1.2, 3.0, 0.7], words=62)
    result = analyze_samples(joined.samples, whisper)
    _check_analysis(result, joined)


def test_json_contract_via_the_real_command(tmp_path, answer):
    path = write_wav16(tmp_path / "answer.wav", answer.samples)
    proc = run_cli("analyze", str(path), "--json", home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one JSON object on stdout
    for key in ("audio", "transcript", "words", "speech_segments", "pauses", "metrics",
                "feedback", "timings", "structure", "probes"):
        assert key in doc
    for key, fields in CONTRACT.items():
        assert fields <= set(doc[key]), (key, fields - set(doc[key]))
    assert doc["audio"]["sample_rate"] == SR and doc["audio"]["path"] == str(path)
    w = doc["words"][0]
    assert set(w) == {"word", "start", "end", "probability"} and w["start"] < w["end"]
    assert all(set(s) == {"start", "end"} for s in doc["speech_segments"])
    p = doc["pauses"][0]
    assert set(p) >= {"start", "end", "duration_s", "long", "mid_sentence"}
    assert {f["severity"] for f in doc["feedback"]} <= {"info", "warn", "flag"}
    assert all(set(f) >= {"kind", "severity", "message"} for f in doc["feedback"])
    assert doc["metrics"]["long_pause_count"] == 4
    assert doc["structure"]["rubric"] == "deep_dive" and len(doc["probes"]) == 3
    assert all(set(pr) >= {"family", "text", "reason"} for pr in doc["probes"])
    assert doc["timings"]["rtf"] > 0


def test_readable_report(tmp_path, answer):
    path = write_wav16(tmp_path / "answer.wav", answer.samples)
    proc = run_cli("analyze", str(path), home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for needle in ("Pace", "wpm", "Long pauses", "Feedback", "Structure", "ask next"):
        assert needle in out


def test_pure_silence_is_a_valid_result(tmp_path):
    path = write_wav16(tmp_path / "silence.wav", np.zeros(SR * 20, dtype=np.float32))
    proc = run_cli("analyze", str(path), "--json", home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["words"] == [] and doc["metrics"]["word_count"] == 0
    assert doc["metrics"]["wpm"] is None
    assert any(f["kind"] == "no_speech" for f in doc["feedback"])


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make,needle",
    [
        (lambda d: d / "nope.wav", "no such file"),
        (lambda d: _write(d / "z.wav", b""), "empty"),
        (lambda d: _write(d / "c.mp3", bytes(range(256)) * 64), "audio"),
    ],
    ids=["missing", "zero-length", "corrupt"],
)
def test_bad_audio_gets_one_line(tmp_path, make, needle):
    proc = run_cli("analyze", str(make(tmp_path)), home=tmp_path / "home")
    assert_clean_failure(proc, needle)


def test_unknown_and_undownloaded_models(tmp_path, answer):
    path = write_wav16(tmp_path / "a.wav", answer.samples[: SR * 3])
    assert_clean_failure(run_cli("analyze", str(path), "--model", "gigantic"), "unknown model")
    err = assert_clean_failure(
        run_cli("analyze", str(path), "--model", "large-v3", env={"HF_HOME": str(tmp_path)}),
        "large-v3",
    )
    assert "download" in err
    assert_clean_failure(run_cli("analyze", str(path), "--model", str(tmp_path)), "model.bin")


def test_usage_errors(tmp_path):
    assert_clean_failure(run_cli("analyze"), "AUDIO")
    assert_clean_failure(run_cli("analyze", "--text", str(tmp_path / "none.txt")), "no such file")


@pytest.mark.slow
def test_one_hour_file_works_with_bounded_memory(tmp_path, sentences):
    """An hour of mostly silence with speech now and then: VAD covers it all."""
    import resource
    import subprocess
    import sys

    path = tmp_path / "hour.wav"
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        quiet = np.zeros(SR * 58, dtype="<i2").tobytes()
        for minute in range(60):
            clip = sentences[minute % len(sentences)]
            w.writeframes((clip * 32767).astype("<i2").tobytes() + quiet)
    code = (
        "import json,resource,sys;from voice_interview.cli import main;"
        "rc=main(['analyze',sys.argv[1],'--json']);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["audio"]["duration_s"] > 3600
    assert doc["metrics"]["long_pause_count"] == 59
    peak_mb = int(proc.stderr.strip().splitlines()[-1]) / 1024
    print(f"peak RSS for a one-hour file: {peak_mb:.0f} MB")
    # The decoded hour is 230 MB of float32; the model and runtime add a few hundred.
    assert peak_mb < 1200, peak_mb
    del resource
