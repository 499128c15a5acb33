"""``voice-interview progress``: trends across sessions as a terminal chart."""

from __future__ import annotations

import argparse
import json
import sys

BLOCKS = " ▁▂▃▄▅▆▇█"
CHANGE_PCT = 10.0  # smaller changes are noise (DESIGN §4)


def register(sub) -> None:
    p = sub.add_parser(
        "progress",
        help="trends across sessions: pace, long pauses, fillers, structure coverage",
        description=(
            "How your answers changed across recorded sessions: pace (words per minute), "
            "long pauses and fillers per minute of speaking, and how much of the answer "
            "structure the opening answer covered, drawn as charts in the terminal (one "
            "column per session, oldest on the left)."
        ),
    )
    p.add_argument("--json", action="store_true", help="print the series as one JSON object")
    p.add_argument("--last", type=int, default=40, metavar="N",
                   help="the N most recent sessions (default 40)")
    p.set_defaults(handler=run)


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


METRICS = (  # key, title, unit, better ("up", "down" or "band")
    ("wpm", "Pace", "wpm", "band"),
    ("long_pauses_per_min", "Long pauses", "/min", "down"),
    ("fillers_per_min", "Fillers", "/min", "down"),
    ("coverage_pct", "Structure coverage", "%", "up"),
)


def bars(values: list[float | None], lo: float, hi: float, height: int = 4) -> list[str]:
    """Vertical bars, one column per value, ``height`` rows of eighth-blocks (top row first)."""
    span = max(hi - lo, 1e-9)
    rows = []
    for r in range(height - 1, -1, -1):
        line = []
        for v in values:
            if v is None:
                line.append(" " if r else "·")
                continue
            level = (min(max(v, lo), hi) - lo) / span * height * 8
            fill = max(0.0, min(8.0, level - r * 8))
            line.append(BLOCKS[int(round(fill))] if r or fill >= 1 else BLOCKS[1])
        rows.append("".join(line))
    return rows


def trend(values: list[float | None], better: str, band=None) -> str:
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


def format_chart(points: list[dict], band) -> str:
    from voice_interview.commands.sessions import _date

    first, last = _date(points[0]["started_at"]), _date(points[-1]["started_at"])
    out = [f"Progress over {len(points)} session{'s' if len(points) != 1 else ''} "
           f"({first} → {last}); one column per session, oldest left", ""]
    for key, title, unit, better in METRICS:
        values = [p[key] for p in points]
        known = [v for v in values if v is not None]
        if not known:
            out += [f"{title}: no data", ""]
            continue
        lo, hi = 0.0, max(known)
        if key == "wpm":
            lo, hi = 60.0, max(200.0, hi)
        elif key == "coverage_pct":
            hi = 100.0
        hi = hi or 1.0
        note = f"  (good {band[0]:.0f}–{band[1]:.0f})" if key == "wpm" else ""
        out.append(f"{title} ({unit}){note}: {trend(values, better, band)}")
        rows = bars(values, lo, hi)
        fmt = "6.1f" if hi < 10 else "6.0f"
        for r, row in enumerate(rows):
            label = (f"{hi:{fmt}} ┤" if r == 0 else
                     f"{lo:{fmt}} ┤" if r == len(rows) - 1 else "       ┤")
            out.append(label + row)
        sep = "" if unit.startswith(("/", "%")) else " "
        out.append("       └" + "─" * len(values) + f"  last {known[-1]:.1f}{sep}{unit}")
        out.append("")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from voice_interview.session.report import pace_bands
    from voice_interview.session.store import open_store

    store = open_store()
    points = series(store.list())[-max(1, args.last):]
    good, _borderline = pace_bands()
    if args.json:
        json.dump({"sessions": points, "pace_good": list(good)}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    if not points:
        print("No scored sessions yet: practise (or `analyze AUDIO --save`) and come back.")
        return 0
    sys.stdout.write(format_chart(points, good) + "\n")
    return 0
