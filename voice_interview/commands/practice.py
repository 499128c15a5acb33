"""``voice-interview practice``: a spoken practice session (TUI, or JSON lines with --headless)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import TYPE_CHECKING

from voice_interview.commands.options import Deprecated

if TYPE_CHECKING:
    from voice_interview.session.settings import SessionConfig


def register(sub) -> None:
    p = sub.add_parser(
        "practice",
        help="a spoken practice session with follow-up probes (the default command)",
        description=(
            "Answer an interview question out loud. The interviewer listens, ends your "
            "turn after a silence (or cuts in at the time budget), and asks follow-up "
            "probes that dig deeper into what you said. Keys in the TUI: space = hold "
            "(I'm thinking), enter = I'm done, n = next question, q = end."
        ),
    )
    add_arguments(p)
    p.set_defaults(handler=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--question", metavar="ID", help="question id (prompts/questions.toml)")
    which.add_argument("--category", choices=["deep-dive", "behavioral", "technical", "intro"],
                       help="pick the first question of this category")
    p.add_argument("--format", dest="format_id", metavar="F",
                   help="interview format: conversational (default), presentation, "
                   "deep-dive-45, behavioral, recruiter-screen, technical-screen")
    add_llm_arguments(p)
    p.add_argument("--model", dest="llm", metavar="M", action=Deprecated, new="--llm",
                   what="LLM", help=argparse.SUPPRESS)
    voice = p.add_mutually_exclusive_group()
    voice.add_argument("--voice", choices=["piper", "pyttsx3"], help="the interviewer's voice")
    voice.add_argument("--no-voice", action="store_true", help="show the questions, don't speak")
    p.add_argument("--input", dest="input_path", metavar="AUDIO",
                   help="play this recording as the candidate instead of the microphone")
    p.add_argument("--patience", dest="patience_s", type=float, metavar="S",
                   help="seconds of silence that end an answer (default 2.5)")
    p.add_argument("--budget", dest="budget_s", type=float, metavar="S",
                   help="seconds before the interviewer cuts in on the opening answer "
                        "(default: the format's); an answer to a probe is never given longer")
    p.add_argument("--max-probes", type=int, metavar="N", help="follow-up probes to ask")
    p.add_argument("--time-limit", dest="time_limit_s", type=float, metavar="S",
                   help="end the session after this many seconds")
    p.add_argument("--no-save", action="store_true",
                   help="don't record this session (by default every session is kept)")
    p.add_argument("--headless", action="store_true",
                   help="no TUI: print the session's events as JSON lines on stdout")


def add_llm_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm", metavar="M",
                   help="who words the probes: 'embedded' (default: the built-in "
                   "Qwen2.5-Coder-1.5B), 'none' (the offline planner alone) or any litellm "
                   "model string, e.g. ollama/llama3.2 or openai/NAME with --api-base")
    p.add_argument("--api-base", metavar="URL", help="base URL of the LLM server (with --llm)")


def make_config(args: argparse.Namespace) -> SessionConfig:
    """The session practice's options ask for."""
    return session_config(
        question=args.question, category=args.category, format_id=args.format_id,
        llm=args.llm, api_base=getattr(args, "api_base", None), voice=args.voice,
        no_voice=args.no_voice, input_path=args.input_path, patience_s=args.patience_s,
        budget_s=args.budget_s, max_probes=args.max_probes, time_limit_s=args.time_limit_s,
        save=not getattr(args, "no_save", False))


def session_config(*, question: str | None = None, category: str | None = None,
                   format_id: str | None = None, llm: str | None = None,
                   api_base: str | None = None, voice: str | None = None,
                   no_voice: bool = False, input_path: str | None = None,
                   patience_s: float | None = None, budget_s: float | None = None,
                   max_probes: int | None = None, time_limit_s: float | None = None,
                   save: bool = True) -> SessionConfig:
    """A ``SessionConfig``: these choices, the rest (and what is None) from config.toml."""
    from voice_interview.config import load_config
    from voice_interview.errors import UsageError
    from voice_interview.interviewer.choice import resolve
    from voice_interview.session.settings import SessionConfig

    cfg = load_config()
    if patience_s is not None and patience_s <= 0:
        raise UsageError("--patience must be more than 0 seconds")
    return SessionConfig(
        question_id=question,
        category=category,
        format_id=format_id or cfg.format_id,
        llm_model=resolve(llm if llm is not None else cfg.llm_model),
        api_base=api_base or cfg.api_base,
        llm_timeout_s=cfg.llm_timeout_s,
        llm_chooses_move=cfg.llm_chooses_move,
        voice=None if no_voice else (voice or cfg.voice),
        output_device=cfg.output_device,
        input_path=input_path,
        input_device=cfg.input_device,
        patience_s=patience_s if patience_s is not None else cfg.patience_s,
        budget_s=budget_s,
        max_probes=max_probes,
        time_limit_s=time_limit_s,
        save=save,
        recordings=str(cfg.recordings) if cfg.recordings else None,
    )


def check_input(config) -> None:
    """No microphone and no --input: say so in one line and point at the ways out."""
    from voice_interview.audio.sources import input_devices, probe_file
    from voice_interview.errors import AudioDeviceError

    if config.input_path:
        probe_file(config.input_path)
        return
    if not input_devices():
        raise AudioDeviceError(
            "no microphone found; practise with a recording (--input AUDIO) "
            "or see the whole pipeline with 'voice-interview demo'"
        )


def run(args: argparse.Namespace) -> int:
    from voice_interview.checks import check_session_config

    config = make_config(args)
    check_session_config(config)  # a mistyped name is reported before any device or file
    check_input(config)
    if args.headless:
        return run_headless(config)
    from voice_interview.tui.app import run_practice

    return run_practice(config)


def run_headless(config) -> int:
    from voice_interview.session.orchestrator import PracticeSession

    lock = threading.Lock()
    status = {"fatal": None}

    def emit(event) -> None:
        doc = event.to_json()
        if doc["type"] == "engine_error" and doc.get("fatal"):
            status["fatal"] = doc["message"]
            status["code"] = doc.get("exit_code", 1)
        with lock:
            sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
            sys.stdout.flush()

    session = PracticeSession(config, emit)
    try:
        session.load()
        summary = session.run()
    except BaseException:
        session.close("interrupted")
        raise
    if summary.get("path"):
        print(f"voice-interview: session saved in {summary['path']} "
              f"(replay it with: voice-interview replay {session.id})", file=sys.stderr)
    if status["fatal"]:
        print(f"voice-interview: {status['fatal']}", file=sys.stderr)
        return status["code"]
    return 0
