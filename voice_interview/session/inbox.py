"""What the session's turn loop is told, one small frozen type per kind of news.

The listener's threads, the reader thread and ``stop()`` put these in the inbox;
the turn loop (``session.loop``) is the only reader.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass

from voice_interview.events import EngineError, HardBudgetReached, TurnEnded


@dataclass(frozen=True)
class StopAsked:
    """``stop()`` was called (q, ctrl+c)."""


@dataclass(frozen=True)
class SourceEnded:
    """The audio source has no more blocks (or the listener stopped)."""


@dataclass(frozen=True)
class TurnOver:
    event: TurnEnded


@dataclass(frozen=True)
class BudgetReached:
    event: HardBudgetReached


@dataclass(frozen=True)
class Failed:
    """A fatal engine error: shown once the answer so far is scored."""

    event: EngineError


InboxItem = StopAsked | SourceEnded | TurnOver | BudgetReached | Failed


class Inbox:
    def __init__(self) -> None:
        self._queue: queue.Queue[InboxItem] = queue.Queue()

    def put(self, item: InboxItem) -> None:
        self._queue.put(item)

    def get(self, timeout: float) -> InboxItem | None:
        """The next item, or None after ``timeout`` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
