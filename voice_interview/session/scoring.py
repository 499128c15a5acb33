"""Scoring one answer: the one maker of ``AnswerAnalysis`` (``voice_interview.analysis``).

The live session scores each answer as its turn ends, ``rescore`` scores stored
or re-transcribed answers again, and ``analyze`` asks for the same interviewer's
view (structure coverage and the next probes) of a recording or a transcript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from voice_interview.analysis import AnswerAnalysis, measure_answer

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
                 pacing: Pacing | None = None, timed: bool = True,
                 extra: Mapping[str, Any] | None = None) -> AnswerAnalysis:
    """One answer scored: pacing over its speech segments and words (``pacing`` when
    already measured; none with ``timed=False``, a plain-text answer), and with
    ``view`` the interviewer's structure and probes. ``transcript`` defaults to the
    words' text."""
    answer = measure_answer(words, segments, transcript=transcript, rubric=rubric,
                            overview=overview, pacing=pacing, timed=timed, extra=extra)
    if view:
        answer = answer.with_view(interviewer_view(list(answer.words) or answer.transcript,
                                                   question, rubric_id=rubric_id, asked=asked))
    return answer


def score_recording(answer: AnswerAnalysis, question: Any, *,
                    asked: Sequence[str] = ()) -> AnswerAnalysis:
    """A recording analysed by ``analysis.analyze_file`` (words, pacing, audio and
    timings), scored with the interviewer's view of ``question``: ``analyze AUDIO``."""
    return score_answer(answer.words, answer.segments, transcript=answer.transcript,
                        pacing=answer.pacing, question=question, asked=asked,
                        extra=answer.extra)


# ``analyze --text``: the timed sections a plain-text transcript has not, named as null.
UNTIMED = {"audio": None, "words": None, "speech_segments": None, "pauses": None,
           "metrics": None}


def score_text(text: str, question: Any, *, asked: Sequence[str] = ()) -> AnswerAnalysis:
    """A plain-text answer scored (structure and probes; no words, no pacing): the
    layout of ``analyze --text``, whose timed sections are null."""
    feedback = [] if text else [
        {"kind": "no_speech", "severity": "flag", "message": "The transcript is empty."}]
    extra = {**UNTIMED, "feedback": feedback, "timings": None,
             "question": question.to_json() if hasattr(question, "to_json") else None}
    return score_answer((), (), transcript=text, timed=False, question=question, asked=asked,
                        extra=extra)
