"""The LLM interviewer's prompt: prompts/llm_interviewer.toml filled in for one turn.

Laid out for llama.cpp's prompt cache, which reuses the longest common token
prefix of consecutive prompts: the fixed instructions (``system``) first, then
what is known while the candidate speaks (``user``: the question, the probes
asked, the answer so far), and the planner's move (``move``) last. While the
candidate speaks, :meth:`InterviewerPrompt.head` is what the server is fed
(see ``prefill.py``); at the pause only the move's few tokens are new.

One loader: :func:`voice_interview.interviewer.banks.load_llm_prompt` checks the
file (keys, placeholders, the candidate's words only in fenced data).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from voice_interview.errors import ConfigError
from voice_interview.interviewer.text import TRAILING_SMALL, tokens_of
from voice_interview.interviewer.types import Probe
from voice_interview.interviewer.validate import content_words, injected_requests, split_sentences

FAMILY_GOALS = {
    "context": "what the project was and what the candidate's part in it was",
    "decisions": "why they chose what they chose, and what they rejected",
    "debugging": "how they found and fixed what went wrong",
    "evaluation": "how they know it worked: a number and what it is compared with",
    "reflection": "what they would do differently, and what they learned",
    "ownership": "what they did themselves, as opposed to the team",
}
EXCERPT_WORDS = 50
# The answer goes in from its start, so the prompt only grows while the candidate
# speaks (a prefix the server keeps); a longer answer is cut, its claims still reach
# the prompt as the move's target.
TRANSCRIPT_WORDS = 400
ASKED_SHOWN = 3  # the last probes shown (every token costs reading time)
KEY_WORDS = 4  # at most this many of the target's content words are named as key words
# Words of speech too common to anchor a question in (beside the stopwords).
_GENERIC_TEXT = """
about after again all almost already also always another any around away back because
been before being big both came can come could day days did different does doing done
down each end ended even every everything few find first found get gets getting give
go going good got had has have having here how into just keep kept kind know knew last
later less like little lot lots made make makes making many more most much need needed
new next not off old one only other out over own part people per pretty put quite
rather really right said same saw say see shall should since small some something
sort start started still sure take taken than thing things think thought though
three through time times together told too took two under until very want wanted
way well went what when where which while who whole why will would year years
yes yet actually basically literally probably maybe simple simply plus full stuff
zero four five six seven eight nine ten twenty thirty forty fifty hundred hundreds
thousand thousands million percent half built rebuilt wrote rewrote chose split ran
showed led paid sat his him her their them theirs um uh yeah okay i'd i'm it's we'd
"""
GENERIC = frozenset(_GENERIC_TEXT.split()) | TRAILING_SMALL

Messages = list[dict[str, str]]
_EXAMPLE_KEYS = re.compile(r'key words ((?:"[^"]+"(?:, )?)+)')


@dataclass(frozen=True)
class InterviewerPrompt:
    """The persona and message templates from prompts/llm_interviewer.toml."""

    system: str  # placeholders: {persona} (and nothing that changes per turn)
    user: str  # known while the candidate speaks: {question} {asked} {transcript} ...
    move: str = ""  # the planner's move: {family} {goal} {target} {reason} {depth} ...
    choose: str = ""  # instead of ``move`` when the LLM chooses: {moves} (llm_choice.py)
    persona: str = ""
    path: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> InterviewerPrompt:
        from voice_interview.interviewer.banks import load_llm_prompt

        raw = load_llm_prompt(path)
        return cls(system=raw.system, user=raw.user, move=raw.move, choose=raw.choose,
                   persona=raw.persona, path=raw.path)

    @property
    def example_words(self) -> tuple[str, ...]:
        """The key words of the few-shot examples (``key words "a", "b"`` in the
        system text): a reply naming one the candidate never said borrowed it from
        an example ("that drop in the error rate" for an answer with no error rate)."""
        return tuple(w for run in _EXAMPLE_KEYS.findall(" ".join(self.system.split()))
                     for w in re.findall(r'"([^"]+)"', run))

    def head(self, question: str, transcript: str, asked: Sequence[str],
             gaps: Sequence[str] = ()) -> Messages:
        """The messages as far as they are known while the candidate speaks: a
        prefix of :meth:`messages` for the same words (what the server is fed)."""
        values = self._values(question, transcript, gaps, asked, None, 1)
        return self._fill(values, with_move=False)

    def messages(self, question: str, transcript: str, gaps: Sequence[str],
                 asked: Sequence[str], move: Probe | None = None,
                 depth: int = 1, earlier: str | None = None) -> Messages:
        """System message first and the same every turn; the answer so far after it;
        the planner's move last (the only part the server reads at the pause).
        ``earlier``: the question asked before on the same family, to go past."""
        values = self._values(question, transcript, gaps, asked, move, depth, earlier)
        return self._fill(values, with_move=True)

    def choice_messages(self, question: str, transcript: str, gaps: Sequence[str],
                        asked: Sequence[str], moves: Sequence[Probe]) -> Messages:
        """As :meth:`messages`, with the planner's candidate ``moves`` (best first) in
        place of its one move, for the LLM to pick from (``choose``; llm_choice.py)."""
        if not self.choose:
            raise ConfigError(f"{self.path}: the LLM is to choose the move, but the prompt "
                              "has no 'choose' text")
        values = self._values(question, transcript, gaps, asked, moves[0] if moves else None, 1)
        values["moves"] = "\n".join(move_line(m, transcript) for m in moves)
        try:
            user = self.user.format(**values).strip() + "\n\n" + \
                self.choose.format(**values).strip()
            return [{"role": "system", "content": self.system.format(**values).strip()},
                    {"role": "user", "content": user}]
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{self.path}: bad placeholder in the LLM prompt ({exc})") from None

    def _values(self, question: str, transcript: str, gaps: Sequence[str],
                asked: Sequence[str], move: Probe | None, depth: int,
                earlier: str | None = None) -> dict[str, str]:
        return {
            "persona": self.persona.strip(),
            "question": question.strip(),
            "gaps": ", ".join(gaps) if gaps else "none: the answer covered every part",
            "asked": " / ".join(asked[-ASKED_SHOWN:]) if asked else "none yet",
            "transcript": fence(answer_words(transcript)),
            **move_values(move, transcript, depth, earlier),
        }

    def _fill(self, values: dict[str, str], with_move: bool) -> Messages:
        try:
            user = self.user.format(**values).strip()
            if with_move and self.move:
                user += "\n\n" + self.move.format(**values).strip()
            return [{"role": "system", "content": self.system.format(**values).strip()},
                    {"role": "user", "content": user}]
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{self.path}: bad placeholder in the LLM prompt ({exc})") from None


def answer_words(transcript: str) -> str:
    """The answer from its start, at most TRANSCRIPT_WORDS words."""
    return " ".join(transcript.split()[:TRANSCRIPT_WORDS])


def excerpt(transcript: str, target: str | None) -> str:
    """The candidate's words around the target claim (its sentence and the one
    before), else the answer's last two sentences."""
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


