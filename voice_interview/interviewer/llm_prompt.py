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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from voice_interview.errors import ConfigError
from voice_interview.interviewer.types import Probe
from voice_interview.interviewer.validate import split_sentences

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

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class InterviewerPrompt:
    """The persona and message templates from prompts/llm_interviewer.toml."""

    system: str  # placeholders: {persona} (and nothing that changes per turn)
    user: str  # known while the candidate speaks: {question} {asked} {transcript} ...
    move: str = ""  # the planner's move: {family} {goal} {target} {reason} {depth} ...
    persona: str = ""
    path: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> InterviewerPrompt:
        from voice_interview.interviewer.banks import load_llm_prompt

        raw = load_llm_prompt(path)
        return cls(system=raw.system, user=raw.user, move=raw.move, persona=raw.persona,
                   path=raw.path)

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
    return {
        "family": family,
        "goal": FAMILY_GOALS.get(family, "the part of the work the answer left thin"),
        "target": fence(target) if target else f"(none picked: their last words) {near}",
        "reason": (move.reason if move is not None else "") or "the answer left this thin",
        "depth": "a first question on this" if depth <= 1 else
                 f"follow-up number {depth} on this: go one level deeper than before"
                 + (f"; you already asked \"{earlier}\", ask something new" if earlier else ""),
        "planned": move.text if move is not None else "",
        "excerpt": near,
    }


def fence(transcript: str) -> str:
    """The candidate's words as data: angle brackets out so they cannot close the fence."""
    return transcript.replace("<", "(").replace(">", ")").strip() or "(no answer yet)"
