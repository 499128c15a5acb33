"""A process that records a session in real time until it is killed (tests/test_crash.py).

    python -m tests.crash_child [--seconds S] [--root DIR]

It creates a session through the real ``SessionStore``/``SessionWriter`` (in
``--root``, else the default store under ``VOICE_INTERVIEW_HOME``), then feeds
32 ms blocks of a known signal (``ramp``) at the audio rate and logs an event
every 8 blocks. On stdout it reports, flushed, each step once it has returned:

    READY <session id>
    A <candidate frames handed to the writer so far>
    E <sequence number of the event just logged>

so the killer knows what had been captured and logged at the moment of the kill.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

BLOCK = 512
RATE = 16_000


def ramp(n: int, start: int = 0) -> np.ndarray:
    """Sample k is ((37 k) mod 20000 - 10000) / 32767: exact in 16 bits, never repeats soon."""
    k = np.arange(start, start + n)
    return (((k * 37) % 20000) - 10000).astype(np.float32) / 32767.0


def expected_pcm(n: int) -> np.ndarray:
    k = np.arange(n)
    return (((k * 37) % 20000) - 10000).astype("<i2")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--root")
    args = ap.parse_args()
    from voice_interview.session.store import SessionStore

    store = SessionStore(args.root)
    writer = store.create({"question_id": "dd-end-to-end",
                           "question_text": "Walk me through a project you built end to end.",
                           "format_id": "conversational", "voice": None, "llm_model": None})
    out = sys.stdout
    out.write(f"READY {writer.id}\n")
    out.flush()
    writer.log_event({"type": "session_started", "t": 0.0, "session_id": writer.id})
    t0 = time.monotonic()
    blocks = int(args.seconds * RATE / BLOCK)
    seq = 0
    for k in range(blocks):
        writer.write_candidate(ramp(BLOCK, k * BLOCK))
        out.write(f"A {(k + 1) * BLOCK}\n")
        if k % 8 == 7:
            writer.log_event({"type": "tick", "t": round((k + 1) * BLOCK / RATE, 3),
                              "seq": seq, "text": "a completed event " * 4})
            out.write(f"E {seq}\n")
            seq += 1
        out.flush()
        ahead = t0 + (k + 1) * BLOCK / RATE - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    writer.finish({"reason": "done"})
    out.write("DONE\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
