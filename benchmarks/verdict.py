"""One verdict for every benchmark script: a missed target is a failure.

Each script collects its targets as (name, met) pairs and ends with::

    return verdict.finish("bench_x", checks)

``finish`` prints one line, ``bench_x: PASS (3/3 targets met)`` or
``bench_x: FAIL (2/3 targets met; missed: ...)``, and returns the exit code: 1 when a
target is missed, 0 otherwise, unless ``--report-only`` is on the command line (then
the figures are printed and the exit code is 0). ``--strict`` is still accepted (it was
the opt-in to a failing exit before; failing is now the default). A script with no
target at all is a mistake, not a pass: ``finish`` with no checks fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

REPORT_ONLY = "--report-only"


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """``--report-only`` (and the old ``--strict``, now the default) for a script's parser."""
    ap.add_argument(REPORT_ONLY, action="store_true",
                    help="print the figures and the verdict, exit 0 even when a target is missed")
    ap.add_argument("--strict", action="store_true",
                    help="(the default now) exit 1 when a target is missed")


def report_only(argv: list[str] | None = None) -> bool:
    return REPORT_ONLY in (sys.argv[1:] if argv is None else argv)


def finish(name: str, checks: Iterable[tuple[str, bool]],
           argv: list[str] | None = None) -> int:
    """Print the verdict line; the exit code (non-zero on a miss unless --report-only)."""
    checks = [(str(label), bool(ok)) for label, ok in checks]
    met = sum(ok for _, ok in checks)
    missed = [label for label, ok in checks if not ok]
    ok = bool(checks) and not missed
    line = f"{name}: {'PASS' if ok else 'FAIL'} ({met}/{len(checks)} targets met"
    if missed:
        line += "; missed: " + ", ".join(missed)
    elif not checks:
        line += "; no target was checked"
    line += ")"
    if not ok and report_only(argv):
        line += "  [--report-only: exit 0]"
    print("\n" + line, flush=True)
    return 0 if ok or report_only(argv) else 1
