"""Run the real command line in a subprocess, as a user would."""

from __future__ import annotations

import html
import os
import re
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


CHAR_W = 12.2  # rich's export_svg: 20 px lines x its 0.61 font aspect ratio


def screen_text(app) -> str:
    """The screen as text, read from the same SVG a snapshot stores."""
    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>',
                         svg):
        rows.setdefault(float(m[2]), []).append((float(m[1]), html.unescape(m[3])))
    out = []
    for _, parts in sorted(rows.items()):
        line = ""
        for x, t in sorted(parts):
            line = line.ljust(round(x / CHAR_W)) + t  # the column, from the x position
        out.append(line.replace("\xa0", " ").rstrip())
    return "\n".join(out)
