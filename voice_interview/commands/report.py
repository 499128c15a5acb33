"""``voice-interview report``: a session's report as Markdown, HTML or JSON."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="a recorded session's report: pacing per answer, structure, probes and depth",
        description=(
            "Write the report of a recorded session: pacing per answer (length, words per "
            "minute, pauses, fillers), structure findings, the probes asked and how deep "
            "each branch went. HTML is one self-contained file with a timeline of speech, "
            "pauses and probes and a words-per-minute chart."
        ),
    )
    p.add_argument("session", metavar="SESSION",
                   help="session id (or a unique start of it), its folder, or 'last'")
    p.add_argument("--format", choices=("md", "html", "json"), default="md",
                   help="md (default), html or json")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voice_interview.session.report import build_report, to_html, to_markdown
    from voice_interview.session.store import open_store

    data = open_store().open(args.session)
    rep = build_report(data)
    if args.format == "json":
        text = json.dumps(rep, ensure_ascii=False) + "\n"
    elif args.format == "html":
        text = to_html(rep)
    else:
        text = to_markdown(rep)
    if args.output:
        write_private(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def write_private(path: str, text: str) -> None:
    """Write a report readable only by its owner (it quotes what the user said)."""
    import os

    from voice_interview.errors import UsageError

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
