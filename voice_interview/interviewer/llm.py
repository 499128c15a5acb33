"""LLM interviewer: a follow-up probe from any litellm model, with the planner as a net.

``LLMInterviewer(model, api_base=None, timeout_s=6.0, fallback=planner).ask(...)``
always returns a usable :class:`Probe` within ``timeout_s`` (+ a few ms):

- ``source="llm"`` when the model's reply passed :func:`validate_probe`;
- otherwise the planner's probe, with ``reason`` saying why the LLM was not used
  ("LLM timed out after 6.0 s; planner probe used: ...").

Design (more in docs/design-notes.md, "The LLM interviewer")
------
- Split by job: ``llm_prompt`` (the prompt, laid out for the server's prompt
  cache), ``prefill`` (the answer read while the candidate speaks),
  ``llm_client`` (litellm loaded in the background and checked), ``llm_stream``
  (one streamed reply read to a deadline, stopping at its first question mark or
  at a reply already certain to be refused), ``llm_failures`` (redaction, one
  line per failure), ``anchor`` (the question kept about the planner's claim:
  key-word bias, lead-in). This module is the interviewer itself.
- The reply streams in a daemon worker thread, read against a hard wall-clock
  deadline: a hung server never holds the turn (the planner's probe comes back).
- A planner session as ``fallback`` is kept in step (``add_answer``, ``record``)
  so it never repeats a probe; a plain callable ``fallback()`` works too.
- A misconfigured model is one :class:`LLMError` line from :meth:`check`; after
  a lasting failure or two timeouts in a row the LLM rests ``retry_after_s``
  (60 s) and the planner asks. Keys come from the environment and are redacted
  from every reason and log line; a loopback ``openai/...`` server with no key
  gets a placeholder.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from voice_interview.errors import LLMError, VoiceInterviewError
from voice_interview.interviewer.anchor import KEY_BIAS, KeyTokens, lead_in
from voice_interview.interviewer.followups import guess_family
from voice_interview.interviewer.llm_choice import CHOICES, pick_move
from voice_interview.interviewer.llm_client import NOT_INSTALLED, LiteLLM
from voice_interview.interviewer.llm_failures import (
    classify_failure,
    describe_failure,
    is_timeout,
    one_line,
    redact,
)
from voice_interview.interviewer.llm_prompt import (
    InterviewerPrompt,
    excerpt,
    move_aim,
    move_keys,
    move_values,
)
from voice_interview.interviewer.llm_stream import Stream, close_response, pump, read_reply
from voice_interview.interviewer.prefill import Prefiller
from voice_interview.interviewer.types import Probe
from voice_interview.interviewer.validate import (
    clean_reply,
    validate_probe,
)

# Re-exported: the prompt and the failure lines are part of this module's API.
__all__ = ["CLOSED", "NOT_INSTALLED", "InterviewerPrompt", "LLMInterviewer", "LLMOutcome",
           "describe_failure", "excerpt", "move_values", "redact"]

log = logging.getLogger(__name__)

CLOSED = "the planner closed the interview"  # rejected: nothing left to ask, no LLM
LOCAL_PLACEHOLDER_KEY = "sk-local-no-key-needed"
# Where a base model tends to start speaking for someone else: stop right there.
STOP_SEQUENCES = ("Candidate:", "\nCandidate", "\nInterviewer:", "\nA:")  # OpenAI allows 4


class PlannerLike(Protocol):
    def next_probe(self, question: Any, transcript: str) -> Probe: ...


Fallback = Callable[[], Probe] | PlannerLike


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
    first_token_s: float | None = None  # the reply's first text, from the ask (reading)


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
        max_tokens: int = 40,
        temperature: float = 0.4,
        retry_after_s: float = 60.0,
        server: Any = None,
        prefill: bool | None = None,
        chooses_move: bool = False,
        key_bias: float | None = None,
    ) -> None:
        if not model or not model.strip():
            raise LLMError("no LLM model given (a litellm model string such as ollama/llama3.2)")
        if timeout_s <= 0:
            raise LLMError(f"the LLM timeout must be positive, not {timeout_s}")
        self.model = model.strip()
        self.api_base = api_base
        self.timeout_s = float(timeout_s)
        self.fallback = fallback
        # [llm] chooses_move: the LLM picks among the planner's moves (llm_choice.py)
        self.chooses_move = chooses_move
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._prompt = prompt
        self._client = LiteLLM(self.model, api_base)
        self.retry_after_s = float(retry_after_s)
        self._resting_until = 0.0  # monotonic time before which the LLM is not asked
        self._rest_reason = ""
        self._timeouts_in_row = 0
        # Held while the planner is asked from the prefill worker; a session that
        # uses its planner from several threads passes its own lock here.
        self.planner_lock: Any = threading.Lock()
        self.server = server  # a LocalServer to wait for (the embedded model), or None
        self._calls = 0  # requests whose stream the server still holds
        self._calls_lock = threading.Lock()
        # Prefill only a server this process owns; its model name is the part after
        # litellm's provider prefix ("openai/qwen..." -> "qwen...").
        # ``prefill=True`` for a local server started elsewhere (the benchmarks).
        self._prefiller: Prefiller | None = None
        # Key-word bias (anchor.py): token ids only mean something to a known
        # tokenizer, so by default only for the embedded model's own server.
        strength = KEY_BIAS if key_bias is None and server is not None else key_bias or 0.0
        self.key_bias = strength
        self._key_tokens = (KeyTokens(api_base, self.model.split("/", 1)[-1])
                            if api_base and strength else None)
        if api_base and (prefill or (prefill is None and server is not None)):
            self._prefiller = Prefiller(api_base, self.model.split("/", 1)[-1],
                                        ready=lambda: server is None or bool(server.ready))

    # -- loading and configuration -------------------------------------------------

    def preload(self) -> None:
        """Start importing litellm in the background (it takes seconds)."""
        self._client.preload()

    def check(self) -> None:
        """Raise a one-line :class:`LLMError` if the model cannot be used as configured."""
        self._client.check()

    def _is_local(self) -> bool:
        return self._client.is_local()

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
                     timeout_s: float | None = None) -> LLMOutcome:
        """The planner decides, the LLM speaks: the planner's move for this answer
        (family, target claim, reason, depth) goes into the prompt, and the LLM's
        question replaces the planner's wording when it passes the checks.

        ``record=False`` (speculative generation while the candidate pauses) keeps
        the planner session unchanged: call :meth:`commit` if the probe is used.
        ``cancel`` set while the reply streams ends the ask at once (the planner's
        wording comes back, ``rejected`` starts with "cancelled"). ``timeout_s``: this
        ask's own timeout (a speculation during speech, which nobody waits for yet)."""
        start = time.monotonic()
        limit = self.timeout_s if timeout_s is None else float(timeout_s)
        deadline = start + limit
        with self.planner_lock:  # the prefill worker may be asking it too
            move, final, planned = self._plan(question, transcript, record)
            offered = self._offer(question, transcript) if planned else []
        tell = planned and record  # keep the planner session in step now
        if final:  # nothing left to ask (the closing line): no LLM needed
            return LLMOutcome(move, "", CLOSED, 0.0)
        if start < self._resting_until:
            left = self._resting_until - start
            resting = f"{self._rest_reason} (not asked again for {left:.0f} s)"
            return replace(self._fall_back(move, transcript, resting, "", start, planned=tell),
                           skipped=True)
        question_text = str(getattr(question, "text", question))
        asked_texts = [getattr(p, "text", str(p)) for p in asked]
        depth, earlier = self._history(move, asked)
        try:
            prompt = self._prompt_or_load()
            messages = (prompt.choice_messages(question_text, transcript, gaps, asked_texts,
                                               offered) if offered else
                        prompt.messages(question_text, transcript, gaps, asked_texts, move,
                                        depth, earlier))
        except VoiceInterviewError as exc:
            return self._fall_back(move, transcript, one_line(exc), "", start, planned=tell)

        keys = move_keys(move, transcript) if planned and not offered else []
        stream = Stream()
        worker = threading.Thread(target=self._call, args=(messages, deadline, stream, keys),
                                  name="llm-probe", daemon=True)
        prefiller = self._prefiller
        if prefiller is not None:
            prefiller.hold()  # the probe does not queue behind a prefill it does not need
        with self._calls_lock:
            self._calls += 1  # until the server lets go of it (see server_busy)
        worker.start()
        try:
            raw, why, first_at = read_reply(stream, deadline, start, transcript, asked_texts,
                                            None if offered else on_first_sentence, cancel,
                                            timeout_s=limit,
                                            loading=lambda: not self._client.loaded.is_set())
        finally:
            if prefiller is not None:
                prefiller.release()
        stream.cancel.set()
        if record or stream.lasting:  # a speculation's timeout may be its queue's
            self._note_health(stream, why)
        first_token = (stream.first_text_at - start if stream.first_text_at is not None
                       else None)

        reply = clean_reply(raw)
        if offered and why is None:  # "family: question": the planner checks the pick
            choice = pick_move(reply, offered)
            move, reply, why = choice.move, clean_reply(choice.question), choice.refused
        if why is None:
            why = validate_probe(reply, transcript, asked_texts, prompt.example_words)
            if why is not None:
                why = f"LLM reply refused ({why})"
        if why is not None:
            return replace(self._fall_back(move, transcript, why, reply, start, first_at, tell),
                           first_token_s=first_token)
        reason = f"{move.reason}; worded by {self.model}" if move.reason else \
            f"LLM follow-up from {self.model}"
        model_reply = reply

        def valid(text: str) -> bool:
            return validate_probe(text, transcript, asked_texts, prompt.example_words) is None

        led = lead_in(reply, keys, move_aim(move, transcript), transcript, valid) \
            if planned and not offered and first_at is None else None
        if led is not None:
            reply, reason = led, f"{reason}; led in with its claim"
        probe = Probe(family=move.family if planned else guess_family(reply),
                      text=reply, reason=reason, source="llm", target=move.target)
        if tell:
            self._tell_planner(transcript, probe)
        return LLMOutcome(probe, redact(model_reply), None, time.monotonic() - start, first_at,
                          first_token_s=first_token)

    def prefill(self, question: Any, transcript: str, asked: Sequence[Probe] = (),
                gaps: Sequence[str] = (), *, plan: bool = True) -> bool:
        """While the candidate speaks: have the local server read the prompt as far
        as it is known, so at the pause little or nothing is left to read.

        The prompt is the instructions, the question, the probes asked and the
        answer so far, then (``plan``) the planner's move for the answer so far
        (its preview, taken in the prefill worker under ``planner_lock``): when the
        move is still the same at the pause, only the question is left to write.
        Returns at once; False when there is no local server to feed (a hosted
        model would bill each one). Pass the same ``asked`` the ask will get."""
        prefiller = self._prefiller
        if prefiller is None or not transcript.strip():
            return False
        question_text = str(getattr(question, "text", question))
        asked_now = list(asked)

        def build() -> list[dict[str, str]] | None:
            try:
                return self._messages(question, question_text, transcript, gaps, asked_now,
                                      plan)
            except VoiceInterviewError:
                return None

        prefiller.feed(build)
        return True

    def _messages(self, question: Any, question_text: str, transcript: str,
                  gaps: Sequence[str], asked: Sequence[Probe],
                  plan: bool) -> list[dict[str, str]] | None:
        """The prompt a prefill sends: the head, and the planner's move when it has one."""
        asked_texts = [getattr(p, "text", str(p)) for p in asked]
        prompt = self._prompt_or_load()
        if plan and self._keeps_step():
            with self.planner_lock:
                move, final, _planned = self._plan(question, transcript, record=False)
            if final:
                return None
            return prompt.messages(question_text, transcript, gaps, asked_texts, move,
                                   *self._history(move, asked))
        return prompt.head(question_text, transcript, asked_texts, gaps)

    def _offer(self, question: Any, transcript: str) -> list[Probe]:
        """The planner's best moves for the LLM to choose from (``chooses_move``);
        empty when the option is off or there is no choice to make."""
        previews = getattr(self.fallback, "previews", None)
        if not self.chooses_move or not callable(previews):
            return []
        offered: list[Probe] = previews(question, transcript, CHOICES)
        return offered if len(offered) > 1 else []

    @staticmethod
    def _history(move: Probe, asked: Sequence[Probe]) -> tuple[int, str | None]:
        """(depth of this move, the last question asked on its family)."""
        same = [p for p in asked if getattr(p, "family", None) == move.family]
        return len(same) + 1, (getattr(same[-1], "text", None) if same else None)

    def cancel_prefill(self) -> None:
        """Drop a prefill not yet sent (the turn is over, or the answer was discarded)."""
        if self._prefiller is not None:
            self._prefiller.cancel()

    def wait_prefilled(self, timeout: float) -> bool:
        """Wait until the server has read what was fed (benchmarks, tests)."""
        return self._prefiller is None or self._prefiller.wait_idle(timeout)

    @property
    def prefill_busy(self) -> bool:
        """A prefill is being read (or waits): a request now queues behind it."""
        return self._prefiller is not None and self._prefiller.busy

    @property
    def server_busy(self) -> bool:
        """A request is at the server: a prefill, or an ask whose stream is still open
        (a cancelled ask holds the server until its prompt is read: llama.cpp cannot
        interrupt prompt reading), so a request sent now would queue."""
        with self._calls_lock:
            calls = self._calls
        return calls > 0 or self.prefill_busy

    @property
    def prefill_stats(self) -> Any:
        return self._prefiller.stats if self._prefiller is not None else None

    def close(self) -> None:
        """End the prefill worker (the server itself is stopped by its owner)."""
        if self._prefiller is not None:
            self._prefiller.close()

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
                return self._planner_probe(question, transcript), True, False
            return move, False, True
        return self._planner_probe(question, transcript), False, False

    def _keeps_step(self) -> bool:
        return callable(getattr(self.fallback, "add_answer", None)) and \
            callable(getattr(self.fallback, "record", None))

    @property
    def resting_s(self) -> float:
        """Seconds left before the LLM is asked again (0: it is asked)."""
        return max(0.0, self._resting_until - time.monotonic())

    def _note_health(self, stream: Stream, why: str | None) -> None:
        """Rest the LLM after a lasting failure or a second timeout in a row."""
        self._timeouts_in_row = self._timeouts_in_row + 1 if stream.timed_out else 0
        if why is not None and (stream.lasting or self._timeouts_in_row >= 2):
            self._resting_until = time.monotonic() + self.retry_after_s
            self._rest_reason = one_line(why, 120)
            self._timeouts_in_row = 0
            log.info("LLM resting for %.0f s: %s", self.retry_after_s, self._rest_reason)

    def _fall_back(self, move: Probe, transcript: str, why: str, reply: str, start: float,
                   first_at: float | None = None, planned: bool = False) -> LLMOutcome:
        """The planner's own wording, in the same turn, with the reason recorded."""
        why = one_line(why, 200)
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
            probe: Probe = next_probe(question, transcript)
            return probe
        if callable(fb):
            return fb()
        raise LLMError("the fallback has neither next_probe nor a call")

    # -- the worker ------------------------------------------------------------------

    def _call(self, messages: list[dict[str, str]], deadline: float, stream: Stream,
              keys: Sequence[str] = ()) -> None:
        put = stream.events.put
        response = None
        try:
            litellm = self._client.wait(max(0.0, deadline - time.monotonic()))
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
            if keys and self._key_tokens is not None:
                bias = self._key_tokens.bias(keys, self.key_bias, remaining / 2, stream.cancel)
                if bias:
                    kwargs["logit_bias"] = bias
                remaining = deadline - time.monotonic()
                if remaining <= 0 or stream.cancel.is_set():
                    return
            response = litellm.completion(
                model=self.model, messages=messages, stream=True, timeout=remaining,
                max_tokens=self.max_tokens, temperature=self.temperature,
                stop=list(STOP_SEQUENCES), max_retries=0, num_retries=0, **kwargs,
            )
            pump(response, stream)
        except TimeoutError:
            stream.timed_out = True
            put(("error", f"LLM timed out after {self.timeout_s:.1f} s (litellm still loading)"))
        except LLMError as exc:
            stream.lasting = True  # configuration: it will not fix itself
            put(("error", str(exc)))
        except Exception as exc:
            why, stream.lasting = classify_failure(exc, self.model, self.api_base,
                                                   self.timeout_s)
            stream.timed_out = is_timeout(exc)  # litellm's own timeout counts too
            put(("error", why))
        finally:
            close_response(response)
            with self._calls_lock:
                self._calls -= 1
