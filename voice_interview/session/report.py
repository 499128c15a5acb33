"""Reports on a recorded session: one document, three renderings (JSON, Markdown, HTML).

``build_report(SessionData)`` gathers per-answer pacing, structure findings, the
probes that were asked and how deep each branch went. ``to_markdown`` and
``to_html`` render it; the HTML is a single self-contained file (inline CSS, an
inline SVG timeline of speech, pauses, the interviewer and the probes, and an
inline SVG chart of words per minute over time). No scripts, no outside links.
"""

from __future__ import annotations

import html
from collections import Counter

from voice_interview.analysis import AnswerAnalysis
from voice_interview.session.store import SessionData
from voice_interview.timefmt import mmss, plural

REPORT_VERSION = 1


def _r(v, nd=1):
    return None if v is None else round(float(v), nd)


def pace_bands() -> tuple[tuple[float, float], tuple[float, float]]:
    """The good and borderline pace bands of rubrics/pacing.toml (a broken file: ConfigError)."""
    from voice_interview.pacing import load_pacing_rubric

    rubric = load_pacing_rubric()
    return rubric.pace_good, rubric.pace_borderline


def pace_band(wpm: float | None, good, borderline) -> str | None:
    if wpm is None:
        return None
    if good[0] <= wpm <= good[1]:
        return "good"
    if borderline[0] <= wpm <= borderline[1]:
        return "borderline"
    return "flag"


# ----------------------------------------------------------------------------- the document


def build_report(data: SessionData) -> dict:
    """The report as plain data (this is what ``--format json`` prints)."""
    good, borderline = pace_bands()
    probes = [{"t": _r(e.get("t"), 2), "family": e.get("family"), "text": e.get("text"),
               "reason": e.get("reason"), "source": e.get("source")}
              for e in data.events_of("probe_asked")]
    depth = Counter(p["family"] for p in probes if p["family"])
    answers = []
    starts = []
    for k, a in enumerate(data.answers):
        doc = AnswerAnalysis.from_json(a.get("analysis"))
        m = doc.metrics
        segs = doc.segments
        start = segs[0].start if segs else (doc.span.start if doc.span else None)
        end = segs[-1].end if segs else (doc.span.end if doc.span else None)
        starts.append(start)
        structure = doc.structure or {}
        answers.append({
            "index": a.get("index", k),
            "number": k + 1,  # 1-based position in the session, for display
            "kind": a.get("kind") or ("question" if k == 0 else "probe"),
            "prompt": a.get("prompt_text") or "",
            "question_id": a.get("question_id"),
            "start": _r(start, 2), "end": _r(end, 2),
            "duration_s": _r(m.speech_span_s if m else None),
            "words": m.word_count if m else None,
            "wpm": _r(m.wpm if m else None),
            "articulation_wpm": _r(m.articulation_wpm if m else None),
            "pace": pace_band(m.wpm if m else None, good, borderline),
            "pauses": m.pause_count if m else None,
            "long_pauses": m.long_pause_count if m else None,
            "mid_sentence_long_pauses": m.mid_sentence_long_pause_count if m else None,
            "longest_pause_s": _r(m.longest_pause_s if m else None, 2),
            "fillers": m.filler_count if m else None,
            "filler_words": (m.fillers if m else None) or {},
            "feedback": [f.to_json() for f in doc.feedback],
            "structure": {
                "rubric": structure.get("rubric"),
                "covered": doc.covered(),
                "missing": doc.missing(),
                "findings": structure.get("findings") or [],
            } if structure else None,
            "suggested_probes": list(doc.probes or ()),
            "transcript": doc.transcript,
            "windows": [{"start": w.start, "end": w.end, "wpm": w.wpm}
                        for w in (doc.pacing.windows if doc.pacing else ())],
        })
    # Each probe belongs to the answer it followed.
    for p in probes:
        before = [i for i, s in enumerate(starts) if s is not None and s <= (p["t"] or 0)]
        p["after_answer"] = answers[before[-1]]["index"] if before else None
    for ans in answers:
        ans["probes_after"] = [p for p in probes if p["after_answer"] == ans["index"]]
    raw = [m for a in data.answers
           if (m := AnswerAnalysis.from_json(a.get("analysis")).metrics) is not None]
    span_total = sum(m.speech_span_s or 0 for m in raw if m.word_count)
    words_total = sum(m.word_count or 0 for m in raw)
    return {
        "report_version": REPORT_VERSION,
        "session": {**data.info.to_json(), "voice": data.meta.get("voice"),
                    "llm_model": data.meta.get("llm_model"),
                    "source": data.meta.get("source"),
                    "reason": (data.summary or {}).get("reason")},
        "duration_s": _r(data.duration_s, 2),
        "warnings": list(data.warnings),
        "pace_bands": {"good": list(good), "borderline": list(borderline)},
        "totals": {
            "answers": len(answers),
            "words": words_total,
            "speaking_s": _r(span_total),
            "wpm": _r(60.0 * words_total / span_total) if span_total else None,
            "long_pauses": sum(a["long_pauses"] or 0 for a in answers),
            "fillers": sum(a["fillers"] or 0 for a in answers),
            "probes": len(probes),
        },
        "answers": answers,
        "probes": probes,
        "depth": {"by_family": dict(depth), "max": max(depth.values(), default=0),
                  "branches": len(depth)},
        "timeline": _timeline(data),
    }


