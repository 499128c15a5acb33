"""Scoring one answer: the one maker of ``AnswerAnalysis`` (``voice_interview.analysis``).

The live session scores each answer as its turn ends, ``rescore`` scores stored
or re-transcribed answers again, and ``analyze`` asks for the same interviewer's
view (structure coverage and the next probes) of a recording or a transcript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from voice_interview.analysis import AnswerAnalysis, as_word

if TYPE_CHECKING:
    from voice_interview.audio.vad import Segment
    from voice_interview.interviewer.banks import Question
    from voice_interview.pacing import Pacing, PacingRubric
    from voice_interview.speech.transcriber import Word


def question_for(question_id: str | None) -> Question:
    """The question ``question_id`` names, or the first deep-dive question."""
    from voice_interview.interviewer.banks import load_question_bank

    bank = load_question_bank()
    return bank.get(question_id) if question_id else bank.default("deep-dive")


def interviewer_view(transcript: Sequence[Any] | str, question: Any, *,
                     rubric_id: str | None = None, asked: Sequence[str] = ()) -> dict[str, Any]:
    """The "structure" and "probes" sections: rubric coverage and the next 3 probes.

    ``transcript``: timed words or plain text; ``asked``: the probes this answer
    replies to, oldest first.
    """
    from voice_interview.interviewer.planner import analyze_answer

    return analyze_answer(transcript, question, rubric_id=rubric_id, asked=list(asked))


def score_answer(words: Sequence[Word | dict | str], segments: Sequence[Segment], *,
                 transcript: str | None = None, rubric: PacingRubric | None = None,
                 overview: bool = True, question: Any = None, view: bool = True,
                 rubric_id: str | None = None, asked: Sequence[str] = (),
                 pacing: Pacing | None = None,
                 extra: Mapping[str, Any] | None = None) -> AnswerAnalysis:
    """One answer scored: pacing over its speech segments and words (``pacing`` when
    already measured), and with ``view`` the interviewer's structure and probes.
    ``transcript`` defaults to the words' text."""
    from voice_interview.pacing import assess, load_pacing_rubric
    from voice_interview.speech.transcriber import words_to_text

    timed = tuple(as_word(w) for w in words)
    if pacing is None:
        pacing = assess(list(segments), list(timed), rubric or load_pacing_rubric(),
                        overview=overview)
    text = transcript if transcript is not None else words_to_text(list(timed))
    answer = AnswerAnalysis(text, timed, tuple(segments), pacing, extra=dict(extra or {}))
    if view:
        answer = answer.with_view(interviewer_view(list(timed) or text, question,
                                                   rubric_id=rubric_id, asked=asked))
    return answer
