"""The LLM's question kept about the planner's claim (interviewer/anchor.py): a word
of the claim in any form, the lead-in for a reply naming none, and the key words'
tokens nudged through the real server's own tokenizer (a fault server stands in
only for a server without a tokenizer endpoint)."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests import llm_server
from tests.llm_server import QUESTION, TRANSCRIPT, Script
from voice_interview.interviewer.anchor import KeyTokens, names_target, with_lead_in
from voice_interview.interviewer.llm import LLMInterviewer
from voice_interview.interviewer.llm_prompt import move_keys
from voice_interview.interviewer.planner import PlannerSession

fault_server = llm_server.fault_server  # fixtures
llama_server = llm_server.llama_server

GENERAL = "What would you change if you started this again tomorrow?"


@pytest.mark.parametrize("text, target, named", [
    ("How did you measure your CRDT merge?", "I looked at CRDTs", True),  # a plural
    ("How did you test the reconciling step?", "we reconciled the ledgers nightly", True),
    ("Why the indexes?", "we rebuilt the index", True),
    ("How did you test the data?", "the database timed out", False),  # not a form of it
    ("How did you know it worked?", "I went with the faster encoder", False),
    ("How did you know it worked?", "um, so", True),  # nothing in the claim to name
    ("How was it tested?", "we test every build", True),
    ("How did the model's recall change?", "I trained a model", True),
    # near misses that are other words, and the question's own words
    ("What would you change if you started this project again tomorrow?", "our startup grew",
     False),
    ("How did the service hold up?", "the server crashed", False),
    ("What would you do next?", "I would rather not say what", False),
])
def test_a_claim_is_named_in_any_form_of_its_words(text, target, named):
    assert names_target(text, target) is named


def test_a_short_claim_is_quoted_whole_a_longer_one_named_by_its_key_word():
    assert with_lead_in("How?", ["depended"], "we depended") == 'You said "we depended". How?'
    # quoted only when the answer's clause ends there
    said = "Honestly we depended on the old connector. It held."
    assert with_lead_in("How?", ["old connector"], "we depended on the old connector", said) \
        == "You mentioned old connector. How?"  # five words: named, not quoted
    assert with_lead_in("How?", ["connector"], "the old connector", said) \
        == 'You said "the old connector". How?'
    assert with_lead_in("How?", ["connector"], "we depended on", said) == \
        "You mentioned connector. How?"  # cut short: not a claim to quote
    assert with_lead_in("How?", ["child"], "the child hurt", "The child hurt the dog.") == \
        "You mentioned child. How?"  # the clause goes on: not quoted
    assert with_lead_in("How?", ["region sharding"], "We chose region sharding over hashing") \
        == "You mentioned region sharding. How?"
    assert with_lead_in("How?", ["Kafka"]) == "You mentioned Kafka. How?"
    # a hedge has no key word, but is short enough to quote
    assert with_lead_in("How?", [], "pretty good I think") == 'You said "pretty good I think". How?'
    assert with_lead_in("How?", [], "") is None
    # a fragment is not quoted as if it were a claim
    assert with_lead_in("How?", ["child"], "The child almost") == "You mentioned child. How?"


def _move():
    session = PlannerSession()
    move = session.preview(QUESTION, TRANSCRIPT)
    assert move is not None and move.target is not None
    keys = move_keys(move, TRANSCRIPT)
    assert keys and not names_target(GENERAL, move.target.text)
    return session, move, keys


def test_a_general_reply_is_spoken_after_the_claims_lead_in(fault_server):
    session, move, keys = _move()
    fault_server.scripts["general"] = Script(chunks=(GENERAL,))
    llm = LLMInterviewer("openai/general", api_base=fault_server.url, fallback=session)
    llm.check()
    out = llm.ask_detailed(QUESTION, TRANSCRIPT, [], session.asked)
    assert out.probe.source == "llm" and out.rejected is None
    assert out.probe.text == with_lead_in(GENERAL, keys, move.target.text, TRANSCRIPT)
    assert out.probe.text.startswith(("You mentioned ", "You said ")) and \
        out.probe.text.endswith(f". {GENERAL}") and names_target(out.probe.text, move.target.text)
    assert out.reply == GENERAL  # the model's own question, as the benchmark counts it
    assert "led in with its claim" in out.probe.reason
    assert session.asked[-1].text == out.probe.text  # the planner knows what was asked


def test_a_reply_naming_the_claim_or_leading_in_itself_is_spoken_as_written(fault_server):
    session, move, keys = _move()
    own = f"You mentioned {keys[0]}. {GENERAL}"
    for name, reply in (("named", f"Why {keys[0]} and not something else?"),
                        ("own-lead", f"You said it went well. {GENERAL}"), ("led", own)):
        fault_server.scripts[name] = Script(chunks=(reply,))
        llm = LLMInterviewer(f"openai/{name}", api_base=fault_server.url,
                             fallback=PlannerSession())
        llm.check()
        out = llm.ask_detailed(QUESTION, TRANSCRIPT, [], ())
        assert out.probe.source == "llm" and out.probe.text == reply, (name, out)
        assert "led in" not in out.probe.reason


def test_a_server_without_a_tokenizer_gets_no_bias_and_the_ask_still_works(fault_server):
    """A real fault: an OpenAI-compatible server with no /extras/tokenize (404)."""
    session, move, keys = _move()
    tokens = KeyTokens(fault_server.url)
    assert tokens.bias(keys, 3.0, 1.0) == {} and tokens.failed
    fault_server.scripts["plain"] = Script(chunks=("Why Kafka and not a cron job?",))
    llm = LLMInterviewer("openai/plain", api_base=fault_server.url, fallback=session,
                         key_bias=3.0)
    llm.check()
    assert llm.ask(QUESTION, TRANSCRIPT, [], session.asked).source == "llm"
    sent = [r for r in fault_server.requests if r["path"].endswith("/chat/completions")]
    assert "logit_bias" not in sent[-1]["body"]
    assert LLMInterviewer("openai/plain", api_base=fault_server.url).key_bias == 0.0


def test_a_failing_tokenizer_rests_instead_of_being_asked_for_every_word(fault_server):
    """A real fault: the tokenizer answers HTTP 500. No bias, not given up for good,
    and not asked again for a while (one request, not one per word per ask)."""
    fault_server.scripts["broken"] = Script(status=500)
    tokens = KeyTokens(fault_server.url, "broken")
    assert tokens.bias(["faster encoder", "CRDTs"], 3.0, 2.0) == {}
    assert tokens.bias(["faster encoder"], 3.0, 2.0) == {}
    assert not tokens.failed
    assert len([r for r in fault_server.requests if r["path"].endswith("/tokenize")]) == 1


def _detokenize(url: str, token: int) -> str:
    req = urllib.request.Request(url[:-3] + "/extras/detokenize",
                                 data=json.dumps({"tokens": [token]}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["text"]


@pytest.mark.llm
def test_the_bias_is_on_each_key_words_first_token_and_reaches_the_model(llama_server):
    tokens = KeyTokens(llama_server)
    bias = tokens.bias(["faster encoder", "CRDTs"], 3.0, 10.0)
    assert set(bias.values()) == {3.0}
    pieces = {_detokenize(llama_server, int(t)) for t in bias}
    # " faster" and " encoder" are whole tokens; of "CRDTs" only its first piece
    assert {" faster", " encoder"} <= pieces, pieces
    rest = pieces - {" faster", " encoder"}
    assert rest and all(p in (" CRDTs"[:len(p)], " crdts"[:len(p)]) and len(p) < 6
                        for p in rest), pieces
    # A bias far too strong to be useful shows it reaches the sampler: the key word
    # crowds the reply (the real bias is small, see anchor.KEY_BIAS).
    session = PlannerSession()
    move = session.preview(QUESTION, TRANSCRIPT)
    keys = move_keys(move, TRANSCRIPT)
    loud = LLMInterviewer(llm_server.MODEL, api_base=llama_server, timeout_s=30.0,
                          fallback=session, key_bias=40.0)
    out = loud.ask_detailed(QUESTION, TRANSCRIPT, [], session.asked)
    heard = sum(len(re.findall(rf"\b{re.escape(w)}\b", out.reply, re.IGNORECASE))
                for k in keys for w in k.split())
    assert heard >= 3, (keys, out.reply)
