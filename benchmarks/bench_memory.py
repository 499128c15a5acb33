"""Peak memory of ``analyze_file`` on long recordings (10 and 30 minutes).

The material is ``build_long(minutes)`` (the shared recordings in a loop)
written to a temporary 16-bit 16 kHz WAV. Each measurement runs in a fresh
process: a small stdlib-only relay process starts ``python -c`` (load the
default model, ``analyze_file``) and reads ``getrusage(RUSAGE_CHILDREN).ru_maxrss``
once it has exited. The relay matters: a child forked from a big process
starts with that process's peak RSS already on its books, and this script
holds the whole audio in memory while it writes the WAV. The analysing child
also reports its own ``RUSAGE_SELF`` peak as a cross-check. A first row
loads the model and analyses nothing (the floor).

Targets: peak <= 1.2 GB (taken as 1200 MiB) at 30 minutes, and growth from 10
to 30 minutes no more than the extra audio itself as float32
(20 min * 16 kHz * 4 bytes = 73 MiB) plus a 50 MiB margin.

    .venv/bin/python -m benchmarks.bench_memory [--minutes 10 30] [--strict]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import verdict
from benchmarks.common import ROOT
from benchmarks.material import build_long, write_wav
from voice_interview.audio.sources import SAMPLE_RATE

PEAK_TARGET_MIB = 1200.0
MARGIN_MIB = 50.0
MIB = 1024 * 1024

# Runs in the analysing child: prints one JSON line.
# Also notes the peak so far (VmHWM) once decoding and VAD are done (``on_segments``).
ANALYZE = """
import json, resource, sys, time
from voice_interview.analysis import analyze_file
from voice_interview.speech.transcriber import WhisperTranscriber
def hwm_kib():
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))
t0 = time.perf_counter()
tr = WhisperTranscriber()
out = {"load_s": time.perf_counter() - t0, "model_hwm_kib": hwm_kib()}
if sys.argv[1] != "-":
    t0 = time.perf_counter()
    def after_vad(segments):
        out["vad_hwm_kib"] = hwm_kib()
    r = analyze_file(sys.argv[1], tr, on_segments=after_vad)
    out.update(analyze_s=time.perf_counter() - t0, duration_s=r.duration_s,
               words=r.metrics.word_count, segments=len(r.segments), pauses=len(r.pauses))
out["self_maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""

# Runs in the relay: stdlib only, so its own footprint stays small.
RELAY = """
import json, resource, subprocess, sys
p = subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2]],
                   capture_output=True, text=True)
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
child = p.stdout.strip().splitlines()[-1] if p.returncode == 0 and p.stdout.strip() else None
print(json.dumps({"rc": p.returncode, "children_maxrss_kib": kids,
                  "child": json.loads(child) if child else None,
                  "stderr": p.stderr[-2000:]}))
"""


def measure(wav: str) -> dict:
    """Peak RSS (MiB) of a fresh process analysing ``wav`` ("-": load the model only)."""
    p = subprocess.run(
        [sys.executable, "-c", RELAY, ANALYZE, wav],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    out = json.loads(p.stdout.strip().splitlines()[-1])
    if out["rc"] != 0:
        raise RuntimeError(f"analysing child failed (rc {out['rc']}):\n{out['stderr']}")
    out["peak_mib"] = out["children_maxrss_kib"] / 1024.0
    out["self_mib"] = out["child"]["self_maxrss_kib"] / 1024.0
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, nargs=2, default=[10.0, 30.0],
                    metavar=("SHORT", "LONG"))
    verdict.add_arguments(ap)
    args = ap.parse_args()
    short, long_ = sorted(args.minutes)

    rows: dict[float, dict] = {}
    with tempfile.TemporaryDirectory(prefix="vi-bench-mem-") as tmp:
        t0 = time.perf_counter()
        rows[0.0] = measure("-")
        print(f"floor (model loaded, nothing analysed): peak {rows[0.0]['peak_mib']:.0f} MiB "
              f"({time.perf_counter() - t0:.1f} s)")
        for minutes in (short, long_):
            wav = Path(tmp) / f"long_{minutes:g}min.wav"
            samples = build_long(minutes)
            write_wav(wav, samples)
            del samples
            gc.collect()
            t0 = time.perf_counter()
            rows[minutes] = r = measure(str(wav))
            c = r["child"]
            wav.unlink()
            print(f"{minutes:g} min: peak {r['peak_mib']:.0f} MiB (child's own figure "
                  f"{r['self_mib']:.0f} MiB; peak with the model loaded "
                  f"{c['model_hwm_kib'] / 1024:.0f}, after decode + VAD "
                  f"{c['vad_hwm_kib'] / 1024:.0f} MiB); analysed {c['duration_s']:.0f} s "
                  f"of audio in {c['analyze_s']:.1f} s: {c['words']} words, "
                  f"{c['segments']} segments ({time.perf_counter() - t0:.1f} s with model load)")

    peak_long = rows[long_]["peak_mib"]
    growth = peak_long - rows[short]["peak_mib"]
    extra_audio = (long_ - short) * 60 * SAMPLE_RATE * 4 / MIB
    limit = extra_audio + MARGIN_MIB
    ok_peak = peak_long <= PEAK_TARGET_MIB
    ok_growth = growth <= limit
    print(f"\npeak at {long_:g} min: {peak_long:.0f} MiB (target <= {PEAK_TARGET_MIB:.0f} MiB)"
          f"  -> {'PASS' if ok_peak else 'FAIL'}")
    print(f"growth {short:g} -> {long_:g} min: {growth:+.0f} MiB (target <= extra audio "
          f"{extra_audio:.0f} MiB + margin {MARGIN_MIB:.0f} MiB = {limit:.0f} MiB)"
          f"  -> {'PASS' if ok_growth else 'FAIL'}")
    per_min = growth / (long_ - short)
    print(f"memory per extra minute of audio: {per_min:.1f} MiB "
          f"(the audio itself as float32: {60 * SAMPLE_RATE * 4 / MIB:.1f} MiB)")
    return verdict.finish("bench_memory", [("peak", ok_peak), ("growth", ok_growth)])


if __name__ == "__main__":
    sys.exit(main())
