"""Every option a message names can be typed where the message is shown.

The check is mechanical: the real argparse parser gives each command's options;
an AST walk over voice_interview/ gives every string literal (docstrings aside)
and every import, so for each module we know which commands can reach it. An
option named in a string must then be an option of every command that reaches
the module, unless the string names the command itself ("voice-interview say
TEXT --out FILE.wav", "`analyze AUDIO --save`"): then of that command.

Limits, on purpose: reachability is by import (a superset of what runs), and it
does not pass through another command's module (demo calls practice's
``make_config``, whose messages are practice's); each command module's strings
are its own.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from voice_interview.cli import build_parser

PACKAGE = Path(__file__).resolve().parent.parent / "voice_interview"
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
QUALIFIER = re.compile(r"(?:[`'\"](?:voice-interview\s+)?|voice-interview\s+)([a-z]+)\b")
CLAUSE_END = re.compile(r"[;,()]")
# A string that is one option and nothing else is an argument vector's item (the
# llama.cpp server's command line, an add_argument name), not a message.
ARGV_ITEM = re.compile(r"--[\w-]+")


def command_options() -> tuple[dict[str, set[str]], set[str]]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    per_command = {name: {o for a in p._actions for o in a.option_strings}
                   for name, p in sub.choices.items()}
    top = {o for a in parser._actions for o in a.option_strings}
    return per_command, top


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String literals with their line, f-strings whole ("{}" for each field), no docstrings."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            out.append((node.lineno, text))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in skip and not ARGV_ITEM.fullmatch(node.value)):
            out.append((node.lineno, node.value))
    return out


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m in modules}


def _registered(tree: ast.AST) -> list[str]:
    """The command names a module registers (``sub.add_parser("name", ...)``)."""
    return [node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_parser" and node.args
            and isinstance(node.args[0], ast.Constant)]


def load_package() -> dict[str, ast.AST]:
    return {_module_name(p): ast.parse(p.read_text(encoding="utf-8"))
            for p in sorted(PACKAGE.rglob("*.py"))}


def reachers(trees: dict[str, ast.AST]) -> dict[str, set[str]]:
    """For each module, the commands whose module imports it (directly or not)."""
    names = set(trees)
    graph = {m: _imports(t, names) for m, t in trees.items()}
    command_modules = {m: _registered(t) for m, t in trees.items()
                       if m.startswith("voice_interview.commands.")}
    reached: dict[str, set[str]] = {m: set() for m in trees}
    for cmd_module, commands in command_modules.items():
        seen, todo = {cmd_module}, [cmd_module]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen and nxt not in command_modules:
                    seen.add(nxt)
                    todo.append(nxt)
        for m in seen:
            reached[m].update(commands)
    return reached


def qualified_command(text: str, pos: int, commands) -> str | None:
    """The command a string names just before ``pos`` in the same clause, if any."""
    before = text[:pos]
    cut = max((m.end() for m in CLAUSE_END.finditer(before)), default=0)
    hits = [m.group(1) for m in QUALIFIER.finditer(before, cut) if m.group(1) in commands]
    return hits[-1] if hits else None


def problems(trees: dict[str, ast.AST]) -> list[str]:
    per_command, top = command_options()
    reached = reachers(trees)
    reached["voice_interview.cli"] = {""}  # cli.py speaks for the top-level parser
    options = {**per_command, "": top}
    found = []
    for module, tree in trees.items():
        for line, text in _strings(tree):
            for m in OPTION.finditer(text):
                named = qualified_command(text, m.start(), per_command)
                contexts = {named} if named else reached[module]
                for ctx in sorted(contexts):
                    if m.group() not in options[ctx]:
                        where = f"voice-interview {ctx}".strip()
                        found.append(f"{module}:{line}: {m.group()} is not an option of "
                                     f"'{where}', which can show {text[:90]!r}")
    return found


def test_every_option_in_a_message_exists_where_it_is_shown():
    assert problems(load_package()) == []


def test_the_check_finds_an_option_from_the_wrong_command():
    """The message this test was written for: --out (a say option) in practice's TUI."""
    trees = load_package()
    assert reachers(trees)["voice_interview.tui.app"] >= {"practice"}
    assert reachers(trees)["voice_interview.tui.replay"] == {"replay"}
    trees["voice_interview.audio.playback"] = ast.parse(
        'NO_OUTPUT = "no audio output device found; use --out FILE.wav"')
    found = problems(trees)
    assert any("--out is not an option of 'voice-interview practice'" in p for p in found)
    assert any("'voice-interview replay'" in p for p in found)
    assert not any("'voice-interview say'" in p for p in found)  # say has --out
    # Naming the command makes the same advice right everywhere.
    trees["voice_interview.audio.playback"] = ast.parse(
        'NO_OUTPUT = "no output; voice-interview say TEXT --out FILE.wav writes a file"')
    assert not [p for p in problems(trees) if "audio.playback" in p]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_replay_without_a_speaker_says_what_works_in_replay(tmp_path):
    """The replay TUI on a device that is not there: its advice is replay's --device,
    not say's --out (what it said before)."""
    from tests.session_helpers import scripted_session
    from voice_interview.session.replay_model import ReplayAudio, build_timeline
    from voice_interview.session.store import SessionStore
    from voice_interview.tui.replay import ReplayApp

    store = SessionStore(tmp_path / "recordings")
    data = store.open(scripted_session(store))
    audio = ReplayAudio(data, device="no-such-output-device-xyz")
    app = ReplayApp(data, build_timeline(data), audio, autoplay=False)
    async with app.run_test(size=(120, 34)) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.audio_checked:
                break
        assert app.audio_checked and not app.audio_ok and audio.no_device
        message = str(app.query_one("#message").render())
    assert "transcript-only" in message and "--device" in message and "--out" not in message
    replay = command_options()[0]["replay"]
    assert all(opt in replay for opt in OPTION.findall(message)), message


def test_practice_without_a_speaker_says_what_works_in_practice(tmp_path):
    """The session's voice step on this machine's real (absent) output: the notice the
    practice TUI shows names only options practice and demo both have."""
    import json
    import subprocess
    import sys

    from tests.cli_helpers import ROOT

    runtime = tmp_path / "run"
    runtime.mkdir()
    env = {"PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": str(runtime),
           "PULSE_SERVER": f"unix:{runtime}/no-such-socket", "HOME": str(tmp_path),
           "VOICE_INTERVIEW_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    code = (
        "import json\n"
        "from voice_interview.session.orchestrator import PracticeSession, SessionConfig\n"
        "events = []\n"
        "s = PracticeSession(SessionConfig(voice='pyttsx3', save=False), events.append)\n"
        "s._load_voice()\n"
        "print(json.dumps([e.to_json() for e in events]))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    notices = [e["message"] for e in json.loads(res.stdout) if e["type"] == "notice"]
    assert len(notices) == 1 and "no audio output device found" in notices[0], notices
    message = notices[0]
    assert "--no-voice" in message and "--out" not in message
    options = command_options()[0]
    for opt in OPTION.findall(message):
        assert opt in options["practice"] and opt in options["demo"], (opt, message)
