"""LLM interviewer: a follow-up probe from any litellm model, with the planner as a net.

``LLMInterviewer(model, api_base=None, timeout_s=6.0, fallback=planner).ask(...)``
always returns a usable :class:`Probe` within ``timeout_s`` (+ a few ms):

- ``source="llm"`` when the model's reply passed :func:`validate_probe`;
- otherwise the planner's probe, with ``reason`` saying why the LLM was not used
  ("LLM timed out after 6.0 s; planner probe used: ...").

Design
------
- litellm is imported lazily, in a worker thread, with
  ``LITELLM_LOCAL_MODEL_COST_MAP=True`` set first so nothing touches the network at
  import. ``preload()`` starts that import early (it takes seconds); ``ask()``
  starts it when nobody did.
- The reply is streamed in a daemon worker thread that feeds a queue; the calling
  thread reads the queue against a hard wall-clock deadline (``timeout_s`` from
  the call to ``ask``). A hung server therefore never holds the turn: at the
  deadline the worker is told to stop and abandoned, and the planner's probe is
  returned. litellm gets the same timeout so the abandoned socket closes too.
- Reading stops at the first question mark: the probe is whatever came before
  it plus the question. The rest of the reply (often the model answering for the
  candidate) is never read, which saves time and keeps junk out. Reading also
  stops as soon as the part read is certain to be refused
  (:func:`early_refusal`: markup, labels, talk about the interview, a sentence
  in the candidate's voice, over 40 words), so junk costs little time.
- Early speech: ``ask(..., on_first_sentence=cb)`` calls ``cb(sentence)`` in the
  calling thread as soon as the reply's first sentence is complete and passes the
  per-sentence checks (:func:`validate_sentence`), before the rest arrives. When
  the reply is a single question this happens as soon as its "?" arrives. If the
  whole reply is later refused, the returned probe is the planner's; a caller
  that already spoke the first sentence (an acknowledgement such as "That makes
  sense.") simply continues with the planner's question. When the probe is the
  LLM's, its ``text`` starts with that first sentence.
- API keys come from the environment (litellm reads them). For an ``openai/...``
  model served on a loopback ``api_base`` with no key set, a placeholder key is
  passed, since local servers ignore it. Anything that looks like a key is
  redacted from reasons and log lines.
- A planner session as ``fallback`` (anything with ``next_probe``) is kept in
  step: when the LLM's probe is used, the session is told the answer
  (``add_answer``) and the probe (``record``), so it never repeats it. A plain
  callable ``fallback()`` works too.
- A misconfigured model (litellm missing, unknown provider, missing key) is one
  readable :class:`LLMError` line from :meth:`check`; ``ask`` records the same
  line in the probe's reason and the planner takes over.
- An LLM that is down is not asked again at every turn: after a failure that
  will not fix itself within seconds (nothing listening, key refused, unknown
  model) or two timeouts in a row, ``ask`` goes straight to the planner for
  ``retry_after_s`` (60 s), then tries the LLM again. Each skipped turn's reason
  says so; a timeout would otherwise cost the candidate ``timeout_s`` per turn.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import queue
import re
import socket
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from voice_interview.errors import ConfigError, LLMError, VoiceInterviewError
from voice_interview.interviewer.types import Probe
from voice_interview.interviewer.validate import (
    clean_reply,
    cut_compound,
    early_refusal,
    split_sentences,
    validate_probe,
    validate_sentence,
)

log = logging.getLogger(__name__)

NOT_INSTALLED = "LLM support (litellm) is not installed: run scripts/setup.sh"
PROMPT_FILE = "llm_interviewer.toml"
CLOSED = "the planner closed the interview"  # rejected: nothing left to ask, no LLM
LOCAL_PLACEHOLDER_KEY = "sk-local-no-key-needed"
# Where a base model tends to start speaking for someone else: stop right there.
STOP_SEQUENCES = ("Candidate:", "\nCandidate", "\nInterviewer:", "\nA:")  # OpenAI allows 4


class PlannerLike(Protocol):
    def next_probe(self, question: Any, transcript: str) -> Probe: ...


Fallback = Callable[[], Probe] | PlannerLike


# ---------------------------------------------------------------------------
# Redaction


_KEYLIKE = re.compile(
    r"\b(?:sk|pk|rk|gsk|xai|hf|ghp|gho|github_pat|glpat|AIza|key)[-_][-_A-Za-z0-9]{8,}"
    r"|\bBearer\s+[^\s\"',}]+"
    r"|\b[A-Za-z0-9_\-]{32,}\b",
    re.IGNORECASE,
)
_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASS|CREDENTIALS?)$", re.IGNORECASE)


_URL_SECRET = re.compile(r"(?<=://)[^/@\s]+@|(?<=[?&])((?:api[-_]?)?key|token|secret)=[^&\s]+",
                         re.IGNORECASE)


def redact(text: str) -> str:
    """Blank out API keys: values of secret-looking variables, key-shaped strings,
    credentials inside URLs."""
    for name, value in os.environ.items():
        if _SECRET_ENV.search(name) and len(value) >= 6:
            text = text.replace(value, "[redacted]")
    text = _URL_SECRET.sub(lambda m: f"{m.group(1)}=[redacted]" if m.group(1) else "[redacted]@",
                           text)
    return _KEYLIKE.sub("[redacted]", text)


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(redact(str(text)).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# ---------------------------------------------------------------------------
# Prompt


@dataclass(frozen=True)
class InterviewerPrompt:
    """The persona and message templates from prompts/llm_interviewer.toml."""

    system: str  # placeholders: {persona} {question} {gaps} {asked}
    user: str  # placeholders: {transcript}
    persona: str = ""
    path: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> InterviewerPrompt:
        from voice_interview.resources import data_dir, load_toml

        path = path or data_dir("prompts") / PROMPT_FILE
        data = load_toml(path)
        llm = data.get("llm", data)
        system = llm.get("system")
        user = llm.get("user")
        if not isinstance(system, str) or not isinstance(user, str):
            raise ConfigError(f"{path}: needs text keys 'system' and 'user'")
        persona = llm.get("persona", "")
        if isinstance(persona, dict):
            persona = persona.get("text", "")
        return cls(system=system, user=user, persona=str(persona), path=str(path))

    def messages(self, question: str, transcript: str, gaps: Sequence[str],
                 asked: Sequence[str], move: Probe | None = None,
                 depth: int = 1) -> list[dict[str, str]]:
        """System message first and the same every turn (the server caches it); the
        turn's material (the planner's move, the candidate's words) after it."""
        values = {
            "persona": self.persona.strip(),
            "question": question.strip(),
            "gaps": ", ".join(gaps) if gaps else "none: the answer covered every part",
            # The last three only: every token costs reading time (~95 tokens/s here).
            "asked": " / ".join(asked[-3:]) if asked else "none yet",
            "transcript": _fence(transcript),
            **move_values(move, transcript, depth),
        }
        try:
            return [
                {"role": "system", "content": self.system.format(**values).strip()},
                {"role": "user", "content": self.user.format(**values).strip()},
            ]
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{self.path}: bad placeholder in the LLM prompt ({exc})") from None


