"""Mistyped names are reported first: one line naming the bad value and the valid
ones (closest first), before any device, model or file is opened.

The commands run as a user runs them, on this machine's real (absent) audio: the
PulseAudio client is pointed at a socket nobody listens on, so PortAudio finds no
microphone and no speaker. A check that ran after the device lookup would answer
"no microphone found" instead, which is what these tests rule out.
"""

from __future__ import annotations

import pytest

from tests.cli_helpers import assert_clean_failure, run_cli


@pytest.fixture
def no_device(tmp_path) -> dict:
    runtime = tmp_path / "run"
    runtime.mkdir()
    conf = tmp_path / "client.conf"
    conf.write_text("autospawn = no\n")
    return {"XDG_RUNTIME_DIR": str(runtime), "PULSE_SERVER": f"unix:{runtime}/no-such-socket",
            "PULSE_CLIENTCONFIG": str(conf), "VOICE_INTERVIEW_HOME": str(tmp_path / "home")}


def _fails(env, *args, needles=(), code=2) -> str:
    res = run_cli(*args, env=env, timeout=120)
    err = assert_clean_failure(res, *needles)
    assert res.returncode == code, (res.returncode, err)
    assert "microphone" not in err and "audio output" not in err, err
    return err


def test_there_really_is_no_microphone_here(no_device):
    """The precondition of the tests below, seen through the same command."""
    res = run_cli("practice", "--headless", env=no_device, timeout=120)
    err = assert_clean_failure(res, "no microphone found")
    assert res.returncode == 4 and "--input" in err


@pytest.mark.parametrize("args,needles", [
    (["--question", "dd-end-to-edn"], ["unknown question 'dd-end-to-edn'",
                                       "did you mean 'dd-end-to-end'", "questions.toml"]),
    (["--question", "nope"], ["unknown question 'nope'", "choose from"]),
    (["--category", "deepdive"], ["invalid choice 'deepdive'", "did you mean 'deep-dive'",
                                  "behavioral"]),
    (["--format", "deep-dive"], ["unknown format 'deep-dive'", "did you mean 'deep-dive-45'",
                                 "conversational"]),
    (["--voice", "espeak"], ["invalid choice 'espeak'", "piper, pyttsx3"]),
    (["--llm", "llama 3"], ["'llama 3' is not an llm model name", "ollama/llama3.2"]),
    (["--patience", "0"], ["patience must be more than 0"]),
    (["--budget", "-5"], ["budget must be more than 0"]),
    (["--max-probes", "-1"], ["probes cannot be negative"]),
], ids=["question-typo", "question", "category", "format", "voice", "llm-model", "patience",
        "budget", "max-probes"])
def test_practice_names_the_bad_value_not_the_missing_microphone(no_device, args, needles):
    _fails(no_device, "practice", "--headless", *args, needles=needles)


def test_a_bad_name_comes_before_a_missing_file(no_device, tmp_path):
    missing = str(tmp_path / "nowhere.wav")
    _fails(no_device, "practice", "--headless", "--input", missing, "--format", "nope",
           needles=["unknown format 'nope'"])
    _fails(no_device, "analyze", missing, "--model", "tiny.e",
           needles=["unknown model 'tiny.e'", "did you mean 'tiny.en'", "local model folder"])
    # rescore: the session is not looked up before the names are checked.
    _fails(no_device, "rescore", "no-such-session", "--rubric", "starr",
           needles=["unknown rubric 'starr'", "did you mean 'star'", "deep_dive"])
    _fails(no_device, "rescore", "no-such-session", "--model", "smal",
           needles=["unknown model 'smal'", "did you mean 'small'"])
    _fails(no_device, "rescore", "no-such-session", "--llm", " ",
           needles=["not an llm model name"])
    # And with good names, the missing things are what is reported.
    res = run_cli("practice", "--headless", "--input", missing, env=no_device)
    assert_clean_failure(res, "no such file")
    res = run_cli("rescore", "no-such-session", "--rubric", "star", env=no_device)
    assert_clean_failure(res, "no session 'no-such-session'")


def test_argparse_errors_are_one_line_too(no_device):
    _fails(no_device, "report", "last", "--format", "pdf",
           needles=["invalid choice 'pdf'", "md, html, json", "voice-interview report -h"])
    _fails(no_device, "sesions", needles=["invalid choice 'sesions'",
                                          "did you mean 'sessions'"])
    _fails(no_device, "practice", "--patience", "soon", needles=["--patience", "soon"])


def test_old_model_spellings_still_work_with_one_notice_after_the_output(no_device, tmp_path):
    """--whisper names the speech-to-text model, --llm the interviewer's; --model still
    works for either, and says so in one line once the command is done."""
    text = tmp_path / "answer.txt"
    text.write_text("I built a service that cut the build time by half.\n")
    new = run_cli("analyze", "--text", str(text), "--whisper", "base", "--json", env=no_device)
    old = run_cli("analyze", "--text", str(text), "--model", "base", "--json", env=no_device)
    assert new.returncode == 0 and old.returncode == 0, (new.stderr, old.stderr)
    assert new.stdout == old.stdout and new.stderr.strip() == ""
    assert old.stderr.strip().splitlines() == [
        "voice-interview: --model for the Whisper model is deprecated; use --whisper"]
    # A bad name with the old spelling is still one line, the error's.
    _fails(no_device, "analyze", str(text), "--model", "tiny.e", needles=["unknown model"])
