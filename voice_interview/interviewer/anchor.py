"""Keeping the LLM's question about the planner's claim (its "target").

The planner decides what to probe, a claim in the candidate's words; the prompt
gives the LLM that claim and 2-4 of its key words. A small model still writes a
general question now and then ("What would you do differently if you started this
project again tomorrow?" for the claim "I went with that rather than buying a
faster encoder"): 4 of 16 replies on a held-out set. Two measures, both here:

- **Key-word bias** (a server whose tokenizer is known: the embedded model behind
  llama.cpp): the first token of each key word, as the model would write it after
  a space, gets a small logit bias while the reply is written (OpenAI's
  ``logit_bias``). Told *and* nudged, the model names the claim more often; the
  bias is kept small (``KEY_BIAS``) because a strong one garbles the question
  ("How did trial end?"). Measured on the dev set only: ``benchmarks/README.md``.
- **A lead-in**: a reply that passed every check but still names no word of its
  target (in any form: "CRDT" names "CRDTs") is spoken after a lead-in, as the
  planner's own wording has: "You mentioned <first key word>." (a claim of up to
  four words is quoted whole: 'You said "we depended".'), so the candidate always
  hears which claim is meant. The reply is marked (``Probe.reason``) and the
  benchmark counts the model's own figure apart.

Tokens come from the server itself (llama-cpp-python's ``/extras/tokenize``), one
request per new word, cached for the interviewer's life (a session's); any failure
means no bias, never a failed ask.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from voice_interview.interviewer.text import TRAILING_SMALL
from voice_interview.interviewer.validate import content_words

log = logging.getLogger(__name__)

KEY_BIAS = 3.0  # logit bias on a key word's first token (dev set: see benchmarks/README.md)
LEAD_IN = "You mentioned {key}. "
QUOTED_LEAD_IN = 'You said "{claim}". '  # a claim this short is quoted whole
QUOTE_WORDS = 4
# A claim cut short ("The child almost", "we pay out to about") is not quoted.
_CUT_SHORT = TRAILING_SMALL | {"about", "almost", "around", "like", "just", "very", "um", "uh"}


# Question words: a reply's own "what would you ..." names no claim.
_ASKING_TEXT = """what would how why when where which who whom whose did does could can
will should have has had was were are"""
_ASKING = frozenset(_ASKING_TEXT.split())
_SUFFIXES = ("'s", "ing", "ion", "ed", "es", "er", "s", "d")


def _stems(word: str) -> set[str]:
    """The word and what is left of it without one common ending, 3+ letters:
    "reconciled" -> reconcil; "changes" -> chang, change; "crdts" -> crdt."""
    out = {word}
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.add(word[: -len(suffix)])
    return out


def _claim_words(text: str) -> set[str]:
    return {w for w in content_words(text) if len(w) > 2 and w not in _ASKING}


def names_target(text: str, target: str) -> bool:
    """``text`` names a content word (3+ letters, not a question word) of
    ``target``, the same word or another form of it ("CRDT" / "CRDTs",
    "reconciled" / "reconciling", "test" / "tested"; not "started" / "startup" nor
    "service" / "server"); true too when the target has no such word."""
    said = _claim_words(target)
    if not said:
        return True
    said_stems = set().union(*(_stems(w) for w in said))
    return any(_stems(w) & said_stems for w in _claim_words(text))


def _quotable(claim: str, transcript: str) -> bool:
    """A claim short enough to quote whole, and whole: it ends where a clause of the
    answer ends (a punctuation mark, or the answer's end), not on a small word."""
    words = claim.split()
    if not words or len(words) > QUOTE_WORDS or '"' in claim or \
            words[-1].lower() in _CUT_SHORT:
        return False
    if not transcript:
        return True
    pattern = r"\s+".join(re.escape(w) for w in words) + r"\s*(?:[.,;:!?]|$)"
    return re.search(pattern, transcript.strip(), re.IGNORECASE) is not None


def with_lead_in(reply: str, keys: Sequence[str], target: str = "",
                 transcript: str = "") -> str | None:
    """The reply after the planner's lead-in: a short claim quoted whole ('You said
    "we depended".', 'You said "pretty good I think".', as the planner's own
    wording does), else its first key word ("You mentioned region sharding.");
    None when there is neither."""
    claim = " ".join(target.split()).strip(" .,;:!?\"'")
    if _quotable(claim, transcript):
        return QUOTED_LEAD_IN.format(claim=claim) + reply
    return LEAD_IN.format(key=keys[0]) + reply if keys else None


def lead_in(reply: str, keys: Sequence[str], target: str, transcript: str,
            valid: Callable[[str], bool]) -> str | None:
    """The reply to speak instead of ``reply`` (a lead-in before it) when it names no
    word of ``target``, leads in by nothing itself and the result is still ``valid``;
    else None (the reply is spoken as written)."""
    if reply.lower().startswith(("you mentioned", "you said")) or names_target(reply, target):
        return None
    led = with_lead_in(reply, keys, target, transcript)
    return led if led is not None and valid(led) else None


class KeyTokens:
    """The first token of words, as the server's model writes them after a space.

    Cached for this interviewer's life. A server without the endpoint (404/405) is
    not asked again; after any other failure (a busy or broken server) the
    tokenizer rests ``REST_S`` before it is asked again, so a broken server costs
    one request per rest, not one per word per ask."""

    REST_S = 60.0

    def __init__(self, api_base: str, model: str = "") -> None:
        base = api_base.rstrip("/")
        self.url = (base[:-3] if base.endswith("/v1") else base) + "/extras/tokenize"
        self.model = model
        self._cache: dict[str, int | None] = {}
        self._lock = threading.Lock()
        self.failed = False  # the server has no tokenizer endpoint: stop asking
        self._resting_until = 0.0

    def bias(self, keys: Sequence[str], strength: float, timeout_s: float,
             cancel: threading.Event | None = None) -> dict[str, float]:
        """OpenAI ``logit_bias`` for the key words' first tokens (as spoken and in
        lower case); the words whose tokens cannot be had within ``timeout_s`` in
        all (a busy server), or after ``cancel``, are left out. Never raises."""
        out: dict[str, float] = {}
        if strength == 0 or self.failed:
            return out
        forms = dict.fromkeys(f" {w}" for k in keys for word in k.split()
                              for w in (word, word.lower()))
        deadline = time.monotonic() + timeout_s
        for form in forms:
            left = deadline - time.monotonic()
            if left <= 0 or (cancel is not None and cancel.is_set()):
                break
            try:
                token = self._first_token(form, left)
            except Exception as exc:  # noqa: BLE001 - a bias is never worth a failed ask
                log.info("no key-word bias: %s", exc)
                self._resting_until = time.monotonic() + self.REST_S
                token = None
            if self.failed:
                return {}
            if token is not None:
                out[str(token)] = strength
        return out

    def _first_token(self, form: str, timeout_s: float) -> int | None:
        with self._lock:
            if form in self._cache:
                return self._cache[form]
        if time.monotonic() < self._resting_until:
            return None
        body = json.dumps({"input": form, **({"model": self.model} if self.model else {})})
        req = urllib.request.Request(self.url, data=body.encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                tokens = json.loads(resp.read())["tokens"]
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 405):
                self.failed = True
                log.info("no key-word bias: the server has no tokenizer (%s)", exc.code)
                return None
            raise
        except TimeoutError:
            return None  # busy: this word goes without, nothing cached, no rest
        token = int(tokens[0]) if tokens and isinstance(tokens[0], int) else None
        with self._lock:
            self._cache[form] = token
        return token