def key_words(text: str, transcript: str = "", limit: int = KEY_WORDS) -> list[str]:
    """The content words of a target claim worth naming, in the candidate's words:
    runs of adjacent content words first ("region sharding"), then the longest
    single words; at most ``limit`` words in all. Generic speech ("because",
    "almost", "thing"), numbers spelt as digits aside, and any word of an
    instruction hidden in the answer are left out.

    Why: told only "name it in their words", the small model copied the planner's
    plain wording when the target was a long clause (8 of 25 probes on the dev set)."""
    if injected_requests(transcript):  # the instruction's sentence and the next are out
        sentences = split_sentences(" ".join(text.split()))
        hit = {i for i, x in enumerate(sentences) if injected_requests(x)}
        text = " ".join(x for i, x in enumerate(sentences) if not hit & {i, i - 1})
    toks, _ = tokens_of(text)
    runs: list[list[str]] = [[]]
    for t in toks:
        norm = t.norm
        keep = (len(norm) > 2 and norm.replace("-", "").isalnum() and not norm.isdigit()
                and norm not in GENERIC and norm in content_words(norm))
        if keep:
            runs[-1].append(t.raw.strip("\"'“”‘’()[]{}<>.,;:!?…—–*"))
        if not keep or t.raw[-1:] in ",;:.?!":
            runs.append([])
    # a verb or an adverb at either end of a run is not part of the thing named
    cut = [_trim(r) for r in runs]
    pairs = [r for r in cut if len(r) > 1]
    singles = sorted((r for r in cut if len(r) == 1 and not _verbish(r[0])),
                     key=lambda r: -len(r[0]))
    if not pairs and not singles:  # only a verb is left ("we depended"): name that
        singles = sorted(([w] for r in runs for w in r if _verbish(w)), key=lambda r: -len(r[0]))
    seen: set[str] = set()
    phrases: list[str] = []
    for run in [*pairs, *singles]:
        run = [w for w in run if w.lower() not in seen][:3]
        if not run:
            continue
        phrases.append(" ".join(run))
        seen |= {w.lower() for w in run}
    out: list[str] = []
    count = 0
    for phrase in phrases:
        n = len(phrase.split())
        if count + n > limit:
            continue
        out.append(phrase)
        count += n
        if count >= limit:
            break
    return out


