"""How well the offline interviewer understands an answer, on the labelled set.

Material: tests/data/understanding/dev.toml (tuned on), holdout.toml,
holdout2.toml, holdout3.toml and holdout4.toml (kept aside: each written and
labelled before a round of tuning, never tuned on; measured once when a round
is done). For every
answer it runs what `voice-interview analyze --text FILE --json --question ID
[--asked PROBE ...]` runs (``planner.analyze_answer``) and compares with the
labels:

- parts:        each rubric part covered or not, against the label (answers
                that reply to a probe have no part labels and are skipped)
- first probe:  the first probe's family is one the label accepts
- forbidden:    probes (all three) containing a phrase the label forbids

Then the time to score a 3-minute answer (score_structure + claims) and the
planner's next-probe p95 on the same answer (bench_planner has the session-long
figure).

Targets (dev set): parts >= 95 %, first probe acceptable >= 90 %, no forbidden
phrase. Each holdout: parts >= 90 %, first probe acceptable on all but two. Scoring a
3-minute answer <= 100 ms; next probe p95 <= 20 ms.

Run: .venv/bin/python -m benchmarks.bench_understanding [--runs 100] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import verdict  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "understanding"
SETS = ("dev", "holdout", "holdout2", "holdout3", "holdout4")


@dataclass
class Figures:
    name: str
    parts_right: int = 0
    parts_total: int = 0
    probe_ok: int = 0
    probe_total: int = 0
    forbidden: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    @property
    def parts(self) -> float:
        return self.parts_right / self.parts_total if self.parts_total else 1.0

    @property
    def probes(self) -> float:
        return self.probe_ok / self.probe_total if self.probe_total else 1.0

    def line(self) -> str:
        return (f"{self.name:8} parts {self.parts_right}/{self.parts_total} "
                f"({100 * self.parts:.0f}%)  first probe acceptable {self.probe_ok}/"
                f"{self.probe_total} ({100 * self.probes:.0f}%)  forbidden hits "
                f"{len(self.forbidden)}")


def load_set(name: str) -> list[dict]:
    with open(DATA / f"{name}.toml", "rb") as f:
        return tomllib.load(f)["answer"]


def analyze(item: dict, bank=None) -> dict:
    """The structure + probes JSON for one labelled answer, as `analyze --json` gives."""
    from voice_interview.interviewer.banks import load_question_bank
    from voice_interview.interviewer.planner import analyze_answer

    bank = bank or load_question_bank()
    question = bank.get(item["question"])
    asked = item.get("asked", [])
    return analyze_answer(item["text"].strip(), question, asked=asked)


def evaluate(name: str) -> Figures:
    from voice_interview.interviewer.banks import load_question_bank

    bank = load_question_bank()
    fig = Figures(name)
    for item in load_set(name):
        doc = analyze(item, bank)
        if "covered" in item:
            want = set(item["covered"])
            for part in doc["structure"]["parts"]:
                fig.parts_total += 1
                if part["covered"] == (part["id"] in want):
                    fig.parts_right += 1
                else:
                    got = "covered" if part["covered"] else "missing"
                    fig.misses.append(f"{item['id']}: part {part['id']} {got}")
        probes = doc["probes"]
        fig.probe_total += 1
        if probes and probes[0]["family"] in item["first_probe"]:
            fig.probe_ok += 1
        else:
            first = f"{probes[0]['family']}: {probes[0]['text']}" if probes else "none"
            why = probes[0]["reason"] if probes else ""
            fig.misses.append(f"{item['id']}: first probe {first} (want "
                              f"{'/'.join(item['first_probe'])}; {why})")
        for p in probes:
            for phrase in item.get("forbidden", []):
                if phrase.lower() in p["text"].lower():
                    fig.forbidden.append(f"{item['id']}: {p['text']!r} has {phrase!r}")
    return fig


def timed_answer(minutes: float = 3.0) -> list[dict]:
    """A ~3-minute answer as timed words (dev-set deep dives joined, ~150 wpm)."""
    texts = [i["text"] for i in load_set("dev")
             if "covered" in i and i["question"].startswith("dd")]
    words, t = [], 0.0
    while t < 60.0 * minutes:
        for text in texts:
            for w in text.split():
                dur = 0.12 + 0.045 * len(w.strip(".,:;"))
                words.append({"word": " " + w, "start": t, "end": t + dur})
                t += dur + 0.08 + (0.5 if w.endswith(".") else 0.0)
                if t >= 60.0 * minutes:
                    return words
    return words


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timings(runs: int) -> dict[str, float]:
    from voice_interview.interviewer.banks import load_question_bank
    from voice_interview.interviewer.planner import ProbePlanner
    from voice_interview.interviewer.rubric import clear_rubric_cache, score_structure

    t = time.perf_counter()
    clear_rubric_cache()
    planner = ProbePlanner()
    load_s = time.perf_counter() - t
    words = timed_answer()
    question = load_question_bank().default()
    score, plan = [], []
    for _ in range(runs):
        t = time.perf_counter()
        report = score_structure(words, rubrics=planner.rubrics)
        score.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        planner.next_probes(question, words, report, (), 1)
        plan.append(1000 * (time.perf_counter() - t))
    return {"words": len(words), "seconds": words[-1]["end"], "load_s": load_s,
            "score_p50": pct(score, 0.5), "score_p95": pct(score, 0.95),
            "next_p95": pct([a + b for a, b in zip(score, plan, strict=True)], 0.95)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    parser.add_argument("--only", choices=SETS, help="one set only")
    verdict.add_arguments(parser)
    args = parser.parse_args()
    checks: list[tuple[str, bool]] = []
    for name in (args.only,) if args.only else SETS:
        fig = evaluate(name)
        print(fig.line())
        if args.verbose:
            for m in fig.misses + fig.forbidden:
                print("   ", m)
        if name == "dev":
            checks += [("dev parts >= 95%", fig.parts >= 0.95),
                       ("dev first probe >= 90%", fig.probes >= 0.90),
                       ("dev no forbidden phrase", not fig.forbidden)]
        else:
            checks += [(f"{name} parts >= 90%", fig.parts >= 0.90),
                       (f"{name} first probes all but 2", fig.probe_ok >= fig.probe_total - 2),
                       (f"{name} no forbidden phrase", not fig.forbidden)]
    t = timings(max(10, args.runs))
    print(f"3-minute answer ({t['words']} words, {t['seconds']:.0f} s): load "
          f"{1000 * t['load_s']:.0f} ms, score p50 {t['score_p50']:.1f} ms / p95 "
          f"{t['score_p95']:.1f} ms, score + next probe p95 {t['next_p95']:.1f} ms")
    checks += [("score p95 <= 100 ms", t["score_p95"] <= 100),
               ("next probe p95 <= 20 ms", t["next_p95"] <= 20),
               ("load <= 1 s", t["load_s"] <= 1.0)]
    return verdict.finish("bench_understanding", checks)


if __name__ == "__main__":
    raise SystemExit(main())
