"""Whisper's side of the listener: a segment's final with the guards, and a window's
revision in context.

Guards: a decode cannot return more words than its speech can hold (``word_cap``),
and a final that is only a stock phrase ("Thank you.") over seconds of speech is
decoded again without the prompt (or left to the revision); each such fabrication
is counted (``fabrications``) and logged, never silently dropped.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from voice_interview.audio.vad import Segment
from voice_interview.speech.transcriber import (
    FILLER_PROMPT,
    Transcriber,
    Word,
    is_stock_phrase,
    keep_within_cap,
    over_cap,
    words_to_text,
)

log = logging.getLogger("voice_interview.listener")


class SegmentDecoder:
    """Decodes finals and revisions (called from the listener's worker thread only)."""

    def __init__(self, transcriber: Transcriber, reviser: Transcriber, settings: Any):
        self.transcriber = transcriber
        self.reviser = reviser  # decodes the revision windows
        self.s = settings  # the ListenerSettings
        self.fabrications = 0  # inventions caught by the guards
        self.revisions = 0  # windows revised
        self._context: dict[int, str] = {}  # turn -> its revised text so far
        self._turn_start: dict[int, float] = {}  # turn -> where its first window starts

    def forget_before(self, turn: int) -> None:
        """Drop the revised text of turns before ``turn``."""
        self._context = {k: v for k, v in self._context.items() if k >= turn}
        self._turn_start = {k: v for k, v in self._turn_start.items() if k >= turn}

    # -- finals -------------------------------------------------------------------------

    def final(self, samples: np.ndarray, offset: float, seg_start: float,
              seg_end: float) -> list[Word]:
        """The words of one VAD-closed segment (audio with pre-roll, from ``offset``)."""
        speech_s = seg_end - seg_start

        def mine(ws: list[Word]) -> list[Word]:  # words over the pre-roll are the last segment's
            return [w for w in ws if w.end > seg_start - 0.1]

        words = mine(self.transcriber.transcribe(samples, offset=offset))
        last = words[-1].end if words else seg_start
        stock = is_stock_phrase(words, speech_s)
        settings = getattr(self.transcriber, "settings", None)
        if not getattr(settings, "filler_prompt", True):  # nothing to retry without
            if stock:
                self.caught("a stock phrase, left to the revision", seg_start, seg_end,
                            words, words)
            return self.capped(words, speech_s, seg_start, seg_end)
        if seg_end - last > 1.0 or stock or over_cap(words, speech_s):
            # Stopped early, a stock phrase, or more words than the audio holds:
            # once more without the prompt that provokes all three.
            again = mine(self.transcriber.transcribe(samples, offset=offset, prompt=False))
            if stock and not is_stock_phrase(again, speech_s):
                self.caught("a stock phrase", seg_start, seg_end, words, again)
                words = again
            elif over_cap(words, speech_s) and len(again) < len(words):
                self.caught("too many words", seg_start, seg_end, words, again)
                words = again
            elif len(again) > len(words) and not over_cap(again, speech_s):
                words = again
        return self.capped(words, speech_s, seg_start, seg_end)

    def capped(self, words: list[Word], speech_s: float, start: float,
               end: float) -> list[Word]:
        if not over_cap(words, speech_s):
            return words
        kept = keep_within_cap(words, speech_s)
        self.caught("too many words", start, end, words, kept)
        return kept

    def caught(self, what: str, start: float, end: float, said: list[Word],
               kept: list[Word]) -> None:
        self.fabrications += 1
        log.warning("transcript guard (%s) at %.2f-%.2f s: %r -> %r", what, start, end,
                    words_to_text(said), words_to_text(kept))

    # -- revisions ------------------------------------------------------------------------

    def revise(self, samples: np.ndarray, offset: float, segs: tuple[Segment, ...],
               turn: int, ctx: tuple[Segment, ...] = ()) -> tuple[tuple[Word, ...], str]:
        """The words and text of one window of segments, decoded together; ``ctx`` are
        segments before it (in ``samples`` too) decoded along as context only."""
        from voice_interview.analysis import transcribe_group

        start, end = segs[0].start, segs[-1].end
        before = self._context.get(turn, "")
        # As the offline chunker: the filler prompt on a turn's first window only (it
        # keeps hesitations for the filler count and costs no accuracy there), no prompt
        # after. The text before as the prompt was measured worse: Whisper skips words
        # it finds in the prompt (benchmarks/README.md).
        turn_start = self._turn_start.setdefault(turn, (ctx or segs)[0].start)
        from_start = self.s.revise_filler_start and (ctx or segs)[0].start <= turn_start
        first = not before or self.s.revise_filler_all or from_start
        prompt: bool | str = FILLER_PROMPT if first else False
        if self.s.revise_context and before:
            prompt = before[-self.s.context_chars:]
        words = transcribe_group(samples, offset, [*ctx, *segs], self.reviser, prompt=prompt)
        speech_s = sum(s.duration for s in (*ctx, *segs))
        words = self.capped(words, speech_s, start, end)
        # Words over the pre-roll (or the context) belong to the window before; words
        # that start after the speech ended were invented over the post-roll.
        if ctx:
            edge = (ctx[-1].end + start) / 2
            kept = tuple(w for w in words if (w.start + w.end) / 2 > edge and w.start < end)
        else:
            kept = tuple(w for w in words if w.end > start - 0.1 and w.start < end)
        text = words_to_text(list(kept))
        self._context[turn] = f"{before} {text}".strip()
        self.revisions += 1
        return kept, text
