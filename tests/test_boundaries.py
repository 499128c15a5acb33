"""Architecture rules that a test can hold: the engine never imports textual, heavy
libraries load only when needed, and the command line explains itself."""

from __future__ import annotations

import subprocess
import sys

from tests.cli_helpers import ROOT, run_cli

ENGINE = [
    "voice_interview.audio.sources", "voice_interview.audio.vad", "voice_interview.turns",
    "voice_interview.pacing", "voice_interview.analysis", "voice_interview.listener",
    "voice_interview.events", "voice_interview.speech.transcriber",
    "voice_interview.speech.voices", "voice_interview.interviewer.planner",
    "voice_interview.interviewer.rubric", "voice_interview.interviewer.llm",
    "voice_interview.cli",
]


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + (
        "print('\\n'.join(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return set(out.split())


def test_engine_never_imports_textual_or_litellm():
    loaded = _loaded_after_import(ENGINE)
    assert "voice_interview" in loaded  # the import really happened
    assert "textual" not in loaded
    assert "litellm" not in loaded


def test_cli_start_is_light():
    loaded = _loaded_after_import(["voice_interview.cli"])
    for heavy in ("numpy", "faster_whisper", "ctranslate2", "onnxruntime", "textual", "litellm",
                  "piper"):
        assert heavy not in loaded, heavy


def test_help_lists_every_command():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for cmd in ("analyze", "demo", "devices", "say"):
        assert cmd in proc.stdout
    proc = run_cli("analyze", "--help")
    assert "--json" in proc.stdout and "--model" in proc.stdout and "--text" in proc.stdout
