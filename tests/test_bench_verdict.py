"""The benchmarks' shared verdict: a missed target fails unless --report-only."""

from __future__ import annotations

import subprocess

from benchmarks import verdict
from tests.cli_helpers import ROOT


def test_a_missed_target_exits_1_and_says_which(capsys):
    assert verdict.finish("bench_x", [("speed", True), ("memory", False)], argv=[]) == 1
    line = capsys.readouterr().out.strip()
    assert line == "bench_x: FAIL (1/2 targets met; missed: memory)"


def test_all_met_is_a_pass_and_report_only_never_fails(capsys):
    assert verdict.finish("bench_x", [("speed", True)], argv=[]) == 0
    assert capsys.readouterr().out.strip() == "bench_x: PASS (1/1 targets met)"
    assert verdict.finish("bench_x", [("speed", False)], argv=["--report-only"]) == 0
    assert "FAIL" in capsys.readouterr().out


def test_no_target_checked_is_not_a_pass():
    assert verdict.finish("bench_x", [], argv=[]) == 1


def test_every_benchmark_script_ends_with_the_verdict():
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    assert len(scripts) >= 9
    for path in scripts:
        text = path.read_text()
        assert "verdict.finish(" in text, path.name
        assert "add_arguments(" in text, path.name  # --report-only on its command line


def _run_all(tmp_path, script: str) -> subprocess.CompletedProcess:
    """run_all.sh with a stand-in interpreter (named as such: a benchmark that fails or
    prints no verdict, without spending minutes on a real one)."""
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    return subprocess.run(["bash", str(ROOT / "benchmarks" / "run_all.sh")], cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": str(fake),
                               "BENCH_ONLY": "planner"}, capture_output=True, text=True)


def test_run_all_fails_when_a_script_fails(tmp_path):
    proc = _run_all(tmp_path, "echo 'bench_planner: FAIL (0/1 targets met)'\nexit 1\n")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "bench_planner      rc=1" in proc.stdout and "FAILED" in proc.stdout
    proc = _run_all(tmp_path, "echo 'bench_planner: PASS (1/1 targets met)'\nexit 0\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_run_all_fails_when_a_script_prints_no_verdict(tmp_path):
    proc = _run_all(tmp_path, "echo 'some figures'\nexit 0\n")
    assert proc.returncode == 1 and "printed no verdict line" in proc.stdout, proc.stdout
