"""A sample candidate for ``voice-interview demo``: answers each probe for its family.

A *candidate script* is a JSON file (``*.candidate.json``) naming WAV files: the
opening answer and one prepared answer per probe family (context, decisions,
debugging, evaluation, reflection, ownership). Given as the session's input, it
becomes a :class:`ScriptedCandidate`: a real-time source that is silent (a quiet
room) until it is cued, plays the opening answer after the question, and after
each probe plays the answer written for that probe's family (each at most once;
an unused one when the family's was used already).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from voice_interview.audio.sources import BLOCK, BLOCK_S, decode_file
from voice_interview.errors import AudioFileError

SUFFIX = ".candidate.json"


def is_script(path: str | Path | None) -> bool:
    return bool(path) and str(path).endswith(SUFFIX)


def write_script(path: Path, opening: Path, answers: dict[str, Path]) -> Path:
    path.write_text(json.dumps({"opening": str(opening),
                                "answers": {k: str(v) for k, v in answers.items()}}))
    return path


class ScriptedCandidate:
    realtime = True

    def __init__(self, path: str | Path):
        try:
            doc = json.loads(Path(path).read_text())
            self.opening = decode_file(doc["opening"])
            self.answers = {family: decode_file(p) for family, p in doc["answers"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AudioFileError(f"{path}: not a usable candidate script ({exc})") from None
        self.samples_read = 0
        self.played: list[str] = []  # which prepared answers were given, in order
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = threading.Event()

    @property
    def duration_s(self) -> float:
        return self.samples_read / 16000

    def play(self) -> None:
        """The opening question was asked: give the opening answer."""
        self._queue.put(self.opening)

    def answer(self, family: str) -> None:
        """A probe of this family was asked: give the answer prepared for it."""
        left = [f for f in self.answers if f not in self.played]
        choice = family if family in left else (left[0] if left else None)
        if choice is None:
            return
        self.played.append(choice)
        self._queue.put(self.answers[choice])

    def blocks(self) -> Iterator[np.ndarray]:
        start = time.monotonic()
        n = 0
        current = np.zeros(0, np.float32)
        silence = np.zeros(BLOCK, np.float32)
        while not self._closed.is_set():
            if current.size == 0:
                try:
                    current = np.asarray(self._queue.get_nowait(), np.float32)
                except queue.Empty:
                    current = np.zeros(0, np.float32)
            if current.size:
                block, current = current[:BLOCK], current[BLOCK:]
                if block.size < BLOCK:
                    block = np.concatenate([block, np.zeros(BLOCK - block.size, np.float32)])
            else:
                block = silence
            delay = start + (n + 1) * BLOCK_S - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            n += 1
            self.samples_read += BLOCK
            yield block

    def close(self) -> None:
        self._closed.set()
