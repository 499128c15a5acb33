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

This class only wires the parts together, one job each, in ``session/``:
``assembly`` (loading), ``loop`` (the turns), ``voice`` (the interviewer's voice
and half-duplex: while it speaks, microphone audio plus a short tail is
discarded), ``probes`` (preparing the next probe during pauses, the LLM's
wording), ``routing`` (events to the recording, ``on_event`` and the loop's
``inbox``) and ``summary``.

Every event goes to ``on_event`` (from the listener's threads and from the
session thread); the TUI, the ``--headless`` JSON-lines printer and the tests
all consume the same events.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice_interview.errors import VoiceInterviewError
from voice_interview.events import (
    EngineError,
    Event,
    Notice,
    SessionEnded,
    SessionStarted,
    StateChanged,
)
from voice_interview.session.answer import Floor
from voice_interview.session.inbox import Inbox, SourceEnded, StopAsked
from voice_interview.session.routing import EventRouter, Recorder
from voice_interview.session.settings import LAST_POLISH_WAIT_S, NOT_SPOKEN, SessionConfig

if TYPE_CHECKING:
    from voice_interview.interviewer.banks import Question
    from voice_interview.interviewer.server import LocalServer
    from voice_interview.session.assembly import Parts
    from voice_interview.session.loop import TurnLoop
    from voice_interview.session.probes import ProbePreparer
    from voice_interview.session.voice import InterviewerVoice

__all__ = ["NOT_SPOKEN", "PracticeSession", "SessionConfig"]


