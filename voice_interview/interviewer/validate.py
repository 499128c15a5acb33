"""Checks an LLM's follow-up question before it is spoken.

``validate_probe(text, transcript)`` returns ``None`` for a usable probe, or a
short reason (plain words, no trailing full stop) why it must not be spoken:

- exactly one question: one question mark, at the end, and not two questions
  joined into one ("Why X, and how did you test it?") nor one asked twice
  ("Why did you drop X, and why?");
- at least 3 and at most 40 words;
- never speaking as the candidate: no "Candidate:" / "Answer:" labels, no
  "As the candidate, I ...", no first-person statements about the work
  ("I chose Postgres because ...") and no answer after its own question;
- never obeying instructions found inside the transcript: when the candidate's
  words contain an injection ("ignore previous instructions and ..."), a probe
  that carries the injected request or the trigger phrase is refused;
- no markup, chat-template tokens or links, and no talk about the interview
  itself ("the transcript", "the interviewer's next question"): junk from a
  base model narrating or echoing its prompt;
- a statement before the question must speak to the candidate ("You mentioned
  Kafka.") or acknowledge them ("That makes sense."), never narrate;
- not a repeat of an earlier probe (``asked``) nor a copy of the candidate's words.

``validate_sentence`` applies the single-sentence checks to the first sentence
of a reply that is still streaming (it may be spoken early), and
``early_refusal`` says when a partial reply is already certain to be refused.

``clean_reply`` normalises a raw reply first (quotes, ``Interviewer:`` label,
markdown emphasis, runs of whitespace). Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_WORDS = 40
MIN_WORDS = 3
COPY_RUN_WORDS = 8  # a run this long copied from the transcript is a copy, not a quote

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")

_SPEAKER_LABEL = re.compile(
    r"(?:^|\n|[.!?]\s+)\s*(?:\*\*)?\s*(candidate|interviewee|applicant|answer|response|user|me|"
    r"a|human|assistant)\s*(?:\*\*)?\s*:",
    re.IGNORECASE,
)
_ROLE_PLAY = re.compile(
    r"\b(as (?:the|a|an) (?:candidate|interviewee|applicant)|speaking as the candidate|"
    r"if i were the candidate|my answer (?:is|would be)|i would answer)\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|mine|myself|we|we're|we've|our|us)\b",
                           re.IGNORECASE)
_SECOND_PERSON = re.compile(r"\b(you|you're|you've|you'd|your|yours|yourself)\b", re.IGNORECASE)
# First-person phrases an interviewer uses about themselves, not about the project.
_INTERVIEWER_STANCE = re.compile(
    r"\b(i see|i understand|i'm curious|i am curious|i'd like|i would like|i want to|i'd love|"
    r"i wonder|i noticed|i heard|i'm interested|i am interested|let me|let's|thanks|thank you|"
    r"got it|makes sense|tell me|walk me|help me|remind me|show me|give me|can i|could i|may i|"
    r"can we|could we|shall we|should we)\b",
    re.IGNORECASE,
)
_COMPOUND = re.compile(
    r"(?:,\s*(?:and|or|also)\s+|\b(?:and|or|also)\s+)"
    r"(?:how|why|what|when|where|who|which)\s+"
    r"(?:did|do|does|was|were|is|are|would|could|can|will|have|has|had|should|you|your)\b",
    re.IGNORECASE,
)
# "Why did you consider and throw away along the way, and why?": a plain wording's
# "What ..., and why?" garbled into asking the same thing twice.
_ASKS_TWICE = re.compile(r"^\W*(how|why|what|when|where|who|which)\b.*\b(?:and|or)\s+\1\W*$",
                         re.IGNORECASE)
_JUNK = re.compile(r"<[/!]?[A-Za-z_|][^>]{0,40}>|```|https?://|www\.|\{\{|\}\}|\[/?INST\]|<\|",
                   re.IGNORECASE)
_ACKNOWLEDGE = re.compile(
    r"^\W*(?:ok|okay|right|sure|great|nice|good|interesting|thanks|thank you|got it|i see|"
    r"that makes sense|makes sense|understood|fair enough|cool|perfect|alright|all right|"
    r"that's (?:helpful|interesting|clear|great|useful)|that is (?:helpful|interesting|clear))\b",
    re.IGNORECASE,
)

# Talk about the interview rather than in it (a base model narrating or echoing the prompt).
_META = re.compile(
    r"\b(interviewer'?s?|transcript|the following|here is|here's|here are|as an ai|"
    r"language model|reply with|next question|follow-up question|the candidate)\b",
    re.IGNORECASE,
)

# Phrases that introduce an injected instruction inside the candidate's speech.
_INJECTION_TRIGGER = re.compile(
    r"\b(?:ignore|disregard|forget|override|skip)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+)?"
    r"(?:previous|prior|above|earlier|preceding|former|original|system)?\s*"
    r"(?:instructions?|prompts?|rules?|directions?|guidelines?|messages?)\b"
    r"|\byou are now\b|\bfrom now on\b|\bnew instructions?\b|\bsystem prompt\b"
    r"|\bpretend (?:to be|you are)\b|\bact as\b",
    re.IGNORECASE,
)
# The same, narrowed to phrases no honest probe contains ("act as" can be innocent).
_INJECTION_IN_PROBE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+)?"
    r"(?:previous|prior|above|earlier|preceding|original|system)\s*"
    r"(?:instructions?|prompts?|rules?|directions?|guidelines?|messages?)\b"
    r"|\bsystem prompt\b|\bnew instructions\b",
    re.IGNORECASE,
)
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an the and or but to of in on at for with from by as is are was were be been it its "
        "this that these those me my you your i we our us he she they them do did does so then "
        "just now please say tell ask",
    )
)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def split_sentences(text: str) -> list[str]:
    """Split on ., ! and ? followed by whitespace; keeps the end marks."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def clean_reply(text: str) -> str:
    """Normalise a raw reply: labels, quotes, emphasis and whitespace."""
    t = text.replace("**", "").replace("__", "").strip()
    t = re.sub(r"^\s*(?:interviewer|question|q|follow[- ]?up(?: question)?|probe)\s*:\s*", "", t,
               flags=re.IGNORECASE)
    t = re.sub(r"\s+", " ", t).strip()
    if len(t) >= 2 and t[0] in "\"'“‘" and t[-1] in "\"'”’":
        t = t[1:-1].strip()
    elif len(t) >= 2 and t[0] in "\"“" and t[-1] == "?" and not re.search(r"[\"”]", t[1:]):
        t = t[1:].strip()  # a quoted question read up to its "?" (the quote never closed)
    return t


