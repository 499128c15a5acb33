"""The interviewer's voice, half-duplex: the microphone is muted while it speaks.

``InterviewerVoice.say`` speaks a line (or only shows it when there is no voice
or no output device), records what was played, and emits ``VoiceStarted`` /
``VoiceEnded``. Muting (plus a short tail) keeps the voice from being
transcribed as the candidate. Synthesis is one at a time (``synthesize`` is also
used by the probe preparation while the candidate is silent).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from voice_interview.errors import AudioDeviceError
from voice_interview.events import StateChanged, VoiceEnded, VoiceStarted
from voice_interview.session.settings import NOT_SPOKEN

if TYPE_CHECKING:
    from voice_interview.audio.playback import Player
    from voice_interview.listener import Listener
    from voice_interview.session.probes import Prepared
    from voice_interview.session.routing import EventRouter
    from voice_interview.speech.voices import Voice


def open_voice(name: str, output_device: str | int | None,
               router: EventRouter) -> tuple[Voice, Player | None]:
    """The voice and its output device; no device (told once): the lines are shown."""
    from voice_interview.audio.playback import Player
    from voice_interview.speech.voices import get_voice

    voice = get_voice(name)
    player = Player(output_device)
    try:
        player.check_device()
    except AudioDeviceError as exc:
        router.notice(f"{exc}: {NOT_SPOKEN}", level="warning", t=0.0)
        return voice, None
    return voice, player


class InterviewerVoice:
    def __init__(self, voice: Voice | None, player: Player | None, listener: Listener,
                 stopped: threading.Event, router: EventRouter) -> None:
        self.voice = voice
        self.player = player  # None once the output device failed
        self.listener = listener
        self.stopped = stopped
        self.router = router
        self.lock = threading.Lock()  # one synthesis at a time

    @property
    def speaks(self) -> bool:
        return self.voice is not None and self.player is not None

    def synthesize(self, text: str, wanted: Callable[[], bool]) -> np.ndarray | None:
        """``text`` synthesized once the voice is free, if ``wanted()`` still says so
        then; None without a voice or when no longer wanted."""
        with self.lock:
            if self.voice is None or not wanted():
                return None
            return self.voice.synthesize(text)

    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()

    def close(self) -> None:
        if self.voice is not None:
            self.voice.close()

    def _speech(self, voice: Voice, text: str, prepared: Prepared | None) -> Iterator[np.ndarray]:
        """The line's audio chunks: a prepared first sentence, then the rest, synthesized
        sentence by sentence while the first one plays."""
        if prepared is not None and prepared.first_audio is not None:
            yield prepared.first_audio
            text = prepared.rest
        if not text:
            return
        chunks = voice.stream(text)
        while True:
            with self.lock:
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def say(self, text: str, prepared: Prepared | None = None) -> None:
        """Speak (or just show) the interviewer's line; the mic is muted meanwhile."""
        router = self.router
        router.emit(StateChanged(router.now, state="interviewer"))
        voice, player = self.voice, self.player
        if voice is None or player is None or self.stopped.is_set():
            router.emit(VoiceStarted(router.now, text=text))
            router.emit(VoiceEnded(router.now, text=text))
            return
        self.listener.mute()
        chunks: list[np.ndarray] = []
        t_start: list[float] = []

        def on_started(_when: float) -> None:
            t_start.append(router.now)
            router.emit(VoiceStarted(router.now, text=text))

        speech = self._speech(voice, text, prepared)
        # The first chunk is made before the output opens: opening the device while
        # the voice is busy synthesizing delays the first sample by up to a second.
        head = next(speech, None)

        def stream() -> Iterator[np.ndarray]:
            if head is None or self.stopped.is_set():  # q while the first line was made
                return
            chunks.append(head)
            yield head
            for chunk in speech:
                if self.stopped.is_set():  # q while the line is being spoken
                    return
                chunks.append(chunk)
                yield chunk

        player.on_started = on_started
        interrupted, underruns = False, 0
        try:
            report = player.play(stream(), voice.sample_rate)
            interrupted, underruns = report.interrupted, report.underruns
        except AudioDeviceError as exc:
            self.player = None
            router.notice(f"{exc}: {NOT_SPOKEN}", level="warning")
        finally:
            self.listener.unmute(tail_s=0.3)
        if not t_start:
            router.emit(VoiceStarted(router.now, text=text))
        rec = router.recorder
        if rec is not None and chunks:
            router.record(rec.write_interviewer, np.concatenate(chunks),
                          voice.sample_rate, t_start[0] if t_start else router.now)
        router.emit(VoiceEnded(router.now, text=text, interrupted=bool(interrupted),
                               underruns=underruns))
