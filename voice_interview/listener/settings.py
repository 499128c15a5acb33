"""The listener's settings: the VAD, the turn, partials, and the two tiers of revisions."""

from __future__ import annotations

from dataclasses import dataclass

from voice_interview.audio.vad import VadSettings
from voice_interview.speech.transcriber import TranscriberSettings
from voice_interview.turns import TurnSettings


@dataclass(frozen=True)
class ListenerSettings:
    vad: VadSettings = VadSettings()
    turn: TurnSettings = TurnSettings()
    partial_interval_s: float = 1.0
    max_segment_s: float = 25.0  # a longer stretch without a pause is cut for Whisper
    history_s: float = 40.0  # audio kept for pre-roll / segments (bounded memory)
    revise: bool = True  # decode the answer again in context (TranscriptRevised)
    window_min_s: float = 8.0  # a window closes at a segment's end once it spans this
    window_max_s: float = 25.0  # ... and never spans more (one Whisper window)
    window_pause_s: float = 0.8  # ... or once a silence this long follows it
    window_pause_min_s: float = 0.0  # ... when the window spans at least this
    revise_filler_all: bool = False  # the filler prompt on every window, not the first only
    revise_behind_s: float = 8.0  # a revision not started by then is skipped
    revise_context: bool = False  # True: the revised text before a window as its prompt
    context_chars: int = 200  # ... this much of it
    revise_overlap_s: float = 0.0  # audio before a window decoded with it, as context
    revise_beam: int = 1  # beam width of the revision decodes (the finals stay greedy)
    revise_fallback: bool = False  # the batch path's temperature fallback on revisions
    revise_filler_start: bool = False  # the filler prompt on any decode from the turn's start
    polish: bool = True  # a second, long-context decode of the same stretch (listener.polish)
    polish_min_s: float = 25.0  # a polish window closes once it spans this (or at the turn end)
    polish_beam: int = 5
    polish_fallback: bool = True
    polish_threads: int = 1  # CPU threads of the polish's own model
    polish_behind_s: float = 30.0  # a polish not started by then is skipped


def reviser_changes(settings: ListenerSettings) -> dict:
    """How the revision decodes differ from the live finals' TranscriberSettings."""
    changes: dict = {}
    if settings.revise_beam > 1:
        changes["beam_size"] = settings.revise_beam
    return _with_fallback(changes, settings.revise_fallback)


def polish_changes(settings: ListenerSettings) -> dict:
    """How the polish's decodes differ from the live finals' TranscriberSettings."""
    changes = {"beam_size": settings.polish_beam, "cpu_threads": settings.polish_threads}
    return _with_fallback(changes, settings.polish_fallback)


def _with_fallback(changes: dict, fallback: bool) -> dict:
    if fallback:  # as the batch path: re-decoded warmer when unsure
        changes["temperature"] = TranscriberSettings().temperature
    return changes
