"""Child process for the microphone tests: listen on the default input, print events.

Run with the private PulseAudio's environment so PortAudio sees its devices:
    python -m tests.mic_listen SECONDS [--queue BLOCKS] [--stall-at T --stall S]
Prints one JSON line per event (words dropped) and a final ``{"type": "stats"}``.

``--stall-at T --stall S``: the listener's thread sleeps S seconds once, at
audio time T (a stand-in for a machine too busy to keep up), so a small
``--queue`` makes the real PortAudio capture drop blocks.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from voice_interview.audio.sources import MicrophoneSource
from voice_interview.errors import VoiceInterviewError
from voice_interview.listener import Listener, ListenerSettings
from voice_interview.speech.transcriber import TranscriberSettings, WhisperTranscriber
from voice_interview.turns import TurnSettings


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("seconds", type=float)
    ap.add_argument("--queue", type=int, default=256)
    ap.add_argument("--stall-at", type=float)
    ap.add_argument("--stall", type=float, default=0.0)
    args = ap.parse_args()
    transcriber = WhisperTranscriber(TranscriberSettings.live())
    mic = MicrophoneSource(max_queue_blocks=args.queue)
    stalled = threading.Event()

    def tap(_block, t: float) -> None:
        if args.stall_at is not None and t >= args.stall_at and not stalled.is_set():
            stalled.set()
            time.sleep(args.stall)
    lock = threading.Lock()

    def emit(event) -> None:
        doc = event.to_json()
        doc.pop("words", None)
        with lock:
            print(json.dumps(doc), flush=True)

    listener = Listener(mic, transcriber, emit,
                        ListenerSettings(turn=TurnSettings(patience_s=60.0)), tap=tap)
    try:
        mic.start()
    except VoiceInterviewError as exc:
        print(f"voice-interview: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps({"type": "ready"}), flush=True)
    timer = threading.Timer(args.seconds, listener.stop)
    timer.start()
    listener.run()
    print(json.dumps({"type": "stats", "dropped": mic.dropped_blocks,
                      "position": round(listener.position, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
