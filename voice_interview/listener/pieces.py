"""Where revisions go: each ``TranscriptRevised`` in place of the finals it covers,
and a later revision (a polish) in place of the earlier revisions it covers."""

from __future__ import annotations

from voice_interview.events import TranscriptFinal, TranscriptRevised


def covers(revision: TranscriptRevised, final: TranscriptFinal, slack: float = 0.05) -> bool:
    """Whether ``revision`` replaces ``final`` (its segment lies inside the window)."""
    return (revision.start - slack <= final.segment_start
            and final.segment_end <= revision.end + slack)


def within(inner: tuple[float, float], outer: tuple[float, float], slack: float = 0.05) -> bool:
    """Whether the span ``inner`` lies inside ``outer`` (seconds, with slack)."""
    return outer[0] - slack <= inner[0] and inner[1] <= outer[1] + slack


def standing(revisions: list) -> list:
    """The revisions no later one replaces (``revisions`` in the order they came)."""
    return [r for i, r in enumerate(revisions)
            if not any(within((r.start, r.end), (q.start, q.end)) for q in revisions[i + 1:])]


def settled(finals: list, revisions: list) -> list[tuple[float, str, tuple]]:
    """The answer as (start, text, words) pieces in time order: each revision in
    place of the finals (and earlier revisions) it covers, the finals no revision
    covers as they are. ``revisions`` in the order they came."""
    kept = standing(revisions)
    pieces = [(r.start, r.text, tuple(r.words)) for r in kept]
    pieces += [(f.segment_start, f.text, tuple(f.words)) for f in finals
               if not any(covers(r, f) for r in revisions)]
    return sorted(pieces, key=lambda p: p[0])
