"""``voice-interview demo``: the pipeline on a sample answer, no microphone needed.

The sample project overview (prompts/sample_answer.toml) is spoken by the
built-in Piper voice once and cached; then it is analysed exactly like a
recording: transcription, pauses, pace, structure and the probes an
interviewer would ask next.
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
    p.add_argument("--json", action="store_true", help="print the analysis as one JSON object")
    p.add_argument("--keep", metavar="FILE.wav", help="also copy the sample answer to this file")
    p.set_defaults(handler=run)


def sample_answer_path() -> Path:
    """Synthesize the sample answer (once; cached by content) and return the WAV path."""
    import numpy as np

    from voice_interview.audio.playback import write_wav
    from voice_interview.paths import cache_dir
    from voice_interview.resources import data_dir, load_toml
    from voice_interview.speech.voices import get_voice

    src = data_dir("prompts") / "sample_answer.toml"
    digest = hashlib.sha1(src.read_bytes()).hexdigest()[:12]
    out = cache_dir() / f"sample-answer-{digest}.wav"
    if out.exists():
        return out
    parts = load_toml(src).get("part", [])
    voice = get_voice("piper")
    print("Synthesizing the sample answer with the Piper voice (first run only)...",
          file=sys.stderr)
    try:
        pieces = []
        for part in parts:
            pieces.append(voice.synthesize(part["text"]))
            pause = float(part.get("pause_s", 0.0))
            pieces.append(np.zeros(int(pause * voice.sample_rate), dtype=np.float32))
        rate = voice.sample_rate
    finally:
        voice.close()
    tmp = out.with_suffix(".tmp.wav")
    write_wav(tmp, np.concatenate(pieces), rate)
    tmp.replace(out)
    return out


def run(args) -> int:
    import shutil

    from voice_interview.commands.analyze import (
        _dump,
        _question,
        analyze_path,
        format_report,
        interviewer_view,
    )
    from voice_interview.resources import data_dir, load_toml

    path = sample_answer_path()
    if args.keep:
        shutil.copyfile(path, args.keep)
    qid = load_toml(data_dir("prompts") / "sample_answer.toml").get("question")
    question = _question(qid)
    if not args.json:
        print(f"Question: {question.text}\n", file=sys.stderr)
    result = analyze_path(str(path), "tiny.en")
    result.extra.update(interviewer_view(result.words, question))
    if args.json:
        _dump(result.to_json())
    else:
        sys.stdout.write(format_report(result))
    return 0
