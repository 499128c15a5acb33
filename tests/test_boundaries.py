"""Architecture rules that a test can hold: the engine never imports textual, heavy
libraries load only when needed, and the command line explains itself.

The engine is every module of the package outside ``voice_interview/tui``, found by
walking the package (a new module is covered the day it is added): all of them are
imported in one fresh interpreter, and their source is scanned for a textual import at
any depth (a function-level import runs only when that function does).
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys

import voice_interview
from tests.cli_helpers import ROOT, run_cli

PACKAGE = ROOT / "voice_interview"


def engine_modules() -> list[str]:
    """Every module of the package outside voice_interview.tui (and __main__, which runs)."""
    names = []
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="voice_interview."):
        name = info.name
        if name == "voice_interview.tui" or name.startswith("voice_interview.tui."):
            continue
        if name.endswith(".__main__"):
            continue
        names.append(name)
    return sorted(names)


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + (
        "print('\\n'.join(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_the_walk_finds_the_engine():
    """The walk reads this checkout, and finds the modules the hand-written list missed."""
    assert voice_interview.__file__.startswith(str(ROOT)), voice_interview.__file__
    found = engine_modules()
    for needed in ("voice_interview.session.orchestrator", "voice_interview.config",
                   "voice_interview.paths", "voice_interview.pacing",
                   "voice_interview.commands.practice", "voice_interview.commands.replay",
                   "voice_interview.cli"):
        assert needed in found, needed
    assert not any(n.startswith("voice_interview.tui") for n in found)


def test_engine_never_imports_textual_or_litellm():
    loaded = _loaded_after_import(engine_modules())
    assert "voice_interview" in loaded  # the import really happened
    assert "textual" not in loaded
    assert "litellm" not in loaded


def _textual_imports(path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []
        else:
            continue
        if any(n == "textual" or n.startswith("textual.") for n in names):
            lines.append(node.lineno)
    return lines


def test_no_textual_import_anywhere_outside_tui():
    """Static half: no `import textual` at any depth (function bodies included)."""
    files = [p for p in PACKAGE.rglob("*.py") if "tui" not in p.relative_to(PACKAGE).parts]
    assert len(files) >= len(engine_modules())  # the scan saw every walked module
    offenders = {str(p.relative_to(ROOT)): ln for p in files if (ln := _textual_imports(p))}
    assert offenders == {}


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
    assert "--json" in proc.stdout and "--whisper" in proc.stdout and "--text" in proc.stdout