_FAMILY_GOALS = {
    "context": "what the project was and what the candidate's part in it was",
    "decisions": "why they chose what they chose, and what they rejected",
    "debugging": "how they found and fixed what went wrong",
    "evaluation": "how they know it worked: a number and what it is compared with",
    "reflection": "what they would do differently, and what they learned",
    "ownership": "what they did themselves, as opposed to the team",
}
EXCERPT_WORDS = 50


def excerpt(transcript: str, target: str | None) -> str:
    """The candidate's words around the target claim (its sentence and the one
    before), else the answer's last two sentences: what the LLM needs to phrase
    the move in the candidate's terms, short because reading is the LLM's cost."""
    sentences = split_sentences(" ".join(transcript.split()))
    if not sentences:
        return ""
    at = len(sentences) - 1
    if target:
        key = " ".join(target.lower().split())
        hits = [i for i, s in enumerate(sentences) if key[:60] in s.lower()]
        if hits:
            at = hits[0]
        else:
            return _clip(target)
    return _clip(" ".join(sentences[max(0, at - 1): at + 1]))


def _clip(text: str) -> str:
    words = text.split()
    if len(words) > EXCERPT_WORDS:
        words = words[-EXCERPT_WORDS:]
    return _fence(" ".join(words))


def move_values(move: Probe | None, transcript: str, depth: int = 1) -> dict[str, str]:
    """The planner's move as prompt values: family, goal, target, reason, depth, wording."""
    target = move.target.text if move is not None and move.target is not None else None
    family = move.family if move is not None else "context"
    return {
        "family": family,
        "goal": _FAMILY_GOALS.get(family, "the part of the work the answer left thin"),
        "target": _fence(target) if target else "(none picked: use their last words below)",
        "reason": (move.reason if move is not None else "") or "the answer left this thin",
        "depth": "a first question on this" if depth <= 1 else
                 f"follow-up number {depth} on this: go one level deeper than before",
        "planned": move.text if move is not None else "",
        "excerpt": excerpt(transcript, target) or "(no answer yet)",
    }


