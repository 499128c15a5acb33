"""Play speech through a sound device, interruptibly, and say when it was heard.

``Player.play()`` takes a whole float32 buffer or an iterator of chunks (so a
voice's first sentence plays while the next one is still being synthesized),
blocks until the audio has been played out or ``stop()`` is called from another
thread, and returns a ``PlaybackReport`` with the time the first sample reached
the device and the time playback ended (both ``time.monotonic()``), so a session
can emit voice-started / voice-ended events. ``on_started`` is called from the
playing thread as soon as the first sample is out, not at the end.

sounddevice is imported lazily: importing it initializes PortAudio, which lists
the devices once per process; writing a file never needs that.

Also here: ``write_wav`` (16-bit PCM) and ``resample`` (av's resampler).
"""

from __future__ import annotations

import collections
import threading
import time
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_interview.errors import AudioDeviceError, AudioFileError

# Only the fact: each command adds the way out that works there (say: --out FILE.wav;
# practice: --no-voice; replay: --device), see tests/test_messages.py.
NO_OUTPUT_MESSAGE = "no audio output device found"

_POLL_S = 0.02  # how often play() looks at its events; bounds stop() latency


@dataclass(frozen=True)
class PlaybackReport:
    """What happened during one ``Player.play()`` call (times are ``time.monotonic()``)."""

    started_at: float | None  # first sample at the device's output; None if nothing played
    ended_at: float
    frames: int  # frames of speech handed to the device (at ``rate``)
    rate: int  # the device's stream rate
    device: str
    interrupted: bool
    underruns: int  # callbacks that found no audio ready (the voice was slower than playback)

    @property
    def duration(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def _import_sounddevice():
    try:
        import sounddevice as sd
    except OSError as exc:  # libportaudio2 missing
        raise AudioDeviceError(
            f"the PortAudio library could not be loaded ({exc}); install libportaudio2"
        ) from None
    return sd


def _output_devices(sd) -> list[dict]:
    try:
        devices = sd.query_devices()
    except Exception as exc:
        raise AudioDeviceError(f"cannot list audio devices: {exc}") from None
    return [d for d in devices if d.get("max_output_channels", 0) > 0]


def resolve_output_device(sd, device: str | int | None) -> dict:
    """Return sounddevice's info dict for the output device to use.

    ``device`` is None (the default output), an index, or a (part of a) name.
    """
    outputs = _output_devices(sd)
    if not outputs:
        raise AudioDeviceError(NO_OUTPUT_MESSAGE)
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device)
    if device is None:
        default_out = sd.default.device[1]
        if default_out is None or default_out < 0:
            return outputs[0]
        device = default_out
    try:
        info = sd.query_devices(device, "output")
    except (ValueError, sd.PortAudioError) as exc:
        names = ", ".join(repr(d["name"]) for d in outputs)
        reason = str(exc).splitlines()[0].rstrip(".:") if str(exc) else "not found"
        raise AudioDeviceError(
            f"cannot use audio output {device!r} ({reason}); available: {names}"
        ) from None
    return dict(info)


def _pick_rate(sd, index: int, wanted: int, default_rate: float) -> int:
    """The voice's own rate if the device takes it, else the device's default rate."""
    try:
        sd.check_output_settings(device=index, samplerate=wanted, channels=1, dtype="float32")
        return wanted
    except Exception:
        return int(default_rate)


class _Resampler:
    """Stateful mono float32 resampler over av (keeps continuity across chunks)."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        import av

        self._src = src_rate
        self._av = av
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=dst_rate)
        self._pts = 0

    def _frames_to_array(self, frames) -> np.ndarray:
        parts = [f.to_ndarray().reshape(-1) for f in frames]
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def push(self, samples: np.ndarray) -> np.ndarray:
        if samples.size == 0:
            return np.zeros(0, dtype=np.float32)
        data = np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1)
        frame = self._av.AudioFrame.from_ndarray(data, format="flt", layout="mono")
        frame.sample_rate = self._src
        frame.pts = self._pts
        self._pts += samples.size
        return self._frames_to_array(self._resampler.resample(frame))

    def flush(self) -> np.ndarray:
        return self._frames_to_array(self._resampler.resample(None))


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample a mono float32 buffer with av (FFmpeg's swresample)."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if src_rate == dst_rate or samples.size == 0:
        return samples.copy()
    r = _Resampler(src_rate, dst_rate)
    return np.concatenate([r.push(samples), r.flush()])


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> Path:
    """Write mono float32 samples in [-1, 1] as a 16-bit PCM WAV file."""
    path = Path(path)
    pcm = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
    pcm16 = (pcm * 32767.0).round().astype("<i2")
    try:
        # Open the file first: a wave.open(path) that fails leaves a broken object
        # whose __del__ prints a traceback.
        with open(path, "wb") as fh, wave.open(fh, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(int(rate))
            out.writeframes(pcm16.tobytes())
    except OSError as exc:
        raise AudioFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV file (mono, or the first channel) as float32 and its rate."""
    path = Path(path)
    try:
        with open(path, "rb") as fh, wave.open(fh, "rb") as src:
            rate, width, channels = src.getframerate(), src.getsampwidth(), src.getnchannels()
            raw = src.readframes(src.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioFileError(f"cannot read {path}: {exc}") from None
    if width != 2:
        raise AudioFileError(f"{path}: expected 16-bit PCM, got {8 * width}-bit samples")
    pcm = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)[:, 0]
    return (pcm.astype(np.float32) / 32768.0), rate


