"""One practice session: ask, listen, probe, repeat — the engine side, no UI.

``PracticeSession.run()`` drives the whole conversation from its own thread:

1. the interviewer asks the opening question (spoken unless there is no voice);
2. the ``Listener`` turns the candidate's audio into typed events while the
   turn manager decides when the answer is over (patience window) or the
   interviewer should cut in (hard budget);
3. the answer is scored (pacing, structure), the next probe is chosen (LLM if
   configured, offline planner otherwise, same turn fallback), spoken, and the
   next turn starts;
4. it ends after the format's number of probes, its time limit, ``stop()``, or
   when the audio source ends.

Half-duplex: while the interviewer speaks, microphone audio (plus a short
tail) is discarded, so the voice is never transcribed as the candidate.

Every event goes to ``on_event`` (from the listener's threads and from the
session thread); the TUI, the ``--headless`` JSON-lines printer and the tests
all consume the same events. Recording goes through an optional recorder (see
``voice_interview.session.store``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voice_interview.audio.sources import BLOCK_S
from voice_interview.errors import AudioDeviceError, VoiceInterviewError
from voice_interview.events import (
    AnswerScored,
    EngineError,
    Event,
    HardBudgetReached,
    Notice,
    PauseEnded,
    PauseStarted,
    ProbeAsked,
    QuestionAsked,
    SessionEnded,
    SessionStarted,
    SpeechStarted,
    StateChanged,
    TranscriptFinal,
    TranscriptRevised,
    TurnEnded,
    VoiceEnded,
    VoiceStarted,
)

log = logging.getLogger(__name__)

CUT_IN = "Let me stop you there."
# Reached from practice and demo, which both take --no-voice (tests/test_messages.py).
NOT_SPOKEN = ("the questions are shown, not spoken (voice-interview devices lists the "
              "speakers, [voice] output_device in config.toml picks one; --no-voice "
              "turns the voice off)")
CLOSING_LINE = "Thanks, that's all I wanted to ask. Let's look at how it went."
FINALS_WAIT_S = 3.0  # after a turn ends, wait this long at most for its last transcript
SPECULATE_AFTER_S = 0.6  # pause length before the LLM is asked speculatively
CLOSED = "the planner closed the interview"  # an LLMOutcome.rejected (interviewer.llm)


@dataclass(frozen=True)
class SessionConfig:
    question_id: str | None = None
    category: str | None = None
    format_id: str = "conversational"
    llm_model: str | None = None  # None: the planner alone; "embedded"; or a litellm model
    api_base: str | None = None
    llm_timeout_s: float = 6.0
    voice: str | None = "piper"  # None: probes are shown, not spoken
    output_device: str | int | None = None
    input_path: str | None = None  # a recording played in real time instead of the mic
    input_device: str | int | None = None
    patience_s: float | None = None
    budget_s: float | None = None  # hard budget for the opening answer (format default)
    max_probes: int | None = None
    time_limit_s: float | None = None
    seed: int = 0
    save: bool = True  # record the session in the store
    recordings: str | None = None  # the store's folder (default: config, then data dir)


@dataclass
class _Prepared:
    """A probe planned (and its first sentence synthesized) during the candidate's silence."""

    gen: int
    answer_index: int
    finals: int
    text: str
    first_audio: np.ndarray | None
    rest: str


@dataclass
class _Speculation:
    """The LLM's probe, asked when a pause began (record=False); used at the turn's end
    if the answer is still the same text, cancelled if the candidate speaks again."""

    gen: int
    answer_index: int
    text: str
    cancel: threading.Event
    done: threading.Event
    outcome: Any = None
    audio: np.ndarray | None = None  # the probe's first sentence, synthesized


