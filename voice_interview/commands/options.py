"""Options several commands share, spelled the same everywhere: ``--whisper`` is the
speech-to-text model, ``--llm`` the interviewer's. The old ``--model`` spelling
still works, with a one-line notice on stderr."""

from __future__ import annotations

import argparse
import sys


def add_whisper_argument(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--whisper", metavar="M", help=help)
    p.add_argument("--model", dest="whisper_old", metavar="M", help=argparse.SUPPRESS)


def whisper_choice(args: argparse.Namespace, default: str | None = None) -> str | None:
    """--whisper, else the deprecated --model (with a notice), else ``default``."""
    if args.whisper is None and args.whisper_old is not None:
        print("voice-interview: --model for the Whisper model is deprecated; use --whisper",
              file=sys.stderr)
        return str(args.whisper_old)
    return args.whisper if args.whisper is not None else default
