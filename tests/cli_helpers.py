"""Run the real command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None, timeout: float = 600, home: Path | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("VOICE_INTERVIEW_DEBUG", None)
    if home is not None:
        full_env["VOICE_INTERVIEW_HOME"] = str(home)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "voice_interview", *args],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, input=input,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Non-zero exit, one readable line on stderr, no traceback."""
    assert proc.returncode != 0, proc
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line, got: {err!r}"
    for needle in needles:
        assert needle.lower() in err.lower(), (needle, err)
    return err
