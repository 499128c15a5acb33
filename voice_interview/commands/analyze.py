"""``voice-interview analyze``: pacing (and structure) feedback on a recorded answer."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from voice_interview.commands.options import add_whisper_argument
from voice_interview.speech import DEFAULT_MODEL

if TYPE_CHECKING:
    from voice_interview.analysis import AnswerAnalysis


def register(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="pacing feedback on a recorded answer (or a plain-text transcript)",
        description=(
            "Transcribe a recorded answer locally and report its pacing: words per "
            "minute, pauses (long and mid-sentence), fillers, length against the "
            "2-3 minute project-overview target, and plain-language feedback. "
            "Any format FFmpeg reads works (wav, flac, mp3, ogg, m4a...)."
        ),
    )
    p.add_argument("audio", nargs="?", metavar="AUDIO", help="the recording to analyse")
    p.add_argument(
        "--text",
        metavar="FILE",
        help="analyse a plain-text transcript instead of audio (structure and probes only)",
    )
    p.add_argument(
        "--question",
        metavar="ID",
        help="the question that was answered (an id from prompts/questions.toml; "
        "default: a project deep dive)",
    )
    p.add_argument(
        "--asked",
        action="append",
        default=[],
        metavar="PROBE",
        help="the probe this answer replies to, word for word (repeat for the earlier "
        "probes, oldest first): the next probes follow up on the reply - an evasive "
        "answer is pressed once more, a new failure is dug into, a real answer moves on",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_whisper_argument(p, f"Whisper model: a size name already on this machine or a "
                         f"local folder (default: {DEFAULT_MODEL}, bundled)")
    p.add_argument(
        "--save",
        action="store_true",
        help="also store the recording as a session (replay, report, progress)",
    )
    p.add_argument("--llm", metavar="M",
                   help="also show how this LLM would word the next probe: 'embedded' "
                   "(the built-in model), 'none', or any litellm model string (default: "
                   "[llm] model from the config, when set)")
    p.add_argument("--api-base", metavar="URL", help="base URL of the LLM server (with --llm)")
    p.add_argument(
        "--not-overview",
        dest="overview",
        action="store_false",
        help="judge length as an ordinary answer, not the 2-3 minute project overview",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voice_interview.errors import UsageError

    if bool(args.audio) == bool(args.text):
        raise UsageError(
            "analyze needs either an AUDIO file or --text FILE (see voice-interview analyze --help)"
        )
    from voice_interview.session.scoring import question_for, score_recording, score_text

    question = question_for(args.question)
    asked = [a for a in args.asked if a.strip()]
    if len(asked) != len(args.asked):
        raise UsageError("--asked needs the words of the probe that was asked")
    whisper = args.whisper or DEFAULT_MODEL
    if args.audio:
        from voice_interview.checks import check_whisper_model

        check_whisper_model(whisper)  # before the file is opened
    if args.text:
        answer = score_text(read_text(args.text), question, asked=asked)
        answer = answer.with_view(llm_view(args, answer.transcript, question))
        if args.json:
            _dump(answer.to_json())
        else:
            sys.stdout.write(format_text_report(answer))
        return 0
    answer = analyze_path(args.audio, whisper, overview=args.overview, show_progress=True)
    answer = score_recording(answer, question, asked=asked)
    answer = answer.with_view(llm_view(args, answer.transcript, question))
    if args.save:
        from voice_interview.session.store import save_analysis

        sid = save_analysis(args.audio, answer, question, model=whisper)
        answer = answer.with_view({"session_id": sid})
        print(f"voice-interview: saved as session {sid} "
              f"(voice-interview replay {sid})", file=sys.stderr)
    if args.json:
        _dump(answer.to_json())
    else:
        sys.stdout.write(format_report(answer))
    return 0


def _dump(doc: dict) -> None:
    json.dump(doc, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


def llm_view(args: argparse.Namespace, transcript: str, question) -> dict:
    """{"llm_probe": ...}: the probe the live interviewer would speak (the planner's
    move worded by the LLM, with its ``source``), when an LLM is configured."""
    import os

    from voice_interview.config import load_config
    from voice_interview.errors import LLMError
    from voice_interview.interviewer.choice import ENV, open_interviewer, resolve
    from voice_interview.interviewer.planner import PlannerSession

    cfg = load_config()
    spec = getattr(args, "llm", None) or cfg.llm_model or os.environ.get(ENV)
    if not spec or resolve(spec) is None or not transcript.strip():
        return {}
    try:
        llm, server = open_interviewer(
            spec, getattr(args, "api_base", None) or cfg.api_base, 20.0,
            fallback=PlannerSession(), progress=lambda m: print(f"voice-interview: {m}",
                                                                 file=sys.stderr))
    except LLMError as exc:
        print(f"voice-interview: {exc}; the planner's probes only", file=sys.stderr)
        return {}
    try:
        if server is not None:
            server.wait_ready(180)
        return {"llm_probe": llm.ask(question, transcript).to_json()}
    finally:
        if server is not None:
            server.stop()


def read_text(path: str) -> str:
    """A plain-text transcript, stripped; a missing or unreadable file is a UsageError."""
    from pathlib import Path

    from voice_interview.errors import UsageError

    p = Path(path)
    try:
        return p.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise UsageError(f"{p}: no such file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{p}: not a UTF-8 text file") from None
    except OSError as exc:
        raise UsageError(f"{p}: cannot read ({exc.strerror})") from None


def format_text_report(answer: AnswerAnalysis) -> str:
    lines = [f"Transcript: {len(answer.transcript.split())} words "
             f"(no audio: pacing not measured)"]
    lines += interviewer_lines(answer.to_json())
    return "\n".join(lines) + "\n"


def analyze_path(path: str, model: str, overview: bool = True,
                 show_progress: bool = True) -> AnswerAnalysis:
    """Load the model, analyse ``path`` with a progress bar on a terminal (its timings
    begin with the model's load time)."""
    from tqdm import tqdm

    from voice_interview.analysis import analyze_file
    from voice_interview.audio.sources import probe_file
    from voice_interview.pacing import load_pacing_rubric
    from voice_interview.speech.transcriber import TranscriberSettings, WhisperTranscriber

    probe_file(path)  # a bad file fails before the model loads
    rubric = load_pacing_rubric()
    transcriber = WhisperTranscriber(TranscriberSettings(model=model))
    bar = None

    def on_segments(segments):
        nonlocal bar
        total = sum(s.duration for s in segments)
        bar = tqdm(
            total=round(total, 1), unit="s", desc="transcribing", leave=False,
            disable=None if show_progress else True, file=sys.stderr,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s speech",
        )

    def on_progress(seconds):
        if bar is not None:
            bar.update(round(seconds, 1))

    try:
        answer = analyze_file(path, transcriber, rubric, overview=overview,
                              on_progress=on_progress, on_segments=on_segments)
    finally:
        if bar is not None:
            bar.close()
    timings = {"model_load_s": round(transcriber.load_s, 3), **answer.extra["timings"]}
    return answer.with_view({"timings": timings})


def interviewer_lines(doc: dict) -> list[str]:
    lines: list[str] = []
    if doc.get("structure"):
        lines += ["", f"Structure ({doc['structure']['rubric']})"]
        for part in doc["structure"]["parts"]:
            mark = "✓" if part["covered"] else "✗"
            when = "" if part.get("start") is None else f"  from {part['start']:.0f} s"
            lines.append(f"  {mark} {part['id']}{when}")
        for finding in doc["structure"].get("findings", []):
            lines.append(f"  · {finding}")
    if doc.get("probes"):
        lines += ["", "What an interviewer would ask next"]
        for i, probe in enumerate(doc["probes"], 1):
            lines.append(f"  {i}. {probe['text']}")
            target = probe.get("target")
            if target:
                when = "" if target.get("start") is None else f" at {target['start']:.1f} s"
                lines.append(f"     (about{when}: \"{target['text']}\")")
    llm = doc.get("llm_probe")
    if llm:
        lines += ["", f"The live interviewer would say (source: {llm['source']})",
                  f"  {llm['text']}", f"  why: {llm['reason']}"]
    return lines


def _fmt(v, unit="", nd=1) -> str:
    return "n/a" if v is None else f"{v:.{nd}f}{unit}"


def format_report(answer: AnswerAnalysis) -> str:
    m = answer.metrics
    assert m is not None  # a recording is always paced
    mins, secs = divmod(int(round(m.speech_span_s)), 60)
    lines = []
    audio = answer.extra.get("audio") or {}
    if audio.get("path"):
        lines.append(f"{audio['path']}  ({_fmt(answer.duration_s, ' s')} of audio)")
    lines += [
        "",
        f"  Answer length    {mins}:{secs:02d}  (first to last word)",
        f"  Words            {m.word_count}",
        f"  Pace             {_fmt(m.wpm, ' wpm', 0)}  (articulation "
        f"{_fmt(m.articulation_wpm, ' wpm', 0)})",
        f"  Pauses           {m.pause_count}  ({_fmt(m.pauses_per_min, '/min')}, median "
        f"{_fmt(m.median_pause_s, ' s', 2)}, longest {_fmt(m.longest_pause_s, ' s', 2)})",
        f"  Long pauses      {m.long_pause_count}  "
        f"({m.mid_sentence_long_pause_count} mid-sentence)",
        f"  Fillers          {m.filler_count}  (lower bound)",
        "",
        "Feedback",
    ]
    marks = {"info": "  ·", "warn": "  !", "flag": "  ‼"}
    for f in answer.feedback:
        lines.append(f"{marks.get(f.severity, '  -')} {f.message}")
    long_pauses = [p for p in answer.pauses if p.long]
    if long_pauses:
        lines += ["", "Long pauses"]
        for p in long_pauses[:20]:
            where = "mid-sentence" if p.mid_sentence else "between sentences"
            lines.append(f"  {p.start:7.1f} s  {p.duration_s:4.1f} s  {where}")
    lines += interviewer_lines(answer.to_json())
    if answer.transcript:
        lines += ["", "Transcript", "  " + answer.transcript]
    t = answer.extra.get("timings") or {}
    lines += ["", f"(transcribed in {_fmt(t.get('total_s'), ' s')}, "
              f"real-time factor {_fmt(t.get('rtf'), '', 2)})", ""]
    return "\n".join(lines)
