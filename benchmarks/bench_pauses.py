"""Pause and pace accuracy of ``analyze_samples`` against exact ground truth.

Material (benchmarks/material.py): 16 read sentences joined with silences of
known length, and 8 Piper sentences ending in soft consonants (k, t, p, s, f; a
3.06 s pause after "bank" among them), each clean and with -45 dBFS white noise.
For the long pauses (true duration >= 1.0 s):

- every one found (a detected pause overlaps it and the engine calls it long),
- none invented (a detected long pause that matches no true long pause),
- each detected duration within 0.15 s of the truth,

and the speech rate (wpm) within 7 % of the truth (60 * reference words / true span).
Short pauses (< 1.0 s) are listed for information only.

    .venv/bin/python -m benchmarks.bench_pauses [--noise -45] [--seed 0] [--strict]
"""

from __future__ import annotations

import argparse
import sys

from benchmarks import verdict
from benchmarks.material import LONG_PAUSE_S, Truth, build_joined, build_soft
from voice_interview.analysis import analyze_samples
from voice_interview.pacing import Pause, load_pacing_rubric
from voice_interview.speech.transcriber import WhisperTranscriber

TOL_S = 0.15
WPM_TOL = 0.07


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def match(truth: Truth, pauses: list[Pause]) -> list[Pause | None]:
    """For each true pause, the detected pause overlapping it most (or None)."""
    out: list[Pause | None] = []
    for a, b in truth.pauses:
        best = max(pauses, key=lambda p: overlap(a, b, p.start, p.end), default=None)
        out.append(best if best is not None and overlap(a, b, best.start, best.end) > 0 else None)
    return out


def check(label: str, truth: Truth, result) -> list[bool]:
    """Print the tables for one condition; return the pass/fail of each target."""
    pauses = result.pauses
    matched = match(truth, pauses)
    print(f"\n== {label}: {truth.duration_s:.1f} s of audio, "
          f"{len(truth.long_pauses())} true long pauses ==")
    print(f"{'#':>2} {'kind':<5} {'true start':>10} {'true dur':>8} {'detected':>8} "
          f"{'error':>7}  engine says long")
    errors: list[float] = []
    found = 0
    for i, ((a, b), p) in enumerate(zip(truth.pauses, matched, strict=True), 1):
        dur = b - a
        is_long = dur >= LONG_PAUSE_S
        kind = "LONG" if is_long else "short"
        if p is None:
            print(f"{i:>2} {kind:<5} {a:>10.2f} {dur:>8.2f} {'missed':>8} {'':>7}")
            continue
        err = p.duration_s - dur
        if is_long:
            errors.append(err)
            # Found only when measured as long: a 1.05 s pause reported as 0.96 s is
            # not a long pause to the candidate reading the feedback.
            found += bool(p.long)
        flag = "yes" if p.long else "no"
        note = "" if p.long == is_long else "   <- classified differently"
        print(f"{i:>2} {kind:<5} {a:>10.2f} {dur:>8.2f} {p.duration_s:>8.2f} {err:>+7.2f}"
              f"  {flag}{note}")
    true_long = truth.long_pauses()
    invented = [
        p for p in pauses
        if p.long and not any(overlap(a, b, p.start, p.end) > 0 for a, b in true_long)
    ]
    extra = [
        p for p in pauses
        if not any(overlap(a, b, p.start, p.end) > 0 for a, b in truth.pauses)
    ]
    for p in extra:
        print(f"   extra pause inside a clip: {p.start:.2f}-{p.end:.2f} s "
              f"({p.duration_s:.2f} s{', LONG' if p.long else ''})")
    for p in invented:
        print(f"   INVENTED long pause: {p.start:.2f}-{p.end:.2f} s ({p.duration_s:.2f} s)")

    max_err = max((abs(e) for e in errors), default=0.0)
    mean_err = sum(errors) / len(errors) if errors else 0.0
    ok_found = found == len(true_long)
    ok_invented = not invented
    ok_err = found > 0 and max_err <= TOL_S
    m = result.metrics
    wpm_err = (m.wpm - truth.wpm) / truth.wpm if m.wpm else float("inf")
    ok_wpm = abs(wpm_err) <= WPM_TOL

    print(f"long pauses found:    {found}/{len(true_long)}  -> {_pf(ok_found)}")
    print(f"long pauses invented: {len(invented)}  -> {_pf(ok_invented)}")
    print(f"duration error:       max |err| {max_err:.3f} s, mean {mean_err:+.3f} s "
          f"(target <= {TOL_S} s)  -> {_pf(ok_err)}")
    print(f"wpm: true {truth.wpm:.1f} ({truth.word_count} words / {truth.span_s:.2f} s), "
          f"detected {m.wpm:.1f} ({m.word_count} words / {m.speech_span_s:.2f} s), "
          f"error {100 * wpm_err:+.1f}% (target <= {100 * WPM_TOL:.0f}%)  -> {_pf(ok_wpm)}")
    print(f"transcript: {result.transcript}")
    return [ok_found, ok_invented, ok_err, ok_wpm]


def _pf(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--noise", type=float, default=-45.0, help="noise level in dBFS (RMS)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--material", nargs="*", default=["read", "soft"], choices=["read", "soft"],
                    help="read: the shared read sentences; soft: Piper sentences ending "
                         "in k, t, p, s, f")
    verdict.add_arguments(ap)
    args = ap.parse_args()

    transcriber = WhisperTranscriber()
    rubric = load_pacing_rubric()
    results: list[bool] = []
    runs = [(name, label, noise) for name in args.material
            for label, noise in (("clean", None), (f"noise {args.noise:g} dBFS", args.noise))]
    for name, label, noise in runs:
        build = build_soft if name == "soft" else build_joined
        samples, truth = build(noise, seed=args.seed)
        label = f"{name}, {label}"
        result = analyze_samples(samples, transcriber, rubric)
        results += check(label, truth, result)
    return verdict.finish("bench_pauses", [(f"target {i}", ok)
                                           for i, ok in enumerate(results, 1)])


if __name__ == "__main__":
    sys.exit(main())