class PracticeSession:
    """A spoken practice session. ``load()`` then ``run()``, both blocking (use a thread)."""

    def __init__(self, config: SessionConfig, on_event: Callable[[Event], None],
                 recorder: Recorder | None = None) -> None:
        self.config = config
        self.id = uuid.uuid4().hex[:12]
        self.recording_path: Path | None = None
        self._stop = threading.Event()
        self._next = threading.Event()
        self._inbox = Inbox()
        self._floor = Floor()
        self._router = EventRouter(on_event, recorder, self._floor, self._inbox)
        self._parts: Parts | None = None  # what load() opened
        self._voice: InterviewerVoice | None = None
        self._preparer: ProbePreparer | None = None
        self._loop: TurnLoop | None = None
        self._server_stopped = False

    @property
    def recorder(self) -> Recorder | None:
        return self._router.recorder

    @property
    def llm_server(self) -> LocalServer | None:
        """The embedded LLM's llama.cpp server while the session has it."""
        parts = self._parts
        return None if parts is None or self._server_stopped else parts.llm_server

    @property
    def question(self) -> Question:
        """The question being asked (the opening one until the next is asked)."""
        if self._loop is not None:
            return self._loop.interview.question
        if self._parts is None:
            raise RuntimeError("the session is not loaded")
        return self._parts.question

    @property
    def now(self) -> float:
        return self._router.now

    # -- controls (any thread) -------------------------------------------------------

    def hold(self, on: bool) -> None:
        if self._parts is not None:
            self._parts.listener.hold(on)

    def end_turn(self) -> None:
        # Only while the candidate has the floor: a key pressed while the interviewer
        # speaks must not end the answer that has not started yet.
        if self._parts is not None and self._floor.current is not None:
            self._parts.listener.end_turn("user")

    def next_question(self) -> None:
        if self._floor.current is None:
            return
        self._next.set()
        self.end_turn()

    def stop(self) -> None:
        self._stop.set()
        self._inbox.put(StopAsked())
        if self._voice is not None:
            self._voice.stop()

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
        from voice_interview.session.assembly import assemble
        from voice_interview.session.interview import Interview
        from voice_interview.session.loop import TurnLoop
        from voice_interview.session.probes import ProbePreparer
        from voice_interview.session.voice import InterviewerVoice

        cfg, router = self.config, self._router
        parts = assemble(cfg, router)
        self._parts = parts
        if parts.recording is not None:
            self.id = parts.recording.id
            self.recording_path = parts.recording.path
        interview = Interview(parts.format, parts.question, parts.planner, parts.llm, cfg.seed)
        voice = InterviewerVoice(parts.voice, parts.player, parts.listener, self._stop, router)
        preparer = ProbePreparer(interview, self._floor, parts.listener, voice, router,
                                 self._stop, cfg.llm_timeout_s)
        router.attach(parts.listener, preparer)
        self._voice, self._preparer = voice, preparer
        self._loop = TurnLoop(cfg, interview, self._floor, parts.listener, voice, preparer,
                              router, self._inbox, self._stop, self._next, parts.rubric,
                              parts.turn_settings, parts.source)
        router.rescore = self._loop.rescore  # a late polish: the answer scored again

    def _load_voice(self) -> None:
        """Open only the voice and its device (tests/test_messages.py: the notice)."""
        from voice_interview.session.voice import open_voice

        if self.config.voice:
            open_voice(self.config.voice, self.config.output_device, self._router)

    # -- running -----------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        if self._loop is None:
            self.load()
        loop, parts, voice, preparer = self._loop, self._parts, self._voice, self._preparer
        assert loop is not None and parts is not None and voice is not None
        assert preparer is not None
        router, listener = self._router, parts.listener
        started = time.monotonic()
        router.emit(SessionStarted(self.now, session_id=self.id, format_id=parts.format.id,
                                   question_id=parts.question.id))
        reader = threading.Thread(target=self._listen, name="listener", daemon=True)
        reason = "done"
        try:
            # The source is read all along (muted while the interviewer speaks), so
            # the session clock covers the question; a recording given with --input
            # is silent until the question and its mute tail are over.
            reader.start()
            loop.ask(parts.question.text, kind="question")
            self._cue(parts)
            reason = loop.run(started)
        except VoiceInterviewError as exc:
            reason = "error"
            router.emit(EngineError(self.now, message=str(exc), fatal=True,
                                    exit_code=exc.exit_code))
        except BaseException:
            reason = "error"
            raise
        finally:
            listener.stop()
            self._wait_listener(reader)
            preparer.join()  # none may be inside Piper or Whisper at exit (SIGABRT)
            voice.close()
            self._stop_llm()
            summary = self.summary(reason, time.monotonic() - started)
            rec = router.recorder
            if rec is not None:  # even on an unexpected error: keep what we have
                try:
                    rec.finish(summary, status="error" if reason == "error" else "complete")
                except VoiceInterviewError as exc:
                    router.on_event(Notice(self.now, message=f"saving the session failed: {exc}",
                                           level="warning"))
        router.emit(StateChanged(self.now, state="ended"))
        router.emit(SessionEnded(self.now, reason=reason, summary=summary))
        return summary

    def _cue(self, parts: Parts) -> None:
        """Start a recording given as input once the question has been asked."""
        from voice_interview.audio.sources import FileSource
        from voice_interview.session.candidate import ScriptedCandidate

        if isinstance(parts.source, FileSource | ScriptedCandidate):
            parts.listener.wait_unmuted(timeout=2.0)
            parts.source.play()

    def _listen(self) -> None:
        assert self._parts is not None
        try:
            self._parts.listener.run()
        finally:  # whatever happened, the session loop must not wait forever
            self._inbox.put(SourceEnded())

    def _wait_listener(self, reader: threading.Thread) -> None:
        """Let the listener finish: its last polish (the last answer's final
        words, decoded again in context) is scored into that answer before the
        session is saved. Said on screen if it takes a moment; bounded."""
        reader.join(timeout=1.0)
        if not reader.is_alive():
            return
        polisher = self._parts.listener.polisher if self._parts is not None else None
        if polisher is None or not polisher.busy:
            reader.join(timeout=4.0)  # its last finals
            return
        self._router.notice(f"finishing the last answer's transcript (at most "
                            f"{LAST_POLISH_WAIT_S:.0f} s)")
        reader.join(timeout=LAST_POLISH_WAIT_S)

    def _stop_llm(self) -> None:
        server = self.llm_server
        self._server_stopped = True
        if self._parts is not None and self._parts.llm is not None:
            self._parts.llm.close()  # its prefill worker
        if server is not None:
            server.stop()

    def close(self, reason: str = "aborted") -> None:
        """Release what ``load()`` took when ``run()`` will not be called (or failed)."""
        self._stop_llm()
        if self._parts is not None:
            self._parts.source.close()  # releases the microphone
        rec = self._router.recorder
        if rec is not None and not rec.finished:
            rec.abort(reason)

    # -- summary ------------------------------------------------------------------------

    def summary(self, reason: str, duration_s: float) -> dict[str, Any]:
        from voice_interview.session.summary import summarize

        assert self._loop is not None and self._parts is not None
        return summarize(self.id, self.recording_path, self._loop, self._parts.listener,
                         reason, duration_s)
