"""``voice-interview rescore``: a recorded session judged again, the original untouched.

Pacing is recomputed with today's rubrics/pacing.toml, structure with another
rubric (``--rubric``), and the probes are the ones the offline planner (or an
LLM, ``--llm``) would have asked after each answer. ``--model`` transcribes the
recorded audio again with another Whisper model; without it the stored words
are reused (no transcription, instant). Nothing in the session is changed.
"""

from __future__ import annotations

import argparse
import json
import sys

PAD_S = 0.5  # audio kept around an answer's speech when transcribing it again


def register(sub) -> None:
    p = sub.add_parser(
        "rescore",
        help="judge a recorded session again (another rubric, Whisper model or LLM)",
        description=(
            "Recompute a recorded session's analysis and the probes that another rubric, "
            "Whisper model or LLM would have asked, side by side with what happened. The "
            "recording itself is not changed."
        ),
    )
    p.add_argument("session", metavar="SESSION",
                   help="session id (or a unique start of it), its folder, or 'last'")
    p.add_argument("--rubric", metavar="R",
                   help="structure rubric id from rubrics/structure.toml (default: the "
                   "question's own)")
    p.add_argument("--model", metavar="M",
                   help="transcribe the audio again with this Whisper model (a size name "
                   "already on this machine or a local folder)")
    p.add_argument("--llm", metavar="MODEL",
                   help="ask this LLM which probe it would have asked: 'embedded' (the "
                   "built-in model) or any litellm model string")
    p.add_argument("--api-base", metavar="URL", help="the LLM server's URL (with --llm)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def _question(data):
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


def _span(doc: dict, total_s: float, after: float, until: float | None) -> tuple[float, float]:
    """Where an answer is in the recording: its speech (padded), its recorded span, or
    (no speech found) from the previous answer's end to when it was scored."""
    span = doc.get("span") or {}
    segs = doc.get("speech_segments") or []
    if segs:
        return max(0.0, segs[0]["start"] - PAD_S), min(total_s, segs[-1]["end"] + PAD_S)
    if span:
        return float(span.get("start") or 0.0), float(span.get("end") or total_s)
    return after, min(total_s, until) if until else total_s


def _from_words(doc: dict, overview: bool):
    """Pacing recomputed from the stored segments and words (current pacing rubric)."""
    from voice_interview.audio.vad import Segment
    from voice_interview.pacing import assess, load_pacing_rubric
    from voice_interview.speech.transcriber import Word

    rubric = load_pacing_rubric()
    words = [Word(w["word"], w["start"], w["end"], w.get("probability", 1.0))
             for w in doc.get("words") or []]
    segments = [Segment(s["start"], s["end"]) for s in doc.get("speech_segments") or []]
    pacing = assess(segments, words, rubric, overview=overview)
    return {"words": [w.to_json() for w in words], "speech_segments": doc.get("speech_segments"),
            **pacing.to_json(), "transcript": doc.get("transcript", "")}


def rescore(data, rubric: str | None = None, model: str | None = None,
            llm: str | None = None, api_base: str | None = None) -> dict:
    from voice_interview.session.recorder import SAMPLE_RATE

    question = _question(data)
    total_s = data.candidate_frames / SAMPLE_RATE
    answers = list(data.answers)
    if not answers and total_s > 0:  # never scored (interrupted early): the whole recording
        answers = [{"index": 0, "kind": "question", "prompt_text": data.meta.get(
            "question_text") or "", "analysis": {"span": {"start": 0.0, "end": total_s}}}]
    transcriber = None
    if model or any(not (a["analysis"].get("words")) for a in answers):
        if total_s == 0:
            from voice_interview.session.store import SessionCorrupt

            raise SessionCorrupt(f"session {data.id} has no candidate audio to transcribe")
        from voice_interview.speech.transcriber import (
            DEFAULT_MODEL,
            TranscriberSettings,
            WhisperTranscriber,
        )

        transcriber = WhisperTranscriber(TranscriberSettings(model=model or DEFAULT_MODEL))
    interviewer = server = None
    if llm:
        from voice_interview.errors import LLMError
        from voice_interview.interviewer.choice import open_interviewer
        from voice_interview.interviewer.planner import PlannerSession

        try:
            interviewer, server = open_interviewer(
                llm, api_base, 20.0, fallback=PlannerSession(rubric_id=rubric),
                progress=lambda m: print(f"voice-interview: {m}", file=sys.stderr))
        except LLMError as exc:
            print(f"voice-interview: {exc}; the offline planner answers", file=sys.stderr)
        if server is not None:
            server.wait_ready(180)
    try:
        out = _rescore_answers(data, answers, question, total_s, transcriber, interviewer,
                               rubric)
    finally:
        if server is not None:
            server.stop()
    return _result(data, out, rubric, model, llm)


def _rescore_answers(data, answers, question, total_s, transcriber, interviewer, rubric):
    from voice_interview.commands.analyze import interviewer_view
    from voice_interview.interviewer.planner import analyze_answer
    from voice_interview.session.store import shift_analysis

    out = []
    prev_end = 0.0
    for k, a in enumerate(answers):
        doc = a.get("analysis") or {}
        overview = k == 0
        start, end = _span(doc, total_s, prev_end, a.get("t"))
        prev_end = end
        if transcriber is not None:
            from voice_interview.analysis import analyze_samples

            result = analyze_samples(data.candidate_audio(start, end), transcriber,
                                     overview=overview)
            new = shift_analysis(result.to_json(), start, end)
        else:
            new = _from_words(doc, overview)
        words = new.get("words") or new.get("transcript") or ""
        view = (analyze_answer(words, question, rubric_id=rubric) if rubric
                else interviewer_view(words, question))
        new.update(view)
        if interviewer is not None:
            text = " ".join(w["word"] for w in new.get("words") or []) or new.get("transcript", "")
            probe = interviewer.ask(question, text)
            new["llm_probe"] = probe.to_json()
        out.append({"index": a.get("index", k), "kind": a.get("kind"),
                    "prompt": a.get("prompt_text"), "original": _summary(doc),
                    "rescored": _summary(new), "analysis": new})
    return out


def _result(data, out, rubric, model, llm) -> dict:
    question = _question(data)
    return {"session": data.id, "rubric": rubric or getattr(question, "rubric", None),
            "model": model, "llm": llm,
            "asked": [{"t": e.get("t"), "family": e.get("family"), "text": e.get("text")}
                      for e in data.events_of("probe_asked")],
            "answers": out}


def _summary(doc: dict) -> dict:
    m = doc.get("metrics") or {}
    st = doc.get("structure") or {}
    parts = st.get("parts") or []
    return {
        "words": m.get("word_count"), "wpm": m.get("wpm"),
        "long_pauses": m.get("long_pause_count"), "fillers": m.get("filler_count"),
        "rubric": st.get("rubric"),
        "covered": [p["id"] for p in parts if p.get("covered")],
        "missing": [p["id"] for p in parts if not p.get("covered")],
        "probes": [p.get("text") for p in doc.get("probes") or []],
        "llm_probe": (doc.get("llm_probe") or {}).get("text"),
        "llm_source": (doc.get("llm_probe") or {}).get("source"),
    }


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.0f}" if isinstance(v, float) else str(v)


