"""Build recorded sessions for tests without the orchestrator, through the real writer.

``record_session`` plays a small interview onto a ``SessionWriter``: the question
spoken by the real voice, an answer of synthesized sentences with pauses of known
length, a probe the planner picked, a second answer. Each answer is analysed by
the real pipeline (``analyze_samples`` with Whisper) and stored on the session
timeline, as the orchestrator does.

``scripted_session`` makes a deterministic session (no Whisper): the words and
their times come from a script, the audio is a tone under each word, and the
pacing numbers come from the real ``pacing`` functions. Snapshots use it.
"""

from __future__ import annotations

import numpy as np

from voice_interview.session.files import SAMPLE_RATE
from voice_interview.session.store import SessionStore, shift_analysis

BLOCK = 512


def feed(writer, samples: np.ndarray) -> None:
    """Hand audio to the writer the way the audio thread does: 32 ms blocks."""
    for i in range(0, samples.size, BLOCK):
        writer.write_candidate(samples[i:i + BLOCK])


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SAMPLE_RATE)), dtype=np.float32)


def _joined(clips: list[np.ndarray], gaps: list[float]) -> np.ndarray:
    parts = []
    for k, clip in enumerate(clips):
        parts.append(clip)
        if k < len(gaps):
            parts.append(_silence(gaps[k]))
    return np.concatenate(parts).astype(np.float32)


def record_session(store: SessionStore, synth, whisper, *, question=None,
                   answers: tuple[tuple[list[str], list[float]], ...] | None = None,
                   started_at: str = "2025-03-04T10:15:00+00:00", meta: dict | None = None,
                   probe_kinds: bool = True) -> str:
    """A two-answer session (question, answer, probe, answer); returns its id."""
    from tests.audio_helpers import SENTENCES
    from voice_interview.analysis import analyze_samples
    from voice_interview.session.scoring import interviewer_view, question_for

    question = question or question_for(None)
    answers = answers or (
        (SENTENCES[:4], [0.4, 1.6, 0.5]),
        (SENTENCES[4:6], [1.2]),
    )
    doc_meta = {"question_id": question.id, "question_text": question.text,
                "format_id": "conversational", "started_at": started_at, "voice": "piper",
                "llm_model": None, **(meta or {})}
    with store.create(doc_meta) as w:
        t = 0.0
        w.log_event({"type": "session_started", "t": 0.0, "session_id": w.id,
                     "format_id": "conversational", "question_id": question.id})
        prompt, kind, family = question.text, "question", None
        for k, (texts, gaps) in enumerate(answers):
            # The interviewer speaks; the microphone track holds silence meanwhile.
            voice = synth(prompt)
            t_voice = t + 0.3
            if kind == "question":
                w.log_event({"type": "question_asked", "t": t_voice, "question_id": question.id,
                             "text": prompt, "index": 1})
            else:
                w.log_event({"type": "probe_asked", "t": t_voice, "family": family,
                             "text": prompt, "reason": "test", "source": "planner",
                             "depth": k})
            w.log_event({"type": "voice_started", "t": t_voice, "text": prompt})
            w.write_interviewer(voice, SAMPLE_RATE, t_voice)
            t_end_voice = t_voice + voice.size / SAMPLE_RATE
            w.log_event({"type": "voice_ended", "t": round(t_end_voice, 3), "text": prompt})
            feed(w, _silence(t_end_voice + 0.7 - t))
            t = t_end_voice + 0.7
            # The candidate answers.
            audio = _joined([synth(s) for s in texts], gaps) if texts else _silence(1.0)
            feed(w, audio)
            result = analyze_samples(audio, whisper, overview=(k == 0))
            doc = result.to_json()
            if k == 0:
                doc.update(interviewer_view(result.words, question))
            doc = shift_analysis(doc, t)
            t += audio.size / SAMPLE_RATE
            feed(w, _silence(0.5))
            t += 0.5
            w.add_answer(k, question.id, prompt, kind, doc)
            w.log_event({"type": "answer_scored", "t": round(t, 3), "answer_index": k,
                         "question_id": question.id, "analysis": doc})
            if k == 0:
                probes = doc.get("probes") or [{"family": "decisions",
                                                "text": "Why did you choose that approach?"}]
                prompt, family = probes[0]["text"], probes[0]["family"]
                kind = "probe"
        w.log_event({"type": "session_ended", "t": round(t, 3), "reason": "done",
                     "summary": {}})
        w.finish({"reason": "done"})
        return w.id


# ----------------------------------------------------------------------------- scripted

