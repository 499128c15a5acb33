"""Child for the force-quit test: the practice TUI over a session that never winds down.

A named stand-in for a fault that cannot be produced on demand: a device or a
disk that stops answering, so the session's ``run()`` never returns and
``stop()`` has no effect. Everything else (the app, the terminal) is real.

    python -m tests.stuck_session [--load-s S --closed-file PATH]

``--load-s``: ``load()`` takes that long (a model or an LLM check slower than
ctrl+q's grace period); ``close()`` writes ``--closed-file``, so a test can see
that a session quit while loading released what it had opened.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from voice_interview.session.orchestrator import SessionConfig
from voice_interview.tui.app import run_practice

ARGS = argparse.Namespace(load_s=0.0, closed_file=None)


class StuckSession:
    def __init__(self, config, on_event) -> None:
        self.config = config
        self.on_event = on_event

    def load(self) -> None:
        time.sleep(ARGS.load_s)

    def run(self) -> dict:
        threading.Event().wait()  # never returns: the stuck device
        return {}

    def stop(self) -> None:
        pass  # has no effect on the stuck call

    def close(self, reason: str = "aborted") -> None:
        if ARGS.closed_file:
            Path(ARGS.closed_file).write_text(reason)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--load-s", type=float, default=0.0)
    ap.add_argument("--closed-file")
    ap.parse_args(namespace=ARGS)
    raise SystemExit(run_practice(SessionConfig(voice=None, save=False), StuckSession))
