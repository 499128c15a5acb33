"""Getting the next probe ready before the turn ends, and choosing it.

Without an LLM, when a pause begins ``_prepare`` previews the planner's probe and
synthesizes its first sentence; it is used only if the planner, asked for real
at the end of the turn, picks the same probe for the same transcripts, and
dropped as soon as the candidate speaks again (the floor's generation moves on).

With an LLM (``session.speculation``), work on the server is keyed by the
planner's move (family and target claim):

- during speech, each transcript of the answer goes to the early worker: when
  the planner's move for the answer so far differs from the newest
  speculation's, the LLM is asked for it now (nothing recorded; a stale one is
  cancelled), else the words are prefilled (``LLMInterviewer.prefill``);
- once a pause has begun nothing more is prefilled (the last final and
  Whisper's revisions would be read in front of the ask); ``_speculate`` keeps
  the newest speculation if it is for the move for the words now, else asks;
  the probe's first sentence is synthesized as soon as it is ready;
- ``choose`` uses that speculation when the planner's move for the final words
  is still its move (a late revision rarely changes it), else asks again, and
  tells the user once per failure when the LLM could not word it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from voice_interview.session.answer import Floor, LiveAnswer
from voice_interview.session.settings import CLOSED, FINALS_WAIT_S, SPECULATE_AFTER_S
from voice_interview.session.speculation import MoveKey, Speculation, TurnTrace, move_key

if TYPE_CHECKING:
    from voice_interview.events import TranscriptPartial
    from voice_interview.interviewer.llm import LLMInterviewer, LLMOutcome
    from voice_interview.interviewer.types import Probe
    from voice_interview.listener import Listener
    from voice_interview.session.interview import Interview
    from voice_interview.session.routing import EventRouter
    from voice_interview.session.voice import InterviewerVoice

log = logging.getLogger(__name__)
EARLY_TIMEOUT_FACTOR = 2.0  # an ask during speech may take this many LLM timeouts


@dataclass(frozen=True)
class Prepared:
    """A probe planned (and its first sentence synthesized) during the candidate's silence."""

    gen: int
    answer_index: int
    heard: int  # the answer's transcripts (finals and revisions) when it was planned
    text: str
    first_audio: np.ndarray | None
    rest: str


