"""Streaming voice activity detection with the Silero v6 model bundled in faster-whisper.

faster-whisper's own ``SileroVADModel.__call__`` resets the recurrent state on
every call, which loses speech when it is fed one 32 ms frame at a time. Here the
LSTM state (h, c) and the 64-sample context are carried across calls, so the
result is the same whether a file is fed in one piece or block by block.

On top of the per-frame probability sits a hysteresis gate (start at p >= 0.5,
stop at p < 0.35) with an energy floor, and a segmenter that turns the frame
timeline into speech segments separated by gaps of at least ``min_gap_s``.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass

import numpy as np

from voice_interview.audio.sources import BLOCK, BLOCK_S
from voice_interview.errors import ModelError

CONTEXT = 64


def silero_model_path() -> str:
    import faster_whisper

    path = os.path.join(os.path.dirname(faster_whisper.__file__), "assets", "silero_vad_v6.onnx")
    if not os.path.exists(path):
        raise ModelError(f"the Silero VAD model is missing from faster-whisper ({path})")
    return path


class SileroVAD:
    """Stateful Silero v6: ``probs(samples)`` for any whole number of 512-sample frames."""

    def __init__(self, model_path: str | None = None):
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            model_path or silero_model_path(), providers=["CPUExecutionProvider"], sess_options=opts
        )
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def probs(self, samples: np.ndarray, batch: int = 2048) -> np.ndarray:
        """Speech probability for each consecutive 512-sample frame in ``samples``."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if samples.size % BLOCK:
            raise ValueError(f"need a multiple of {BLOCK} samples, got {samples.size}")
        frames = samples.reshape(-1, BLOCK)
        if not len(frames):
            return np.zeros(0, dtype=np.float32)
        contexts = np.empty((len(frames), CONTEXT), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = frames[:-1, -CONTEXT:]
        rows = np.concatenate([contexts, frames], axis=1)
        out = []
        for i in range(0, len(rows), batch):
            p, self._h, self._c = self._session.run(
                None, {"input": rows[i : i + batch], "h": self._h, "c": self._c}
            )
            out.append(np.asarray(p, dtype=np.float32).reshape(-1))
        self._context = frames[-1, -CONTEXT:].copy()
        return np.concatenate(out)


@dataclass(frozen=True)
class VadSettings:
    start_threshold: float = 0.5
    stop_threshold: float = 0.35
    energy_floor_dbfs: float = -55.0  # frames quieter than this are never speech
    min_gap_s: float = 0.25  # shorter silences do not split a segment
    min_speech_s: float = 0.096  # shorter blips are not speech (3 frames)
    edge_margin_db: float = 9.0  # edge frames within this of the noise floor are trimmed
    max_trim_s: float = 0.32  # trim at most this much from the tail
    # Silero marks the quiet ends of words (fricatives, trailing vowels) as
    # silence; its own reference segmenter pads by 30 ms; half a frame centres our errors.
    speech_pad_s: float = 0.0
    # Soft word edges: Silero's probability dips under the gate for a final burst or
    # fricative ("ban-k", "hi-t") and rises late on a soft onset ("th-e"). Frames next
    # to a segment that are still this likely and clearly above the noise floor
    # (edge_margin_db) are taken into it, at most edge_reach_s on each side.
    edge_prob: float = 0.1
    edge_reach_s: float = 0.25
    # A tail frame this far below the segment's loudest frame is not audible speech
    # even when Silero still says so (a released "t" in a quiet room).
    tail_below_peak_db: float = 35.0
    noise_margin_db: float = 1.0


def rms_dbfs(frames: np.ndarray) -> np.ndarray:
    """RMS level of each row in dBFS (full scale = 1.0)."""
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=-1))
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


class SpeechGate:
    """Hysteresis over frame probabilities: True while speech is going on."""

    def __init__(self, settings: VadSettings = VadSettings()):
        self.s = settings
        self.speaking = False

    def update(self, prob: float, level_dbfs: float) -> bool:
        if self.speaking:
            if prob < self.s.stop_threshold or level_dbfs < self.s.energy_floor_dbfs:
                self.speaking = False
        elif prob >= self.s.start_threshold and level_dbfs >= self.s.energy_floor_dbfs:
            self.speaking = True
        return self.speaking


@dataclass(frozen=True)
class Segment:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict:
        return {"start": round(self.start, 3), "end": round(self.end, 3)}


