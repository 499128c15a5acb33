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
    print_table(infos)
    return 0


STATUS_STYLE = {"complete": "green", "interrupted": "yellow", "recording": "cyan",
                "aborted": "red", "disk_full": "bold red", "missing": "dim red"}
QUESTION_CHARS = 90  # longer questions are cut (report ID shows them whole)
WIDE = 130  # from this width on, the date has a column of its own (the id starts with it)


def _date(iso: str) -> str:
    from voice_interview.session.trends import local_time

    when = local_time(iso)
    return when.strftime("%Y-%m-%d %H:%M") if when else iso[:16]


def _cut(text: str | None, n: int) -> str:
    text = " ".join((text or "–").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def build_table(infos, width: int):
    """A rich Table that fits ``width``: the question wraps, the numbers never do.

    Narrower than ``WIDE``, the id (which starts with the date and time) heads a
    "session" column with the question under it; wider, date, question and id
    have columns of their own.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from voice_interview.timefmt import mmss, plural

    wide = width >= WIDE
    n = len(infos)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                  caption_justify="left",
                  leading=0 if wide else 1,
                  caption=f"{plural(n, 'session')} · long = long pauses · "
                  "cover = answer structure covered\n"
                  "replay, report and rescore take an id (or a unique start of it)")
    if wide:
        table.add_column("date", no_wrap=True)
        table.add_column("question", ratio=1, min_width=16, overflow="fold")
    else:
        table.add_column("session · question", ratio=1, min_width=20, overflow="fold")
    for name in ("length", "wpm", "long", "cover"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    if wide:
        table.add_column("id", no_wrap=True, style="bold")
    for i in infos:
        question = _cut(i.question, QUESTION_CHARS)
        numbers: list[str | Text] = [mmss(i.audio_s), "–" if i.wpm is None else f"{i.wpm:.0f}",
                   "–" if i.long_pauses is None else str(i.long_pauses),
                   "–" if i.coverage is None else f"{100 * i.coverage:.0f}%",
                   Text(i.status, style=STATUS_STYLE.get(i.status, ""))]
        if wide:
            table.add_row(_date(i.started_at), question, *numbers, i.id)
        else:
            table.add_row(Text.assemble((i.id, "bold"), "\n", (question, "dim")), *numbers)
    return table


def print_table(infos) -> None:
    """On a terminal: its width and colours. Piped: the COLUMNS width (80 unset), plain."""
    from rich.console import Console

    console = Console(highlight=False)
    if console.is_terminal:
        console.print(build_table(infos, console.width))
        return
    with console.capture() as captured:
        console.print(build_table(infos, console.width))
    sys.stdout.write("\n".join(ln.rstrip() for ln in captured.get().splitlines()) + "\n")
