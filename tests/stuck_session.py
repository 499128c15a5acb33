"""Child for the force-quit test: the practice TUI over a session that never winds down.

A named stand-in for a fault that cannot be produced on demand: a device or a
disk that stops answering, so the session's ``run()`` never returns and
``stop()`` has no effect. Everything else (the app, the terminal) is real.

    python -m tests.stuck_session
"""

from __future__ import annotations

import threading

from voice_interview.session.orchestrator import SessionConfig
from voice_interview.tui.app import run_practice


class StuckSession:
    def __init__(self, config, on_event) -> None:
        self.config = config
        self.on_event = on_event

    def load(self) -> None:
        pass

    def run(self) -> dict:
        threading.Event().wait()  # never returns: the stuck device
        return {}

    def stop(self) -> None:
        pass  # has no effect on the stuck call

    def close(self) -> None:
        pass


if __name__ == "__main__":
    raise SystemExit(run_practice(SessionConfig(voice=None, save=False), StuckSession))