def _timeline(data: SessionData) -> dict:
    from voice_interview.session.replay_model import build_timeline

    tl = build_timeline(data)
    return {
        "duration_s": _r(tl.duration_s, 2),
        "speech": [[_r(s.start, 2), _r(s.end, 2)] for s in tl.speech],
        "pauses": [[_r(p.start, 2), _r(p.end, 2), p.kind == "long_pause"] for p in tl.pauses],
        "interviewer": [[_r(s.start, 2), _r(s.end, 2)] for s in tl.interviewer],
        "prompts": [{"t": _r(m.t, 2), "kind": m.kind, "text": m.text, "family": m.family}
                    for m in tl.markers if m.kind in ("question", "probe")],
        "fillers": [_r(w.start, 2) for w in tl.words if w.filler],
    }


# ----------------------------------------------------------------------------- Markdown


def _v(v, unit="") -> str:
    return "–" if v is None else f"{v}{unit}"


def nice_date(iso: str) -> str:
    return (iso or "–")[:16].replace("T", " ")


def to_markdown(rep: dict) -> str:
    s = rep["session"]
    t = rep["totals"]
    out = [f"# Session {s['id']}", ""]
    out += [f"- **Question:** {s.get('question') or '–'}",
            f"- **Started:** {nice_date(s['started_at'])}",
            f"- **Status:** {s['status']}" + (f" ({s['reason']})" if s.get("reason") else ""),
            f"- **Length:** {mmss(rep['duration_s'])} ({plural(t['answers'], 'answer')}, "
            f"{plural(t['probes'], 'probe')})",
            f"- **Pace:** {_v(t['wpm'], ' wpm')} overall; "
            f"{plural(t['long_pauses'], 'long pause')}; "
            f"{plural(t['fillers'], 'filler')} (lower bound)"]
    if s.get("voice") or s.get("llm_model"):
        out.append(f"- **Interviewer:** voice {s.get('voice') or '–'}, "
                   f"model {s.get('llm_model') or 'offline planner'}")
    for w in rep["warnings"]:
        out.append(f"- ⚠ {w}")
    out += ["", "## Answers", "",
            "| # | prompt | length | wpm | pace | pauses (long) | fillers | structure |",
            "|---|---|---|---|---|---|---|---|"]
    for a in rep["answers"]:
        st = a["structure"]
        cov = f"{len(st['covered'])}/{len(st['covered']) + len(st['missing'])}" if st else "–"
        prompt = (a["prompt"] or "–").replace("|", "\\|")
        if len(prompt) > 60:
            prompt = prompt[:57] + "..."
        out.append(f"| {a['number']} | {prompt} | {mmss(a['duration_s'])} | "
                   f"{_v(a['wpm'])} | {_v(a['pace'])} | {_v(a['pauses'])} "
                   f"({_v(a['long_pauses'])}) | {_v(a['fillers'])} | {cov} |")
    for a in rep["answers"]:
        out += ["", f"### Answer {a['number']} ({a['kind']}): {a['prompt'] or '–'}", ""]
        out.append(f"{mmss(a['duration_s'])} from {mmss(a['start'])}, {_v(a['words'])} words, "
                   f"{_v(a['wpm'], ' wpm')} (articulation {_v(a['articulation_wpm'], ' wpm')}), "
                   f"pauses {_v(a['pauses'])}, long {_v(a['long_pauses'])} "
                   f"({_v(a['mid_sentence_long_pauses'])} mid-sentence), longest "
                   f"{_v(a['longest_pause_s'], ' s')}, fillers {_v(a['fillers'])}.")
        if a["feedback"]:
            out += ["", "Pacing:"]
            out += [f"- {f['message']}" for f in a["feedback"]]
        st = a["structure"]
        if st:
            out += ["", f"Structure ({st['rubric']}): covered "
                    f"{', '.join(st['covered']) or 'nothing yet'}; missing "
                    f"{', '.join(st['missing']) or 'nothing'}."]
            out += [f"- {f}" for f in st["findings"]]
        if a["probes_after"]:
            out += ["", "Probes asked next:"]
            out += [f"- [{p['family']}] {p['text']} ({mmss(p['t'])})" for p in a["probes_after"]]
    d = rep["depth"]
    out += ["", "## Probes and depth", ""]
    if rep["probes"]:
        out.append(f"{plural(len(rep['probes']), 'probe')} over "
                   f"{plural(d['branches'], 'branch')}; deepest branch "
                   f"{plural(d['max'], 'level')}: " + ", ".join(f"{k} {v}" for k, v in
                                                       sorted(d["by_family"].items())) + ".")
    else:
        out.append("No probes were asked.")
        sugg = rep["answers"][0]["suggested_probes"] if rep["answers"] else []
        if sugg:
            out += ["", "An interviewer would likely ask next:"]
            out += [f"- [{p['family']}] {p['text']}" for p in sugg]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1d2330;background:#fbfbfd}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #dde}
