"""``voice-interview demo``: the whole pipeline on a sample answer, no microphone needed.

The sample candidate (prompts/sample_answer.toml: a project overview and two
answers to follow-ups) is spoken by the built-in Piper voice once and cached.
Then a real practice session runs with that recording as the candidate: live
transcription, turn taking, probes from the interviewer (spoken when there is a
speaker), and feedback at the end. In a terminal it runs in the TUI; otherwise
(or with ``--report``) it prints the session's feedback as text or JSON.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on a sample answer (no microphone needed)",
        description=(
            "Synthesize a sample project overview with the built-in voice, then "
            "transcribe and analyse it like a real answer."
        ),
    )
    p.add_argument("--json", action="store_true",
                   help="no TUI: print the session summary as one JSON object")
    p.add_argument("--report", action="store_true",
                   help="no TUI: run the session quietly and print its feedback")
    p.add_argument("--no-voice", action="store_true", help="show the probes, don't speak them")
    p.add_argument("--keep", metavar="FILE.wav", help="also copy the sample answer to this file")
    from voice_interview.commands.practice import add_llm_arguments

    add_llm_arguments(p)
    p.set_defaults(handler=run)


def sample_answer_path() -> Path:
    """Synthesize the sample answer (once; cached by content) and return the WAV path."""
    import numpy as np

    from voice_interview.audio.playback import write_wav
    from voice_interview.paths import cache_dir
    from voice_interview.resources import data_dir, load_toml
    from voice_interview.speech.voices import get_voice

    src = data_dir("prompts") / "sample_answer.toml"
    # "fixed": synthesized without noise (deterministic), unlike older caches.
    digest = hashlib.sha1(b"fixed:" + src.read_bytes()).hexdigest()[:12]
    out = cache_dir() / f"sample-answer-{digest}.wav"
    if out.exists():
        return out
    doc = load_toml(src)
    voice = get_voice("piper", deterministic=True)  # the same sample on every machine
    print("Synthesizing the sample answer with the Piper voice (first run only)...",
          file=sys.stderr)
    try:
        rate = voice.sample_rate
        pieces = [np.zeros(rate // 2, dtype=np.float32)]
        for part in doc.get("part", []):
            pieces.append(voice.synthesize(part["text"]))
            pause = float(part.get("pause_s", 0.0))
            pieces.append(np.zeros(int(pause * rate), dtype=np.float32))
        for follow in doc.get("followup", []):
            pieces.append(np.zeros(int(float(follow["gap_s"]) * rate), dtype=np.float32))
            pieces.append(voice.synthesize(follow["text"]))
        pieces.append(np.zeros(int(4.0 * rate), dtype=np.float32))
    finally:
        voice.close()
    tmp = out.with_suffix(".tmp.wav")
    write_wav(tmp, np.concatenate(pieces), rate)
    tmp.replace(out)
    return out


def run(args) -> int:
    import argparse
    import json
    import shutil

    from voice_interview.commands.practice import make_config
    from voice_interview.resources import data_dir, load_toml

    path = sample_answer_path()
    if args.keep:
        shutil.copyfile(path, args.keep)
    doc = load_toml(data_dir("prompts") / "sample_answer.toml")
    options = argparse.Namespace(
        question=doc.get("question"), category=None, format_id=None, llm=args.llm,
        api_base=args.api_base, voice=None, no_voice=args.no_voice or args.json or args.report,
        input_path=str(path), patience_s=None, budget_s=None,
        max_probes=len(doc.get("followup", [])), time_limit_s=None,
    )
    config = make_config(options)
    if not (args.json or args.report) and sys.stdout.isatty():
        from voice_interview.tui.app import run_practice

        return run_practice(config)
    from voice_interview.session.orchestrator import PracticeSession

    print(f"Running a practice session on the sample answer ({path.name})...",
          file=sys.stderr)
    session = PracticeSession(config, lambda event: None)
    session.load()
    summary = session.run()
    if args.json:
        json.dump(summary, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_summary(summary, session.question.text))
    return 0


def format_summary(summary: dict, question: str) -> str:
    """The session's feedback as plain text, answer by answer."""
    from voice_interview.commands.analyze import _interviewer_lines

    lines = [f"Question: {question}", ""]
    for answer in summary["answers"]:
        a = answer["analysis"]
        m = a["metrics"]
        head = "Opening answer" if answer["kind"] == "question" else "Follow-up"
        lines.append(f"{head} #{answer['index']}: {answer['prompt']}")
        if m["word_count"]:
            lines.append(f"  {m['speech_span_s']:.0f} s, {m['word_count']} words, "
                         f"{m['wpm']:.0f} wpm, {m['pause_count']} pauses "
                         f"({m['long_pause_count']} long)")
        for f in a["feedback"]:
            lines.append(f"  {'·!‼'[['info', 'warn', 'flag'].index(f['severity'])]} "
                         f"{f['message']}")
        lines += ["  " + line for line in _interviewer_lines(a) if line]
        lines += [f"  “{answer['transcript']}”", ""]
    lines.append(f"Probes asked: {len(summary['probes'])}; depth reached: "
                 + ", ".join(f"{k} {v}" for k, v in summary["depth"].items()))
    return "\n".join(lines) + "\n"
