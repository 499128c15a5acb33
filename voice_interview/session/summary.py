"""The session's summary: what ``run()`` returns, ``SessionEnded`` carries and
``summary.json`` keeps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice_interview.audio.sources import BLOCK_S

if TYPE_CHECKING:
    from voice_interview.listener import Listener
    from voice_interview.session.loop import TurnLoop


def summarize(session_id: str, path: Path | None, loop: TurnLoop, listener: Listener,
              reason: str, duration_s: float) -> dict[str, Any]:
    answers = [
        {"index": a.index, "question_id": a.question_id, "kind": a.kind,
         "prompt": a.prompt, "transcript": a.analysis.transcript,
         "analysis": a.analysis.to_json()}
        for a in loop.answers if a.analysis is not None
    ]
    interview = loop.interview
    return {
        "session_id": session_id,
        "format_id": interview.format.id,
        "question_id": interview.question.id,
        "reason": reason,
        "duration_s": round(duration_s, 2),
        "path": str(path) if path else None,
        "answers": answers,
        "probes": list(loop.probes),
        "depth": dict(interview.planner.depth),
        "audio_skipped_s": round(listener.dropped_blocks * BLOCK_S, 2),
        "listening": {**transcript_counts(listener), "answers_rescored": loop.rescored},
    }


def transcript_counts(listener: Listener) -> dict[str, int]:
    """How the live transcript was made: windows revised in context, windows left
    as segment finals (the machine fell behind), long windows polished (and left to
    the fast revisions), inventions the guards caught."""
    polisher = listener.polisher
    return {
        "revised_windows": listener.revisions,
        "revisions_skipped": listener.revisions_skipped,
        "polished_windows": polisher.polished if polisher else 0,
        "polish_skipped": polisher.skipped if polisher else 0,
        "fabrications_caught": listener.fabrications,
    }
