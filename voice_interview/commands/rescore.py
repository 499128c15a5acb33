"""``voice-interview rescore``: a recorded session judged again, the original untouched.

Pacing is recomputed with today's rubrics/pacing.toml, structure with another
rubric (``--rubric``), and the probes are the ones the offline planner (or an
LLM, ``--llm``) would have asked after each answer. ``--whisper`` transcribes the
recorded audio again with another Whisper model; without it the stored words
are reused (no transcription, instant). Nothing in the session is changed. The
work is ``session.rescoring.rescore_session``; this module parses and prints.
"""

from __future__ import annotations

import argparse
import json
import sys

from voice_interview.commands.options import add_whisper_argument


def register(sub) -> None:
    p = sub.add_parser(
        "rescore",
        help="judge a recorded session again (another rubric, Whisper model or LLM)",
        description=(
            "Recompute a recorded session's analysis and the probes that another rubric, "
            "Whisper model or LLM would have asked, side by side with what happened. The "
            "recording itself is not changed."
        ),
    )
    p.add_argument("session", metavar="SESSION",
                   help="session id (or a unique start of it), its folder, or 'last'")
    p.add_argument("--rubric", metavar="R",
                   help="structure rubric id from rubrics/structure.toml (default: the "
                   "question's own)")
    add_whisper_argument(p, "transcribe the audio again with this Whisper model (a size "
                         "name already on this machine or a local folder)")
    p.add_argument("--llm", metavar="MODEL",
                   help="ask this LLM which probe it would have asked: 'embedded' (the "
                   "built-in model) or any litellm model string")
    p.add_argument("--api-base", metavar="URL", help="the LLM server's URL (with --llm)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.0f}" if isinstance(v, float) else str(v)


def format_text(res: dict) -> str:
    lines = [f"Rescoring session {res['session']} (rubric {res['rubric']}, "
             f"{'Whisper ' + res['model'] if res['model'] else 'stored transcript'}"
             f"{', LLM ' + res['llm'] if res['llm'] else ''}); the recording is unchanged.", ""]
    for a in res["answers"]:
        o, n = a["original"], a["rescored"]
        lines.append(f"Answer {a['index'] + 1} ({a['kind'] or 'answer'}): {a['prompt'] or '–'}")
        lines.append(f"  {'':12} {'original':>10} {'rescored':>10}")
        for key, label in (("words", "words"), ("wpm", "wpm"), ("long_pauses", "long pauses"),
                           ("fillers", "fillers")):
            lines.append(f"  {label:12} {_fmt(o[key]):>10} {_fmt(n[key]):>10}")
        lines.append(f"  structure    original ({o['rubric'] or '–'}): covered "
                     f"{', '.join(o['covered']) or '–'}")
        lines.append(f"               rescored ({n['rubric'] or '–'}): covered "
                     f"{', '.join(n['covered']) or '–'}; missing {', '.join(n['missing']) or '–'}")
        if n["probes"]:
            lines.append("  would ask next:")
            lines += [f"    - {p}" for p in n["probes"]]
        if n["llm_probe"]:
            who = "the LLM" if n.get("llm_source") == "llm" else "the planner (LLM refused)"
            lines.append(f"  {who} would ask ({n.get('llm_source')}): {n['llm_probe']}")
        lines.append("")
    if res["asked"]:
        lines.append("Probes actually asked:")
        lines += [f"  - [{p['family']}] {p['text']}" for p in res["asked"]]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from voice_interview.checks import check_llm_model, check_rubric, check_whisper_model
    from voice_interview.session.rescoring import rescore_session
    from voice_interview.session.store import open_store

    check_rubric(args.rubric)  # mistyped names: one clear line, before the session is opened
    whisper = args.whisper
    if whisper:
        check_whisper_model(whisper)
    check_llm_model(args.llm)
    data = open_store().open(args.session)
    res = rescore_session(data, rubric=args.rubric, whisper=whisper, llm=args.llm,
                          api_base=args.api_base,
                          say=lambda m: print(f"voice-interview: {m}", file=sys.stderr))
    if args.json:
        json.dump(res, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_text(res))
    return 0
