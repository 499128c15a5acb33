"""Which LLM words the probes: ``embedded`` (the default), ``none``, or a litellm model.

``[llm] model`` in the config, ``--llm`` on the command line, or
``VOICE_INTERVIEW_LLM`` in the environment (in that order of strength: the
command line wins) say which:

- ``embedded``: Qwen2.5-Coder-1.5B-Instruct from the installed chunk packages,
  behind a llama.cpp server this process starts and stops (``server.py``);
- ``none``: the offline planner alone;
- anything else: a litellm model string (``ollama/llama3.2``, ``openai/<name>``
  with ``api_base``, a hosted model), exactly as before.

:func:`open_interviewer` returns the interviewer (and the server to stop), or
raises one :class:`LLMError` line; the callers then go on with the planner.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import Any

from voice_interview.errors import LLMError, VoiceInterviewError

EMBEDDED = "embedded"
NONE = "none"
ENV = "VOICE_INTERVIEW_LLM"
_OFF = {NONE, "off", "planner", ""}


def resolve(spec: str | None) -> str | None:
    """The model string to use: None for the planner alone, ``embedded``, or litellm's."""
    if spec is None:
        spec = os.environ.get(ENV, EMBEDDED)
    spec = spec.strip()
    return None if spec.lower() in _OFF else spec


def describe(spec: str | None) -> str:
    model = resolve(spec)
    if model is None:
        return "the offline planner"
    return "the embedded LLM (Qwen2.5-Coder-1.5B-Instruct)" if model == EMBEDDED else model


def check_embedded() -> None:
    """Fail fast, in one line, when the embedded model or its runtime is not installed."""
    from voice_interview.interviewer import embedded
    from voice_interview.interviewer.server import NOT_INSTALLED

    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMError(NOT_INSTALLED)
    if not embedded.is_ready():
        try:
            embedded.part_paths()
        except VoiceInterviewError as exc:
            raise LLMError(str(exc)) from None


def warm_messages() -> list[dict[str, str]] | None:
    """A turn built from the real prompt: the warm-up caches its fixed instructions."""
    from voice_interview.interviewer.llm import InterviewerPrompt
    from voice_interview.interviewer.types import Probe

    try:
        prompt = InterviewerPrompt.load()
    except VoiceInterviewError:
        return None
    move = Probe(family="context", text="What was your part in it?", reason="warm-up")
    return prompt.messages("Tell me about a project.", "I built a service.", [], [], move)


def open_interviewer(spec: str | None, api_base: str | None, timeout_s: float,
                     fallback: Any = None, progress: Callable[[str], None] | None = None,
                     log_path: Any = None, chooses_move: bool = False) -> tuple[Any, Any]:
    """(LLMInterviewer or None, LocalServer or None). None, None for ``none``.
    ``chooses_move``: the LLM picks among the planner's moves ([llm] chooses_move).

    The embedded server starts in the background: this returns at once, and the
    interviewer waits for it (within its timeout) on the first turn.
    """
    from voice_interview.interviewer.llm import LLMInterviewer

    model = resolve(spec)
    if model is None:
        return None, None
    if model != EMBEDDED:
        llm = LLMInterviewer(model, api_base, timeout_s, fallback=fallback,
                             chooses_move=chooses_move)
        llm.check()
        llm.preload()
        return llm, None
    from voice_interview.interviewer import embedded
    from voice_interview.interviewer.server import LocalServer

    check_embedded()
    say = progress or (lambda _msg: None)
    if not embedded.is_ready():
        say("first run: joining the embedded LLM model (~1 GB, once)")
    say("starting the embedded LLM (Qwen2.5-Coder-1.5B) in the background")
    server = LocalServer(progress=say, warm_messages=warm_messages(), log_path=log_path).start()
    llm = LLMInterviewer(f"openai/{embedded.MODEL_NAME}", server.url, timeout_s,
                         fallback=fallback, server=server, chooses_move=chooses_move)
    llm.preload()
    return llm, server
