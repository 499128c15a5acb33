"""One speculative LLM probe, and the trace of what became of it at the turn's end.

A :class:`Speculation` is the LLM's wording of the planner's move for the answer
so far, asked with ``record=False`` (nothing recorded) before the turn ends:
during speech when a segment's final changes the planner's move (``early``), or
when a pause begins. It is keyed by that move (family and target claim): the
turn's end uses it when the planner's move for the final words is the same.
Its first sentence is synthesized once it is wanted (the pause began) and
ready; ``claim_voice`` lets the turn loop take that job over instead.

:class:`TurnTrace` is one LLM turn's record (``ProbePreparer.traces``, logged,
printed by bench_session).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from voice_interview.interviewer.llm import LLMOutcome
    from voice_interview.interviewer.types import Probe

log = logging.getLogger(__name__)

MoveKey = tuple[str, str | None]  # the planner's decision: family, target claim


def move_key(probe: Probe) -> MoveKey:
    return probe.family, (probe.target.text if probe.target is not None else None)


@dataclass
class Speculation:
    """The LLM's probe for ``text`` (record=False); used at the turn's end if the
    planner's move for the final words is still ``move``, else cancelled."""

    gen: int
    answer_index: int
    text: str
    move: MoveKey | None = None  # the planner's move for ``text`` when it was asked
    early: bool = False  # asked during speech, at a segment's final
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)  # the reply is in
    voiced: threading.Event = field(default_factory=threading.Event)  # its audio job ended
    outcome: LLMOutcome | None = None
    audio: np.ndarray | None = None  # the probe's first sentence, synthesized
    rest: str = ""  # the probe's sentences after the first (spoken after ``audio``)
    wanted: bool = False  # a pause began on this move: synthesize it when ready
    # When (time.monotonic()) it went: the pause began, the LLM was asked, its reply
    # was ready, its audio was.
    began: float = 0.0
    asked: float = 0.0
    ready: float = 0.0
    synthesized: float = 0.0
    revisions_at_ask: int = 0  # the answer's revisions when the LLM was asked
    prefill_busy: bool = False  # a prefill was being read when the LLM was asked
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _voice_job: str = ""  # "" | "synthesizing" | "claimed"

    @property
    def usable(self) -> bool:
        """Not cancelled, and not (yet) refused: worth waiting for."""
        if self.cancel.is_set():
            return False
        out = self.outcome
        return not self.done.is_set() or (out is not None and out.rejected is None)

    def start_voice(self) -> bool:
        """True if the caller is the one to synthesize it (nobody has started)."""
        with self._lock:
            if self._voice_job:
                return False
            self._voice_job = "synthesizing"
            return True

    def claim_voice(self) -> bool:
        """The turn loop speaks it itself unless its synthesis is under way: True if
        claimed (nothing will synthesize it now), False if a synthesis is running."""
        with self._lock:
            if self._voice_job == "synthesizing":
                return False
            self._voice_job = "claimed"
            return True

    @property
    def first_token(self) -> float | None:
        out = self.outcome
        if out is None or out.first_token_s is None:
            return None
        return self.asked + out.first_token_s


@dataclass(frozen=True)
class TurnTrace:
    """What became of the speculation at one turn's end (``ProbePreparer.traces``,
    logged and printed by bench_session): times are ``time.monotonic()``."""

    answer_index: int
    decision: str  # used | used-same-move | discarded: ... | none
    chosen: float  # the turn loop asked for the probe
    done: float  # the probe (and its first audio, if prepared) was ready
    source: str
    spec_began: float | None = None
    spec_asked: float | None = None
    spec_ready: float | None = None
    spec_synthesized: float | None = None
    spec_first_token: float | None = None  # the reply's first text (the prompt was read)
    revisions_after_ask: int = 0  # Whisper revisions of this answer after the LLM was asked
    stale_asks: int = 0  # earlier speculations for this answer sent, then cancelled
    prefill_busy: bool = False  # the speculation was asked behind a prefill
    last_revision: float | None = None  # when the answer's last revision arrived
    rejected: str | None = None
    early: bool = False  # the speculation used was asked during speech

    def log(self) -> None:
        def rel(t: float | None) -> str:
            return "-" if t is None else f"{t - self.chosen:+.2f}"

        log.info("turn %d probe: speculation %s%s (began %s, asked %s, first token %s, "
                 "ready %s, audio %s s from choosing the probe; %d revision(s) after the ask, "
                 "last %s; %d stale ask(s); prefill busy at the ask: %s); %s%s",
                 self.answer_index, self.decision, " (early)" if self.early else "",
                 rel(self.spec_began), rel(self.spec_asked), rel(self.spec_first_token),
                 rel(self.spec_ready), rel(self.spec_synthesized), self.revisions_after_ask,
                 rel(self.last_revision), self.stale_asks, self.prefill_busy, self.source,
                 f" ({self.rejected})" if self.rejected else "")
