"""The practice TUI: a Textual app around one ``PracticeSession``.

Threads: the session's ``load()`` and ``run()`` block, so they run in a daemon
thread of their own (not a Textual thread worker: asyncio waits for those at
exit, so a session stuck on a device would keep the program from quitting; see
``run_practice``); the session calls ``on_event`` from its own threads, and the app
only posts each event to itself as a message (``post_engine_event``), so every
widget is touched on the UI thread (``handle_event``). The engine modules are
imported inside the worker: the screen is up and interactive before Whisper,
the VAD or the voice start loading.

Errors: a ``Notice`` or a non-fatal ``EngineError`` becomes a notification; a
fatal one (or a ``VoiceInterviewError`` out of ``load``/``run``) a modal that
offers the feedback gathered so far. No traceback reaches the screen.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel

from voice_interview.errors import VoiceInterviewError
from voice_interview.events import (
    AnswerScored,
    EngineError,
    Event,
    Notice,
    ProbeAsked,
    QuestionAsked,
    SessionEnded,
)
from voice_interview.tui.rubric import UiRubric, load_ui_rubric
from voice_interview.tui.screens import ErrorModal, FeedbackScreen, PracticeScreen
from voice_interview.tui.terminal import terminal_guard

log = logging.getLogger(__name__)

__all__ = ["PracticeApp", "UiRubric", "load_ui_rubric", "run_practice", "wound_down"]

NOTICE_SEVERITY: dict[str, SeverityLevel] = {
    "info": "information",
    "information": "information",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
}


class EngineEvent(Message):
    """An engine event, carried from a worker thread to the UI thread."""

    def __init__(self, event) -> None:
        super().__init__()
        self.event = event


class SessionFinished(Message):
    """``run()`` returned (``summary``) or was skipped (None: stopped while loading)."""

    def __init__(self, summary: dict | None) -> None:
        super().__init__()
        self.summary = summary


class SessionFailed(Message):
    """``load()`` or ``run()`` raised: a blocking error."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__()
        self.message = message
        self.exit_code = exit_code


def _default_factory():
    from voice_interview.session.orchestrator import PracticeSession

    return PracticeSession


