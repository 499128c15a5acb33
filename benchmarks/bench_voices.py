"""Time to first audio for the interviewer's voices, against the probe's spoken length.

For a 15-word probe, each voice's ``stream()`` is timed to its first chunk
(``first``) and to its end (``all``); ``spoken`` is the length of the audio it
made. The ratio ``first / spoken`` says how early the voice can start talking:
below 1 the rest is ready before the first sentence has finished playing.
Target for Piper: first / spoken <= 0.5. Medians of ``--repeat`` runs, both
voices interleaved in one process.

    .venv/bin/python -m benchmarks.bench_voices [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchmarks import verdict
from voice_interview.speech.voices import VOICE_NAMES, get_voice

PROBES = {
    # two sentences: streaming speaks the first while the second is synthesized
    "two sentences": "Suppose the load grew ten times overnight. "
    "Which part of the design gives way first?",
    # one sentence: the first chunk is the whole probe
    "one sentence": "What did you measure to know it worked, and what did you compare it against?",
}
TARGET = 0.5


def time_stream(voice, text: str) -> tuple[float, float, float]:
    """(seconds to first chunk, seconds to last chunk, seconds of audio)."""
    t0 = time.perf_counter()
    first = None
    samples = 0
    for chunk in voice.stream(text):
        if first is None:
            first = time.perf_counter() - t0
        samples += len(chunk)
    total = time.perf_counter() - t0
    return first or total, total, samples / voice.sample_rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    verdict.add_arguments(ap)
    args = ap.parse_args()

    voices, load_s = {}, {}
    for name in VOICE_NAMES:
        t0 = time.perf_counter()
        voices[name] = get_voice(name)
        voices[name].synthesize("Warm up.")
        load_s[name] = time.perf_counter() - t0

    runs: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for _ in range(args.repeat):
        for label, text in PROBES.items():
            for name, voice in voices.items():
                runs.setdefault((name, label), []).append(time_stream(voice, text))

    print(f"voices: first audio vs spoken length, median of {args.repeat} runs "
          f"(target for piper: first/spoken <= {TARGET})")
    header = f"{'voice':8} {'probe (15 words)':16} {'first s':>8} {'all s':>7} " \
             f"{'spoken s':>9} {'first/spoken':>13} {'all/spoken':>11}"
    print(header)
    print("-" * len(header))
    verdicts = []
    for (name, label), rows in runs.items():
        first, total, spoken = (float(np.median(col)) for col in zip(*rows, strict=True))
        ratio = first / spoken
        print(f"{name:8} {label:16} {first:8.3f} {total:7.3f} {spoken:9.2f} "
              f"{ratio:13.3f} {total / spoken:11.3f}")
        if name == "piper":
            verdicts.append(ratio <= TARGET)
    print()
    print("load + first synthesis: " + ", ".join(f"{n} {s:.2f} s" for n, s in load_s.items()))
    print("piper target met" if all(verdicts) else "piper target MISSED")
    for voice in voices.values():
        voice.close()
    return verdict.finish("bench_voices", [(f"piper first/spoken <= {TARGET}",
                                            bool(verdicts) and all(verdicts))])


if __name__ == "__main__":
    sys.exit(main())