def cut_compound(text: str) -> str | None:
    """The first of two questions joined into one ("Why X, and how did you test it?"
    -> "Why X?"), or None when there is no such join. Small models join them often;
    the first alone is a sound question and reading can stop at the join."""
    m = _COMPOUND.search(text)
    if m is None or "?" in text[: m.start()]:
        return None
    head = text[: m.start()].rstrip(" ,;:-")
    return head + "?" if len(head.split()) >= 4 else None


def injected_requests(transcript: str) -> list[str]:
    """The instructions hidden in the candidate's words, from trigger to sentence end."""
    found = []
    for m in _INJECTION_TRIGGER.finditer(transcript):
        rest = transcript[m.start():]
        end = re.search(r"[.!?\n]", rest[len(m.group(0)):])
        stop = len(m.group(0)) + end.start() if end else len(rest)
        found.append(rest[:stop].strip())
    return found


def content_words(text: str) -> list[str]:
    return [w.lower() for w in words(text) if w.lower() not in _STOPWORDS]


def _shared_run(a: list[str], b: list[str], n: int) -> bool:
    if len(a) < n or len(b) < n:
        return False
    grams = {tuple(b[i:i + n]) for i in range(len(b) - n + 1)}
    return any(tuple(a[i:i + n]) in grams for i in range(len(a) - n + 1))


