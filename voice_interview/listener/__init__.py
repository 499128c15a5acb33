"""The live listening path (audio source -> VAD -> turns + transcriber -> events).

``core``: the ``Listener`` (its audio loop, revision windows and Whisper worker);
``decoding``: a segment's final with the guards, a window's revision in context;
``pieces``: where revisions go in the answer (``settled``).
"""

from voice_interview.audio.sources import SAMPLE_RATE
from voice_interview.events import TurnEnded
from voice_interview.listener.core import Listener, ListenerSettings, listen_to_end
from voice_interview.listener.pieces import covers, settled

__all__ = ["Listener", "ListenerSettings", "listen_to_end", "settled", "covers", "TurnEnded",
           "SAMPLE_RATE"]
