"""``voice-interview replay``: play a recorded session with its transcript in sync."""

from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "replay",
        help="replay a recorded session: audio with the transcript highlighted in sync",
        description=(
            "Replay a recorded session in the terminal: the audio (you and the "
            "interviewer) through the output device, the transcript highlighted word by "
            "word, and a timeline of speech, pauses, fillers and probes. Keys: space "
            "play/pause, left/right seek 5 s, s speed (1x, 1.5x, 2x), home start, q quit. "
            "With no output device the transcript replays alone."
        ),
    )
    p.add_argument("session", nargs="?", metavar="SESSION",
                   help="session id (or a unique start of it), its folder, or 'last' "
                   "(default: the most recent)")
    p.add_argument("--device", metavar="D", help="output device (index or part of its name)")
    p.add_argument("--no-audio", action="store_true", help="replay the transcript only")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voice_interview.errors import UsageError
    from voice_interview.session.replay_model import ReplayAudio, build_timeline
    from voice_interview.session.store import open_store

    data = open_store().open(args.session)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("replay needs a terminal; for a text version use "
                         f"`voice-interview report {data.id}`")
    timeline = build_timeline(data)
    audio = None if args.no_audio else ReplayAudio(data, device=_device(args.device))

    from voice_interview.tui.replay import ReplayApp

    ReplayApp(data, timeline, audio).run()
    if audio is not None:
        audio.stop()
    return 0


def _device(value: str | None):
    if value is None:
        from voice_interview.config import load_config

        return load_config().output_device
    return int(value) if value.strip().isdigit() else value
