"""Audio sources: one interface for the microphone and for files.

Everything downstream sees 16 kHz mono float32 in blocks of 512 samples (32 ms),
the frame size the Silero VAD expects.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voice_interview.errors import AudioDeviceError, AudioFileError

SAMPLE_RATE = 16_000
BLOCK = 512  # samples per block: 32 ms at 16 kHz
BLOCK_S = BLOCK / SAMPLE_RATE


class AudioSource(Protocol):
    """Yields float32 mono blocks of ``BLOCK`` samples at ``SAMPLE_RATE``."""

    def blocks(self) -> Iterator[np.ndarray]: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------- files


def _open_container(path: Path):
    import av

    if not path.exists():
        raise AudioFileError(f"{path}: no such file")
    if path.is_dir():
        raise AudioFileError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: the file is empty (0 bytes)")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AudioFileError(f"{path}: not a readable audio file ({_short(exc)})") from None
    if not container.streams.audio:
        container.close()
        raise AudioFileError(f"{path}: contains no audio stream")
    return container


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # PyAV messages look like "[Errno 1094995529] Invalid data found ...: 'path'"
    if text.startswith("[Errno"):
        text = text.split("]", 1)[-1].strip()
    return text.split(": '")[0]


def probe_file(path: str | Path) -> tuple[float, int]:
    """Return (duration in seconds or 0.0 when unknown, native sample rate)."""
    path = Path(path)
    container = _open_container(path)
    try:
        stream = container.streams.audio[0]
        rate = int(stream.rate or stream.codec_context.sample_rate or 0)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        return duration, rate
    finally:
        container.close()


def iter_decoded(path: str | Path, chunk: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """Decode any file FFmpeg reads into 16 kHz mono float32 chunks (about ``chunk`` long).

    Stereo is mixed down and the rate converted by FFmpeg's resampler (PyAV).
    Raises AudioFileError for missing, empty, corrupt or audio-less files.
    """
    import av

    path = Path(path)
    container = _open_container(path)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    pending: list[np.ndarray] = []
    pending_len = 0
    got_any = False
    try:
        stream = container.streams.audio[0]
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    pending.append(arr)
                    pending_len += arr.size
                    if pending_len >= chunk:
                        got_any = True
                        yield np.concatenate(pending)
                        pending, pending_len = [], 0
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        except av.FFmpegError as exc:
            raise AudioFileError(f"{path}: corrupt audio ({_short(exc)})") from None
        if pending:
            tail = np.concatenate(pending)
            if tail.size:
                got_any = True
                yield tail
        if not got_any:
            raise AudioFileError(f"{path}: holds no audio samples")
    finally:
        container.close()


def decode_file(path: str | Path) -> np.ndarray:
    """Whole file as one 16 kHz mono float32 array.

    Filled in place into a buffer sized from the container's duration (grown if
    the estimate is short), so decoding needs about the audio's own size, not twice.
    """
    duration, _rate = probe_file(path)
    buf = np.empty(int(duration * SAMPLE_RATE) + SAMPLE_RATE, dtype=np.float32)
    n = 0
    for chunk in iter_decoded(path, chunk=SAMPLE_RATE * 30):
        if n + chunk.size > buf.size:
            grown = np.empty(max(buf.size * 3 // 2, n + chunk.size), dtype=np.float32)
            grown[:n] = buf[:n]
            buf = grown
        buf[n : n + chunk.size] = chunk
        n += chunk.size
    return buf[:n].copy() if n < buf.size // 2 else buf[:n]


class FileSource:
    """Blocks from an audio file, paced in real time or as fast as possible.

    The last block is zero-padded to ``BLOCK`` samples; ``duration_s`` is the
    real length once the file has been read to the end.

    ``cued``: the file waits for ``play()``. Until then a real-time source gives
    silence, like a microphone in a quiet room, so the session clock runs while
    the interviewer asks the opening question and the recording lines up.
    """

    def __init__(self, path: str | Path, realtime: bool = False, speed: float = 1.0,
                 cued: bool = False):
        self.path = Path(path)
        self.realtime = realtime
        self.speed = speed
        self.samples_read = 0
        self._closed = threading.Event()
        self._go = threading.Event()
        if not cued:
            self._go.set()
        probe_file(self.path)  # fail early with a readable message

    @property
    def duration_s(self) -> float:
        return self.samples_read / SAMPLE_RATE

    def play(self) -> None:
        """Start the file (a cued source gives silence until then)."""
        self._go.set()

    def blocks(self) -> Iterator[np.ndarray]:
        start = time.monotonic()
        n = 0

        def pace() -> None:
            if self.realtime:
                delay = start + (n + 1) * BLOCK_S / self.speed - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

        silence = np.zeros(BLOCK, dtype=np.float32)
        while not self._go.is_set():
            if self._closed.is_set():
                return
            if not self.realtime:
                self._go.wait(0.05)
                continue
            pace()
            n += 1
            yield silence
        carry = np.zeros(0, dtype=np.float32)
        for chunk in iter_decoded(self.path, chunk=BLOCK * 16):
            self.samples_read += chunk.size
            data = np.concatenate([carry, chunk]) if carry.size else chunk
            usable = data.size - data.size % BLOCK
            for i in range(0, usable, BLOCK):
                if self._closed.is_set():
                    return
                pace()
                n += 1
                yield data[i : i + BLOCK]
            carry = data[usable:].copy()
        if carry.size and not self._closed.is_set():
            yield np.concatenate([carry, np.zeros(BLOCK - carry.size, dtype=np.float32)])

    def close(self) -> None:
        self._closed.set()


class ArraySource:
    """Blocks from an in-memory 16 kHz float32 array (synthesized speech, tests)."""

    def __init__(self, samples: np.ndarray, realtime: bool = False):
        self.samples = np.asarray(samples, dtype=np.float32)
        self.realtime = realtime
        self._closed = threading.Event()

    def blocks(self) -> Iterator[np.ndarray]:
        start = time.monotonic()
        total = self.samples.size
        padded = np.concatenate(
            [self.samples, np.zeros((-total) % BLOCK, dtype=np.float32)]
        )
        for n, i in enumerate(range(0, padded.size, BLOCK)):
            if self._closed.is_set():
                return
            if self.realtime:
                delay = start + (n + 1) * BLOCK_S - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            yield padded[i : i + BLOCK]

    def close(self) -> None:
        self._closed.set()


# ---------------------------------------------------------------------- microphone


def input_devices() -> list[dict]:
    """Input-capable devices as PortAudio reports them (empty when there are none)."""
    return [d for d in _query_devices() if d.get("max_input_channels", 0) > 0]


def output_devices() -> list[dict]:
    return [d for d in _query_devices() if d.get("max_output_channels", 0) > 0]


def _query_devices() -> list[dict]:
    try:
        import sounddevice as sd
    except OSError as exc:  # libportaudio2 missing
        raise AudioDeviceError(
            f"the PortAudio library is not installed ({exc}); install libportaudio2"
        ) from None
    try:
        return [dict(d) for d in sd.query_devices()]
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"cannot list audio devices: {exc}") from None


class MicrophoneSource:
    """Live capture through sounddevice.

    The PortAudio callback only copies the block into a bounded queue; when the
    queue is full the oldest block is dropped and counted in ``dropped_blocks``.
    """

    def __init__(self, device: str | int | None = None, max_queue_blocks: int = 256):
        self.device = device
        self.max_queue_blocks = max_queue_blocks
        self.dropped_blocks = 0
        self.overflows = 0
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._cond = threading.Condition()
        self._stream: Any = None  # sounddevice.InputStream once opened
        self._closed = False

    def _callback(self, indata, frames, time_info, status) -> None:  # PortAudio thread
        if status and status.input_overflow:
            self.overflows += 1
        block = indata[:, 0].copy()
        with self._cond:
            if len(self._queue) >= self.max_queue_blocks:
                self._queue.popleft()
                self.dropped_blocks += 1
            self._queue.append(block)
            self._cond.notify()

    def start(self) -> None:
        import sounddevice as sd

        if not input_devices():
            raise AudioDeviceError(
                "no microphone found; practise with a recording: "
                "voice-interview practice --input AUDIO"
            )
        try:
            self._stream = sd.InputStream(
                samplerate=SAMPLE_RATE,
                blocksize=BLOCK,
                channels=1,
                dtype="float32",
                device=self.device,
                callback=self._callback,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            if self._stream is not None:
                self._stream.close(ignore_errors=True)
            self._stream = None
            raise AudioDeviceError(f"cannot open the microphone: {exc}") from None

    def blocks(self) -> Iterator[np.ndarray]:
        if self._stream is None:
            self.start()
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    stream = self._stream  # close() may clear it meanwhile
                    if not self._cond.wait(timeout=2.0) and (stream is None or not stream.active):
                        if self._closed:
                            break
                        raise AudioDeviceError("the microphone stopped delivering audio")
                if self._closed and not self._queue:
                    return
                block = self._queue.popleft()
            yield block

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            finally:
                self._stream = None