class PracticeApp(App[int]):
    """Practice one interview out loud; see the module docstring for the threading."""

    CSS_PATH = "practice.tcss"
    TITLE = "voice-interview"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "force_quit", "Quit now", show=False, priority=True)]

    def __init__(
        self,
        config,
        session_factory: Callable | None = None,
        *,
        autostart: bool = True,
    ) -> None:
        """``session_factory(config, on_event)`` builds the session (default: the real
        ``PracticeSession``, imported in the worker). With ``autostart=False`` no
        session is started: the screen shows only what ``handle_event`` is fed
        (recorded event sequences, used by the snapshot tests).
        """
        super().__init__()
        self.config = config
        self.session_factory = session_factory
        self.autostart = autostart
        self.session = None
        self.loaded = False
        self.running = False
        self.stop_requested = False
        self.forced = False  # ctrl+q: quit without waiting for the session to wind down
        self.exit_code = 0
        self.summary: dict | None = None
        self.event_log: list = []  # every event handled, in order
        self.prompts: list[dict] = []
        self.scored: dict[int, dict] = {}  # by answer index: a later score (a late polish) wins
        self.error_message: str | None = None
        self.error_modal_open = False
        self.log_path: Path | None = None  # where details of errors go (run_practice)
        self.feedback_screen: FeedbackScreen | None = None
        self._pending: list | None = []  # events that arrive before the screen is up
        self._stop_lock = threading.Lock()
        self._session_thread: threading.Thread | None = None
        self.rubric = load_ui_rubric(config)
        self.pace_bands = self.rubric.pace

    # -- start-up ------------------------------------------------------------------
    def on_mount(self) -> None:
        self.practice = PracticeScreen(self.rubric, loading_text=self._loading_text())
        self.push_screen(self.practice)

    def practice_ready(self) -> None:
        """The practice screen is composed: show what arrived meanwhile, start the session."""
        pending, self._pending = self._pending, None
        for event in pending or ():
            self.handle_event(event)
        if self.autostart:
            self.start_session()

    def _loading_text(self) -> str:
        source = getattr(self.config, "input_path", None)
        where = f"the file {os.path.basename(source)} (played in real time)" if source else (
            "the microphone"
        )
        voice = getattr(self.config, "voice", None)
        spoken = f"spoken by the {voice} voice" if voice else "shown, not spoken (no voice)"
        parts = ("the speech model, the voice activity detector and the voice" if voice else
                 "the speech model and the voice activity detector")
        return (
            f"Loading {parts}…\n"
            f"The question appears when they are ready. Listening to {where}; "
            f"probes are {spoken}."
        )

    def start_session(self) -> None:
        if self._session_thread is not None:
            return
        self._session_thread = threading.Thread(target=self._run_session,
                                                name="practice-session", daemon=True)
        self._session_thread.start()

    def _run_session(self) -> None:
        try:
            factory = self.session_factory or _default_factory()
            session = factory(self.config, self.post_engine_event)
            self.session = session
            session.load()
            with self._stop_lock:  # a quit from now on sees running and stops the session
                self.loaded = True
                self.running = not self.stop_requested
            if not self.running:  # q while loading: release the devices, don't start
                close = getattr(session, "close", None)
                if close is not None:
                    close()
                self.post_message(SessionFinished(None))
                return
            summary = session.run()
            self.post_message(SessionFinished(summary))
        except VoiceInterviewError as exc:
            self.post_message(SessionFailed(str(exc), exc.exit_code))
        except Exception as exc:  # no traceback on screen: log it, show one line
            log.exception("practice session failed")
            if os.environ.get("VOICE_INTERVIEW_DEBUG"):
                import traceback

                traceback.print_exc()
            self.post_message(SessionFailed(f"Unexpected error: {exc}", 1))
        finally:
            self.running = False

    # -- events ----------------------------------------------------------------------
    def post_engine_event(self, event) -> None:
        """The session's ``on_event``: thread-safe, never blocks the engine."""
        self.post_message(EngineEvent(event))

    def on_engine_event(self, message: EngineEvent) -> None:
        self.handle_event(message.event)

    def handle_event(self, event) -> None:
        """Apply one engine event to the screens. UI thread only.

        This is the app's public event-handling method: the session's events
        reach it through ``post_engine_event``, and tests feed recorded event
        sequences to it directly.
        """
        if self._pending is not None:
            self._pending.append(event)
            return
        self.event_log.append(event)
        try:
            self._apply(event)
        except Exception as exc:  # a display bug must not take the session down
            log.exception("showing %r", event)
            self.notify(f"could not show a {event.type} event: {exc}", severity="error")

    def _apply(self, event: Event) -> None:
        match event:
            case Notice():
                self.notify(event.message, severity=NOTICE_SEVERITY.get(event.level, "information"),
                            timeout=6)
            case EngineError(fatal=True):
                if event.exit_code and self.exit_code == 0:
                    self.exit_code = int(event.exit_code)
                self.show_error(event.message)
            case EngineError():
                self.notify(event.message, title="Problem", severity="error", timeout=8)
            case QuestionAsked():
                self.prompts.append({"kind": "question", "question_id": event.question_id,
                                     "prompt": event.text})
            case ProbeAsked():
                self.prompts.append({"kind": "probe", "prompt": event.text})
            case AnswerScored():
                self.scored[event.answer_index] = {
                    "index": event.answer_index, "question_id": event.question_id,
                    "analysis": dict(event.analysis or {})}
            case SessionEnded():
                self.summary = dict(event.summary or {}) or self.summary
        self.practice.apply_event(event)
        if isinstance(event, SessionEnded):
            self.show_feedback()

    def on_session_finished(self, message: SessionFinished) -> None:
        if message.summary is not None and not self.summary:
            self.summary = dict(message.summary)
        if message.summary is None and self.stop_requested and not self.scored:
            self.exit(self.exit_code, return_code=self.exit_code)
            return
        self.show_feedback()

    def on_session_failed(self, message: SessionFailed) -> None:
        self.exit_code = message.exit_code or 1
        self.show_error(message.message)

    # -- feedback and errors ------------------------------------------------------------
    def collected_summary(self) -> dict:
        """The session's summary, or one built from the events seen so far."""
        if self.summary and self.summary.get("answers") is not None:
            return self.summary
        answers = []
        for i, scored in enumerate(self.scored[k] for k in sorted(self.scored)):
            prompt = self.prompts[i] if i < len(self.prompts) else {}
            answers.append({
                "index": scored["index"],
                "question_id": scored["question_id"] or prompt.get("question_id"),
                "kind": prompt.get("kind", "question"),
                "prompt": prompt.get("prompt", ""),
                "transcript": "",
                "analysis": scored["analysis"],
            })
        out = dict(self.summary or {})
        out.setdefault("reason", "error" if self.error_message else "stopped")
        out["answers"] = answers
        out.setdefault("probes", list(self.practice.probes))
        return out

    def show_feedback(self) -> None:
        if self.error_modal_open:
            return  # the modal's "See feedback" brings it up
        if self.feedback_screen is not None:
            return
        self.feedback_screen = FeedbackScreen(self.collected_summary(), self.pace_bands)
        self.push_screen(self.feedback_screen)

    def show_error(self, message: str) -> None:
        if self.error_message is not None:
            return
        self.error_message = message
        if self.exit_code == 0:
            self.exit_code = 1
        if self.session is not None and self.running:
            try:
                self.session.stop()
            except Exception:  # the session is already failing; keep the first message
                log.exception("stop after a fatal error")
        self.practice.badge.state = "ended"
        self.error_modal_open = True
        self.push_screen(ErrorModal(message, details=self.log_path), self._after_error)

    def _after_error(self, choice: str | None) -> None:
        self.error_modal_open = False
        if choice == "feedback":
            self.show_feedback()
        else:
            self.action_quit_app()

    # -- keys -------------------------------------------------------------------------------
    def _session_call(self, name: str, *args) -> bool:
        if self.session is None or not self.running:
            if self.loaded:
                self.notify("The session has ended.", timeout=3)
            else:
                self.notify("Still loading the models…", timeout=3)
            return False
        try:
            getattr(self.session, name)(*args)
        except VoiceInterviewError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return False
        return True

    def press_hold(self) -> None:
        """space: hold the turn open (I'm thinking) / release it."""
        on = not self.practice.holding
        if self._session_call("hold", on):
            self.practice.set_holding(on)

    def press_end_turn(self) -> None:
        """enter: I'm done with this answer."""
        if self._session_call("end_turn") and self.practice.holding:
            self.practice.set_holding(False)

    def press_next_question(self) -> None:
        """n: skip to the next question."""
        self._session_call("next_question")

    def press_stop(self) -> None:
        """q: end the session; the feedback screen follows when ``run()`` returns."""
        with self._stop_lock:  # loaded and running change together under this lock
            again = self.stop_requested
            self.stop_requested = True
            loaded, running = self.loaded, self.running
        if self.session is None or not loaded:
            self.exit(self.exit_code, return_code=self.exit_code)  # nothing said yet
            return
        if again and not running:
            self.show_feedback()
            return
        if again:
            self.notify("Still finishing the session (scoring and saving)… ctrl+q quits "
                        "right away; what was recorded so far is kept.", timeout=6)
        self.notify("Ending the session…", timeout=3)
        try:
            self.session.stop()
        except VoiceInterviewError as exc:
            self.notify(str(exc), severity="error")
        if not self.running:
            self.show_feedback()

    def action_force_quit(self) -> None:
        """ctrl+q: leave now, even if the session is slow to wind down (run_practice
        then waits briefly for it and exits regardless; the recording is crash-safe)."""
        self.forced = True
        self.action_quit_app()

    def action_quit_app(self) -> None:
        with self._stop_lock:  # a session still loading closes instead of starting
            self.stop_requested = True
            running = self.running
        if self.session is not None and running:
            try:
                self.session.stop()
            except Exception:
                log.exception("stop on quit")
        self.exit(self.exit_code, return_code=self.exit_code)


