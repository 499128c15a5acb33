"""The one way a time is written for people: ``m:ss``, or ``h:mm:ss`` from an hour
(and a count of things: ``plural``, "1 filler", "2 fillers").

Seconds are floored, never rounded: a clock shows 0:59 until a whole minute has
passed, and a length written next to a whole-second threshold (``past 2:00``)
never reads as past it while it is not (119.6 s is 1:59, not 2:00).
"""

from __future__ import annotations

import math

MISSING = "–"


def mmss(seconds: float | None) -> str:
    """``seconds`` as ``m:ss`` (``h:mm:ss`` from an hour); negatives are 0:00, unknown is –."""
    if seconds is None or math.isnan(seconds):
        return MISSING
    whole = max(0, math.floor(seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is 1: "1 long pause", "3 branches"."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}{'es' if word.endswith(('ch', 's')) else 's'}"