.meta{color:#556}.warn{color:#a15c00}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border-bottom:1px solid #e4e4ec;padding:.35rem .5rem;text-align:left;font-size:.9rem}
th{background:#f0f1f6}.good{color:#1b7f3b}.borderline{color:#a15c00}.flag{color:#b3261e}
.card{background:#fff;border:1px solid #e4e4ec;border-radius:8px;padding:.8rem 1rem;
margin:1rem 0}.prompt{font-weight:600}.small{font-size:.85rem;color:#556}
svg{background:#fff;border:1px solid #e4e4ec;border-radius:8px;width:100%;height:auto}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.sw{display:inline-block;width:.9rem;height:.9rem;vertical-align:middle;margin-right:.3rem}
"""

COLORS = {"speech": "#2e9e5b", "pause": "#f0b429", "long": "#d64545", "voice": "#4f6fd6",
          "probe": "#7a3fc2", "filler": "#e07b00", "grid": "#e6e7ee", "text": "#556"}


def _esc(v) -> str:
    return html.escape("" if v is None else str(v))


def _tick_step(duration: float) -> float:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800):
        if duration / step <= 12:
            return float(step)
    return 3600.0


def svg_timeline(tl: dict, width: int = 1000) -> str:
    """Lanes over the session: interviewer, candidate speech, pauses, probes (+ fillers)."""
    dur = max(float(tl.get("duration_s") or 0), 1.0)
    left, right = 90, 10
    inner = width - left - right
    lanes = [("Interviewer", 20), ("Speech", 50), ("Pauses", 80), ("Probes", 110)]
    height = 150

    def x(t):
        return left + inner * max(0.0, min(float(t), dur)) / dur

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="Session timeline" class="timeline">']
    step = _tick_step(dur)
    t = 0.0
    while t <= dur + 1e-6:
        parts.append(f'<line x1="{x(t):.1f}" y1="12" x2="{x(t):.1f}" y2="128" '
                     f'stroke="{COLORS["grid"]}"/>')
        parts.append(f'<text x="{x(t):.1f}" y="144" font-size="11" text-anchor="middle" '
                     f'fill="{COLORS["text"]}">{mmss(t)}</text>')
        t += step
    for name, y in lanes:
        parts.append(f'<text x="8" y="{y + 4}" font-size="12" fill="{COLORS["text"]}">'
                     f'{name}</text>')

    def rect(a, b, y, color, title):
        w = max(1.0, x(b) - x(a))
        return (f'<rect x="{x(a):.1f}" y="{y - 8}" width="{w:.1f}" height="16" rx="2" '
                f'fill="{color}"><title>{_esc(title)}</title></rect>')

    for a, b in tl.get("interviewer", []):
        parts.append(rect(a, b, 20, COLORS["voice"], f"interviewer {mmss(a)}–{mmss(b)}"))
    for a, b in tl.get("speech", []):
        parts.append(rect(a, b, 50, COLORS["speech"], f"speech {mmss(a)}–{mmss(b)}"))
    for a, b, long in tl.get("pauses", []):
        parts.append(rect(a, b, 80, COLORS["long" if long else "pause"],
                          f"{'long ' if long else ''}pause {b - a:.1f} s at {mmss(a)}"))
    for ft in tl.get("fillers", []):
        parts.append(f'<circle cx="{x(ft):.1f}" cy="64" r="2.5" fill="{COLORS["filler"]}">'
                     f'<title>filler at {mmss(ft)}</title></circle>')
    for p in tl.get("prompts", []):
        px = x(p["t"])
        color = COLORS["probe"] if p["kind"] == "probe" else COLORS["voice"]
        parts.append(f'<line x1="{px:.1f}" y1="100" x2="{px:.1f}" y2="124" stroke="{color}" '
                     f'stroke-width="2"/>')
        parts.append(f'<path d="M{px - 5:.1f},100 L{px + 5:.1f},100 L{px:.1f},108 Z" '
                     f'fill="{color}"><title>{_esc(p["kind"])} at {mmss(p["t"])}: '
                     f'{_esc(p["text"])}</title></path>')
    parts.append("</svg>")
    return "".join(parts)


def svg_wpm_chart(answers: list[dict], good, duration: float, width: int = 1000) -> str:
    """Words per minute over the session (30 s windows), with the good band shaded."""
    points = [((w["start"] + w["end"]) / 2, w["wpm"]) for a in answers for w in a["windows"]
              if w.get("wpm") is not None]
    height, left, right, top, bottom = 220, 50, 10, 12, 30
    inner_w, inner_h = width - left - right, height - top - bottom
    top_wpm = max([200.0] + [p[1] * 1.1 for p in points])
    dur = max(duration, max((p[0] for p in points), default=0.0), 1.0)

    def x(t):
        return left + inner_w * t / dur

    def y(v):
        return top + inner_h * (1 - min(v, top_wpm) / top_wpm)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="Words per minute over time" class="wpm">']
    out.append(f'<rect x="{left}" y="{y(good[1]):.1f}" width="{inner_w}" '
               f'height="{y(good[0]) - y(good[1]):.1f}" fill="#2e9e5b" opacity="0.12">'
               f'<title>good pace {good[0]:.0f}–{good[1]:.0f} wpm</title></rect>')
    for v in range(0, int(top_wpm) + 1, 50):
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" '
                   f'stroke="{COLORS["grid"]}"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end" '
                   f'fill="{COLORS["text"]}">{v}</text>')
    step = _tick_step(dur)
    t = 0.0
    while t <= dur + 1e-6:
        out.append(f'<text x="{x(t):.1f}" y="{height - 10}" font-size="11" '
                   f'text-anchor="middle" fill="{COLORS["text"]}">{mmss(t)}</text>')
        t += step
    for a in answers:  # one line per answer, so the gaps between answers stay gaps
        pts = [((w["start"] + w["end"]) / 2, w["wpm"]) for w in a["windows"]]
        if len(pts) == 1:
            out.append(f'<circle cx="{x(pts[0][0]):.1f}" cy="{y(pts[0][1]):.1f}" r="3.5" '
                       f'fill="#1d4ed8"/>')
        elif pts:
            coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pts)
            out.append(f'<polyline points="{coords}" fill="none" stroke="#1d4ed8" '
                       f'stroke-width="2.5" stroke-linejoin="round"/>')
        for t, v in pts:
            out.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2" fill="#1d4ed8">'
                       f'<title>{v:.0f} wpm at {mmss(t)}</title></circle>')
    if not points:
        out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" '
                   f'fill="{COLORS["text"]}">no timed speech in this session</text>')
    out.append("</svg>")
    return "".join(out)


def to_html(rep: dict) -> str:
    s = rep["session"]
    t = rep["totals"]
    good = rep["pace_bands"]["good"]
    title = f"Session {s['id']}"
    body = [f"<h1>{_esc(title)}</h1>",
            f'<p class="meta">{_esc(s.get("question") or "")}<br>Started '
            f'{_esc(nice_date(s["started_at"]))} · status {_esc(s["status"])} · '
            f'{mmss(rep["duration_s"])} · {plural(t["answers"], "answer")} · '
            f'{plural(t["probes"], "probe")} · {_esc(_v(t["wpm"], " wpm"))} overall · '
            f'{plural(t["long_pauses"], "long pause")} · {plural(t["fillers"], "filler")}</p>']
    for w in rep["warnings"]:
        body.append(f'<p class="warn">⚠ {_esc(w)}</p>')
    body.append("<h2>Timeline</h2>")
    body.append(svg_timeline(rep["timeline"]))
    body.append('<p class="legend">' + "".join(
        f'<span><i class="sw" style="background:{COLORS[k]}"></i>{label}</span>'
        for k, label in (("voice", "interviewer"), ("speech", "candidate speech"),
                         ("pause", "pause"), ("long", "long pause"), ("probe", "probe"),
                         ("filler", "filler"))) + "</p>")
    body.append("<h2>Pace over time</h2>")
    body.append(svg_wpm_chart(rep["answers"], good, rep["duration_s"] or 0.0))
    body.append("<h2>Answers</h2><table><tr><th>#</th><th>prompt</th><th>length</th>"
                "<th>wpm</th><th>pauses (long)</th><th>fillers</th><th>structure</th></tr>")
    for a in rep["answers"]:
        st = a["structure"]
        cov = f"{len(st['covered'])}/{len(st['covered']) + len(st['missing'])}" if st else "–"
        body.append(f"<tr><td>{a['number']}</td><td>{_esc(a['prompt'])}</td>"
                    f"<td>{mmss(a['duration_s'])}</td>"
                    f"<td class=\"{_esc(a['pace'] or '')}\">{_esc(_v(a['wpm']))}</td>"
                    f"<td>{_esc(_v(a['pauses']))} ({_esc(_v(a['long_pauses']))})</td>"
                    f"<td>{_esc(_v(a['fillers']))}</td><td>{cov}</td></tr>")
    body.append("</table>")
    for a in rep["answers"]:
        body.append('<div class="card">')
        body.append(f'<p class="prompt">Answer {a["number"]} ({_esc(a["kind"])}): '
                    f'{_esc(a["prompt"])}</p>')
        body.append(f'<p class="small">{mmss(a["duration_s"])} from {mmss(a["start"])} · '
                    f'{_esc(_v(a["words"]))} words · {_esc(_v(a["wpm"], " wpm"))} · '
                    f'long pauses {_esc(_v(a["long_pauses"]))} '
                    f'({_esc(_v(a["mid_sentence_long_pauses"]))} mid-sentence) · '
                    f'fillers {_esc(_v(a["fillers"]))}</p>')
        if a["feedback"]:
            body.append("<ul>" + "".join(f"<li class=\"{_esc(f.get('severity'))}\">"
                                         f"{_esc(f.get('message'))}</li>"
                                         for f in a["feedback"]) + "</ul>")
        st = a["structure"]
        if st:
            body.append(f"<p>Structure ({_esc(st['rubric'])}): covered "
                        f"<b>{_esc(', '.join(st['covered']) or 'nothing yet')}</b>; missing "
                        f"<b>{_esc(', '.join(st['missing']) or 'nothing')}</b>.</p>")
            if st["findings"]:
                body.append("<ul>" + "".join(f"<li>{_esc(f)}</li>" for f in st["findings"])
                            + "</ul>")
        if a["probes_after"]:
            body.append("<p>Probes asked next:</p><ul>" + "".join(
                f"<li>[{_esc(p['family'])}] {_esc(p['text'])} "
                f"<span class=\"small\">{mmss(p['t'])}</span></li>"
                for p in a["probes_after"]) + "</ul>")
        if a["transcript"]:
            body.append(f'<details><summary>Transcript</summary><p>{_esc(a["transcript"])}'
                        f"</p></details>")
        body.append("</div>")
    d = rep["depth"]
    body.append("<h2>Probes and depth</h2>")
    if rep["probes"]:
        body.append(f"<p>{plural(len(rep['probes']), 'probe')} over "
                    f"{plural(d['branches'], 'branch')}; deepest branch "
                    f"{plural(d['max'], 'level')}.</p><table><tr><th>branch</th><th>depth</th></tr>"
                    + "".join(f"<tr><td>{_esc(k)}</td><td>{v}</td></tr>"
                              for k, v in sorted(d["by_family"].items())) + "</table>")
    else:
        body.append("<p>No probes were asked.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{_esc(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
