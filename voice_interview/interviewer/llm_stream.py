"""One streamed reply: a worker thread feeds a queue, the caller reads it to a deadline.

``pump(response, stream)`` (the worker) puts the reply's text pieces on
``stream.events`` and ``("end", None)`` or ``("error", why)`` last;
``read_reply`` (the caller's thread) reads them against a hard wall-clock
deadline and stops at the first question mark, at a reply already certain to be
refused, at a cancel, an error or the deadline. The first sentence is handed
out as soon as it is complete and passes the per-sentence checks.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from voice_interview.interviewer.validate import (
    clean_reply,
    cut_compound,
    early_refusal,
    split_sentences,
    validate_probe,
    validate_sentence,
)


@dataclass
class Stream:
    """Shared between the caller and one worker thread."""

    events: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    cancel: threading.Event = field(default_factory=threading.Event)
    lasting: bool = False  # the worker's error will not clear up by itself soon
    timed_out: bool = False
    first_text_at: float | None = None  # time.monotonic() of the reply's first text


def pump(response: Any, stream: Stream) -> None:
    """Worker side: the reply's text pieces onto the queue, then the end mark."""
    for chunk in response:
        if stream.cancel.is_set():
            return
        choices = getattr(chunk, "choices", None) or []
        delta = getattr(choices[0], "delta", None) if choices else None
        content = getattr(delta, "content", None) if delta is not None else None
        if content:
            if stream.first_text_at is None:
                stream.first_text_at = time.monotonic()
            stream.events.put(("text", content))
    stream.events.put(("end", None))


def read_reply(stream: Stream, deadline: float, start: float, transcript: str,
               asked: Sequence[str], on_first_sentence: Callable[[str], None] | None,
               cancel: threading.Event | None = None, *, timeout_s: float,
               loading: Callable[[], bool] = lambda: False,
               ) -> tuple[str, str | None, float | None]:
    """Read the reply until its first question, a refusal, an error or the deadline.

    Returns the text read (cut after the first "?"), why the LLM cannot be
    used (None: validate the text) and when the first sentence was handed out.
    """
    raw = ""
    first_done = False
    first_at: float | None = None
    while True:
        remaining = deadline - time.monotonic()
        if cancel is not None:
            if cancel.is_set():
                return raw, "cancelled: the candidate spoke again", first_at
            remaining = min(remaining, 0.05)  # look at the cancel flag often
        try:
            if deadline - time.monotonic() <= 0:
                raise queue.Empty
            kind, value = stream.events.get(timeout=max(remaining, 0.001))
        except queue.Empty:
            if cancel is not None and time.monotonic() < deadline:
                continue
            stream.timed_out = True
            why = f"LLM timed out after {timeout_s:.1f} s"
            if loading():
                why += " (litellm still loading)"
            return raw, why, first_at
        if kind == "error":
            return raw, value, first_at
        if kind == "end":
            return raw, None, first_at
        raw += value
        cut = raw.find("?")
        complete = cut >= 0
        single = cut_compound(raw)
        if single is not None:  # two questions joined: the first one, and stop reading
            raw, complete = single, True
        elif complete:
            raw = raw[: cut + 1]
        else:
            doomed = early_refusal(raw, transcript)
            if doomed:
                return raw, f"LLM reply refused ({doomed})", first_at
        if not first_done:
            first = first_sentence(raw, complete)
            if first is not None:
                first_done = True
                speakable = validate_sentence(first, transcript) is None and (
                    not complete or validate_probe(raw, transcript, asked) is None)
                if speakable and on_first_sentence is not None:
                    on_first_sentence(clean_reply(first))
                    first_at = time.monotonic() - start
        if complete:
            return raw, None, first_at



_SENTENCE_DONE = re.compile(r"[.!?][\"')\]]*\s")


def first_sentence(text: str, complete: bool) -> str | None:
    """The first sentence once it is known to be finished (an end mark and a space)."""
    done = _SENTENCE_DONE.search(text)
    if done:
        return text[: done.end()].strip()
    if complete:
        parts = split_sentences(text)
        return parts[0] if parts else None
    return None


def close_response(response: Any) -> None:
    """Drop the HTTP stream so an abandoned reply does not keep a socket open."""
    if response is None:
        return
    for target in (getattr(response, "completion_stream", None), response):
        for name in ("close", "aclose_sync"):
            fn = getattr(target, name, None)
            if callable(fn):
                with contextlib.suppress(Exception):
                    fn()
                return
