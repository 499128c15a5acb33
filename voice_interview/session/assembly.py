"""Putting one session together: question, format, models, devices, recording.

``assemble`` loads what a ``SessionConfig`` asks for, in the order that fails
soonest and overlaps the slow parts (the embedded LLM's server loads while
Whisper does), and returns the ``Parts``. It raises a typed error when that is
impossible, having released whatever it had opened (the microphone, the LLM
server). The recording is opened last: a failed start leaves no session behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from voice_interview.events import StateChanged
from voice_interview.session.interview import new_planner
from voice_interview.session.settings import SessionConfig, opening_budgets

if TYPE_CHECKING:
    from voice_interview.audio.playback import Player
    from voice_interview.audio.sources import AudioSource
    from voice_interview.interviewer.banks import InterviewFormat, Question
    from voice_interview.interviewer.llm import LLMInterviewer
    from voice_interview.interviewer.planner import PlannerSession
    from voice_interview.interviewer.server import LocalServer
    from voice_interview.listener import Listener
    from voice_interview.pacing import PacingRubric
    from voice_interview.session.routing import EventRouter, Recorder
    from voice_interview.speech.voices import Voice
    from voice_interview.turns import TurnSettings


@dataclass(frozen=True)
class Parts:
    format: InterviewFormat
    question: Question
    rubric: PacingRubric
    planner: PlannerSession
    llm: LLMInterviewer | None
    llm_server: LocalServer | None  # the embedded LLM's llama.cpp server
    source: AudioSource
    listener: Listener
    turn_settings: TurnSettings  # the opening answer's
    voice: Voice | None
    player: Player | None  # None: the lines are shown, not spoken
    recording: Recorder | None  # opened here (config.save), also the router's recorder


def assemble(config: SessionConfig, router: EventRouter) -> Parts:
    """Load everything ``config`` asks for; see the module docstring."""
    from voice_interview.errors import UsageError
    from voice_interview.interviewer.banks import load_formats, load_question_bank
    from voice_interview.listener import Listener, ListenerSettings
    from voice_interview.pacing import load_pacing_rubric
    from voice_interview.speech.transcriber import TranscriberSettings, WhisperTranscriber
    from voice_interview.turns import TurnSettings

    router.emit(StateChanged(0.0, state="loading"))
    cfg = config
    formats = load_formats()
    if cfg.format_id not in formats:
        raise UsageError(f"unknown format '{cfg.format_id}'; choose one of: {', '.join(formats)}")
    fmt = formats[cfg.format_id]
    bank = load_question_bank()
    question = bank.get(cfg.question_id) if cfg.question_id else bank.default(
        cfg.category or fmt.opening)
    rubric = load_pacing_rubric()
    planner = new_planner(fmt, question, cfg.seed)
    llm, server = None, None
    if cfg.llm_model:  # the embedded server starts now and loads while Whisper does
        llm, server = _open_llm(cfg, planner, router)
    source: AudioSource | None = None
    try:
        source = _open_source(cfg)  # the likeliest failure: a missing microphone or file
        transcriber = WhisperTranscriber(TranscriberSettings.live())
        soft, hard = opening_budgets(fmt, cfg.budget_s)
        turn_settings = TurnSettings(
            patience_s=cfg.patience_s if cfg.patience_s is not None else rubric.patience_s,
            soft_budget_s=soft,
            hard_budget_s=hard,
        )
        listener = Listener(source, transcriber, router.from_listener,
                            ListenerSettings(turn=turn_settings), tap=router.tap)
        voice, player = None, None
        if cfg.voice:
            from voice_interview.session.voice import open_voice

            voice, player = open_voice(cfg.voice, cfg.output_device, router)
        recording = None
        if cfg.save and router.recorder is None:  # last: a failed start leaves no session
            recording = router.recorder = _open_recorder(cfg, fmt, question)
    except BaseException:
        if server is not None:
            server.stop()
        if source is not None:
            source.close()  # releases the microphone
        raise
    return Parts(fmt, question, rubric, planner, llm, server, source, listener, turn_settings,
                 voice, player, recording)


def _open_source(cfg: SessionConfig) -> AudioSource:
    from voice_interview.audio.sources import FileSource, MicrophoneSource

    if cfg.input_path and cfg.input_path.endswith(".candidate.json"):
        from voice_interview.session.candidate import ScriptedCandidate

        return ScriptedCandidate(cfg.input_path)  # the demo's sample candidate
    if cfg.input_path:
        # Cued: silence until the opening question has been asked, as a quiet mic.
        return FileSource(cfg.input_path, realtime=True, cued=True)
    mic = MicrophoneSource(cfg.input_device)
    mic.start()
    return mic


def _open_llm(cfg: SessionConfig, planner: PlannerSession, router: EventRouter,
              ) -> tuple[LLMInterviewer | None, LocalServer | None]:
    from voice_interview.errors import LLMError
    from voice_interview.interviewer.choice import open_interviewer

    try:
        return open_interviewer(
            cfg.llm_model, cfg.api_base, cfg.llm_timeout_s, fallback=planner,
            progress=lambda message: router.notice(message, t=0.0),
            chooses_move=cfg.llm_chooses_move)
    except LLMError as exc:
        router.notice(f"{exc}; the offline interviewer takes over", level="warning", t=0.0)
        return None, None


def _open_recorder(cfg: SessionConfig, fmt: InterviewFormat, question: Question) -> Recorder:
    from voice_interview.session.store import open_store

    store = open_store(cfg.recordings)
    return store.create({
        "question_id": question.id,
        "question_text": question.text,
        "format_id": fmt.id,
        "voice": cfg.voice,
        "llm_model": cfg.llm_model,
        "input": cfg.input_path,
    })