class ProbePreparer:
    def __init__(self, interview: Interview, floor: Floor, listener: Listener,
                 voice: InterviewerVoice, router: EventRouter, stopped: threading.Event,
                 llm_timeout_s: float) -> None:
        self.interview = interview
        self.floor = floor  # its lock also guards the fields below
        self.listener = listener
        self.voice = voice
        self.router = router
        self.stopped = stopped
        self.llm_timeout_s = llm_timeout_s
        self._prepared: Prepared | None = None
        self._latest: dict[int, Speculation] = {}  # answer -> its newest speculation
        self._workers: list[threading.Thread] = []  # joined at the end
        self._llm_failure_told = False  # the user was told the LLM failed (and rests)
        self.traces: list[TurnTrace] = []  # one per LLM turn: what became of the speculation
        self._revised_at: dict[int, list[float]] = {}  # answer -> its revisions' arrivals
        self._asks: dict[int, int] = {}  # answer -> speculations sent to the LLM
        self._paused = False  # a pause has begun and the candidate has not spoken since
        self._deferred: LiveAnswer | None = None  # words heard in the pause, not prefilled
        self._heard = threading.Condition()  # the early worker's newest transcript
        self._heard_next: LiveAnswer | None = None
        self._early_worker: threading.Thread | None = None
        self._closing = False
        self._partial: TranscriptPartial | None = None  # of the segment in progress
        if interview.llm is not None:  # its prefill worker asks the planner too
            interview.llm.planner_lock = interview.lock

    # -- what the listener's events start and stop --------------------------------------

    def candidate_spoke(self) -> None:
        """The candidate goes on: a planner preview is stale; a speculation is not (it
        is for a move: the next final tells whether the move changed)."""
        with self.floor.lock:
            self.floor.gen += 1
            self._paused = False
            self._prepared = None
            deferred, self._deferred = self._deferred, None
        if deferred is not None and deferred is self.floor.current:
            self._heard_now(deferred)

    def words_grew(self, cur: LiveAnswer) -> None:
        """Listener thread, on each transcript of the current answer: returns at once
        (the early worker decides between a speculation and a prefill)."""
        if self.interview.llm is None:
            return
        arrivals = self._revised_at.setdefault(cur.index, [])
        if len(cur.revisions) > len(arrivals):
            arrivals.append(time.monotonic())
        with self.floor.lock:
            if self._paused:
                # Once a pause has begun the pause's speculation reads the last words
                # itself: a prefill sent now (the last segment's final, or a revision
                # re-reading the answer from its first changed word) would be read
                # first, and llama.cpp cannot interrupt prompt reading, so the ask would
                # queue behind it. Handled if the candidate speaks again (a breath).
                self._deferred = cur
                return
        self._heard_now(cur)

    def partial_heard(self, cur: LiveAnswer, partial: TranscriptPartial) -> None:
        """Listener thread, on a partial of the segment in progress: returns at once."""
        if self.interview.llm is None:
            return
        with self.floor.lock:
            if self._paused:
                return
            self._partial = partial
        self._heard_now(cur)

    def _heard_now(self, cur: LiveAnswer) -> None:
        with self._heard:
            self._heard_next = cur
            if self._early_worker is None:
                self._early_worker = threading.Thread(target=self._early_loop,
                                                      name="llm-early", daemon=True)
                self._early_worker.start()
            self._heard.notify()

    def pause_began(self) -> None:
        with self.floor.lock:
            self._paused = True
        if self.interview.llm is not None:
            self.interview.llm.cancel_prefill()  # the speculation reads these words itself
        target = self._prepare if self.interview.llm is None else self._speculate
        self._spawn(target, self.floor.gen, time.monotonic())

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        worker = threading.Thread(target=target, args=args, name="prepare", daemon=True)
        with self.floor.lock:
            self._workers = [w for w in self._workers if w.is_alive()] + [worker]
        worker.start()

    def join(self, timeout_s: float = 10.0) -> None:
        """Cancel the speculations and wait for the probe-preparing threads: a daemon
        thread still inside onnxruntime when the interpreter exits aborts the process."""
        with self.floor.lock:
            specs = list(self._latest.values())
            self._latest.clear()
            self.floor.gen += 1  # what they prepare is stale now
            workers, self._workers = self._workers, []
        with self._heard:
            self._heard_next, self._closing = None, True
            self._heard.notify()
        for spec in specs:
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

    def wait_ready(self, answer: LiveAnswer, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for this answer's speculation to be ready to speak
        (its reply in, its first sentence synthesized if that is under way)."""
        end = time.monotonic() + timeout_s
        with self.floor.lock:
            spec = self._latest.get(answer.index)
        if spec is None or not spec.done.wait(timeout_s):
            return False
        out = spec.outcome
        if out is not None and out.rejected is None and spec.wanted and self.voice.speaks:
            return spec.voiced.wait(max(0.0, end - time.monotonic()))
        return True

    def _llm_probe(self, llm: LLMInterviewer, answer: LiveAnswer,
                   text: str) -> tuple[LLMOutcome, Prepared | None]:
        """The LLM's probe for this answer: the newest speculation for it when it is
        for the planner's move for the final words (waited for, within the LLM's
        timeout), else asked now. Returns (outcome, prepared first audio or None)."""
        iv = self.interview
        chosen = time.monotonic()
        with self.floor.lock:
            spec = self._latest.pop(answer.index, None)
            stale = list(self._latest.values())
            self._latest.clear()
        for other in stale:
            other.cancel.set()
        decision = "none: no speculation for this answer"
        if spec is not None:
            outcome = spec.outcome if spec.done.wait(self.llm_timeout_s + 1.0) else None
            rejected = outcome.rejected if outcome is not None else None
            if not spec.done.is_set():
                decision = "discarded: not done in time"
            elif outcome is None:
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
                if not spec.claim_voice():  # its first sentence is being synthesized
                    spec.voiced.wait(5.0)
                prepared = None
                if spec.audio is not None:
                    prepared = Prepared(spec.gen, answer.index, len(answer.finals),
                                        outcome.probe.text, spec.audio, spec.rest)
                self._trace(answer, decision, chosen, outcome, spec)
                return outcome, prepared
            spec.cancel.set()
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
        after = len(answer.revisions) - spec.revisions_at_ask if spec is not None else 0
        trace = TurnTrace(
            answer.index, decision, chosen, time.monotonic(), outcome.probe.source,
            spec_began=spec.began if spec else None, spec_asked=spec.asked if spec else None,
            spec_ready=(spec.ready or None) if spec else None,
            spec_synthesized=(spec.synthesized or None) if spec else None,
            spec_first_token=spec.first_token if spec else None,
            revisions_after_ask=after, stale_asks=max(0, self._asks.pop(answer.index, 0) - 1),
            prefill_busy=spec.prefill_busy if spec else False,
            last_revision=revised[-1] if revised else None,
            rejected=outcome.rejected, early=bool(spec and spec.early))
        self.traces.append(trace)
        trace.log()

    def same_move(self, probe: Probe, text: str) -> bool:
        """A revision came in after the speculation: is the planner's decision for the
        final words the one the speculative probe carries (family and target claim)?"""
        return self._move_for(text) == move_key(probe)

    def _move_for(self, text: str) -> MoveKey | None:
        """The planner's decision for these words (None: nothing left to ask)."""
        iv = self.interview
        with iv.lock:
            move = iv.planner.preview(iv.question, text)
        return None if move is None else move_key(move)

    def _take_prepared(self, answer: LiveAnswer, text: str) -> Prepared | None:
        with self.floor.lock:
            prepared, self._prepared = self._prepared, None
        if (prepared is not None and prepared.answer_index == answer.index
                and prepared.heard == answer.heard and prepared.text == text):
            return prepared
        return None

    # -- the workers ---------------------------------------------------------------------

    def _early_loop(self) -> None:
        """During speech, on each transcript (newest first): when the planner's move for
        the answer so far differs from the newest speculation's, ask the LLM for it now,
        so at the pause the question for the move is often written already; otherwise
        prefill the words (the server reads them while the candidate speaks)."""
        while True:
            with self._heard:
                while self._heard_next is None and not self._closing:
                    self._heard.wait(0.5)
                if self._closing:
                    return
                cur, self._heard_next = self._heard_next, None
            if cur is not None:
                try:
                    self._early(cur)
                except Exception:  # an optimisation: never let it break a session
                    log.exception("early speculation failed")

    def _early(self, cur: LiveAnswer) -> None:
        llm = self.interview.llm
        if llm is None:
            return
        with self.floor.lock:
            if self._paused or cur is not self.floor.current:
                return
            _words, text = cur.said()
            partial = self._partial
            if partial is not None and (partial.segment_start < cur.started or any(
                    f.segment_start >= partial.segment_start for f in cur.finals)):
                partial = None  # another answer's, or its final is in
        # The segment in progress counts too (its latest partial): the move the last
        # sentence brings is then worded before that sentence's final is in.
        heard = f"{text} {partial.text}".strip() if partial is not None else text
        key = self._move_for(heard) if heard.strip() else None
        with self.floor.lock:
            if self._paused or cur is not self.floor.current:
                return
            latest = self._latest.get(cur.index)
            same = latest is not None and latest.move == key and latest.usable
        if key is None or same:
            if partial is not None:
                return  # a partial's words are replaced by its final: not prefilled
            # The answer only, not the planner's move for it: measured live, a move that
            # changes from segment to segment had the server re-read the move's ~80
            # tokens at every transcript and the probes queued behind them timed out.
            llm.prefill(self.interview.question, text, self.interview.planner.asked,
                        plan=False)
            return
        if latest is not None:
            latest.cancel.set()  # its move is stale: stop its writing
        # One request at the server at a time: a request sent behind another is read
        # after it even once cancelled (prompt reading cannot be interrupted), so
        # asks sent at every final piled up and the pause's ask queued behind them.
        while llm.server_busy:
            if self._closing or self._heard_next is not None or self._paused:
                return  # the newest transcript, or the pause, decides now
            time.sleep(0.02)
        with self.floor.lock:
            if self._paused or cur is not self.floor.current:
                return
            spec = self._new_spec(cur, heard, key, True, time.monotonic())
        self._spawn(self._run, spec)

    def _new_spec(self, cur: LiveAnswer, text: str, key: MoveKey, early: bool,
                  began: float) -> Speculation:
        """A speculation for the answer's words, now its newest (``floor.lock`` held)."""
        llm = self.interview.llm
        spec = Speculation(self.floor.gen, cur.index, text, key, early, began=began,
                           asked=time.monotonic(), revisions_at_ask=len(cur.revisions),
                           prefill_busy=llm is not None and llm.prefill_busy)
        self._latest[cur.index] = spec
        self._asks[cur.index] = self._asks.get(cur.index, 0) + 1
        return spec

    def _run(self, spec: Speculation) -> None:
        """Ask the LLM for the speculation's words (nothing recorded); its first
        sentence is synthesized when ready if a pause began on its move meanwhile."""
        iv = self.interview
        try:
            llm = iv.llm
            if llm is None:
                return
            with iv.lock:
                gaps = iv.gaps()
                asked = iv.planner.asked
            # Asked during speech, nobody waits for it yet: a new answer's first ask
            # reads the whole answer at nice +10 beside Whisper and took 4.4-5.0 s to
            # its first token (measured), so the 6 s timeout threw away replies that
            # were nearly written. The turn's end still waits at most llm_timeout_s + 1 s.
            limit = EARLY_TIMEOUT_FACTOR * llm.timeout_s if spec.early else None
            spec.outcome = llm.ask_detailed(iv.question, spec.text, gaps, asked,
                                            record=False, cancel=spec.cancel,
                                            timeout_s=limit)
            spec.ready = time.monotonic()
        except Exception:  # speculation is an optimisation: never let it break a session
            log.exception("speculative LLM probe failed")
        finally:
            spec.done.set()
        if spec.wanted:
            self._voice(spec)

    def _voice(self, spec: Speculation) -> None:
        """Synthesize a ready speculative probe's first sentence (once, unless claimed);
        the rest (a lead-in's question) is synthesized as it is spoken."""
        out = spec.outcome
        if (out is None or out.rejected is not None or not self.voice.speaks
                or spec.cancel.is_set() or not spec.start_voice()):
            return
        try:
            from voice_interview.speech.voices import split_sentences

            sentences = split_sentences(out.probe.text)
            if sentences:
                spec.rest = " ".join(sentences[1:])
                spec.audio = self.voice.synthesize(sentences[0],
                                                   lambda: not spec.cancel.is_set())
                spec.synthesized = time.monotonic()
        except Exception:
            log.exception("synthesizing the speculative probe failed")
        finally:
            spec.voiced.set()

    def _speculate(self, gen: int, began: float) -> None:
        """When a pause begins: the newest speculation for this answer, if it is for the
        planner's move for the words now, else the LLM asked now (nothing recorded); its
        first sentence is synthesized as soon as it is ready."""
        iv, floor = self.interview, self.floor
        try:
            if iv.llm is None:
                return
            self.listener.wait_idle(FINALS_WAIT_S)  # the last segment's words first
            # Not on every breath: a request cancelled while the server still reads
            # its prompt (which llama.cpp cannot interrupt) would delay the real one.
            wait = SPECULATE_AFTER_S - (time.monotonic() - began)
            if wait > 0 and self.stopped.wait(wait):
                return
            with floor.lock:
                cur = floor.current
                if gen != floor.gen or cur is None:
                    return
                _words, text = cur.said()  # the words the turn's end will use
            key = self._move_for(text) if text.strip() else None
            if key is None:
                return
            with floor.lock:
                if gen != floor.gen or cur is not floor.current:
                    return
                latest = self._latest.get(cur.index)
                fresh = not (latest is not None and latest.move == key and latest.usable)
                spec = self._new_spec(cur, text, key, False, began) if fresh else latest
                assert spec is not None
                spec.wanted = True
            if not fresh:
                if spec.done.is_set():
                    self._voice(spec)
                return
            if latest is not None:
                latest.cancel.set()
            self._run(spec)
        except Exception:  # speculation is an optimisation: never let it break a session
            log.exception("speculative LLM probe failed")

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