def _echoes_injection(text: str, transcript: str) -> bool:
    if _INJECTION_IN_PROBE.search(text):
        return True
    probe_words = set(content_words(text))
    for request in injected_requests(transcript):
        trigger = _INJECTION_TRIGGER.match(request)
        payload = request[trigger.end():] if trigger else request
        payload = re.sub(r"^\W*(?:and|then|instead)?\b", "", payload, flags=re.IGNORECASE)
        payload_words = content_words(payload)
        if not payload_words:
            continue
        shared = sum(1 for w in set(payload_words) if w in probe_words)
        # The probe carries the injected request when it shares most of its content words.
        if shared >= max(1, (len(set(payload_words)) + 1) // 2):
            return True
    return False


def _speaks_as_candidate(sentence: str) -> bool:
    """A sentence in the first person about the work, with no "you" in it."""
    if _INTERVIEWER_STANCE.search(sentence):
        return False
    return bool(_FIRST_PERSON.search(sentence)) and not _SECOND_PERSON.search(sentence)


def _addresses_candidate(sentence: str) -> bool:
    return bool(_SECOND_PERSON.search(sentence) or _ACKNOWLEDGE.search(sentence)
                or _INTERVIEWER_STANCE.search(sentence))


def _marked(text: str) -> str | None:
    """Faults visible in any part of a reply: once there, more text cannot remove them."""
    if _JUNK.search(text):
        return "contains markup or template tokens"
    if _SPEAKER_LABEL.search(text) or _ROLE_PLAY.search(text):
        return "speaks as the candidate"
    if _INJECTION_IN_PROBE.search(text):
        return "follows instructions found in the transcript"
    if _META.search(text):
        return "talks about the interview instead of asking"
    return None


def _sentence_problem(sentence: str) -> str | None:
    if _speaks_as_candidate(sentence):
        return "speaks as the candidate (first-person answer)"
    if not sentence.rstrip().endswith("?") and not _addresses_candidate(sentence):
        return "says something not addressed to the candidate"
    return None


def _normal(text: str) -> str:
    return " ".join(w.lower() for w in words(text))


def validate_sentence(sentence: str, transcript: str = "") -> str | None:
    """Checks one complete sentence can be spoken before the rest of the reply arrives.

    The checks of ``validate_probe`` that apply to a single sentence. A statement
    (not a question) must be addressed to the candidate ("You mentioned Kafka.")
    or acknowledge them ("That makes sense."), so narration is never spoken.
    """
    s = clean_reply(sentence)
    if len(words(s)) > MAX_WORDS:
        return f"longer than {MAX_WORDS} words"
    if not words(s):
        return "empty sentence"
    problem = _marked(s)
    if problem is None and _echoes_injection(s, transcript):
        problem = "follows instructions found in the transcript"
    return problem or _sentence_problem(s)


def early_refusal(partial: str, transcript: str = "") -> str | None:
    """Why a reply that is still arriving will be refused whatever follows, else None.

    Lets the caller stop reading junk at once instead of waiting for the rest.
    Only checks that more text cannot undo: length, markup, labels, talk about
    the interview, and the sentences already complete.
    """
    t = clean_reply(partial)
    if len(words(t)) > MAX_WORDS:
        return f"longer than {MAX_WORDS} words"
    problem = _marked(t)
    if problem:
        return problem
    for sentence in split_sentences(t)[:-1]:  # the last one may be unfinished
        problem = _sentence_problem(sentence)
        if problem:
            return problem
    return None


def validate_probe(text: str, transcript: str = "", asked: Iterable[str] = (),
                   borrowed: Iterable[str] = ()) -> str | None:
    """Return why ``text`` must not be spoken as a probe, or ``None`` when it is fine.
    ``borrowed``: phrases of the prompt's own examples, refused unless the candidate
    said them too."""
    t = clean_reply(text)
    n = len(words(t))
    if n == 0:
        return "empty reply"
    problem = _marked(t)
    if problem:
        return problem
    if _echoes_injection(t, transcript):
        return "follows instructions found in the transcript"
    marks = t.count("?")
    head, _, tail = t.partition("?")
    if marks and _FIRST_PERSON.search(tail) and not _SECOND_PERSON.search(tail):
        return "answers its own question"
    for sentence in split_sentences(head + "?" if marks else t):
        problem = _sentence_problem(sentence)
        if problem:
            return problem
    if marks == 0:
        return "no question in the reply"
    if marks > 1:
        return f"asks {marks} questions instead of one"
    if words(tail):
        return "keeps talking after its question"
    if _COMPOUND.search(head):
        return "asks two questions joined into one"
    if _ASKS_TWICE.search(split_sentences(head + "?")[-1]):
        return "asks the same thing twice"
    if n > MAX_WORDS:
        return f"longer than {MAX_WORDS} words ({n})"
    if n < MIN_WORDS:
        return f"too short to be a question ({n} words)"
    if transcript and _shared_run([w.lower() for w in words(t)],
                                  [w.lower() for w in words(transcript)], COPY_RUN_WORDS):
        return "copies the candidate's words"
    normal = _normal(t)
    if any(normal == _normal(a) for a in asked):
        return "repeats an earlier probe"
    said = f" {_normal(transcript)} "
    for phrase in borrowed:
        p = _normal(phrase)
        if p and f" {p} " in f" {normal} " and f" {p} " not in said:
            return f'borrows the prompt\'s example ("{phrase}")'
    return None