SCRIPT = [  # (prompt, kind, family, answer text, pause after word index -> seconds)
    ("Walk me through a project you built end to end.", "question", None,
     "So I built a search tool for our support team. Um it cut the time to answer a "
     "ticket by forty percent. The hardest part was cleaning old tickets.",
     {9: 1.4, 20: 0.5}),
    ("Why did you pick that approach over keyword search?", "probe", "decisions",
     "We compared both on five hundred cases and like the new one won clearly.",
     {5: 1.2}),
]


def scripted_session(store: SessionStore, *, started_at: str = "2025-01-02T09:30:00+00:00",
                     finish: bool = True, wpm: float = 150.0,
                     script=SCRIPT) -> str:
    """A deterministic session: scripted words and times, a tone per word, real pacing."""
    from voice_interview.audio.vad import Segment
    from voice_interview.interviewer.planner import analyze_answer
    from voice_interview.pacing import (
        compute_metrics,
        feedback,
        load_pacing_rubric,
        rolling_windows,
    )
    from voice_interview.speech.transcriber import Word

    rubric = load_pacing_rubric()
    word_s = 60.0 / wpm
    meta = {"question_id": "dd-end-to-end", "question_text": script[0][0],
            "format_id": "conversational", "started_at": started_at, "voice": "piper",
            "llm_model": None}
    w = store.create(meta)
    t = 0.0
    w.log_event({"type": "session_started", "t": 0.0, "session_id": w.id,
                 "format_id": "conversational", "question_id": "dd-end-to-end"})
    for k, (prompt, kind, family, text, pauses) in enumerate(script):
        t_voice = t + 0.2
        event = ({"type": "question_asked", "t": t_voice, "question_id": "dd-end-to-end",
                  "text": prompt, "index": 1} if kind == "question" else
                 {"type": "probe_asked", "t": t_voice, "family": family, "text": prompt,
                  "reason": "scripted", "source": "planner", "depth": 1})
        w.log_event(event)
        voice_s = 0.06 * len(prompt)
        tone = 0.1 * np.sin(2 * np.pi * 220 * np.arange(int(voice_s * SAMPLE_RATE))
                            / SAMPLE_RATE).astype(np.float32)
        w.write_interviewer(tone, SAMPLE_RATE, t_voice)
        t = t_voice + voice_s + 0.8
        words, segments = [], []
        seg_start = t
        for i, token in enumerate(text.split()):
            words.append(Word(token, round(t, 3), round(t + word_s * 0.9, 3), 0.9))
            t += word_s
            if i in pauses:
                segments.append(Segment(round(seg_start, 3), round(t - word_s * 0.1, 3)))
                t += pauses[i]
                seg_start = t
        segments.append(Segment(round(seg_start, 3), round(t - word_s * 0.1, 3)))
        metrics, found = compute_metrics(segments, words, rubric)
        windows = rolling_windows(segments, words, found, rubric)
        doc = {"transcript": text, "words": [x.to_json() for x in words],
               "speech_segments": [s.to_json() for s in segments],
               "pauses": [p.to_json() for p in found], "metrics": metrics.to_json(),
               "windows": [x.to_json() for x in windows],
               "feedback": [f.to_json() for f in feedback(metrics, found, windows, rubric,
                                                          overview=(k == 0))]}
        if k == 0:
            doc.update(analyze_answer(words, None))
        w.add_answer(k, "dd-end-to-end", prompt, kind, doc)
        w.log_event({"type": "answer_scored", "t": round(t, 3), "answer_index": k,
                     "question_id": "dd-end-to-end", "analysis": doc})
        t += 0.5
    # The microphone track: a quiet tone under each word, silence elsewhere.
    total = int(t * SAMPLE_RATE)
    audio = np.zeros(total, dtype=np.float32)
    for row in (w_ for a in _answers(w) for w_ in a):
        a, b = int(row["start"] * SAMPLE_RATE), int(row["end"] * SAMPLE_RATE)
        audio[a:b] = 0.2 * np.sin(2 * np.pi * 330 * np.arange(b - a) / SAMPLE_RATE)
    feed(w, audio)
    if finish:
        w.log_event({"type": "session_ended", "t": round(t, 3), "reason": "done",
                     "summary": {}})
        w.finish({"reason": "done"})
    else:
        w.flush()
    return w.id if finish else w


def _answers(writer) -> list[list[dict]]:
    import json

    rows = [json.loads(line) for line in (writer.path / "answers.jsonl").read_text()
            .splitlines() if line.strip()]
    return [r["analysis"]["words"] for r in rows]


def abandon(writer) -> None:
    """Leave a writer as a killed process would: no finish, no summary, lock released.

    (The real thing, a ``kill -9`` of a recording process, is tests/test_crash.py;
    this is the in-process shortcut for tests about what comes after.)
    """
    import os

    writer.flush()
    writer._stop.set()
    writer._flusher.join()
    os.close(writer._lock_fd)