def format_text(res: dict) -> str:
    lines = [f"Rescoring session {res['session']} (rubric {res['rubric']}, "
             f"{'Whisper ' + res['model'] if res['model'] else 'stored transcript'}"
             f"{', LLM ' + res['llm'] if res['llm'] else ''}); the recording is unchanged.", ""]
    for a in res["answers"]:
        o, n = a["original"], a["rescored"]
        lines.append(f"Answer {a['index'] + 1} ({a['kind'] or 'answer'}): {a['prompt'] or '–'}")
        lines.append(f"  {'':12} {'original':>10} {'rescored':>10}")
        for key, label in (("words", "words"), ("wpm", "wpm"), ("long_pauses", "long pauses"),
                           ("fillers", "fillers")):
            lines.append(f"  {label:12} {_fmt(o[key]):>10} {_fmt(n[key]):>10}")
        lines.append(f"  structure    original ({o['rubric'] or '–'}): covered "
                     f"{', '.join(o['covered']) or '–'}")
        lines.append(f"               rescored ({n['rubric'] or '–'}): covered "
                     f"{', '.join(n['covered']) or '–'}; missing {', '.join(n['missing']) or '–'}")
        if n["probes"]:
            lines.append("  would ask next:")
            lines += [f"    - {p}" for p in n["probes"]]
        if n["llm_probe"]:
            who = "the LLM" if n.get("llm_source") == "llm" else "the planner (LLM refused)"
            lines.append(f"  {who} would ask ({n.get('llm_source')}): {n['llm_probe']}")
        lines.append("")
    if res["asked"]:
        lines.append("Probes actually asked:")
        lines += [f"  - [{p['family']}] {p['text']}" for p in res["asked"]]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from voice_interview.checks import check_llm_model, check_rubric, check_whisper_model
    from voice_interview.session.store import open_store

    check_rubric(args.rubric)  # mistyped names: one clear line, before the session is opened
    if args.model:
        check_whisper_model(args.model)
    check_llm_model(args.llm)
    data = open_store().open(args.session)
    res = rescore(data, rubric=args.rubric, model=args.model, llm=args.llm,
                  api_base=args.api_base)
    if args.json:
        json.dump(res, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_text(res))
    return 0