def _fence(transcript: str) -> str:
    """The candidate's words as data: angle brackets out so they cannot close the fence."""
    return transcript.replace("<", "(").replace(">", ")").strip() or "(no answer yet)"


# ---------------------------------------------------------------------------
# Outcome


@dataclass(frozen=True)
class LLMOutcome:
    """What happened in one ``ask``: the probe and the evidence behind it."""

    probe: Probe
    reply: str  # the model's reply as read (cut at the first question), redacted
    rejected: str | None  # why the LLM was not used; None when its probe was used
    elapsed_s: float
    first_sentence_s: float | None = None  # when on_first_sentence was called
    skipped: bool = False  # the LLM was resting after a failure and was not asked


@dataclass
class _Stream:
    """Shared between the caller and one worker thread."""

    events: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    cancel: threading.Event = field(default_factory=threading.Event)
    lasting: bool = False  # the worker's error will not clear up by itself soon
    timed_out: bool = False


_FAMILY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("debugging", ("debug", "bug", "broke", "fail", "outage", "incident", "root cause", "crash")),
    ("evaluation", ("measure", "metric", "know it worked", "test", "success", "impact", "result",
                    "numbers", "benchmark", "validate")),
    ("decisions", ("why", "choose", "chose", "trade-off", "tradeoff", "alternative", "instead",
                   "decide", "decision", "over ")),
    ("reflection", ("differently", "again", "learn", "lesson", "regret", "improve", "mistake")),
    ("ownership", ("you personally", "your role", "your part", "you own", "team", "yourself",
                   "responsib")),
)


def guess_family(text: str) -> str:
    """Which probe family an LLM question belongs to, by its wording."""
    low = text.lower()
    for family, cues in _FAMILY_WORDS:
        if any(cue in low for cue in cues):
            return family
    return "context"


# ---------------------------------------------------------------------------
# The interviewer


