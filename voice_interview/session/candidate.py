"""A sample candidate for ``voice-interview demo``: answers each probe for its family.

A *candidate script* is a JSON file (``*.candidate.json``) naming WAV files: the
opening answer, the prepared answers per probe family (context, decisions,
debugging, evaluation, reflection, ownership; a first one and, for a second
probe of the same family, further ones), and a fallback. Given as the session's
input, it becomes a :class:`ScriptedCandidate`: a real-time source that is silent
(a quiet room) until it is cued, plays the opening answer after the question,
and after each probe plays the next answer written for that probe's family.
When the family's answers are used up (or the family has none), it gives the
fallback, a short answer that fits any probe, never another family's answer.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from voice_interview.audio.sources import BLOCK, BLOCK_S, decode_file
from voice_interview.errors import AudioFileError

SUFFIX = ".candidate.json"
FALLBACK = "fallback"  # what ``played`` records for the fallback answer


def is_script(path: str | Path | None) -> bool:
    return bool(path) and str(path).endswith(SUFFIX)


def write_script(path: Path, opening: Path, answers: Mapping[str, Sequence[Path]],
                 fallback: Path | None = None) -> Path:
    """Write a candidate script: ``answers`` maps a family to its answers, in the
    order they are given."""
    doc: dict = {"opening": str(opening),
                 "answers": {k: [str(p) for p in v] for k, v in answers.items()}}
    if fallback is not None:
        doc["fallback"] = str(fallback)
    path.write_text(json.dumps(doc))
    return path


class ScriptedCandidate:
    realtime = True

    def __init__(self, path: str | Path):
        try:
            doc = json.loads(Path(path).read_text())
            self.opening = decode_file(doc["opening"])
            self.answers = {family: [decode_file(p) for p in
                                     ([paths] if isinstance(paths, str) else paths)]
                            for family, paths in doc["answers"].items()}
            fallback = doc.get("fallback")
            self.fallback = None if fallback is None else decode_file(fallback)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AudioFileError(f"{path}: not a usable candidate script ({exc})") from None
        self.samples_read = 0
        # which prepared answers were given, in order: "debugging", "debugging#2", "fallback"
        self.played: list[str] = []
        self._given: dict[str, int] = {}
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = threading.Event()

    @property
    def duration_s(self) -> float:
        return self.samples_read / 16000

    def play(self) -> None:
        """The opening question was asked: give the opening answer."""
        self._queue.put(self.opening)

    def answer(self, family: str) -> None:
        """A probe of this family was asked: give the next answer prepared for it,
        or the fallback once the family's are used up (silence without one)."""
        n = self._given.get(family, 0)
        mine = self.answers.get(family, [])
        if n < len(mine):
            self._given[family] = n + 1
            self.played.append(family if n == 0 else f"{family}#{n + 1}")
            self._queue.put(mine[n])
        elif self.fallback is not None:
            self.played.append(FALLBACK)
            self._queue.put(self.fallback)

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
