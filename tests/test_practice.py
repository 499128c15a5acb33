"""`voice-interview practice --headless`: the whole live session as JSON lines."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.audio_helpers import SR, write_wav16
from tests.cli_helpers import assert_clean_failure, run_cli
from tests.heard import likeness, line_audio, line_text, played_audio
from tests.speech_check import wer

# Piper through the null sink, heard by tiny.en: a probe comes back at 0-10 % WER.
PROBE_WER = 0.25
LIKENESS = 0.9  # the same samples through the sound server: ~0.99


def _answers(sentences, silence_s: float) -> np.ndarray:
    gap = np.zeros(int(SR * silence_s), np.float32)
    short = np.zeros(int(SR * 0.5), np.float32)
    parts = [np.zeros(SR // 2, np.float32)]
    for group in ([0, 1, 2], [3, 4], [5]):
        for i in group:
            parts += [sentences[i], short]
        parts.append(gap)
    return np.concatenate(parts)


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_headless_session_without_voice(tmp_path, sentences):
    path = write_wav16(tmp_path / "answers.wav", _answers(sentences, 3.5))
    proc = run_cli("practice", "--headless", "--input", str(path), "--no-voice",
                   "--patience", "2.0", "--max-probes", "2", home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    events = _events(proc.stdout)
    types = [e["type"] for e in events]
    for needed in ("question_asked", "speech_started", "pause_started", "transcript_final",
                   "turn_ended", "probe_asked", "voice_started", "voice_ended",
                   "answer_scored", "session_ended"):
        assert needed in types, needed
    assert all("t" in e and isinstance(e["t"], int | float) for e in events)
    turns = [e for e in events if e["type"] == "turn_ended"]
    assert [t["reason"] for t in turns] == ["silence", "silence", "silence"]
    probes = [e for e in events if e["type"] == "probe_asked"]
    assert len(probes) == 2 and probes[0]["text"] != probes[1]["text"]
    assert all(p["source"] == "planner" and p["reason"] for p in probes)
    ended = events[-1]
    assert ended["type"] == "session_ended" and ended["reason"] == "done"
    answers = ended["summary"]["answers"]
    assert [a["kind"] for a in answers] == ["question", "probe", "probe"]
    assert "support team" in answers[0]["transcript"].lower()
    assert "agents" in answers[1]["transcript"].lower()
    assert "customers" in answers[2]["transcript"].lower()
    assert answers[0]["analysis"]["structure"]["rubric"] == "deep_dive"
    # The turn ends on the first frame after the patience window.
    for t in turns:
        assert 0 <= t["t"] - (t["speech_end"] + 2.0) < 0.1


def test_interviewer_cuts_in_at_the_budget(tmp_path, sentences):
    speech = np.concatenate([s for s in sentences] + [np.zeros(SR * 3, np.float32)])
    path = write_wav16(tmp_path / "long.wav", speech)
    proc = run_cli("practice", "--headless", "--input", str(path), "--no-voice",
                   "--budget", "6", "--max-probes", "1", home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    events = _events(proc.stdout)
    hard = [e for e in events if e["type"] == "hard_budget_reached"]
    assert hard and abs(hard[0]["monologue_s"] - 6.0) < 0.1
    turn = next(e for e in events if e["type"] == "turn_ended")
    assert turn["reason"] == "budget"
    probe = next(e for e in events if e["type"] == "probe_asked")
    assert probe["cut_in"] is True
    # the follow-up is not given longer than the opening answer's budget
    assert probe["budget_s"] == 6.0 and probe["soft_budget_s"] == pytest.approx(5.0)
    voice = next(e for e in events if e["type"] == "voice_started" and e["t"] >= turn["t"])
    assert voice["text"].startswith("Let me stop you there")
    # The words said before the cut-in are part of the answer that was scored.
    first = events[-1]["summary"]["answers"][0]
    assert "support team" in first["transcript"].lower()


def test_an_unreachable_llm_is_reported_once_and_the_planner_asks(tmp_path, sentences):
    from tests.llm_server import free_port

    path = write_wav16(tmp_path / "answers.wav", _answers(sentences, 3.5))
    base = f"http://127.0.0.1:{free_port()}"  # a real refusal: nothing listens there
    proc = run_cli("practice", "--headless", "--input", str(path), "--no-voice",
                   "--patience", "2.0", "--max-probes", "2", "--model", "openai/local",
                   "--api-base", base, home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    events = _events(proc.stdout)
    probes = [e for e in events if e["type"] == "probe_asked"]
    assert len(probes) == 2 and all(p["source"] == "planner" for p in probes)
    assert "cannot reach the LLM" in probes[0]["reason"]
    assert "not asked again" in probes[1]["reason"]  # the second turn did not retry
    notices = [e["message"] for e in events if e["type"] == "notice"
               and "LLM" in e["message"]]
    assert len(notices) == 1, notices
    assert "offline interviewer asks for the next" in notices[0]


def test_probe_is_spoken_through_the_speaker(tmp_path, pulse, sentences, whisper):
    """Real voice, real PortAudio output: the null sink's monitor hears the probe."""
    path = write_wav16(tmp_path / "answers.wav", _answers(sentences, 8.0))
    rec = pulse.record_speaker()
    proc = run_cli("practice", "--headless", "--input", str(path), "--voice", "piper",
                   "--patience", "2.0", "--max-probes", "1", home=tmp_path / "home",
                   env=pulse.subprocess_env())
    heard = rec.stop()
    assert proc.returncode == 0, proc.stderr
    events = _events(proc.stdout)
    probe = next(e for e in events if e["type"] == "probe_asked")
    started = [e for e in events if e["type"] == "voice_started"]
    ended = [e for e in events if e["type"] == "voice_ended"]
    assert len(started) == len(ended) >= 3  # question, probe, closing line
    # The speaker carried exactly what the voice played: each line's stretch of the
    # recording matches the samples the session recorded for it (a gap, a cut or a
    # missing line breaks the match; another rendering of the same words scores ~0.3).
    said = line_text(events, 1)
    assert probe["text"] in said
    session_dir = next((tmp_path / "home").rglob("events.jsonl")).parent
    underruns = [e.get("underruns") for e in ended]
    heard_line = [line_audio(heard, events, index) for index in (0, 1)]
    for index in (0, 1):
        match = likeness(heard_line[index], played_audio(session_dir, index))
        assert match >= LIKENESS, (index, match, underruns)
    # ... and what it carried says the question and the probe (one WER over both: the
    # noisy Piper voice now and then renders a short line's word so that tiny.en
    # hears another, "it" as "what", which is the voice, not the path).
    lines = line_text(events, 0) + " " + said
    heard_lines = " ".join(w.word for audio in heard_line for w in whisper.transcribe(audio))
    assert wer(lines, heard_lines) <= PROBE_WER, (lines, heard_lines)
    # Half-duplex: the interviewer's words never show up as the candidate's.
    finals = " ".join(e["text"] for e in events if e["type"] == "transcript_final").lower()
    assert "take me through" not in finals
    # The session clock runs while the question is asked and the recording is
    # cued behind it: the candidate's audio starts after the question, on the
    # same timeline (it used to start at t=0, under the question).
    assert ended[0]["t"] > 1.0
    first_speech = next(e for e in events if e["type"] == "speech_started")
    assert first_speech["t"] >= ended[0]["t"] + 0.3


