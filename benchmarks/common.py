"""Helpers shared by the benchmark scripts (material built from ../shared/speech)."""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED_SPEECH = Path(os.environ.get("VOICE_INTERVIEW_SHARED", ROOT.parent / "shared")) / "speech"


def shared(name: str) -> Path:
    path = SHARED_SPEECH / name
    if not path.exists():
        sys.exit(f"benchmark material missing: {path} (../shared/speech beside the checkout)")
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def median(xs) -> float:
    return float(np.median(np.asarray(list(xs), dtype=float)))
