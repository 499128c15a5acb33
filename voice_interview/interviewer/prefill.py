"""Prefill: the local server reads the answer while the candidate is still speaking.

llama.cpp keeps the tokens of the last prompt and reuses their longest common
prefix with the next one. :class:`Prefiller` sends the prompt *as far as it is
known* (the fixed instructions and the answer so far, ``InterviewerPrompt.head``)
as a one-token completion whenever the answer grows, so when the pause comes
the real request only reads the planner's move: a few dozen tokens instead of
the whole answer (reading is 50-60 tokens/s on two cores).

- ``feed(build)`` returns at once (it only swaps the pending prompt and wakes
  the worker, which calls ``build()``): it is called from the listener's event
  thread and must never hold audio or Whisper. Prompts fed faster than the
  server reads them are coalesced: only the newest is sent.
- ``hold()`` / ``release()`` bracket a real request: nothing new is sent
  meanwhile, so a probe never queues behind a prefill it does not need.
  (A prefill already being read finishes: llama.cpp cannot interrupt prompt
  reading. Each is short, the words since the last one.)
- ``cancel()`` drops the pending prompt (the turn is over). ``close()`` ends
  the worker.
- The server runs at nice +10 (``server.py``), below audio capture and
  Whisper, so the reading only uses the CPU they leave.

Only for a server this process owns: a hosted model would bill every prefill.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]
Build = Callable[[], Messages | None]  # made in the worker: may ask the planner
REQUEST_TIMEOUT_S = 30.0


@dataclass
class PrefillStats:
    fed: int = 0  # prompts handed to feed()
    sent: int = 0  # prompts the server read
    failed: int = 0
    last_s: float = 0.0  # how long the last one took
    total_s: float = 0.0


class Prefiller:
    """One background worker that keeps the server's prompt cache on the answer so far."""

    def __init__(self, url: str, model: str, ready: Callable[[], bool] = lambda: True) -> None:
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.ready = ready  # the server is serving (a prefill before that is pointless)
        self.stats = PrefillStats()
        self._cond = threading.Condition()
        self._pending: Build | None = None
        self._last: Messages | None = None  # the prompt the server holds now, as far as known
        self._held = 0
        self._closed = False
        self._busy = False
        self._thread: threading.Thread | None = None

    def feed(self, build: Build) -> None:
        """Have the server read ``build()``'s prompt; the newest feed wins. ``build``
        runs in the worker (it may ask the planner for its move), never here."""
        with self._cond:
            self.stats.fed += 1
            if self._closed:
                return
            self._pending = build
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="llm-prefill",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def cancel(self) -> None:
        with self._cond:
            self._pending = None

    def hold(self) -> None:
        with self._cond:
            self._held += 1

    def release(self) -> None:
        with self._cond:
            self._held = max(0, self._held - 1)
            self._last = None  # the real request changed what the server holds
            self._cond.notify()

    @property
    def busy(self) -> bool:
        """A prefill is being read by the server now (or waits to be sent)."""
        with self._cond:
            return self._busy or self._pending is not None

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is pending or being read (for tests and benchmarks)."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._pending is not None or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (self._pending is None or self._held):
                    self._cond.wait(0.5)
                if self._closed:
                    return
                build, self._pending = self._pending, None
                self._busy = True
            try:
                messages = build() if build is not None and self.ready() else None
                if messages is not None and messages != self._last:
                    self._send(messages)
            except Exception:  # an optimisation: never let it take the session down
                self.stats.failed += 1
                log.exception("prefill failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _send(self, messages: Messages) -> None:
        body = json.dumps({"model": self.model, "messages": messages, "max_tokens": 1,
                           "temperature": 0, "stream": False}).encode()
        request = urllib.request.Request(self.url, data=body,
                                         headers={"Content-Type": "application/json"})
        start = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as resp:
                resp.read()
        except OSError as exc:  # the server is gone or busy: the real request still works
            self.stats.failed += 1
            log.debug("prefill failed: %s", exc)
            return
        took = time.monotonic() - start
        with self._cond:
            self.stats.sent += 1
            self.stats.last_s = took
            self.stats.total_s += took
            self._last = messages
