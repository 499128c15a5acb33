"""Getting the next probe ready while the candidate is silent, and choosing it.

When a pause begins a worker thread starts on the probe the turn's end will
want, so it can be spoken at once when the patience window runs out:

- without an LLM, ``_prepare`` previews the planner's probe and synthesizes its
  first sentence; it is used only if the planner, asked for real at the end of
  the turn, picks the same probe for the same transcripts;
- with an LLM, ``words_grew`` feeds the answer so far to the LLM's local server
  as it is transcribed (``LLMInterviewer.prefill``: the prompt, the planner's
  move for those words included, read while the candidate still speaks), and
  ``_speculate`` asks the LLM (nothing recorded) for the words the turn's end
  will use, and synthesizes a one-sentence probe; it is used if the answer is
  still the same text, or if a late revision left the planner's decision (the
  move's family and target) unchanged.

Anything prepared is dropped as soon as the candidate speaks again (the floor's
generation moves on). ``choose`` makes the turn's probe, telling the user once
per failure when the LLM could not word it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from voice_interview.session.answer import Floor, LiveAnswer
from voice_interview.session.settings import CLOSED, FINALS_WAIT_S, SPECULATE_AFTER_S

if TYPE_CHECKING:
    from voice_interview.interviewer.llm import LLMInterviewer, LLMOutcome
    from voice_interview.interviewer.types import Probe
    from voice_interview.listener import Listener
    from voice_interview.session.interview import Interview
    from voice_interview.session.routing import EventRouter
    from voice_interview.session.voice import InterviewerVoice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """A probe planned (and its first sentence synthesized) during the candidate's silence."""

    gen: int
    answer_index: int
    heard: int  # the answer's transcripts (finals and revisions) when it was planned
    text: str
    first_audio: np.ndarray | None
    rest: str


@dataclass
class Speculation:
    """The LLM's probe, asked when a pause began (record=False); used at the turn's end
    if the answer is still the same text, cancelled if the candidate speaks again."""

    gen: int
    answer_index: int
    text: str
    cancel: threading.Event
    done: threading.Event
    outcome: LLMOutcome | None = None
    audio: np.ndarray | None = None  # the probe's first sentence, synthesized
    # When (time.monotonic()) it went: the pause began, the LLM was asked (after the
    # last transcript and SPECULATE_AFTER_S), its reply was ready, its audio was.
    began: float = 0.0
    asked: float = 0.0
    ready: float = 0.0
    synthesized: float = 0.0
    revisions_at_ask: int = 0  # the answer's revisions when the LLM was asked
    prefill_busy: bool = False  # a prefill was being read when the LLM was asked


def _first_token(spec: Speculation | None) -> float | None:
    out = spec.outcome if spec is not None else None
    if spec is None or out is None or out.first_token_s is None:
        return None
    return spec.asked + out.first_token_s


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