class LLMInterviewer:
    def __init__(
        self,
        model: str,
        api_base: str | None = None,
        timeout_s: float = 6.0,
        fallback: Fallback | None = None,
        *,
        prompt: InterviewerPrompt | None = None,
        max_tokens: int = 48,
        temperature: float = 0.4,
        retry_after_s: float = 60.0,
        server: Any = None,
    ) -> None:
        if not model or not model.strip():
            raise LLMError("no LLM model given (a litellm model string such as ollama/llama3.2)")
        if timeout_s <= 0:
            raise LLMError(f"the LLM timeout must be positive, not {timeout_s}")
        self.model = model.strip()
        self.api_base = api_base
        self.timeout_s = float(timeout_s)
        self.fallback = fallback
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._prompt = prompt
        self._lock = threading.Lock()
        self._loaded = threading.Event()
        self._loader: threading.Thread | None = None
        self._litellm: Any = None
        self._load_error: LLMError | None = None
        self._config_error: LLMError | None = None
        self._checked = False
        self.retry_after_s = float(retry_after_s)
        self._resting_until = 0.0  # monotonic time before which the LLM is not asked
        self._rest_reason = ""
        self._timeouts_in_row = 0
        self.server = server  # a LocalServer to wait for (the embedded model), or None

    # -- loading and configuration -------------------------------------------------

    def preload(self) -> None:
        """Start importing litellm in the background (it takes seconds)."""
        with self._lock:
            if self._loader is None:
                self._loader = threading.Thread(target=self._import, name="litellm-import",
                                                daemon=True)
                self._loader.start()

    def _import(self) -> None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        # litellm's lazy provider modules warn through pydantic on first use; on a
        # terminal UI those lines would garble the screen. Narrow, once, by module.
        for module in (r"pydantic\._internal\.", r"litellm(\.|$)"):
            warnings.filterwarnings("ignore", module=module)
        try:
            import litellm
        except ImportError:
            self._load_error = LLMError(NOT_INSTALLED)
        except Exception as exc:  # a broken install: say so in one line
            self._load_error = LLMError(f"LLM support failed to load: {_one_line(exc)}")
        else:
            litellm.telemetry = False
            litellm.suppress_debug_info = True
            litellm.set_verbose = False
            litellm.drop_params = True  # a provider that lacks "stop" still answers
            _warm_up(litellm)
            self._litellm = litellm
        finally:
            self._loaded.set()

    def _wait_litellm(self, timeout: float | None) -> Any:
        self.preload()
        if not self._loaded.wait(timeout):
            raise TimeoutError("litellm still loading")
        if self._load_error is not None:
            raise self._load_error
        return self._litellm

    def _is_local(self) -> bool:
        host = urlparse(self.api_base or "").hostname or ""
        return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")

    def check(self) -> None:
        """Raise a one-line :class:`LLMError` if the model cannot be used as configured."""
        litellm = self._wait_litellm(None)
        with self._lock:
            if not self._checked:
                self._config_error = self._diagnose(litellm)
                self._checked = True
        if self._config_error is not None:
            raise self._config_error

    def _diagnose(self, litellm: Any) -> LLMError | None:
        try:
            _, provider, _, _ = litellm.get_llm_provider(model=self.model,
                                                         api_base=self.api_base)
        except Exception:
            return LLMError(
                f"unknown LLM provider in '{self.model}': write provider/model, "
                "e.g. ollama/llama3.2 or openai/gpt-4o-mini"
            )
        if provider == "openai" and self._is_local():
            return None
        try:
            env = litellm.validate_environment(model=self.model, api_base=self.api_base)
        except Exception:
            return None  # cannot tell; the call itself will say
        # Only secrets count: a missing *_API_BASE has a default (ollama: localhost:11434).
        missing = [k for k in env.get("missing_keys", []) if k and _SECRET_ENV.search(k)]
        if missing and not env.get("keys_in_environment", True):
            return LLMError(
                f"the LLM '{self.model}' needs {' or '.join(missing)} set in the environment"
            )
        return None

    def _prompt_or_load(self) -> InterviewerPrompt:
        if self._prompt is None:
            self._prompt = InterviewerPrompt.load()
        return self._prompt

    # -- asking ----------------------------------------------------------------------

    def ask(self, question: Any, transcript: str, gaps: Sequence[str] = (),
            asked: Sequence[Probe] = (),
            on_first_sentence: Callable[[str], None] | None = None) -> Probe:
        """A follow-up probe for this turn; never raises for LLM trouble."""
        return self.ask_detailed(question, transcript, gaps, asked, on_first_sentence).probe

    def ask_detailed(self, question: Any, transcript: str, gaps: Sequence[str] = (),
                     asked: Sequence[Probe] = (),
                     on_first_sentence: Callable[[str], None] | None = None, *,
                     record: bool = True, cancel: threading.Event | None = None,
                     ) -> LLMOutcome:
        """The planner decides, the LLM speaks: the planner's move for this answer
        (family, target claim, reason, depth) goes into the prompt, and the LLM's
        question replaces the planner's wording when it passes the checks.

        ``record=False`` (speculative generation while the candidate pauses) keeps
        the planner session unchanged: call :meth:`commit` if the probe is used.
        ``cancel`` set while the reply streams ends the ask at once (the planner's
        wording comes back, ``rejected`` starts with "cancelled")."""
        start = time.monotonic()
        deadline = start + self.timeout_s
        move, final, planned = self._plan(question, transcript, record)
        tell = planned and record  # keep the planner session in step now
        if final:  # nothing left to ask (the closing line): no LLM needed
            return LLMOutcome(move, "", CLOSED, 0.0)
        if start < self._resting_until:
            left = self._resting_until - start
            why = f"{self._rest_reason} (not asked again for {left:.0f} s)"
            return replace(self._fall_back(move, transcript, why, "", start, planned=tell),
                           skipped=True)
        question_text = str(getattr(question, "text", question))
        asked_texts = [getattr(p, "text", str(p)) for p in asked]
        depth = sum(1 for p in asked if getattr(p, "family", None) == move.family) + 1
        try:
            messages = self._prompt_or_load().messages(question_text, transcript, gaps,
                                                       asked_texts, move, depth)
        except VoiceInterviewError as exc:
            return self._fall_back(move, transcript, _one_line(exc), "", start, planned=tell)

        stream = _Stream()
        worker = threading.Thread(target=self._call, args=(messages, deadline, stream),
                                  name="llm-probe", daemon=True)
        worker.start()

        raw, why, first_at = self._read(stream, deadline, start, transcript, asked_texts,
                                         on_first_sentence, cancel)
        stream.cancel.set()
        self._note_health(stream, why)

        reply = clean_reply(raw)
        if why is None:
            why = validate_probe(reply, transcript, asked_texts)
            if why is not None:
                why = f"LLM reply refused ({why})"
        if why is not None:
            return self._fall_back(move, transcript, why, reply, start, first_at, tell)
        reason = f"{move.reason}; worded by {self.model}" if move.reason else \
            f"LLM follow-up from {self.model}"
        probe = Probe(family=move.family if planned else guess_family(reply),
                      text=reply, reason=reason, source="llm", target=move.target)
        if tell:
            self._tell_planner(transcript, probe)
        return LLMOutcome(probe, redact(reply), None, time.monotonic() - start, first_at)

    def commit(self, transcript: str, probe: Probe) -> None:
        """Tell the planner session the answer and the probe asked (after record=False)."""
        if self._keeps_step():
            self._tell_planner(transcript, probe)

    def _plan(self, question: Any, transcript: str,
              record: bool = True) -> tuple[Probe, bool, bool]:
        """The planner's move, recording nothing yet: (probe, final, planned).

        A planner session is asked for a preview, and told the answer and the
        probe actually asked afterwards (``_tell_planner``); ``final`` is true
        when it has nothing left but its closing line (recorded at once)."""
        fb = self.fallback
        preview = getattr(fb, "preview", None)
        if callable(preview) and self._keeps_step():
            move = preview(question, transcript)
            if move is None:
                if not record:
                    from voice_interview.interviewer.planner import CLOSING

                    return CLOSING, True, False
                return fb.next_probe(question, transcript), True, False
            return move, False, True
        return self._planner_probe(question, transcript), False, False

    def _keeps_step(self) -> bool:
        return callable(getattr(self.fallback, "add_answer", None)) and \
            callable(getattr(self.fallback, "record", None))

    @property
    def resting_s(self) -> float:
        """Seconds left before the LLM is asked again (0: it is asked)."""
        return max(0.0, self._resting_until - time.monotonic())

    def _note_health(self, stream: _Stream, why: str | None) -> None:
        """Rest the LLM after a lasting failure or a second timeout in a row."""
        self._timeouts_in_row = self._timeouts_in_row + 1 if stream.timed_out else 0
        if why is not None and (stream.lasting or self._timeouts_in_row >= 2):
            self._resting_until = time.monotonic() + self.retry_after_s
            self._rest_reason = _one_line(why, 120)
            self._timeouts_in_row = 0
            log.info("LLM resting for %.0f s: %s", self.retry_after_s, self._rest_reason)

    def _read(self, stream: _Stream, deadline: float, start: float, transcript: str,
              asked: Sequence[str], on_first_sentence: Callable[[str], None] | None,
              cancel: threading.Event | None = None,
              ) -> tuple[str, str | None, float | None]:
        """Read the reply until its first question, a refusal, an error or the deadline.

        Returns the text read (cut after the first "?"), why the LLM cannot be
        used (None: validate the text) and when the first sentence was handed out.
        """
        raw = ""
        first_done = False
        first_at: float | None = None
        while True:
            remaining = deadline - time.monotonic()
            if cancel is not None:
                if cancel.is_set():
                    return raw, "cancelled: the candidate spoke again", first_at
                remaining = min(remaining, 0.05)  # look at the cancel flag often
            try:
                if deadline - time.monotonic() <= 0:
                    raise queue.Empty
                kind, value = stream.events.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                if cancel is not None and time.monotonic() < deadline:
                    continue
                stream.timed_out = True
                why = f"LLM timed out after {self.timeout_s:.1f} s"
                if not self._loaded.is_set():
                    why += " (litellm still loading)"
                return raw, why, first_at
            if kind == "error":
                return raw, value, first_at
            if kind == "end":
                return raw, None, first_at
            raw += value
            cut = raw.find("?")
            complete = cut >= 0
            single = cut_compound(raw)
            if single is not None:  # two questions joined: the first one, and stop reading
                raw, complete = single, True
            elif complete:
                raw = raw[: cut + 1]
            else:
                doomed = early_refusal(raw, transcript)
                if doomed:
                    return raw, f"LLM reply refused ({doomed})", first_at
            if not first_done:
                first = _first_sentence(raw, complete)
                if first is not None:
                    first_done = True
                    speakable = validate_sentence(first, transcript) is None and (
                        not complete or validate_probe(raw, transcript, asked) is None)
                    if speakable and on_first_sentence is not None:
                        on_first_sentence(clean_reply(first))
                        first_at = time.monotonic() - start
            if complete:
                return raw, None, first_at

    def _fall_back(self, move: Probe, transcript: str, why: str, reply: str, start: float,
                   first_at: float | None = None, planned: bool = False) -> LLMOutcome:
        """The planner's own wording, in the same turn, with the reason recorded."""
        why = _one_line(why, 200)
        log.info("planner probe used: %s", why)
        reason = f"{why}; planner probe used"
        if move.reason:
            reason += f": {move.reason}"
        probe = Probe(family=move.family, text=move.text, reason=reason, source="planner",
                      target=move.target)
        if planned:
            self._tell_planner(transcript, probe)
        return LLMOutcome(probe, redact(reply), why, time.monotonic() - start, first_at)

    def _tell_planner(self, transcript: str, probe: Probe) -> None:
        """Keep a planner session in step: it hears the answer and the LLM's probe."""
        add_answer = getattr(self.fallback, "add_answer", None)
        record = getattr(self.fallback, "record", None)
        if callable(add_answer) and callable(record):
            add_answer(transcript)
            record(probe)

    def _planner_probe(self, question: Any, transcript: str) -> Probe:
        fb = self.fallback
        if fb is None:
            return Probe(family="context", text="Can you tell me more about that?",
                         reason="generic follow-up (no planner configured)")
        next_probe = getattr(fb, "next_probe", None)
        if callable(next_probe):
            return next_probe(question, transcript)
        return fb()

    # -- the worker ------------------------------------------------------------------

    def _call(self, messages: list[dict[str, str]], deadline: float, stream: _Stream) -> None:
        put = stream.events.put
        response = None
        try:
            litellm = self._wait_litellm(max(0.0, deadline - time.monotonic()))
            self.check()
            server = self.server
            if server is not None and not server.wait_ready(max(0.0,
                                                               deadline - time.monotonic())):
                if server.error is not None:
                    raise LLMError(str(server.error))
                stream.timed_out = False
                put(("error", "the embedded LLM is still starting"))
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stream.cancel.is_set():
                return
            kwargs: dict[str, Any] = {}
            if self.api_base:
                kwargs["api_base"] = self.api_base
                if self._is_local() and not os.environ.get("OPENAI_API_KEY"):
                    kwargs["api_key"] = LOCAL_PLACEHOLDER_KEY
            response = litellm.completion(
                model=self.model, messages=messages, stream=True, timeout=remaining,
                max_tokens=self.max_tokens, temperature=self.temperature,
                stop=list(STOP_SEQUENCES), max_retries=0, num_retries=0, **kwargs,
            )
            for chunk in response:
                if stream.cancel.is_set():
                    return
                choices = getattr(chunk, "choices", None) or []
                delta = getattr(choices[0], "delta", None) if choices else None
                content = getattr(delta, "content", None) if delta is not None else None
                if content:
                    put(("text", content))
            put(("end", None))
        except TimeoutError:
            stream.timed_out = True
            put(("error", f"LLM timed out after {self.timeout_s:.1f} s (litellm still loading)"))
        except LLMError as exc:
            stream.lasting = True  # configuration: it will not fix itself
            put(("error", str(exc)))
        except Exception as exc:
            why, stream.lasting = classify_failure(exc, self.model, self.api_base,
                                                   self.timeout_s)
            stream.timed_out = _is_timeout(exc)  # litellm's own timeout counts too
            put(("error", why))
        finally:
            _close(response)


