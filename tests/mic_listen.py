"""Child process for the microphone tests: listen on the default input, print events.

Run with the private PulseAudio's environment so PortAudio sees its devices:
    python -m tests.mic_listen SECONDS
Prints one JSON line per event (words dropped) and a final ``{"type": "stats"}``.
"""

from __future__ import annotations

import json
import sys
import threading

from voice_interview.audio.sources import MicrophoneSource
from voice_interview.errors import VoiceInterviewError
from voice_interview.listener import Listener, ListenerSettings
from voice_interview.speech.transcriber import TranscriberSettings, WhisperTranscriber
from voice_interview.turns import TurnSettings


def main() -> int:
    seconds = float(sys.argv[1])
    transcriber = WhisperTranscriber(TranscriberSettings.live())
    mic = MicrophoneSource()
    lock = threading.Lock()

    def emit(event) -> None:
        doc = event.to_json()
        doc.pop("words", None)
        with lock:
            print(json.dumps(doc), flush=True)

    listener = Listener(mic, transcriber, emit,
                        ListenerSettings(turn=TurnSettings(patience_s=60.0)))
    try:
        mic.start()
    except VoiceInterviewError as exc:
        print(f"voice-interview: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps({"type": "ready"}), flush=True)
    timer = threading.Timer(seconds, listener.stop)
    timer.start()
    listener.run()
    print(json.dumps({"type": "stats", "dropped": mic.dropped_blocks}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