class ProbePreparer:
    def __init__(self, interview: Interview, floor: Floor, listener: Listener,
                 voice: InterviewerVoice, router: EventRouter, stopped: threading.Event,
                 llm_timeout_s: float) -> None:
        self.interview = interview
        self.floor = floor  # its lock also guards the three fields below
        self.listener = listener
        self.voice = voice
        self.router = router
        self.stopped = stopped
        self.llm_timeout_s = llm_timeout_s
        self._prepared: Prepared | None = None
        self._speculation: Speculation | None = None
        self._workers: list[threading.Thread] = []  # joined at the end
        self._llm_failure_told = False  # the user was told the LLM failed (and rests)
        self.traces: list[TurnTrace] = []  # one per LLM turn: what became of the speculation
        self._revised_at: dict[int, list[float]] = {}  # answer -> its revisions' arrivals
        self._asks: dict[int, int] = {}  # answer -> speculations sent to the LLM
        self._paused = False  # a pause has begun and the candidate has not spoken since
        self._deferred: LiveAnswer | None = None  # words heard in the pause, not prefilled
        if interview.llm is not None:  # its prefill worker asks the planner too
            interview.llm.planner_lock = interview.lock

    # -- what the listener's events start and stop --------------------------------------

    def candidate_spoke(self) -> None:
        with self.floor.lock:
            self.floor.gen += 1
            self._paused = False
            self._prepared = None
            spec, self._speculation = self._speculation, None
            deferred, self._deferred = self._deferred, None
        if spec is not None:
            spec.cancel.set()
        if deferred is not None and deferred is self.floor.current:
            self._prefill(deferred)

    def words_grew(self, cur: LiveAnswer) -> None:
        """Listener thread, on each transcript of the current answer: returns at once
        (the prompt is built and sent by the LLM's prefill worker)."""
        llm = self.interview.llm
        if llm is None:
            return
        arrivals = self._revised_at.setdefault(cur.index, [])
        if len(cur.revisions) > len(arrivals):
            arrivals.append(time.monotonic())
        with self.floor.lock:
            if self._paused:
                # Once a pause has begun the speculation reads the last words itself:
                # a prefill sent now (the last segment's final, or a revision re-reading
                # the answer from its first changed word) would be read first, and
                # llama.cpp cannot interrupt prompt reading, so the ask would queue
                # behind it. Sent if the candidate speaks again (a breath, not the end).
                self._deferred = cur
                return
        self._prefill(cur)

    def _prefill(self, cur: LiveAnswer) -> None:
        llm = self.interview.llm
        if llm is None:
            return
        _words, text = cur.said()
        # The answer only, not the planner's move for it: measured live, a move that
        # changes from segment to segment had the server re-read the move's ~80
        # tokens at every transcript (29 prefills, 105 s of server time in 10 turns)
        # and the probes queued behind them timed out (6 of 10).
        llm.prefill(self.interview.question, text, self.interview.planner.asked, plan=False)

    def pause_began(self) -> None:
        with self.floor.lock:
            self._paused = True
        if self.interview.llm is not None:
            self.interview.llm.cancel_prefill()  # the speculation reads these words itself
        target = self._prepare if self.interview.llm is None else self._speculate
        worker = threading.Thread(target=target, args=(self.floor.gen, time.monotonic()),
                                  name="prepare", daemon=True)
        with self.floor.lock:
            self._workers = [w for w in self._workers if w.is_alive()] + [worker]
        worker.start()

    def join(self, timeout_s: float = 10.0) -> None:
        """Cancel a speculation and wait for the probe-preparing threads: a daemon thread
        still inside onnxruntime when the interpreter exits aborts the process."""
        with self.floor.lock:
            spec, self._speculation = self._speculation, None
            self.floor.gen += 1  # what they prepare is stale now
            workers, self._workers = self._workers, []
        if spec is not None:
            spec.cancel.set()
        deadline = time.monotonic() + timeout_s
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))

    # -- the turn's probe ----------------------------------------------------------------

    def choose(self, answer: LiveAnswer) -> tuple[Probe, Prepared | None]:
        """The probe for this answer, and its first sentence if it is ready to play."""
        words, text = answer.said()
        spoken_first = None
        llm = self.interview.llm
        if llm is not None:
            outcome, spoken_first = self._llm_probe(llm, answer, text)
            probe = outcome.probe
            # Said once per failure, not every turn: a resting LLM's skipped turns are
            # quiet, unless the failure itself was met by a discarded speculation.
            if probe.source == "llm":
                self._llm_failure_told = False
            elif not outcome.skipped or not self._llm_failure_told:
                self._llm_failure_told = True
                message = probe.reason
                if llm.resting_s > 0:
                    message += (f" (the offline interviewer asks for the next "
                                f"{llm.resting_s:.0f} s)")
                self.router.notice(message, level="warning")
        else:
            with self.interview.lock:
                probe = self.interview.planner.next_probe(self.interview.question,
                                                          words or text)
        return probe, spoken_first or self._take_prepared(answer, probe.text)

    def _llm_probe(self, llm: LLMInterviewer, answer: LiveAnswer,
                   text: str) -> tuple[LLMOutcome, Prepared | None]:
        """The LLM's probe for this answer: the one generated speculatively during the
        pause when it was for the same words (waited for, within the LLM's timeout),
        else asked now. Returns (outcome, prepared first audio or None)."""
        iv = self.interview
        chosen = time.monotonic()
        with self.floor.lock:
            spec, self._speculation = self._speculation, None
        decision = "none: no speculation for this answer"
        if spec is not None and spec.answer_index == answer.index:
            if not spec.done.wait(self.llm_timeout_s + 1.0):
                decision = "discarded: not done in time"
            outcome = spec.outcome
            rejected = outcome.rejected if outcome is not None else None
            if outcome is None:
                decision = "discarded: no outcome (failed)"
            elif (rejected or "").startswith(("cancelled", CLOSED)):
                decision = f"discarded: {rejected}"
            elif spec.text == text:
                decision = "used"
            elif self.same_move(outcome.probe, text):
                decision = "used-same-move"
            else:
                decision = "discarded: text revised and the move changed"
            if outcome is not None and decision.startswith("used"):
                # The LLM's probe, or the planner's wording when the LLM failed: either
                # way this turn's probe, without asking a second time.
                with iv.lock:
                    llm.commit(text, outcome.probe)
                prepared = None
                if spec.audio is not None:
                    prepared = Prepared(spec.gen, answer.index, len(answer.finals),
                                        outcome.probe.text, spec.audio, "")
                self._trace(answer, decision, chosen, outcome, spec)
                return outcome, prepared
        elif spec is not None:
            spec.cancel.set()
            decision = "none: the speculation was for another answer"
        with iv.lock:  # the gaps must count this answer too; the LLM and its
            iv.planner.add_answer(text)  # fallback add the same text again,
            # which the planner skips as a repeat of the last answer
            gaps = iv.gaps()
        outcome = llm.ask_detailed(iv.question, text, gaps, iv.planner.asked)
        self._trace(answer, decision, chosen, outcome, spec)
        return outcome, None

    def _trace(self, answer: LiveAnswer, decision: str, chosen: float, outcome: LLMOutcome,
               spec: Speculation | None) -> None:
        revised = self._revised_at.pop(answer.index, [])
        if spec is not None and spec.answer_index != answer.index:
            spec = None
        after = len(answer.revisions) - spec.revisions_at_ask if spec is not None else 0
        trace = TurnTrace(
            answer.index, decision, chosen, time.monotonic(), outcome.probe.source,
            spec_began=spec.began if spec else None, spec_asked=spec.asked if spec else None,
            spec_ready=(spec.ready or None) if spec else None,
            spec_synthesized=(spec.synthesized or None) if spec else None,
            spec_first_token=_first_token(spec),
            revisions_after_ask=after, stale_asks=max(0, self._asks.pop(answer.index, 0) - 1),
            prefill_busy=spec.prefill_busy if spec else False,
            last_revision=revised[-1] if revised else None,
            rejected=outcome.rejected)
        self.traces.append(trace)

        def rel(t: float | None) -> str:
            return "-" if t is None else f"{t - chosen:+.2f}"

        log.info("turn %d probe: speculation %s (began %s, asked %s, first token %s, ready %s, "
                 "audio %s "
                 "s from choosing the probe; %d revision(s) after the ask, last %s; %d stale "
                 "ask(s); prefill busy at the ask: %s); %s%s",
                 answer.index, decision, rel(trace.spec_began), rel(trace.spec_asked),
                 rel(trace.spec_first_token),
                 rel(trace.spec_ready), rel(trace.spec_synthesized),
                 trace.revisions_after_ask, rel(trace.last_revision), trace.stale_asks,
                 trace.prefill_busy, trace.source,
                 f" ({trace.rejected})" if trace.rejected else "")

    def same_move(self, probe: Probe, text: str) -> bool:
        """A revision came in after the speculation: is the planner's decision for the
        final words the one the speculative probe carries (family and target claim)?"""
        iv = self.interview
        with iv.lock:
            move = iv.planner.preview(iv.question, text)
        if move is None:
            return False
        target = move.target.text if move.target is not None else None
        was = probe.target.text if probe.target is not None else None
        return move.family == probe.family and target == was

    def _take_prepared(self, answer: LiveAnswer, text: str) -> Prepared | None:
        with self.floor.lock:
            prepared, self._prepared = self._prepared, None
        if (prepared is not None and prepared.answer_index == answer.index
                and prepared.heard == answer.heard and prepared.text == text):
            return prepared
        return None

    # -- the workers ---------------------------------------------------------------------

    def _speculate(self, gen: int, began: float) -> None:
        """When a pause begins: ask the LLM now (nothing recorded), so the probe is
        ready, and its first sentence synthesized, when the patience window ends."""
        spec = None
        iv = self.interview
        try:
            llm = iv.llm
            if llm is None:
                return
            self.listener.wait_idle(FINALS_WAIT_S)  # the last segment's words first
            # Not on every breath: a request cancelled while the server still reads
            # its prompt (which llama.cpp cannot interrupt) would delay the real one.
            wait = SPECULATE_AFTER_S - (time.monotonic() - began)
            if wait > 0 and self.stopped.wait(wait):
                return
            with self.floor.lock:
                cur = self.floor.current
                if gen != self.floor.gen or cur is None:
                    return
                _words, text = cur.said()  # the words the turn's end will use
                if not text.strip():
                    return
                old = self._speculation
                spec = Speculation(gen, cur.index, text, threading.Event(), threading.Event(),
                                   began=began, asked=time.monotonic(),
                                   revisions_at_ask=len(cur.revisions),
                                   prefill_busy=llm.prefill_busy)
                self._speculation = spec
                self._asks[cur.index] = self._asks.get(cur.index, 0) + 1
            if old is not None:
                old.cancel.set()
            with iv.lock:
                gaps = iv.gaps()
                asked = iv.planner.asked
            spec.outcome = outcome = llm.ask_detailed(iv.question, text, gaps, asked,
                                                      record=False, cancel=spec.cancel)
            spec.ready = time.monotonic()
            if (outcome.rejected is None and self.voice.speaks
                    and not spec.cancel.is_set()):
                from voice_interview.speech.voices import split_sentences

                if len(split_sentences(outcome.probe.text)) == 1:
                    cancel = spec.cancel
                    spec.audio = self.voice.synthesize(outcome.probe.text,
                                                       lambda: not cancel.is_set())
                    spec.synthesized = time.monotonic()
        except Exception:  # speculation is an optimisation: never let it break a session
            log.exception("speculative LLM probe failed")
        finally:
            if spec is not None:
                spec.done.set()

    def _prepare(self, gen: int, began: float = 0.0) -> None:
        """Plan the probe and synthesize its first sentence while the patience window runs.

        Dropped as soon as the candidate speaks again (the floor's generation moves on);
        used only if the planner, asked for real at the end of the turn, picks the same
        probe.
        """
        floor, iv = self.floor, self.interview
        try:
            self.listener.wait_idle(FINALS_WAIT_S)  # the last segment's words first
            with floor.lock:
                cur = floor.current
                if gen != floor.gen or cur is None:
                    return
                heard = cur.heard
                words, text = cur.said()
            with iv.lock:
                probe = iv.planner.preview(iv.question, words or text)
            if probe is None or gen != floor.gen:
                return
            first_audio, rest = None, ""
            if self.voice.speaks:
                from voice_interview.speech.voices import split_sentences

                sentences = split_sentences(probe.text)
                first_audio = self.voice.synthesize(sentences[0], lambda: gen == floor.gen)
                if first_audio is None:
                    return
                rest = " ".join(sentences[1:])
            with floor.lock:
                if gen == floor.gen and floor.current is cur:
                    self._prepared = Prepared(gen, cur.index, heard, probe.text,
                                              first_audio, rest)
        except Exception:  # preparation is an optimisation: never let it break a session
            log.exception("preparing the next probe failed")