class Segmenter:
    """Turns the gated frame timeline into speech segments, frame by frame.

    ``push(t, speech, level)`` returns a finished ``Segment`` when a silence of
    at least ``min_gap_s`` closes one (the segment's end is the last speech
    frame's end, not the moment it was confirmed). ``flush()`` closes a segment
    in progress.

    Silero's probability decays slowly in background noise, so a segment's
    tail is trimmed of frames that are barely above the noise floor (median
    level of recent non-speech frames + ``edge_margin_db``), at most
    ``max_trim_s``. Onsets are sharp and left alone.
    """

    def __init__(self, settings: VadSettings = VadSettings()):
        self.s = settings
        self.start: float | None = None  # start of the segment in progress
        self.last_speech_end: float | None = None
        self._levels: list[tuple[float, float, float]] = []  # (t, dBFS, p) this segment
        self._noise: collections.deque[float] = collections.deque(maxlen=150)
        reach = max(0, int(round(settings.edge_reach_s / BLOCK_S)))
        self._recent: collections.deque[tuple[float, float, float]] = collections.deque(
            maxlen=max(1, reach))  # the frames before a segment starts
        self._reach = reach

    @property
    def in_segment(self) -> bool:
        return self.start is not None

    @property
    def segment_start(self) -> float | None:
        """Start of the segment in progress, as its closed ``Segment`` will report it."""
        return None if self.start is None else max(0.0, self.start - self.s.speech_pad_s)

    @property
    def noise_floor_dbfs(self) -> float:
        return float(np.median(self._noise)) if self._noise else -90.0

    def push(
        self, t: float, speech: bool, level_dbfs: float = 0.0, prob: float = 1.0
    ) -> Segment | None:
        frame_end = t + BLOCK_S
        if speech:
            if self.start is None:
                self.start = t
                self._levels = []
                self._soft_onset()
            self.last_speech_end = frame_end
            self._levels.append((t, level_dbfs, prob))
            self._recent.clear()
            return None
        last = self.last_speech_end
        if (self.start is not None and last is not None and self._soft_edge(level_dbfs, prob)
                and abs(t - last) < 1e-6
                and frame_end - self._levels[-1][0] - BLOCK_S <= self.s.edge_reach_s):
            self.last_speech_end = frame_end  # a soft word ending: still the segment
            return None
        self._recent.append((t, level_dbfs, prob))
        if level_dbfs > -150.0:  # digital silence (a muted mic) says nothing about the room
            self._noise.append(level_dbfs)
        if (self.start is not None and last is not None
                and frame_end - last >= self.s.min_gap_s):
            return self._close()
        return None

    def _soft_edge(self, level_dbfs: float, prob: float) -> bool:
        if not self._reach:
            return False
        quiet = self.noise_floor_dbfs + self.s.edge_margin_db
        if self._levels:
            quiet = max(quiet, max(lv for _t, lv, _p in self._levels) - self.s.tail_below_peak_db)
        return prob >= self.s.edge_prob and level_dbfs >= quiet

    def _soft_onset(self) -> None:
        """Take the soft frames just before a segment's first speech frame into it."""
        t = self.start
        if t is None:
            return
        for ft, level, prob in reversed(self._recent):
            # Onset frames are often loud with a middling probability (under the
            # start threshold): those count whatever the noise floor says.
            soft = self._soft_edge(level, prob) or (
                self._reach and prob >= self.s.stop_threshold)
            if abs(ft + BLOCK_S - t) > 1e-6 or not soft:
                break
            t = ft
        self.start = t
        self._recent.clear()

    def flush(self) -> Segment | None:
        return self._close() if self.start is not None else None

    def _close(self) -> Segment | None:
        start, end = self._trimmed()
        self.start = None
        self.last_speech_end = None
        self._levels = []
        if end - start < self.s.min_speech_s:
            return None
        return Segment(max(0.0, start - self.s.speech_pad_s), end + self.s.speech_pad_s)

    def _trimmed(self) -> tuple[float, float]:
        start, end = self.start, self.last_speech_end
        if start is None or end is None:  # only called on an open segment
            raise RuntimeError("no segment in progress")
        if len(self._levels) < 4:
            return start, end
        levels = self._levels
        if abs(levels[-1][0] + BLOCK_S - end) > 1e-6:
            return start, end  # the segment ends in a soft edge taken in on purpose
        quiet = self.noise_floor_dbfs + self.s.edge_margin_db if len(self._noise) >= 8 else -1e9
        inaudible = max(lv for _t, lv, _p in levels) - self.s.tail_below_peak_db
        # Within a few dB of the noise floor a frame is the room, whatever Silero's
        # slowly decaying probability says (a pause in -45 dBFS noise came out 0.09 s short).
        noise_level = self.noise_floor_dbfs + self.s.noise_margin_db
        max_frames = int(self.s.max_trim_s / BLOCK_S)
        i = 0  # Silero's onsets are sharp even in noise: only the tail is trimmed
        j = len(levels) - 1
        while (
            len(levels) - 1 - j < max_frames
            and j > i
            and ((levels[j][1] < quiet and levels[j][2] < self.s.start_threshold)
                 or (levels[j][1] < min(quiet, noise_level) and levels[j][2] < 0.8)
                 or levels[j][1] < inaudible)
        ):
            j -= 1
        return start, levels[j][0] + BLOCK_S


def detect_segments(
    samples: np.ndarray, vad: SileroVAD | None = None, settings: VadSettings = VadSettings()
) -> list[Segment]:
    """Speech segments of a whole 16 kHz array (offline path; same gate as streaming).

    Works through the array in slices of ``step`` frames, so the extra memory is
    bounded whatever the length of the recording.
    """
    vad = vad or SileroVAD()
    vad.reset()
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    gate, seg = SpeechGate(settings), Segmenter(settings)
    out: list[Segment] = []
    step = 4096 * BLOCK  # ~131 s of audio per VAD call
    for i in range(0, samples.size, step):
        chunk = samples[i : i + step]
        if chunk.size % BLOCK:
            chunk = np.concatenate([chunk, np.zeros(BLOCK - chunk.size % BLOCK, np.float32)])
        frames = chunk.reshape(-1, BLOCK)
        levels = rms_dbfs(frames)
        probs = vad.probs(chunk)
        k0 = i // BLOCK
        for j, (p, lv) in enumerate(zip(probs.tolist(), levels.tolist(), strict=True)):
            done = seg.push((k0 + j) * BLOCK_S, gate.update(p, lv), lv, p)
            if done:
                out.append(done)
    last = seg.flush()
    if last:
        out.append(last)
    return out
