"""``voice-interview demo``: the whole pipeline on a sample answer, no microphone needed.

The sample candidate (prompts/sample_answer.toml: a project overview, two
prepared answers per probe family and a fallback) is spoken by the built-in Piper voice once
and cached. Then a real practice session runs with it as the candidate: live
transcription, turn taking, probes from the interviewer (the planner's moves
worded by the embedded LLM by default; spoken when there is a speaker), the
next answer written for each probe's family, and feedback at the end. In a terminal
it runs in the TUI; otherwise
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
    p.add_argument("--keep", metavar="FILE.wav",
                   help="also copy the sample opening answer to this file")
    from voice_interview.commands.practice import add_llm_arguments

    add_llm_arguments(p)
    p.set_defaults(handler=run)


def _synthesize(voice, texts: list[tuple[str, float]], lead_s: float, tail_s: float):
    import numpy as np

    rate = voice.sample_rate
    pieces = [np.zeros(int(lead_s * rate), dtype=np.float32)]
    for text, pause in texts:
        pieces.append(voice.synthesize(text))
        pieces.append(np.zeros(int(pause * rate), dtype=np.float32))
    pieces.append(np.zeros(int(tail_s * rate), dtype=np.float32))
    return np.concatenate(pieces), rate


def _sentences(text: str, pause_s: float) -> list[tuple[str, float]]:
    """``text`` as sentences, each followed by ``pause_s`` of silence (not the last)."""
    import re

    parts = [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p]
    return [(p, pause_s if k < len(parts) - 1 else 0.0) for k, p in enumerate(parts)]


def prepared_answers(doc: dict) -> list[tuple[str, str]]:
    """The sample candidate's answers to probes as (file name, text), in the order
    each family gives them: "debugging" ([answers]), then "debugging-2" ... ([further])."""
    out = list(doc.get("answers", {}).items())
    for family, texts in doc.get("further", {}).items():
        out += [(f"{family}-{n}", text) for n, text in enumerate(texts, 2)]
    return out


def _sample() -> tuple[Path, dict]:
    """The sample's cache folder (named by the content of its data file) and the data."""
    from voice_interview.paths import cache_dir
    from voice_interview.resources import data_dir, load_toml

    src = data_dir("prompts") / "sample_answer.toml"
    # "fixed": synthesized without noise (deterministic), unlike older caches.
    digest = hashlib.sha1(b"fixed-families-2:" + src.read_bytes()).hexdigest()[:12]
    return cache_dir() / f"sample-candidate-{digest}", load_toml(src)


def _say(what: str) -> None:
    print(f"Synthesizing {what} with the Piper voice (first run only)...", file=sys.stderr)


def sample_opening_path() -> Path:
    """The sample candidate's opening answer as a WAV (synthesized once, cached)."""
    from voice_interview.audio.playback import write_wav
    from voice_interview.speech.voices import get_voice

    folder, doc = _sample()
    path = folder / "opening.wav"
    if path.exists():
        return path
    _say("the sample answer")
    folder.mkdir(parents=True, exist_ok=True)
    voice = get_voice("piper", deterministic=True)  # the same sample on every machine
    try:
        opening, rate = _synthesize(voice, [(p["text"], float(p.get("pause_s", 0.0)))
                                            for p in doc.get("part", [])], 0.5, 4.0)
    finally:
        voice.close()
    write_wav(folder / "opening.tmp.wav", opening, rate).replace(path)
    return path


def sample_answer_path() -> Path:
    """Synthesize the sample candidate (once; cached by content): the opening answer
    and the prepared answers to probes as WAVs, and the candidate script naming them."""
    from voice_interview.audio.playback import write_wav
    from voice_interview.session.candidate import write_script
    from voice_interview.speech.voices import get_voice

    folder, doc = _sample()
    script = folder / "sample.candidate.json"
    if script.exists():
        return script
    opening = sample_opening_path()
    _say("the sample candidate's answers to probes")
    # The answers to probes have no written-in pauses: spoken a little slower, with
    # a pause after each sentence, so the sample is not flagged as fast on each one.
    voice = get_voice("piper", deterministic=True,
                      length_scale=float(doc.get("answer_length_scale", 1.0)))
    pause = float(doc.get("answer_pause_s", 0.0))
    try:
        answers: dict[str, list[Path]] = {}
        for name, text in prepared_answers(doc):
            audio, rate = _synthesize(voice, _sentences(text, pause), 1.0, 4.0)
            family = name.split("-")[0]
            answers.setdefault(family, []).append(write_wav(folder / f"{name}.wav", audio, rate))
        fallback = None
        if doc.get("fallback"):
            audio, rate = _synthesize(voice, _sentences(doc["fallback"], pause), 1.0, 4.0)
            fallback = write_wav(folder / "fallback.wav", audio, rate)
    finally:
        voice.close()
    tmp = folder / "sample.tmp.json"
    write_script(tmp, opening, answers, fallback)
    tmp.replace(script)
    return script


def run(args) -> int:
    import json
    import shutil

    from voice_interview.commands.practice import session_config
    from voice_interview.resources import data_dir, load_toml

    path = sample_answer_path()
    if args.keep:
        shutil.copyfile(path.parent / "opening.wav", args.keep)
    doc = load_toml(data_dir("prompts") / "sample_answer.toml")
    config = session_config(
        question=doc.get("question"), llm=args.llm, api_base=args.api_base,
        no_voice=args.no_voice or args.json or args.report, input_path=str(path),
        max_probes=min(3, len(doc.get("answers", {}))))
    if not (args.json or args.report) and sys.stdout.isatty():
        from voice_interview.tui.app import run_practice

        return run_practice(config)
    from voice_interview.session.orchestrator import PracticeSession

    print("Running a practice session with the sample candidate...",
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
    from voice_interview.commands.analyze import interviewer_lines

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
        lines += ["  " + line for line in interviewer_lines(a) if line]
        lines += [f"  “{answer['transcript']}”", ""]
    lines.append(f"Probes asked: {len(summary['probes'])}; depth reached: "
                 + ", ".join(f"{k} {v}" for k, v in summary["depth"].items()))
    return "\n".join(lines) + "\n"
