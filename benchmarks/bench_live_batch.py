"""Live transcript vs batch ``analyze`` on the same audio, and how fast revisions come.

Each item is played through the live path in real time (``ArraySource``, realtime
pacing, the ``Listener`` with ``TranscriberSettings.live()``) and also analysed in
one batch (``analyze_samples``, the ``analyze`` settings). WER is against:

- (a) ``sentences``: the eight shared read sentences twice, joined with pauses
  (``material.build_joined``); reference = their texts (../shared/speech/README.md);
- (b) ``sample``: the demo's sample answer and its first two prepared answers to probes
  (the sample candidate's WAVs, synthesized by Piper, deterministic), reference = their
  text (prompts/sample_answer.toml);
  ``piper6``: six short sentences (tests/audio_helpers.SENTENCES) with pauses;
- (c) ``lecture`` and ``news``: no reference text, so the reference is a beam-5 batch
  decode by the larger model (Whisper base), made in this run.

Live figures: "finals" is the segment finals alone (the live path before
revisions), "revised" the finals with each ``TranscriptRevised`` in place of the
finals it covers. Revision latency = wall arrival - (start_wall + window end).
Answer ready = when the last transcript of the first turn is in, after the
patience window (speech end + patience). Target: live revised <= batch + 2 points;
revision latency median <= 1.5 s; answer ready <= patience + 0.5 s.

    .venv/bin/python -m benchmarks.bench_live_batch [--only sentences sample ...]
        [--model tiny.en|base] [--report-only] [--offline] [--set FIELD=VALUE ...]

``--offline`` plays the audio as fast as it goes with no revision skipped: the same
windows, so the same revised WER as in real time (checked: identical on all five
items), in ~2 minutes; latencies are then meaningless and not judged. ``--set``
changes ListenerSettings fields (e.g. ``revise_beam=5 revise_overlap_s=5``).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import numpy as np

from benchmarks import verdict
from benchmarks.common import median
from benchmarks.material import ORDER, TRANSCRIPTS, build_joined, load_clip
from voice_interview.analysis import analyze_samples
from voice_interview.audio.sources import SAMPLE_RATE, ArraySource, decode_file
from voice_interview.events import TranscriptFinal, TranscriptRevised, TurnEnded
from voice_interview.listener import Listener, ListenerSettings, settled
from voice_interview.speech.transcriber import TranscriberSettings, WhisperTranscriber

WER_SLACK = 0.02
REVISION_TARGET_S = 1.5
READY_SLACK_S = 0.5
ITEMS = ("sentences", "sample", "piper6", "lecture", "news")


def wer(ref: str, hyp: str) -> float:
    from tests.speech_check import wer as _wer

    return _wer(ref, hyp)


def material(name: str) -> tuple[np.ndarray, str | None]:
    """(16 kHz samples, reference text or None for a model-made reference)."""
    if name == "sentences":
        samples, _truth = build_joined(None)
        return samples, " ".join(TRANSCRIPTS[n] for n in ORDER)
    if name == "sample":
        from voice_interview.commands.demo import sample_answer_path
        from voice_interview.resources import data_dir, load_toml

        doc = load_toml(data_dir("prompts") / "sample_answer.toml")
        folder = sample_answer_path().parent  # the sample candidate's WAVs
        families = list(doc["answers"])[:2]  # two of its answers to probes, after the opening
        ref = " ".join([p["text"] for p in doc["part"]] + [doc["answers"][f] for f in families])
        audio = [decode_file(folder / f"{name}.wav") for name in ["opening", *families]]
        return np.concatenate(audio), ref
    if name == "piper6":
        from tests.audio_helpers import SENTENCES
        from voice_interview.audio.playback import resample
        from voice_interview.speech.voices import get_voice

        voice = get_voice("piper", deterministic=True)
        try:
            parts = [np.zeros(SAMPLE_RATE // 2, np.float32)]
            for text, gap in zip(SENTENCES, (0.5, 1.2, 0.4, 0.9, 0.6, 2.0), strict=True):
                audio = resample(voice.synthesize(text), voice.sample_rate, SAMPLE_RATE)
                parts += [audio.astype(np.float32), np.zeros(int(gap * SAMPLE_RATE), np.float32)]
        finally:
            voice.close()
        return np.concatenate(parts), " ".join(SENTENCES)
    clip = {"lecture": "lecture_60s", "news": "news_169s_8k"}[name]
    return np.asarray(load_clip(clip)), None


def live(samples: np.ndarray, transcriber, settings: ListenerSettings = ListenerSettings(),
         realtime: bool = True) -> dict:
    events: list[tuple[float, object]] = []
    lock = threading.Lock()

    def on(e) -> None:
        with lock:
            events.append((time.monotonic(), e))

    tail = np.zeros(int(3.0 * SAMPLE_RATE), np.float32)  # the answer's end is heard
    source = ArraySource(np.concatenate([samples, tail]), realtime=realtime)
    listener = Listener(source, transcriber, on, settings)
    start = time.monotonic()  # ArraySource paces from its first block (within ms of this)
    listener.run()
    finals = [e for _w, e in events if isinstance(e, TranscriptFinal)]
    revs = [(w, e) for w, e in events if isinstance(e, TranscriptRevised)]
    # The latency figure is each window's first revision; polishes are timed apart.
    lat = [w - (start + e.end) for w, e in revs if not e.polish]
    polish_lat = [w - (start + e.end) for w, e in revs if e.polish]
    flat = [w - (start + e.segment_end) for w, e in events if isinstance(e, TranscriptFinal)]
    ready, by_ready = None, [e for _w, e in revs]
    ended = [(w, e) for w, e in events if isinstance(e, TurnEnded) and e.reason == "silence"]
    if ended:
        w_end, te = ended[0]
        patience = listener.s.turn.patience_s
        mine = [w for w, e in events if isinstance(e, TranscriptFinal | TranscriptRevised)
                and not getattr(e, "polish", False)  # the session does not wait for a polish
                and getattr(e, "end", getattr(e, "segment_end", 0)) <= te.speech_end + 0.1]
        ready = max([w_end, *mine]) - (start + te.speech_end + patience)
    # What each turn's scored answer holds: the revisions in by READY_SLACK_S after
    # its TurnEnded (a polish that comes later does not reach the scored answer).
    turns = [(w, e) for w, e in events if isinstance(e, TurnEnded)]

    def in_time(w: float, rev: TranscriptRevised) -> bool:
        after = [wt for wt, te in turns if te.speech_end + 0.1 >= rev.end]
        return not after or w <= after[0] + READY_SLACK_S

    by_ready = [e for w, e in revs if in_time(w, e)]
    late = [(round(e.start, 1), round(e.end, 1)) for w, e in revs
            if e.polish and not in_time(w, e)]
    pieces = settled(finals, [e for _w, e in revs])
    scored = settled(finals, by_ready)
    return {
        "finals": " ".join(f.text for f in finals),
        "revised": " ".join(t for _s, t, _w in pieces),
        "scored": " ".join(t for _s, t, _w in scored),
        "rev_latency": lat, "polish_latency": polish_lat, "final_latency": flat,
        "ready": ready, "revisions": listener.revisions, "skipped": listener.revisions_skipped,
        "fabrications": listener.fabrications,
        "polished": listener.polisher.polished if listener.polisher else 0,
        "polish_skipped": listener.polisher.skipped if listener.polisher else 0,
        "polish_late": late,  # polishes that came after their turn was scored
    }


def listener_settings(changes: list[str], offline: bool) -> ListenerSettings:
    """ListenerSettings with FIELD=VALUE changes (typed as the field's default)."""
    from dataclasses import fields, replace

    types = {f.name: type(f.default) for f in fields(ListenerSettings)}
    kw: dict = {"revise_behind_s": 1e9, "polish_behind_s": 1e9} if offline else {}
    for change in changes:
        name, _, value = change.partition("=")
        if name not in types:
            raise SystemExit(f"unknown ListenerSettings field: {name}")
        kind = types[name]
        kw[name] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return replace(ListenerSettings(), **kw)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", default=list(ITEMS), choices=ITEMS)
    ap.add_argument("--model", default="tiny.en", help="the model under test (live and batch)")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="ListenerSettings fields to change (revision alternatives)")
    ap.add_argument("--offline", action="store_true",
                    help="play as fast as possible, no revision skipped: the revised WER "
                         "of a setting in a fraction of the time (latencies meaningless)")
    verdict.add_arguments(ap)
    args = ap.parse_args()
    settings = listener_settings(args.set, args.offline)

    batch_tr = WhisperTranscriber(TranscriberSettings(model=args.model))
    live_tr = WhisperTranscriber(TranscriberSettings.live(model=args.model))
    live_tr.transcribe(np.asarray(load_clip("spk1_snt2")))  # warm-up, as the app does
    ref_tr = None
    rows, lat_all, ready_all, ok = [], [], [], True
    for name in args.only:
        samples, ref = material(name)
        dur = samples.size / SAMPLE_RATE
        if ref is None:
            if ref_tr is None:
                ref_tr = WhisperTranscriber(TranscriberSettings(model="base", beam_size=5))
            ref = analyze_samples(samples, ref_tr).transcript
        t0 = time.perf_counter()
        batch = analyze_samples(samples, batch_tr).transcript
        batch_rtf = (time.perf_counter() - t0) / dur
        got = live(samples, live_tr, settings, realtime=not args.offline)
        w_b, w_f, w_r = wer(ref, batch), wer(ref, got["finals"]), wer(ref, got["revised"])
        w_s = wer(ref, got["scored"])
        good = w_r <= w_b + WER_SLACK
        ok &= good
        lat_all += got["rev_latency"]
        if got["ready"] is not None:
            ready_all.append(got["ready"])
        rows.append((name, dur, w_b, w_f, w_r, good, got, batch_rtf, w_s))
        print(f"\n== {name} ({dur:.1f} s) ==\nreference: {ref}\nbatch:     {batch}\n"
              f"finals:    {got['finals']}\nrevised:   {got['revised']}\n"
              f"as scored: {got['scored']}", flush=True)
    changed = " ".join(args.set) or "defaults"
    print(f"\nmodel {args.model}: live vs batch (beam 5); listener {changed}"
          + (" [offline: not real time, latencies meaningless]" if args.offline else ""))
    print(f"{'item':<10} {'audio':>6} {'batch':>6} {'finals':>7} {'revised':>8} "
          f"{'rev lat med/max':>16} {'final lat med':>14} {'ready':>7} {'rev/skip/fab':>13} "
          f"{'batch RTF':>9}")
    for name, dur, w_b, w_f, w_r, good, g, rtf, w_s in rows:
        lat = g["rev_latency"]
        lat_s = f"{median(lat):.2f}/{max(lat):.2f}" if lat else "-"
        ready = f"{g['ready']:+.2f}" if g["ready"] is not None else "-"
        print(f"{name:<10} {dur:>5.0f}s {100 * w_b:>5.1f}% {100 * w_f:>6.1f}% {100 * w_r:>7.1f}%"
              f"{'' if good else '!'} {lat_s:>16} {median(g['final_latency']):>13.2f}s "
              f"{ready:>7} {g['revisions']:>5}/{g['skipped']}/{g['fabrications']:<5} "
              f"{rtf:>9.3f}")
        if g["polished"] or g["polish_skipped"]:
            pl = g["polish_latency"]
            print(f"{'':<10} polish: {g['polished']} decoded, {g['polish_skipped']} skipped, "
                  f"latency median {median(pl) if pl else float('nan'):.2f} s, "
                  f"after the scoring {len(g['polish_late'])} {g['polish_late']}; "
                  f"as scored (in by patience + {READY_SLACK_S} s) {100 * w_s:.1f}%")
    lat_ok = bool(lat_all) and median(lat_all) <= REVISION_TARGET_S
    ready_ok = bool(ready_all) and max(ready_all) <= READY_SLACK_S
    print(f"live revised <= batch + {100 * WER_SLACK:.0f} points on every item  "
          f"-> {'PASS' if ok else 'FAIL'}")
    if lat_all and not args.offline:
        print(f"revision latency: median {median(lat_all):.2f} s, p90 "
              f"{np.percentile(lat_all, 90):.2f} s over {len(lat_all)} windows "
              f"(target median <= {REVISION_TARGET_S} s)  -> {'PASS' if lat_ok else 'FAIL'}")
    if ready_all and not args.offline:
        print(f"answer ready after the patience window: max {max(ready_all):+.2f} s "
              f"(target <= +{READY_SLACK_S} s)  -> {'PASS' if ready_ok else 'FAIL'}")
    targets = [(f"revised <= batch + {100 * WER_SLACK:.0f} points on every item", ok)]
    if not args.offline:  # offline, the latencies mean nothing: WER only
        targets += [(f"revision latency median <= {REVISION_TARGET_S} s", lat_ok),
                    (f"answer ready <= patience + {READY_SLACK_S} s", ready_ok)]
    return verdict.finish("bench_live_batch", targets)


if __name__ == "__main__":
    sys.exit(main())
