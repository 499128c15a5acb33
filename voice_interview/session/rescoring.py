"""A recorded session judged again, the original untouched (``voice-interview rescore``).

Pacing is recomputed with today's rubrics/pacing.toml, structure with another
rubric, and the probes are the ones the offline planner (or an LLM) would have
asked after each answer. With a Whisper model the recorded audio is transcribed
again; without one the stored words are reused (no transcription, instant).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from voice_interview.analysis import AnswerAnalysis
from voice_interview.session.scoring import interviewer_view, score_answer

if TYPE_CHECKING:
    from voice_interview.interviewer.llm import LLMInterviewer
    from voice_interview.session.store import SessionData
    from voice_interview.speech.transcriber import Transcriber

PAD_S = 0.5  # audio kept around an answer's speech when transcribing it again


def session_question(data: SessionData) -> Any:
    """The session's question from the bank, else its stored text, else the default."""
    from voice_interview.errors import UsageError
    from voice_interview.interviewer.banks import load_question_bank

    bank = load_question_bank()
    qid = data.meta.get("question_id")
    if qid:
        try:
            return bank.get(qid)
        except UsageError:
            pass
    return data.meta.get("question_text") or bank.default("deep-dive")


def answer_span(answer: AnswerAnalysis, total_s: float, after: float,
                until: float | None) -> tuple[float, float]:
    """Where an answer is in the recording: its speech (padded), its recorded span, or
    (no speech found) from the previous answer's end to when it was scored."""
    segs = answer.segments
    if segs:
        return max(0.0, segs[0].start - PAD_S), min(total_s, segs[-1].end + PAD_S)
    if answer.span is not None:
        return answer.span.start, answer.span.end or total_s
    return after, min(total_s, until) if until else total_s


def rescore_session(data: SessionData, *, rubric: str | None = None,
                    whisper: str | None = None, llm: str | None = None,
                    api_base: str | None = None,
                    say: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """The rescoring of ``data`` as one JSON-ready dict; ``say`` hears progress lines."""
    from voice_interview.session.files import SAMPLE_RATE

    total_s = data.candidate_frames / SAMPLE_RATE
    answers = list(data.answers)
    if not answers and total_s > 0:  # never scored (interrupted early): the whole recording
        answers = [{"index": 0, "kind": "question", "prompt_text": data.meta.get(
            "question_text") or "", "analysis": {"span": {"start": 0.0, "end": total_s}}}]
    transcriber = None
    if whisper or any(not AnswerAnalysis.from_json(a.get("analysis")).words for a in answers):
        if total_s == 0:
            from voice_interview.session.store import SessionCorrupt

            raise SessionCorrupt(f"session {data.id} has no candidate audio to transcribe")
        from voice_interview.speech.transcriber import (
            DEFAULT_MODEL,
            TranscriberSettings,
            WhisperTranscriber,
        )

        transcriber = WhisperTranscriber(TranscriberSettings(model=whisper or DEFAULT_MODEL))
    interviewer, server = _open_llm(llm, api_base, rubric, say)
    try:
        out = _rescore_answers(data, answers, total_s, transcriber, interviewer, rubric)
    finally:
        if server is not None:
            server.stop()
    question = session_question(data)
    return {"session": data.id, "rubric": rubric or getattr(question, "rubric", None),
            "model": whisper, "llm": llm,
            "asked": [{"t": e.get("t"), "family": e.get("family"), "text": e.get("text")}
                      for e in data.events_of("probe_asked")],
            "answers": out}


def _open_llm(llm: str | None, api_base: str | None, rubric: str | None,
              say: Callable[[str], None]) -> tuple[LLMInterviewer | None, Any]:
    if not llm:
        return None, None
    from voice_interview.errors import LLMError
    from voice_interview.interviewer.choice import open_interviewer
    from voice_interview.interviewer.planner import PlannerSession

    try:
        interviewer, server = open_interviewer(
            llm, api_base, 20.0, fallback=PlannerSession(rubric_id=rubric), progress=say)
    except LLMError as exc:
        say(f"{exc}; the offline planner answers")
        return None, None
    if server is not None:
        server.wait_ready(180)
    return interviewer, server


def _rescore_answers(data: SessionData, answers: list[dict], total_s: float,
                     transcriber: Transcriber | None, interviewer: LLMInterviewer | None,
                     rubric: str | None) -> list[dict[str, Any]]:
    question = session_question(data)
    out = []
    prev_end = 0.0
    for k, a in enumerate(answers):
        old = AnswerAnalysis.from_json(a.get("analysis"))
        overview = k == 0
        start, end = answer_span(old, total_s, prev_end, a.get("t"))
        prev_end = end
        if transcriber is not None:
            from voice_interview.analysis import analyze_samples

            result = analyze_samples(data.candidate_audio(start, end), transcriber,
                                     overview=overview)
            new = result.shifted(start, end)
        else:  # pacing recomputed from the stored segments and words (current rubric)
            new = score_answer(old.words, old.segments, transcript=old.transcript,
                               overview=overview, view=False)
        new = new.with_view(interviewer_view(list(new.words) or new.transcript, question,
                                             rubric_id=rubric))
        if interviewer is not None:
            text = " ".join(w.word.strip() for w in new.words) or new.transcript
            new = new.with_view({"llm_probe": interviewer.ask(question, text).to_json()})
        out.append({"index": a.get("index", k), "kind": a.get("kind"),
                    "prompt": a.get("prompt_text"), "original": answer_summary(old),
                    "rescored": answer_summary(new), "analysis": new.to_json()})
    return out


def answer_summary(answer: AnswerAnalysis) -> dict[str, Any]:
    """The figures ``rescore`` sets side by side."""
    m = answer.metrics
    llm_probe = answer.extra.get("llm_probe") or {}
    return {
        "words": None if m is None else m.word_count, "wpm": None if m is None else m.wpm,
        "long_pauses": None if m is None else m.long_pause_count,
        "fillers": None if m is None else m.filler_count,
        "rubric": (answer.structure or {}).get("rubric"),
        "covered": answer.covered(),
        "missing": answer.missing(),
        "probes": [p.get("text") for p in answer.probes or ()],
        "llm_probe": llm_probe.get("text"),
        "llm_source": llm_probe.get("source"),
    }
