"""``voice-interview progress``: trends across sessions as terminal line charts."""

from __future__ import annotations

import argparse
import json
import math
import sys

from voice_interview.timefmt import plural

CHART_ROWS = 12  # lines per chart, axes and tick labels included


def register(sub) -> None:
    p = sub.add_parser(
        "progress",
        help="trends across sessions: pace, long pauses, fillers, structure coverage",
        description=(
            "How your answers changed across recorded sessions: pace (words per minute, "
            "with the good band drawn), long pauses and fillers per minute of speaking, "
            "and how much of the answer structure the opening answer covered, drawn as "
            "line charts over the sessions' dates. When the output is not a terminal "
            "the same trends are printed as plain text, one row per session."
        ),
    )
    p.add_argument("--json", action="store_true", help="print the series as one JSON object")
    p.add_argument("--last", type=int, default=40, metavar="N",
                   help="the N most recent sessions (default 40)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voice_interview.session.report import pace_bands
    from voice_interview.session.store import open_store
    from voice_interview.session.trends import series

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
    if sys.stdout.isatty():
        import shutil

        width = max(40, min(shutil.get_terminal_size().columns, 120))
        sys.stdout.write(format_charts(points, good, width))
    else:
        sys.stdout.write(format_plain(points, good))
    return 0


# -- shared pieces -------------------------------------------------------------------


def _stamp(iso: str) -> str:
    from voice_interview.session.trends import local_time

    when = local_time(iso)
    return when.strftime("%Y-%m-%d %H:%M") if when else iso[:16]


def _heading(points: list[dict]) -> str:
    n = len(points)
    return (f"Progress over {plural(n, 'session')} "
            f"({_stamp(points[0]['started_at'])} → {_stamp(points[-1]['started_at'])})")


def _verdict(points: list[dict], metric, band) -> str:
    from voice_interview.session.trends import trend

    note = f"  (good {band[0]:.0f}–{band[1]:.0f})" if metric.better == "band" else ""
    values = [p[metric.key] for p in points]
    return f"{metric.title} ({metric.unit}){note}: {trend(values, metric.better, band)}"


def _num(v: float | None, nd: int = 1) -> str:
    return "–" if v is None else f"{v:.{nd}f}"


# -- plain text (not a terminal) -----------------------------------------------------


def format_plain(points: list[dict], band) -> str:
    from voice_interview.session.trends import METRICS

    out = [_heading(points), ""]
    out += [_verdict(points, m, band) for m in METRICS]
    out += ["", f"{'date':16}  {'wpm':>5}  {'pauses/min':>10}  {'fillers/min':>11}  "
                f"{'coverage':>8}  id"]
    for p in points:
        cover = "–" if p["coverage_pct"] is None else f"{p['coverage_pct']:.0f}%"
        out.append(f"{_stamp(p['started_at']):16}  {_num(p['wpm'], 0):>5}  "
                   f"{_num(p['long_pauses_per_min']):>10}  {_num(p['fillers_per_min']):>11}  "
                   f"{cover:>8}  {p['id']}")
    return "\n".join(out) + "\n"


# -- charts (a terminal) -------------------------------------------------------------


def _nice_step(span: float, count: int) -> float:
    raw = max(span, 1e-9) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def _y_range(metric, values: list[float], band) -> tuple[float, float, list[float]]:
    lo, hi = min(values), max(values)
    if metric.key == "wpm":  # the band always shows, with room around it
        lo, hi = min(lo, band[0] - 20), max(hi, band[1] + 20)
    elif metric.key == "coverage_pct":
        lo, hi = 0.0, 100.0
    else:
        lo, hi = 0.0, max(hi * 1.2, 1.0)
    step = _nice_step(hi - lo, 4)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    ticks = [lo + k * step for k in range(int(round((hi - lo) / step)) + 1)]
    if metric.better == "band":  # label the band's edges, where its lines are drawn
        ticks = sorted({lo, hi, *band} | {t for t in ticks
                                          if min(abs(t - b) for b in band) > step / 2})
    return lo, hi, ticks


def _x_ticks(hours: list[float], first, width: int) -> tuple[list[float], list[str]]:
    import datetime as dt

    span = hours[-1] - hours[0]
    short = span < 48  # sessions within two days: show the time too
    fmt = "%m-%d %H:%M" if short else "%Y-%m-%d"
    count = max(2, min(len(hours), (width - 8) // (len(fmt) + 8)))
    spots = [hours[0] + span * k / (count - 1) for k in range(count)] if span else hours[:1]
    return spots, [(first + dt.timedelta(hours=h)).strftime(fmt) for h in spots]


def chart(metric, points: list[dict], band, width: int) -> str:
    """One line chart of ``metric`` over the sessions' dates (plotext)."""
    import plotext as plt

    from voice_interview.session.trends import local_time

    known = [(t, p[metric.key]) for p in points
             if (t := local_time(p["started_at"])) is not None and p[metric.key] is not None]
    if not known:
        return "  (no readable session dates)"
    first = known[0][0]
    hours = [(t - first).total_seconds() / 3600 for t, _v in known]
    values = [v for _t, v in known]
    lo, hi, yticks = _y_range(metric, values, band)
    plt.clf()
    plt.theme("clear")
    plt.plotsize(width, CHART_ROWS)
    if metric.better == "band":
        for edge in band:
            plt.hline(edge, "green")
    if len(values) > 1:
        plt.plot(hours, values, marker="braille", color="cyan")
    else:  # one session: a point (a braille dot would be hard to see)
        plt.scatter(hours, values, marker="●", color="cyan")
    plt.ylim(lo, hi)
    plt.yticks(yticks, [f"{t:g}" for t in yticks])
    spots, labels = _x_ticks(hours, first, width)
    plt.xticks(spots, labels)
    if hours[-1] == hours[0]:
        plt.xlim(hours[0] - 1, hours[0] + 1)
    return plt.build()


def format_charts(points: list[dict], band, width: int) -> str:
    from voice_interview.session.trends import METRICS

    out = [_heading(points), ""]
    for metric in METRICS:
        known = [p[metric.key] for p in points if p[metric.key] is not None]
        out.append(_verdict(points, metric, band))
        if not known:
            out.append("  no data yet")
        else:
            out.append(chart(metric, points, band, width))
            last = f"{known[-1]:.1f}{'' if metric.unit.startswith(('/', '%')) else ' '}"
            out.append(f"  last session: {last}{metric.unit}")
        out.append("")
    if len(points) == 1:
        out.append("One session so far: practise again to see a trend.")
    return "\n".join(out) + "\n"
