"""Where revisions go: each ``TranscriptRevised`` in place of the finals it covers."""

from __future__ import annotations

from voice_interview.events import TranscriptFinal, TranscriptRevised


def covers(revision: TranscriptRevised, final: TranscriptFinal, slack: float = 0.05) -> bool:
    """Whether ``revision`` replaces ``final`` (its segment lies inside the window)."""
    return (revision.start - slack <= final.segment_start
            and final.segment_end <= revision.end + slack)


def settled(finals: list, revisions: list) -> list[tuple[float, str, tuple]]:
    """The answer as (start, text, words) pieces in time order: each revision in
    place of the finals it covers, the finals no revision covers as they are."""
    pieces = [(r.start, r.text, tuple(r.words)) for r in revisions]
    pieces += [(f.segment_start, f.text, tuple(f.words)) for f in finals
               if not any(covers(r, f) for r in revisions)]
    return sorted(pieces, key=lambda p: p[0])
