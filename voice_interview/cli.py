"""Command line entry point: ``voice-interview`` / ``python -m voice_interview``.

Errors are turned into words here: a ``VoiceInterviewError`` becomes one line on
stderr and its exit code; Ctrl-C exits 130. No traceback reaches the user
(set ``VOICE_INTERVIEW_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from voice_interview import __version__
from voice_interview.errors import VoiceInterviewError

# Each name is a module in voice_interview.commands with register(subparsers).
COMMAND_MODULES = ["analyze", "demo", "devices", "practice", "say",
                   "sessions", "replay", "report", "progress", "rescore"]


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: a bad option is one line, the closest choice first."""

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            from voice_interview.checks import choices_hint

            raise argparse.ArgumentError(
                action, f"invalid choice '{value}'; {choices_hint(value, action.choices)}")

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} -h)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="voice-interview",
        description=(
            "Practise engineering interviews out loud. Everything runs offline: "
            "local transcription, an offline interviewer, a local voice."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.epilog = "Without a command, voice-interview starts a practice session (practice -h)."
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"voice_interview.commands.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["practice", *argv]  # plain `voice-interview` starts a practice session
    args = parser.parse_args(argv)
    try:
        code = int(args.handler(args) or 0)
    except VoiceInterviewError as exc:
        if os.environ.get("VOICE_INTERVIEW_DEBUG"):
            raise
        print(f"voice-interview: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("voice-interview: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("VOICE_INTERVIEW_DEBUG"):
            raise
        print(f"voice-interview: unexpected error: {type(exc).__name__}: {exc} "
              "(run with VOICE_INTERVIEW_DEBUG=1 for details)", file=sys.stderr)
        return 1
    from voice_interview.commands.options import deprecations

    for note in deprecations(args):  # after the command: an error stays one line
        print(f"voice-interview: {note}", file=sys.stderr)
    return code
