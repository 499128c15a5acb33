"""Trends across recorded sessions: one point per scored session, and a verdict per metric.

This is what ``voice-interview progress`` shows (as charts on a terminal, as
text otherwise) and prints with ``--json``. Pure functions over ``SessionInfo``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

CHANGE_PCT = 10.0  # smaller changes are noise (DESIGN §4)


@dataclass(frozen=True)
class Metric:
    key: str  # the field of a point
    title: str
    unit: str
    better: str  # "up", "down" or "band" (the good pace band)


METRICS = (
    Metric("wpm", "Pace", "wpm", "band"),
    Metric("long_pauses_per_min", "Long pauses", "/min", "down"),
    Metric("fillers_per_min", "Fillers", "/min", "down"),
    Metric("coverage_pct", "Structure coverage", "%", "up"),
)


def series(infos) -> list[dict]:
    """One point per session with answers, oldest first."""
    points = []
    for i in sorted(infos, key=lambda i: (i.started_at, i.id)):
        if i.status == "missing" or not i.answers:
            continue
        per_min = 60.0 / i.speaking_s if i.speaking_s else None
        points.append({
            "id": i.id, "started_at": i.started_at, "status": i.status,
            "wpm": None if i.wpm is None else round(i.wpm, 1),
            "long_pauses_per_min": None if per_min is None or i.long_pauses is None
            else round(i.long_pauses * per_min, 2),
            "fillers_per_min": None if per_min is None or i.fillers is None
            else round(i.fillers * per_min, 2),
            "coverage_pct": None if i.coverage is None else round(100 * i.coverage, 1),
        })
    return points


def local_time(iso: str) -> dt.datetime | None:
    """A session's start in local time (naive), None when the stamp is unreadable."""
    try:
        when = dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is not None:
        when = when.astimezone().replace(tzinfo=None)
    return when


def trend(values: list[float | None], better: str, band=None) -> str:
    """The first sessions against the last (up to three each), in words."""
    vals = [v for v in values if v is not None]
    if len(vals) < 2:
        return "not enough sessions for a trend yet"
    k = min(3, len(vals) // 2) or 1
    before, after = sum(vals[:k]) / k, sum(vals[-k:]) / k
    if before == 0 and after == 0:
        return "steady at 0"
    change = 100.0 * (after - before) / max(abs(before), 1e-9)
    if abs(change) <= CHANGE_PCT and before != 0:
        return f"steady ({before:.1f} → {after:.1f})"
    if better == "band" and band is not None:
        dist = [0 if band[0] <= x <= band[1] else min(abs(x - band[0]), abs(x - band[1]))
                for x in (before, after)]
        verdict = "closer to" if dist[1] < dist[0] else "further from"
        if dist[1] == 0:
            verdict = "inside"
        return f"{before:.0f} → {after:.0f} ({verdict} the {band[0]:.0f}–{band[1]:.0f} band)"
    good = (after < before) if better == "down" else (after > before)
    word = "better" if good else "worse"
    return f"{before:.1f} → {after:.1f} ({word})"