@dataclass
class _Answer:
    index: int
    question_id: str
    kind: str  # question | probe
    prompt: str
    started: float
    finals: list
    pauses: list
    ended: TurnEnded | None = None
    analysis: dict | None = None
    revisions: list = field(default_factory=list)  # TranscriptRevised, over finals

    def said(self) -> tuple[list, str]:
        """(words, text) of the answer so far, revisions in place of the finals they cover."""
        from voice_interview.listener import settled

        pieces = settled(self.finals, self.revisions)
        words = [w for _s, _t, ws in pieces for w in ws]
        return words, " ".join(t for _s, t, _w in pieces if t).strip()


class PracticeSession:
    """A spoken practice session. ``load()`` then ``run()``, both blocking (use a thread)."""

    def __init__(
        self,
        config: SessionConfig,
        on_event: Callable[[Event], None],
        recorder: Any | None = None,
    ):
        self.config = config
        self._on_event = on_event
        self.recorder = recorder
        self.id = uuid.uuid4().hex[:12]
        self._inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._next = threading.Event()
        self._loaded = False
        self.listener = None
        self.player = None
        self.voice = None
        self.llm = None
        self.llm_server = None  # the embedded LLM's llama.cpp server, stopped with the session
        self.recording_path = None
        self._answers: list[_Answer] = []
        self._current: _Answer | None = None
        self._probes: list[dict] = []
        self._lock = threading.Lock()
        self._planner_lock = threading.Lock()  # the planner is used from two threads
        self._voice_lock = threading.Lock()  # one synthesis at a time
        self._gen = 0  # bumped whenever the candidate speaks: stale preparations are dropped
        self._prepared: _Prepared | None = None
        self._speculation: _Speculation | None = None
        self._llm_failure_told = False  # the user was told the LLM failed (and rests)
        self._workers: list[threading.Thread] = []  # preparing the next probe (joined at the end)

    # -- controls (any thread) -------------------------------------------------------

    def hold(self, on: bool) -> None:
        if self.listener is not None:
            self.listener.hold(on)

    def end_turn(self) -> None:
        # Only while the candidate has the floor: a key pressed while the interviewer
        # speaks must not end the answer that has not started yet.
        if self.listener is not None and self._current is not None:
            self.listener.end_turn("user")

    def next_question(self) -> None:
        if self._current is None:
            return
        self._next.set()
        self.end_turn()

    def stop(self) -> None:
        self._stop.set()
        self._inbox.put(None)
        if self.player is not None:
            self.player.stop()

    # -- loading -----------------------------------------------------------------------

    def load(self) -> None:
        """Load question, format, models and devices; raise a typed error if impossible.

        On failure whatever was opened (the microphone, the recorder) is released.
        """
        try:
            self._load()
        except BaseException:
            self.close("failed to start")
            raise

    def _load(self) -> None:
        from voice_interview.audio.sources import FileSource, MicrophoneSource
        from voice_interview.interviewer.banks import load_formats, load_question_bank
        from voice_interview.listener import Listener, ListenerSettings
        from voice_interview.pacing import load_pacing_rubric
        from voice_interview.speech.transcriber import TranscriberSettings, WhisperTranscriber
        from voice_interview.turns import TurnSettings

        self._emit(StateChanged(0.0, state="loading"))
        cfg = self.config
        formats = load_formats()
        if cfg.format_id not in formats:
            from voice_interview.errors import UsageError

            raise UsageError(
                f"unknown format '{cfg.format_id}'; choose one of: {', '.join(formats)}"
            )
        self.format = formats[cfg.format_id]
        bank = load_question_bank()
        if cfg.question_id:
            self.question = bank.get(cfg.question_id)
        else:
            self.question = bank.default(cfg.category or self.format.opening)
        self.rubric = load_pacing_rubric()
        self.planner = self._new_planner()
        if cfg.llm_model:  # the embedded server starts now and loads while Whisper does
            self._load_llm()
        # The source first: a missing microphone or file is the likeliest failure.
        if cfg.input_path and cfg.input_path.endswith(".candidate.json"):
            from voice_interview.session.candidate import ScriptedCandidate

            source = ScriptedCandidate(cfg.input_path)  # the demo's sample candidate
        elif cfg.input_path:
            # Cued: silence until the opening question has been asked, as a quiet mic.
            source = FileSource(cfg.input_path, realtime=True, cued=True)
        else:
            source = MicrophoneSource(cfg.input_device)
            source.start()
        self.source = source
        transcriber = WhisperTranscriber(TranscriberSettings.live())
        hard = cfg.budget_s if cfg.budget_s is not None else self.format.hard_budget_s
        soft = min(self.format.soft_budget_s, hard * 5 / 6)
        self.turn_settings = TurnSettings(
            patience_s=cfg.patience_s if cfg.patience_s is not None else self.rubric.patience_s,
            soft_budget_s=soft,
            hard_budget_s=hard,
        )
        self.listener = Listener(
            source, transcriber, self._from_listener, ListenerSettings(turn=self.turn_settings),
            tap=self._tap,
        )
        if cfg.voice:
            self._load_voice()
        if cfg.save and self.recorder is None:  # last: a failed start leaves no session
            self._open_recorder()
        self._loaded = True

    def _tap(self, block: np.ndarray, t: float) -> None:
        rec = self.recorder
        if rec is not None:
            self._record(rec.write_candidate, block, t)

    def _record(self, fn, *args) -> None:
        """Call the recorder; if recording fails (disk full...), stop recording only."""
        try:
            fn(*args)
        except VoiceInterviewError as exc:
            if self.recorder is not None:
                self.recorder = None
                self._on_event(Notice(self.now, message=f"recording stopped: {exc}; "
                                      "the session goes on", level="warning"))

    def _open_recorder(self) -> None:
        from voice_interview.session.store import open_store

        store = open_store(self.config.recordings)
        self.recorder = store.create({
            "question_id": self.question.id,
            "question_text": self.question.text,
            "format_id": self.format.id,
            "voice": self.config.voice,
            "llm_model": self.config.llm_model,
            "input": self.config.input_path,
        })
        self.id = self.recorder.id
        self.recording_path = self.recorder.path

    def _load_llm(self) -> None:
        from voice_interview.errors import LLMError
        from voice_interview.interviewer.choice import open_interviewer

        cfg = self.config
        try:
            self.llm, self.llm_server = open_interviewer(
                cfg.llm_model, cfg.api_base, cfg.llm_timeout_s, fallback=self.planner,
                progress=lambda message: self._emit(Notice(0.0, message=message)))
        except LLMError as exc:
            self.llm = None
            self._emit(Notice(0.0, message=f"{exc}; the offline interviewer takes over",
                              level="warning"))

    def _stop_llm(self) -> None:
        server, self.llm_server = self.llm_server, None
        if server is not None:
            server.stop()

    def _load_voice(self) -> None:
        from voice_interview.audio.playback import Player
        from voice_interview.speech.voices import get_voice

        self.voice = get_voice(self.config.voice)
        self.player = Player(self.config.output_device)
        try:
            self.player.check_device()
        except AudioDeviceError as exc:
            self.player = None
            self._emit(Notice(0.0, message=f"{exc}: {NOT_SPOKEN}",
                              level="warning"))

    # -- running -----------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.listener.position if self.listener is not None else 0.0

    def run(self) -> dict:
        if not self._loaded:
            self.load()
        started = time.monotonic()
        self._emit(SessionStarted(self.now, session_id=self.id, format_id=self.format.id,
                                  question_id=self.question.id))
        reader = threading.Thread(target=self._listen, name="listener", daemon=True)
        reason = "done"
        try:
            # The source is read all along (muted while the interviewer speaks), so
            # the session clock covers the question; a recording given with --input
            # is silent until the question and its mute tail are over.
            reader.start()
            self._ask(self.question.text, kind="question")
            play = getattr(self.source, "play", None)  # a cued FileSource
            if play is not None:
                self.listener.wait_unmuted(timeout=2.0)
                play()
            reason = self._loop(started)
        except VoiceInterviewError as exc:
            reason = "error"
            self._emit(EngineError(self.now, message=str(exc), fatal=True,
                                   exit_code=exc.exit_code))
        except BaseException:
            reason = "error"
            raise
        finally:
            self.listener.stop()
            if reader.is_alive():
                reader.join(timeout=5)
            self._join_workers()  # none may be inside Piper or Whisper at exit (SIGABRT)
            if self.voice is not None:
                self.voice.close()
            self._stop_llm()
            summary = self.summary(reason, time.monotonic() - started)
            if self.recorder is not None:  # even on an unexpected error: keep what we have
                try:
                    self.recorder.finish(summary,
                                         status="error" if reason == "error" else "complete")
                except VoiceInterviewError as exc:
                    self._on_event(Notice(self.now, message=f"saving the session failed: {exc}",
                                          level="warning"))
        self._emit(StateChanged(self.now, state="ended"))
        self._emit(SessionEnded(self.now, reason=reason, summary=summary))
        return summary

    def _join_workers(self, timeout_s: float = 10.0) -> None:
        """Cancel a speculation and wait for the probe-preparing threads: a daemon thread
        still inside onnxruntime when the interpreter exits aborts the process."""
        with self._lock:
            spec, self._speculation = self._speculation, None
            self._gen += 1  # what they prepare is stale now
            workers, self._workers = self._workers, []
        if spec is not None:
            spec.cancel.set()
        deadline = time.monotonic() + timeout_s
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))

    def close(self, reason: str = "aborted") -> None:
        """Release what ``load()`` took when ``run()`` will not be called (or failed)."""
        self._stop_llm()
        source = getattr(self, "source", None)
        if source is not None:
            source.close()  # releases the microphone
        if self.recorder is not None and not getattr(self.recorder, "finished", True):
            self.recorder.abort(reason)

    def _listen(self) -> None:
        try:
            self.listener.run()
        finally:  # whatever happened, the session loop must not wait forever
            self._inbox.put("source_ended")

    def _loop(self, started: float) -> str:
        limit = self.config.time_limit_s or self.format.time_limit_s
        max_probes = (self.config.max_probes if self.config.max_probes is not None
                      else self.format.max_probes)
        while True:
            remaining = limit - (time.monotonic() - started)
            if remaining <= 0:
                self._finish_turn(None, "time_limit")
                return "time_limit"
            try:
                item = self._inbox.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if item is None or self._stop.is_set():
                self._finish_turn(None, "user")
                return "user"
            if item == "source_ended":
                self._finish_turn(None, "source_ended")
                return "source_ended"
            if isinstance(item, HardBudgetReached):
                self.listener.end_turn("budget")
                continue
            if isinstance(item, EngineError) and item.fatal:
                self._finish_turn(None, "error")  # keep the answer, then say what happened
                self._emit(item)
                return "error"
            if not isinstance(item, TurnEnded):
                continue
            current = self._current
            if current is None or item.t < current.started:
                continue  # a turn that ended before this answer began (while muted)
            answer = self._finish_turn(item, item.reason)
            if answer is None:
                continue
            if item.reason == "source_ended":
                return "source_ended"
            probes_asked = sum(1 for a in self._answers if a.kind == "probe")
            if self._next.is_set():
                self._next.clear()
                if not self._next_question():
                    return "done"
                continue
            if probes_asked >= max_probes or self.planner.exhausted:
                self._say(CLOSING_LINE)
                return "done"
            self._probe(answer, cut_in=item.reason == "budget")

    # -- turns ---------------------------------------------------------------------------

    def _ask(self, text: str, kind: str, prepared: _Prepared | None = None) -> None:
        index = len(self._answers) + 1
        turn = self._turn_settings_for(kind)
        if kind == "question":
            self._emit(QuestionAsked(self.now, question_id=self.question.id, text=text,
                                     index=sum(a.kind == "question" for a in self._answers) + 1,
                                     soft_budget_s=turn.soft_budget_s,
                                     budget_s=turn.hard_budget_s))
        self._say(text, prepared)
        with self._lock:
            self._current = _Answer(index, self.question.id, kind, text, self.now, [], [])
        self.listener.new_turn(turn)
        self._emit(StateChanged(self.now, state="listening"))

    def _turn_settings_for(self, kind: str):
        from dataclasses import replace

        if kind == "question":
            return self.turn_settings
        # Follow-ups are shorter: the format's follow-up range sets their budget.
        lo, hi = self.format.followup_s
        return replace(self.turn_settings, soft_budget_s=hi * 5 / 6, hard_budget_s=hi)

    def _probe(self, answer: _Answer, cut_in: bool) -> None:
        words, text = answer.said()
        spoken_first = None
        if self.llm is not None:
            outcome, spoken_first = self._llm_probe(answer, text)
            probe = outcome.probe
            # Said once per failure, not every turn: a resting LLM's skipped turns are
            # quiet, unless the failure itself was met by a discarded speculation.
            if probe.source == "llm":
                self._llm_failure_told = False
            elif not outcome.skipped or not self._llm_failure_told:
                self._llm_failure_told = True
                message = probe.reason
                if self.llm.resting_s > 0:
                    message += (f" (the offline interviewer asks for the next "
                                f"{self.llm.resting_s:.0f} s)")
                self._emit(Notice(self.now, message=message, level="warning"))
        else:
            with self._planner_lock:
                probe = self.planner.next_probe(self.question, words or text)
        prepared = spoken_first or self._take_prepared(answer, probe.text)
        depth = self.planner.depth.get(probe.family, 1)
        target = probe.target
        info = {"family": probe.family, "text": probe.text, "reason": probe.reason,
                "source": probe.source, "depth": depth, "cut_in": cut_in,
                "target": None if target is None else {"text": target.text,
                                                       "start": target.start}}
        self._probes.append(info)
        turn = self._turn_settings_for("probe")
        self._emit(ProbeAsked(self.now, **info, soft_budget_s=turn.soft_budget_s,
                              budget_s=turn.hard_budget_s))
        if cut_in:
            self._ask(f"{CUT_IN} {probe.text}", kind="probe")
        else:
            self._ask(probe.text, kind="probe", prepared=prepared)
        answer = getattr(self.source, "answer", None)  # the demo's sample candidate
        if callable(answer):
            answer(probe.family)

    def _llm_probe(self, answer: _Answer, text: str):
        """The LLM's probe for this answer: the one generated speculatively during the
        pause when it was for the same words (waited for, within the LLM's timeout),
        else asked now. Returns (outcome, prepared first audio or None)."""
        with self._lock:
            spec, self._speculation = self._speculation, None
        if spec is not None and spec.answer_index == answer.index and spec.text == text:
            spec.done.wait(self.config.llm_timeout_s + 1.0)
            outcome = spec.outcome
            if outcome is not None and not (outcome.rejected or "").startswith(
                    ("cancelled", CLOSED)):
                # The LLM's probe, or the planner's wording when the LLM failed: either
                # way this turn's probe, without asking a second time.
                with self._planner_lock:
                    self.llm.commit(text, outcome.probe)
                prepared = None
                if spec.audio is not None:
                    prepared = _Prepared(spec.gen, answer.index, len(answer.finals),
                                         outcome.probe.text, spec.audio, "")
                return outcome, prepared
        elif spec is not None:
            spec.cancel.set()
        with self._planner_lock:  # the gaps must count this answer too; the LLM
            self.planner.add_answer(text)  # and its fallback add the same text again,
            # which the planner skips as a repeat of the last answer
            gaps = [p.id for p in self.planner.report(self.question).parts if not p.covered]
        return self.llm.ask_detailed(self.question, text, gaps, self.planner.asked), None

    def _speculate(self, gen: int) -> None:
        """When a pause begins: ask the LLM now (nothing recorded), so the probe is
        ready, and its first sentence synthesized, when the patience window ends."""
        spec = None
        try:
            began = time.monotonic()
            self.listener.wait_idle(FINALS_WAIT_S)  # the last segment's words first
            # Not on every breath: a request cancelled while the server still reads
            # its prompt (which llama.cpp cannot interrupt) would delay the real one.
            wait = SPECULATE_AFTER_S - (time.monotonic() - began)
            if wait > 0 and self._stop.wait(wait):
                return
            with self._lock:
                cur = self._current
                if gen != self._gen or cur is None:
                    return
                _words, text = cur.said()  # the words the turn's end will use
                if not text.strip():
                    return
                old = self._speculation
                spec = _Speculation(gen, cur.index, text, threading.Event(), threading.Event())
                self._speculation = spec
            if old is not None:
                old.cancel.set()
            with self._planner_lock:
                gaps = [p.id for p in self.planner.report(self.question).parts
                        if not p.covered]
                asked = self.planner.asked
            spec.outcome = self.llm.ask_detailed(self.question, text, gaps, asked,
                                                 record=False, cancel=spec.cancel)
            probe = spec.outcome.probe
            if (spec.outcome.rejected is None and self.voice is not None
                    and self.player is not None and not spec.cancel.is_set()):
                from voice_interview.speech.voices import split_sentences

                if len(split_sentences(probe.text)) == 1:
                    with self._voice_lock:
                        if not spec.cancel.is_set():
                            spec.audio = self.voice.synthesize(probe.text)
        except Exception:  # speculation is an optimisation: never let it break a session
            log.exception("speculative LLM probe failed")
        finally:
            if spec is not None:
                spec.done.set()

    def _next_question(self) -> bool:
        from voice_interview.interviewer.banks import load_question_bank

        bank = load_question_bank()
        asked = {a.question_id for a in self._answers}
        pool = [q for q in bank.by_category(self.question.category) if q.id not in asked]
        if not pool:
            self._say(CLOSING_LINE)
            return False
        self.question = pool[0]
        self.planner = self._new_planner()
        if self.llm is not None and hasattr(self.llm, "fallback"):
            self.llm.fallback = self.planner
        self._ask(self.question.text, kind="question")
        return True

    def _new_planner(self):
        from voice_interview.interviewer.planner import PlannerSession, ProbePlanner

        planner = ProbePlanner.for_format(self.format, seed=self.config.seed)
        return PlannerSession(planner, rubric_id=self.question.rubric, seed=self.config.seed)

    def _finish_turn(self, ended: TurnEnded | None, reason: str) -> _Answer | None:
        """Close the current answer: wait for its last transcript, score it."""
        if self._current is None:
            return None
        if ended is None:
            self.listener.end_turn(reason)
        # The answer stays current until its last transcripts are in: finals that
        # arrive while we wait still belong to it.
        if not self.listener.wait_idle(FINALS_WAIT_S):
            self._emit(Notice(self.now, level="warning", message=(
                "the last words of this answer were not transcribed in time; "
                "it is scored with what was ready")))
        with self._lock:
            answer, self._current = self._current, None
        if ended is None and not answer.finals and answer.kind == "probe":
            return None  # the session ended before the candidate said anything
        answer.ended = ended
        answer.analysis = self._score(answer)
        self._answers.append(answer)
        if self.recorder is not None:
            self._record(self.recorder.add_answer, answer.index, answer.question_id,
                         answer.prompt, answer.kind, answer.analysis)
        self._emit(AnswerScored(self.now, answer_index=answer.index,
                                question_id=answer.question_id, analysis=answer.analysis))
        self._emit(StateChanged(self.now, state="interviewer"))
        return answer

    def _score(self, answer: _Answer) -> dict:
        from voice_interview.audio.vad import Segment
        from voice_interview.interviewer.planner import analyze_answer
        from voice_interview.pacing import assess

        segments = [Segment(f.segment_start, f.segment_end) for f in answer.finals]
        words, text = answer.said()  # the revised words where a revision came in
        overview = answer.kind == "question" and self.question.category == "deep-dive"
        pacing = assess(segments, words, self.rubric, overview=overview)
        doc = {
            "transcript": text,
            "words": [w.to_json() for w in words],
            "speech_segments": [s.to_json() for s in segments],
            **pacing.to_json(),
        }
        if answer.kind == "question":
            doc.update(analyze_answer(words or doc["transcript"], self.question))
        return doc

    # -- speaking ------------------------------------------------------------------------

    def _speech(self, text: str, prepared: _Prepared | None):
        """The line's audio chunks: a prepared first sentence, then the rest, synthesized
        sentence by sentence while the first one plays."""
        if prepared is not None and prepared.first_audio is not None:
            yield prepared.first_audio
            text = prepared.rest
        if not text:
            return
        chunks = self.voice.stream(text)
        while True:
            with self._voice_lock:
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def _say(self, text: str, prepared: _Prepared | None = None) -> None:
        """Speak (or just show) the interviewer's line; the mic is muted meanwhile."""
        self._emit(StateChanged(self.now, state="interviewer"))
        if self.voice is None or self.player is None or self._stop.is_set():
            self._emit(VoiceStarted(self.now, text=text))
            self._emit(VoiceEnded(self.now, text=text))
            return
        self.listener.mute()
        chunks: list[np.ndarray] = []
        t_start: list[float] = []

        def on_started(_when: float) -> None:
            t_start.append(self.now)
            self._emit(VoiceStarted(self.now, text=text))

        speech = self._speech(text, prepared)
        # The first chunk is made before the output opens: opening the device while
        # the voice is busy synthesizing delays the first sample by up to a second.
        head = next(speech, None)

        def stream():
            if head is None or self._stop.is_set():  # q while the first line was made
                return
            chunks.append(head)
            yield head
            for chunk in speech:
                if self._stop.is_set():  # q while the line is being spoken
                    return
                chunks.append(chunk)
                yield chunk

        self.player.on_started = on_started
        try:
            report = self.player.play(stream(), self.voice.sample_rate)
        except AudioDeviceError as exc:
            self.player = None
            self._emit(Notice(self.now, message=f"{exc}: {NOT_SPOKEN}",
                              level="warning"))
            report = None
        finally:
            self.listener.unmute(tail_s=0.3)
        if not t_start:
            self._emit(VoiceStarted(self.now, text=text))
        if self.recorder is not None and chunks:
            self._record(self.recorder.write_interviewer, np.concatenate(chunks),
                         self.voice.sample_rate, t_start[0] if t_start else self.now)
        self._emit(VoiceEnded(self.now, text=text,
                              interrupted=bool(report and report.interrupted)))

    # -- preparing the next probe during the candidate's silence -------------------------

    def _prepare(self, gen: int) -> None:
        """Plan the probe and synthesize its first sentence while the patience window runs.

        Dropped as soon as the candidate speaks again (``_gen`` moves on); used only
        if the planner, asked for real at the end of the turn, picks the same probe.
        """
        try:
            self.listener.wait_idle(FINALS_WAIT_S)  # the last segment's words first
            with self._lock:
                cur = self._current
                if gen != self._gen or cur is None:
                    return
                heard = len(cur.finals) + len(cur.revisions)
                words, text = cur.said()
            with self._planner_lock:
                probe = self.planner.preview(self.question, words or text)
            if probe is None or gen != self._gen:
                return
            first_audio, rest = None, ""
            if self.voice is not None and self.player is not None:
                from voice_interview.speech.voices import split_sentences

                sentences = split_sentences(probe.text)
                with self._voice_lock:
                    if gen != self._gen:
                        return
                    first_audio = self.voice.synthesize(sentences[0])
                rest = " ".join(sentences[1:])
            with self._lock:
                if gen == self._gen and self._current is cur:
                    self._prepared = _Prepared(gen, cur.index, heard, probe.text,
                                               first_audio, rest)
        except Exception:  # preparation is an optimisation: never let it break a session
            log.exception("preparing the next probe failed")

    def _take_prepared(self, answer: _Answer, text: str) -> _Prepared | None:
        with self._lock:
            prepared, self._prepared = self._prepared, None
        if (prepared is not None and prepared.answer_index == answer.index
                and prepared.finals == len(answer.finals) + len(answer.revisions)
                and prepared.text == text):
            return prepared
        return None

    # -- events --------------------------------------------------------------------------

    def _from_listener(self, event: Event) -> None:
        """Listener threads: keep the answer's material, pass everything on."""
        with self._lock:
            cur = self._current
            if cur is not None:
                if isinstance(event, TranscriptFinal) and event.segment_end >= cur.started:
                    cur.finals.append(event)
                elif isinstance(event, TranscriptRevised) and event.end >= cur.started:
                    cur.revisions.append(event)
                elif isinstance(event, PauseEnded):
                    cur.pauses.append(event)
        if isinstance(event, SpeechStarted):
            with self._lock:
                self._gen += 1
                self._prepared = None
                spec, self._speculation = self._speculation, None
            if spec is not None:
                spec.cancel.set()  # the candidate goes on: that probe is stale
            self._emit(StateChanged(event.t, state="speaking"))
        elif isinstance(event, PauseStarted):
            self._emit(StateChanged(event.t, state="thinking"))
            if cur is not None:
                target = self._prepare if self.llm is None else self._speculate
                worker = threading.Thread(target=target, args=(self._gen,), name="prepare",
                                          daemon=True)
                with self._lock:
                    self._workers = [w for w in self._workers if w.is_alive()] + [worker]
                worker.start()
        if isinstance(event, EngineError) and event.fatal:
            self._inbox.put(event)  # shown by the loop once the answer so far is scored
            return
        self._emit(event)
        if isinstance(event, TurnEnded | HardBudgetReached):
            self._inbox.put(event)

    def _emit(self, event: Event) -> None:
        if self.recorder is not None:
            self._record(self.recorder.log_event, event.to_json())
        self._on_event(event)

    # -- summary ------------------------------------------------------------------------

    def summary(self, reason: str, duration_s: float) -> dict:
        answers = [
            {"index": a.index, "question_id": a.question_id, "kind": a.kind,
             "prompt": a.prompt, "transcript": a.analysis["transcript"], "analysis": a.analysis}
            for a in self._answers
        ]
        return {
            "session_id": self.id,
            "format_id": self.format.id,
            "question_id": self.question.id,
            "reason": reason,
            "duration_s": round(duration_s, 2),
            "path": str(self.recording_path) if self.recording_path else None,
            "answers": answers,
            "probes": list(self._probes),
            "depth": dict(self.planner.depth),
            "audio_skipped_s": round(self.listener.dropped_blocks * BLOCK_S, 2)
            if self.listener is not None else 0.0,
            "listening": self._transcript_counts(),
        }

    def _transcript_counts(self) -> dict:
        """How the live transcript was made: windows revised in context, windows left
        as segment finals (the machine fell behind), inventions the guards caught."""
        li = self.listener
        return {
            "revised_windows": getattr(li, "revisions", 0),
            "revisions_skipped": getattr(li, "revisions_skipped", 0),
            "fabrications_caught": getattr(li, "fabrications", 0),
        }


