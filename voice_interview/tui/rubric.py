"""The practice screen's bands: timer bands for the opening answer and the follow-ups
(from the session's own budget rule, ``session.settings``) and the pace bands."""

from __future__ import annotations

from dataclasses import dataclass, replace

from voice_interview.errors import VoiceInterviewError
from voice_interview.tui.widgets import Bands, PaceBands


@dataclass(frozen=True)
class UiRubric:
    """What the practice screen needs from rubrics/ and prompts/formats.toml."""

    question_bands: Bands = Bands()
    probe_bands: Bands = Bands(30.0, 100.0, 120.0)
    # built in, as the bands above: importing the TUI reads no data file (a broken
    # rubrics/pacing.toml is reported by the session, not raised at import)
    pace: PaceBands = PaceBands((120.0, 165.0), (100.0, 190.0))
    long_pause_s: float = 1.0
    window_s: float = 30.0


def load_ui_rubric(config) -> UiRubric:
    """Timer bands for the opening answer and for follow-ups, and the pace bands.

    Mirrors the session: the opening answer's hard budget is ``--budget`` or the
    format's, its soft warning the format's (at most ``SOFT_SHARE`` of it), the
    target starts where the pacing rubric's overview target starts (scaled); a
    follow-up's budget is the top of the format's ``followup_s``, at most the opening
    answer's (``--budget``). If a data file is broken the built-in defaults stand in
    (the session reports the file).
    """
    ui = UiRubric()
    try:
        from voice_interview.pacing import load_pacing_rubric

        r = load_pacing_rubric()
        ui = replace(
            ui,
            question_bands=Bands(r.overview_target[0], r.overview_soft_s, r.overview_hard_s),
            pace=PaceBands(r.pace_good, r.pace_borderline),
            long_pause_s=r.long_pause_s,
            window_s=r.window_s,
        )
    except VoiceInterviewError:
        pass
    try:
        from voice_interview.interviewer.banks import load_formats

        fmt = load_formats().get(getattr(config, "format_id", None) or "conversational")
    except VoiceInterviewError:
        fmt = None
    base = ui.question_bands
    if fmt is None:
        hard = float(getattr(config, "budget_s", None) or base.hard_s)
        soft = base.soft_s * hard / base.hard_s
    else:  # the session's own rule (session.settings), not a copy of it
        from voice_interview.session.settings import followup_budgets, opening_budgets

        soft, hard = opening_budgets(fmt, getattr(config, "budget_s", None) or None)
    target = min(base.target_s * hard / base.hard_s, soft)
    ui = replace(ui, question_bands=Bands(target, soft, hard))
    if fmt is not None:
        soft_f, hard_f = followup_budgets(fmt, getattr(config, "budget_s", None) or None)
        ui = replace(ui, probe_bands=Bands(min(fmt.followup_s[0], soft_f), soft_f, hard_f))
    return ui