class _ChunkQueue:
    """Chunks handed from the feeder thread to the audio callback (no locks in the callback)."""

    def __init__(self) -> None:
        self.chunks: collections.deque[np.ndarray] = collections.deque()
        self.offset = 0  # read position inside chunks[0]
        self.done = False  # the feeder has put its last chunk

    def read_into(self, out: np.ndarray) -> int:
        """Copy up to len(out) samples into out; return how many were copied."""
        filled = 0
        while filled < len(out) and self.chunks:
            head = self.chunks[0]
            take = min(len(out) - filled, len(head) - self.offset)
            out[filled : filled + take] = head[self.offset : self.offset + take]
            filled += take
            self.offset += take
            if self.offset >= len(head):
                self.chunks.popleft()
                self.offset = 0
        return filled


@dataclass
class _StreamState:
    """What the audio callback and the finished callback report back to ``_play``."""

    started: float | None = None
    ended: float | None = None
    frames: int = 0
    underruns: int = 0


class Player:
    """Plays mono float32 audio on one output device; ``stop()`` interrupts from any thread.

    One ``play()`` at a time per Player. ``device`` is None (default output), a device
    index or part of a device name. The output device is checked when ``play()`` starts.
    """

    def __init__(
        self,
        device: str | int | None = None,
        *,
        blocksize: int = 1024,
        on_started: Callable[[float], None] | None = None,
    ) -> None:
        self.device = device
        self.blocksize = blocksize
        self.on_started = on_started
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def stop(self) -> None:
        """Interrupt the current playback (if any); returns at once."""
        self._stop.set()

    def check_device(self) -> str:
        """Return the name of the output device that would be used, or raise AudioDeviceError."""
        sd = _import_sounddevice()
        return str(resolve_output_device(sd, self.device)["name"])

    def play(self, audio: np.ndarray | Iterable[np.ndarray], rate: int) -> PlaybackReport:
        """Play a buffer or an iterator of chunks at ``rate``; block until done or stopped."""
        if not self._lock.acquire(blocking=False):
            raise AudioDeviceError("this player is already playing")
        try:
            self._stop.clear()
            return self._play(audio, int(rate))
        finally:
            self._lock.release()

    def _play(self, audio: np.ndarray | Iterable[np.ndarray], rate: int) -> PlaybackReport:
        sd = _import_sounddevice()
        info = resolve_output_device(sd, self.device)
        index = int(info["index"])
        stream_rate = _pick_rate(sd, index, rate, info["default_samplerate"])
        chunks: Iterator[np.ndarray]
        chunks = iter([audio]) if isinstance(audio, np.ndarray) else iter(audio)

        queue = _ChunkQueue()
        state = _StreamState()
        finished = threading.Event()

        def on_finished() -> None:
            state.ended = time.monotonic()
            finished.set()

        feeder_error: list[BaseException] = []

        def feed() -> None:
            resampler = _Resampler(rate, stream_rate) if stream_rate != rate else None
            try:
                for chunk in chunks:
                    if self._stop.is_set():
                        break
                    data = np.asarray(chunk, dtype=np.float32).reshape(-1)
                    if resampler is not None:
                        data = resampler.push(data)
                    if data.size:
                        queue.chunks.append(data)
                if resampler is not None and not self._stop.is_set():
                    tail = resampler.flush()
                    if tail.size:
                        queue.chunks.append(tail)
            except BaseException as exc:  # a failing voice: reported by play()
                feeder_error.append(exc)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
                queue.done = True

        def callback(outdata, frames, cb_time, status) -> None:
            out = outdata[:, 0]
            if self._stop.is_set():
                out.fill(0)
                raise sd.CallbackAbort
            got = queue.read_into(out)
            if got < frames:
                out[got:] = 0
            if got:
                if state.started is None:
                    lag = max(0.0, cb_time.outputBufferDacTime - cb_time.currentTime)
                    state.started = time.monotonic() + lag
                state.frames += got
            if got < frames:
                if queue.done and not queue.chunks:
                    raise sd.CallbackStop
                state.underruns += 1

        feeder = threading.Thread(target=feed, name="voice-feeder", daemon=True)
        feeder.start()
        try:
            stream = sd.OutputStream(
                device=index,
                samplerate=stream_rate,
                channels=1,
                dtype="float32",
                blocksize=self.blocksize,
                callback=callback,
                finished_callback=on_finished,
            )
        except Exception as exc:
            self._stop.set()
            raise AudioDeviceError(
                f"cannot open audio output {info['name']!r}: {exc}"
            ) from None

        reported = False
        interrupted = False
        with stream:
            while not finished.wait(_POLL_S):
                if not reported and state.started is not None:
                    reported = True
                    self._notify_started(state.started)
                if self._stop.is_set():
                    interrupted = True
                    stream.abort()
                    break
        ended = state.ended if state.ended is not None else time.monotonic()
        interrupted = interrupted or self._stop.is_set()
        if not reported and state.started is not None:
            self._notify_started(state.started)
        if feeder_error and not interrupted:
            err = feeder_error[0]
            if isinstance(err, Exception):
                raise err
        return PlaybackReport(
            started_at=state.started,
            ended_at=ended,
            frames=state.frames,
            rate=stream_rate,
            device=str(info["name"]),
            interrupted=interrupted,
            underruns=state.underruns,
        )

    def _notify_started(self, t: float) -> None:
        if self.on_started is not None:
            self.on_started(t)
