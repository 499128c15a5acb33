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
request per new word, cached for the server's life; any failure means no bias,
never a failed ask.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from voice_interview.interviewer.text import TRAILING_SMALL
from voice_interview.interviewer.validate import content_words

log = logging.getLogger(__name__)

KEY_BIAS = 3.0  # logit bias on a key word's first token (dev set: see benchmarks/README.md)
LEAD_IN = "You mentioned {key}. "
QUOTED_LEAD_IN = 'You said "{claim}". '  # a claim this short is quoted whole
QUOTE_WORDS = 4
# A claim cut short ("The child almost", "we pay out to about") is not quoted.
_CUT_SHORT = TRAILING_SMALL | {"about", "almost", "around", "like", "just", "very", "um", "uh"}


def _forms_match(a: str, b: str) -> bool:
    """The same word, or another form of it: a plural ("crdt"/"crdts",
    "index"/"indexes"), or 5+ letters sharing all but their last three at most
    ("reconciled"/"reconciling")."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 3 and long_ in (short + "s", short + "es"):
        return True
    if len(short) < 5:
        return False
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= max(4, len(short) - 3)


def names_target(text: str, target: str) -> bool:
    """``text`` names a content word (3+ letters) of ``target``, in some form;
    true too when the target has no such word (nothing to name)."""
    said = {w for w in content_words(target) if len(w) > 2}
    used = {w for w in content_words(text) if len(w) > 2}
    return not said or bool(said & used) or any(_forms_match(a, b)
                                                for a in said for b in used)


def with_lead_in(reply: str, keys: Sequence[str], target: str = "") -> str | None:
    """The reply after the planner's lead-in: a short claim quoted whole ('You said
    "we depended".', 'You said "pretty good I think".', as the planner's own
    wording does), else its first key word ("You mentioned region sharding.");
    None when there is neither."""
    claim = " ".join(target.split()).strip(" .,;:!?\"'")
    words = claim.split()
    if words and len(words) <= QUOTE_WORDS and '"' not in claim and \
            words[-1].lower() not in _CUT_SHORT:
        return QUOTED_LEAD_IN.format(claim=claim) + reply
    return LEAD_IN.format(key=keys[0]) + reply if keys else None


class KeyTokens:
    """The first token of words, as the server's model writes them after a space."""

    def __init__(self, api_base: str) -> None:
        base = api_base.rstrip("/")
        self.url = (base[:-3] if base.endswith("/v1") else base) + "/extras/tokenize"
        self._cache: dict[str, int | None] = {}
        self._lock = threading.Lock()
        self.failed = False  # the server has no tokenizer endpoint: stop asking

    def bias(self, keys: Sequence[str], strength: float, timeout_s: float) -> dict[str, float]:
        """OpenAI ``logit_bias`` for the key words' first tokens (as spoken and in
        lower case); the words whose tokens cannot be had within ``timeout_s`` in
        all (a busy server) are left out."""
        out: dict[str, float] = {}
        if strength == 0 or self.failed:
            return out
        forms = dict.fromkeys(f" {w}" for k in keys for word in k.split()
                              for w in (word, word.lower()))
        deadline = time.monotonic() + timeout_s
        for form in forms:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            token = self._first_token(form, left)
            if self.failed:
                return {}
            if token is not None:
                out[str(token)] = strength
        return out

    def _first_token(self, form: str, timeout_s: float) -> int | None:
        with self._lock:
            if form in self._cache:
                return self._cache[form]
        body = json.dumps({"input": form}).encode()
        req = urllib.request.Request(self.url, data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                tokens = json.loads(resp.read()).get("tokens") or []
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 405):
                self.failed = True
            log.info("no key-word bias: tokenizer answered %s", exc.code)
            return None
        except (OSError, ValueError) as exc:
            log.info("no key-word bias: %s", exc)
            return None
        token = int(tokens[0]) if tokens and isinstance(tokens[0], int) else None
        with self._lock:
            self._cache[form] = token
        return token