def run_practice(config, session_factory: Callable | None = None) -> int:
    """Run the practice TUI until the user quits; return the process exit code.

    ``session_factory(config, on_event)`` defaults to the real ``PracticeSession``
    (pass one to give the session a recorder, for instance).
    """
    with terminal_guard() as log_path:
        app = PracticeApp(config, session_factory)
        app.log_path = log_path
        app.run()
    code = int(app.return_code or app.exit_code or 0)
    # A quit while the models load lets the load finish, even after ctrl+q: it
    # then closes the microphone and the recorder instead of starting.
    loading = not app.loaded
    if not wound_down(app, FORCED_GRACE_S if app.forced and not loading else QUIT_GRACE_S):
        if loading:
            print("voice-interview: quit while the models were still loading",
                  file=sys.stderr)
            sys.stderr.flush()
            os._exit(code)
        # The session thread is stuck (a device or disk that does not answer).
        # os._exit skips the exit handlers that could wait on it too (PortAudio's,
        # the executor's); the recording is written as it goes, so what was
        # recorded up to here is kept.
        print("voice-interview: quit before the session finished winding down; "
              "what was recorded so far is kept", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code or 1)
    return code


QUIT_GRACE_S = 15.0  # after q: scoring and saving normally take well under a second
FORCED_GRACE_S = 2.0  # after ctrl+q


def wound_down(app: PracticeApp, grace_s: float) -> bool:
    """Wait for the session thread: still loading (it then closes the devices
    and the recorder instead of starting), running, or scoring and saving."""
    deadline = time.monotonic() + grace_s
    thread = app._session_thread
    while thread is not None and thread.is_alive():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
