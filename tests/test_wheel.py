"""The built wheel runs on its own: installed non-editable into a fresh venv,
started from another directory, it finds its question banks and rubrics.

The fresh venv borrows the already-installed dependencies (numpy, faster-whisper,
Piper...) through a .pth line instead of downloading them again; the package
itself comes only from the wheel (checked below), which is what this is about.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    (wheel,) = dist.glob("voice_interview-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    # pip's --python installs into another environment (pip >= 22.3; set-up upgrades pip).
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
         "--disable-pip-version-check", "-q", str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    # Dependencies from this interpreter's site-packages, after the venv's own.
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (_site_packages(py) / "zz_borrowed_deps.pth").write_text("\n".join(deps) + "\n")
    return env_dir, tmp


def _site_packages(py: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _run(env_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VOICE_INTERVIEW_DATA", "VOICE_INTERVIEW_DEBUG")}
    env["VOICE_INTERVIEW_HOME"] = str(cwd / "home")
    return subprocess.run([str(env_dir / "bin" / "voice-interview"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_wheel_carries_its_data_and_runs_from_elsewhere(installed):
    env_dir, tmp = installed
    where = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c",
         "import voice_interview.resources as r; print(r.__file__); print(r.data_root())"],
        cwd=tmp, capture_output=True, text=True, check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    ).stdout.split()
    assert where[0].startswith(str(env_dir)), where  # the wheel's copy, not the checkout
    assert where[1].startswith(str(env_dir)) and where[1].endswith("_data"), where
    answer = tmp / "answer.txt"
    answer.write_text(
        "I led the migration of our billing service to a queue. The problem was that "
        "invoices were sent twice. We chose Kafka over RabbitMQ because we needed replay, "
        "and duplicates dropped from two percent to almost zero.\n"
    )
    proc = _run(env_dir, tmp, "analyze", "--text", str(answer), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["probes"] and data["structure"]["parts"], data


@pytest.mark.slow
def test_the_wheel_runs_the_demo_from_elsewhere(installed):
    env_dir, tmp = installed
    proc = _run(env_dir, tmp, "demo", "--no-voice", "--json", "--llm", "none")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    # The sample candidate answered the opening question and its probes were asked.
    assert len(data["answers"]) >= 2 and data["probes"], proc.stdout[:500]
    assert data["answers"][0]["transcript"].strip()