def _warm_up(litellm: Any) -> None:
    """Load what litellm and the OpenAI client import on their first call (~1 s).

    A mocked completion walks litellm's own call path without any I/O; the OpenAI
    client's resources and HTTP stack load lazily on the first real request.
    """
    for name in ("openai.resources", "httpcore", "h11"):
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    with contextlib.suppress(Exception):
        for _ in litellm.completion(model="openai/warm-up", messages=[{"role": "user",
                                    "content": "hi"}], stream=True, mock_response="Hi?"):
            pass


_SENTENCE_DONE = re.compile(r"[.!?][\"')\]]*\s")


def _first_sentence(text: str, complete: bool) -> str | None:
    """The first sentence once it is known to be finished (an end mark and a space)."""
    done = _SENTENCE_DONE.search(text)
    if done:
        return text[: done.end()].strip()
    if complete:
        parts = split_sentences(text)
        return parts[0] if parts else None
    return None


def _close(response: Any) -> None:
    """Drop the HTTP stream so an abandoned reply does not keep a socket open."""
    if response is None:
        return
    for target in (getattr(response, "completion_stream", None), response):
        for name in ("close", "aclose_sync"):
            fn = getattr(target, name, None)
            if callable(fn):
                with contextlib.suppress(Exception):
                    fn()
                return


