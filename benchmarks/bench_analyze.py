"""`analyze` vs a bare faster-whisper transcription of the same file, same model/settings.

Runs both ``--repeat`` times, interleaved, in one process; prints the ratio of
medians and the real-time factor. Target: ratio <= 1.3.

    .venv/bin/python -m benchmarks.bench_analyze [--file PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import verdict
from benchmarks.common import median, shared
from voice_interview.analysis import analyze_file
from voice_interview.pacing import load_pacing_rubric
from voice_interview.speech.transcriber import WhisperTranscriber


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--file", default=str(shared("news_169s_8k.wav")))
    ap.add_argument("--repeat", type=int, default=3)
    verdict.add_arguments(ap)
    args = ap.parse_args()

    tr = WhisperTranscriber()
    rubric = load_pacing_rubric()
    kwargs = tr.transcribe_kwargs()
    bare_t, ours_t, duration = [], [], None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        segments, info = tr.model.transcribe(args.file, **kwargs)
        bare_words = sum(len(s.words or ()) for s in segments)
        bare_t.append(time.perf_counter() - t0)
        duration = info.duration

        t0 = time.perf_counter()
        result = analyze_file(args.file, tr, rubric)
        ours_t.append(time.perf_counter() - t0)
    bare, ours = median(bare_t), median(ours_t)
    print(f"file: {args.file} ({duration:.1f} s)")
    print(f"bare faster-whisper: median {bare:.2f} s  ({bare_words} words)  runs {bare_t}")
    print(f"analyze:             median {ours:.2f} s  ({result.metrics.word_count} words)  "
          f"runs {ours_t}")
    print(f"ratio analyze/bare: {ours / bare:.2f}  (target <= 1.3)")
    print(f"RTF analyze: {ours / duration:.3f}   RTF bare: {bare / duration:.3f}")
    return verdict.finish("bench_analyze", [("ratio analyze/bare <= 1.3", ours / bare <= 1.3)])


if __name__ == "__main__":
    sys.exit(main())