def _verbish(word: str) -> bool:
    w = word.lower()
    return w.endswith(("ed", "ly")) and len(w) > 4 and not w.endswith("ply")


def _trim(run: list[str]) -> list[str]:
    while run and _verbish(run[0]):
        run = run[1:]
    while run and _verbish(run[-1]):
        run = run[:-1]
    return run


def _clip(text: str) -> str:
    words = text.split()
    if len(words) > EXCERPT_WORDS:
        words = words[-EXCERPT_WORDS:]
    return fence(" ".join(words))


def move_values(move: Probe | None, transcript: str, depth: int = 1,
                earlier: str | None = None) -> dict[str, str]:
    """The planner's move as prompt values: family, goal, target, reason, depth, wording.

    A follow-up on a family asked before names that earlier question: told only
    "go deeper", the small model wrote the earlier question again word for word
    (refused as a repeat: 3 of 10 probes in a live session)."""
    target = move.target.text if move is not None and move.target is not None else None
    family = move.family if move is not None else "context"
    near = excerpt(transcript, target) or "(no answer yet)"
    keys = move_keys(move, transcript)
    planned = move.text if move is not None else ""
    if target and keys and not any(k.lower() in planned.lower() for k in keys):
        # the plain version names the claim, as a quoting wording does: given a bare
        # "What changed, in numbers, after it went live?" the small model wrote it back
        # word for word (bench_llm, dev set: 5 of 8 unanchored replies)
        planned = f"You mentioned {keys[0]}. {planned}"
    return {
        "family": family,
        "goal": FAMILY_GOALS.get(family, "the part of the work the answer left thin"),
        "target": fence(target) if target else f"(none picked: their last words) {near}",
        "reason": (move.reason if move is not None else "") or "the answer left this thin",
        "depth": "a first question on this" if depth <= 1 else
                 f"follow-up number {depth} on this: go one level deeper than before"
                 + (f"; you already asked \"{earlier}\", ask something new" if earlier else ""),
        "planned": planned,
        "excerpt": near,
        "moves": "",
        "keywords": fence(", ".join(f'"{k}"' for k in keys)) if keys else "(none)",
    }


def move_aim(move: Probe | None, transcript: str) -> str:
    """What a move's question is to be about: its target claim, else the answer's
    last two sentences (empty before any answer)."""
    target = move.target.text if move is not None and move.target is not None else None
    return target or excerpt(transcript, None)


def move_keys(move: Probe | None, transcript: str) -> list[str]:
    """The key words the prompt names for a move: of :func:`move_aim` (the question
    is to hold one of them)."""
    return key_words(move_aim(move, transcript) or "(no answer yet)", transcript)


def move_line(move: Probe, transcript: str) -> str:
    """One candidate move, short (read at the pause): family, claim, plain wording."""
    v = move_values(move, transcript)
    about = v["keywords"] if v["keywords"] != "(none)" else v["target"]
    return f"- {move.family}: {v['goal']}; about {about}; plain version: {move.text}"


def fence(transcript: str) -> str:
    """The candidate's words as data: angle brackets out so they cannot close the fence."""
    return transcript.replace("<", "(").replace(">", ")").strip() or "(no answer yet)"