_BAD_JSON = re.compile(
    r"JSONDecodeError|Expecting (?:value|property name|',' delimiter|':' delimiter)"
    r"|Unterminated string|Extra data: line|Invalid control character|malformed",
    re.IGNORECASE,
)


_NO_CONNECTION = re.compile(
    r"connection refused|failed to establish|name or service not known|"
    r"nodename nor servname|no route to host|network is unreachable|all connection attempts",
    re.IGNORECASE,
)
_CONNECTION_LOST = re.compile(
    r"connection (?:error|reset|aborted)|peer closed|incomplete chunked|server disconnected",
    re.IGNORECASE,
)


def _connect_failed(exc: BaseException) -> bool:
    """Whether the cause chain holds a failed connect (refused, unknown host...).

    litellm's openai/ path words a refused connect as "Connection error.", as it
    does a stream cut off mid-reply; only the chain (httpx ConnectError, then
    ConnectionRefusedError or gaierror) tells them apart, and the tests of an
    unreachable LLM (nothing listening: lasting) check it is still there."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError | socket.gaierror) or \
                type(cause).__name__ == "ConnectError":
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _is_timeout(exc: BaseException) -> bool:
    return "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower()


def describe_failure(exc: BaseException, model: str, api_base: str | None,
                     timeout_s: float) -> str:
    """One readable line for an exception raised by litellm, keys redacted."""
    return classify_failure(exc, model, api_base, timeout_s)[0]


def classify_failure(exc: BaseException, model: str, api_base: str | None,
                     timeout_s: float) -> tuple[str, bool]:
    """(one readable line, lasting): lasting failures (nothing listening, key
    refused, unknown model) will not clear up between two turns."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    text = str(exc)
    where = f" at {api_base}" if api_base else ""
    if _is_timeout(exc):
        return f"LLM timed out after {timeout_s:.1f} s", False
    if name == "AuthenticationError" or status == 401:
        return f"the LLM{where} refused the API key (authentication failed)", True
    if name == "NotFoundError" or status == 404:
        return f"the LLM{where} does not know the model '{model}'", True
    if name == "RateLimitError" or status == 429:
        return f"the LLM{where} is rate limiting requests", False
    if _BAD_JSON.search(text):
        return f"the LLM{where} sent a malformed stream", False
    # Only a failed connect is lasting: litellm also reports a stream cut off
    # mid-reply, and any error it cannot map, as a connection error (HTTP 500).
    if _connect_failed(exc) or _NO_CONNECTION.search(text):
        return f"cannot reach the LLM{where}", True
    if _CONNECTION_LOST.search(text):
        return f"the LLM{where} dropped the connection", False
    if isinstance(status, int) and status >= 500:
        return f"the LLM server{where} failed (HTTP {status})", False
    first = next((line for line in text.splitlines() if line.strip()), name)
    return f"LLM call failed ({name}): {_one_line(first, 120)}", False
