"""``voice-interview sessions``: the recorded sessions, newest first."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "sessions",
        help="list recorded sessions (date, question, length, pace, pauses, structure, status)",
        description=(
            "List the recorded practice sessions, newest first: when, which question, "
            "how long, words per minute, long pauses, how much of the answer structure the "
            "opening answer covered, and the status (complete, interrupted, aborted, "
            "disk_full, recording, missing). Sessions interrupted by a crash are repaired "
            "first. Use an id (or any unique start of it) with replay, report and rescore."
        ),
    )
    p.add_argument("--json", action="store_true",
                   help="print a JSON array (id, path, started_at, question, status, "
                   "audio_s, answers, wpm, long_pauses, fillers, coverage, ...)")
    p.add_argument("--limit", type=int, metavar="N", help="show only the N newest sessions")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voice_interview.session.store import open_store

    store = open_store()
    infos = store.list()
    if args.limit is not None:
        infos = infos[: max(0, args.limit)]
    if args.json:
        json.dump([i.to_json() for i in infos], sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if not infos:
        print(f"No recorded sessions yet (they are kept in {store.root}).")
        return 0
    sys.stdout.write(format_table(infos))
    return 0


def _date(iso: str) -> str:
    import datetime as dt

    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso[:16]
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%Y-%m-%d %H:%M")


def _cut(text: str | None, n: int) -> str:
    text = " ".join((text or "–").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def format_table(infos) -> str:
    from voice_interview.session.report import mmss

    head = (f"{'date':16}  {'question':34}  {'length':>7}  {'wpm':>4}  {'long':>4}  "
            f"{'cover':>5}  {'status':11}  id")
    lines = [head, "-" * len(head)]
    for i in infos:
        wpm = "–" if i.wpm is None else f"{i.wpm:.0f}"
        long = "–" if i.long_pauses is None else str(i.long_pauses)
        cover = "–" if i.coverage is None else f"{100 * i.coverage:.0f}%"
        lines.append(f"{_date(i.started_at):16}  {_cut(i.question, 34):34}  "
                     f"{mmss(i.audio_s):>7}  {wpm:>4}  {long:>4}  {cover:>5}  "
                     f"{i.status:11}  {i.id}")
    lines.append(f"{len(infos)} session{'s' if len(infos) != 1 else ''}")
    return "\n".join(lines) + "\n"