def test_no_microphone_points_to_input_and_demo(tmp_path):
    env = {"PULSE_SERVER": f"unix:{tmp_path}/none", "XDG_RUNTIME_DIR": str(tmp_path)}
    err = assert_clean_failure(run_cli("practice", "--headless", env=env), "no microphone")
    assert "--input" in err and "demo" in err


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--question", "nope"], "unknown question"),
        (["--format", "nope"], "unknown format"),
        (["--input", "/nonexistent.wav"], "no such file"),
    ],
)
def test_bad_options_get_one_line(tmp_path, sentences, args, needle):
    path = write_wav16(tmp_path / "a.wav", sentences[0])
    full = ["practice", "--headless", "--no-voice"]
    if "--input" not in args:
        full += ["--input", str(path)]
    assert_clean_failure(run_cli(*full, *args, home=tmp_path / "home"), needle)


def test_bad_config_file_gets_one_line(tmp_path, sentences):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text("[llm]\nmodel = \n")
    path = write_wav16(tmp_path / "a.wav", sentences[0])
    assert_clean_failure(run_cli("practice", "--headless", "--input", str(path), home=home),
                         "config.toml", "line")
    (home / "config" / "config.toml").write_text("[llm]\nmodle = 'x'\n")
    assert_clean_failure(run_cli("practice", "--headless", "--input", str(path), home=home),
                         "unknown setting 'modle'")
    (home / "config" / "config.toml").write_text("[session]\npatience_s = 0\n")
    assert_clean_failure(run_cli("practice", "--headless", "--input", str(path), home=home),
                         "patience_s must be more than 0")
    (home / "config" / "config.toml").write_bytes(b"[llm]\nmodel = '\xff\xfe'\n")
    assert_clean_failure(run_cli("practice", "--headless", "--input", str(path), home=home),
                         "not a UTF-8")
