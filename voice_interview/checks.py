"""Argument checks that run before any device, model or file is opened.

A user who mistypes a question id should hear about the question, not about the
microphone that is missing too: each check here reads only the data files
(prompts/, rubrics/) and names, and fails with one ``UsageError`` line that
lists the valid values, the closest first (difflib).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from voice_interview.errors import UsageError

_SHOWN = 10  # valid values listed in one line; the closest come first


def closest(value: str, valid: Iterable[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(value, list(valid), n=n, cutoff=0.5)


def choices_hint(value: str, valid: Iterable[str], where: str | None = None) -> str:
    """``did you mean 'x'? (choose from x, a, b)``: the closest match first."""
    valid = [str(v) for v in valid]
    near = closest(str(value), valid)
    ordered = near + [v for v in valid if v not in near]
    more = f", … ({len(valid)} in all{', see ' + where if where else ''})"
    shown = ", ".join(ordered[:_SHOWN]) + (more if len(valid) > _SHOWN else "")
    return f"did you mean '{near[0]}'? (choose from {shown})" if near else f"choose from {shown}"


def unknown(kind: str, value: str, valid: Iterable[str], where: str | None = None) -> UsageError:
    return UsageError(f"unknown {kind} '{value}'; {choices_hint(value, valid, where)}")


def check_session_config(config) -> None:
    """Everything a practice session's arguments name, before the session opens anything.

    ``config`` is a ``SessionConfig``. Raises ``UsageError``; data files that are
    themselves broken raise ``ConfigError`` as usual.
    """
    from voice_interview.interviewer.banks import CATEGORIES, load_formats, load_question_bank
    from voice_interview.speech import VOICE_NAMES

    formats = load_formats()
    if config.format_id not in formats:
        raise unknown("format", config.format_id, formats)
    if config.category is not None and config.category not in CATEGORIES:
        raise unknown("question category", config.category, CATEGORIES)
    if config.question_id is not None:
        bank = load_question_bank()
        if config.question_id not in bank:
            raise unknown("question", config.question_id, bank.ids(),
                          where=str(bank.path) if bank.path else None)
    if config.voice is not None and config.voice not in VOICE_NAMES:
        raise unknown("voice", config.voice, VOICE_NAMES)
    check_llm_model(config.llm_model)
    for name, value in (("patience", config.patience_s), ("budget", config.budget_s),
                        ("time limit", config.time_limit_s)):
        if value is not None and value <= 0:
            raise UsageError(f"the {name} must be more than 0 seconds (got {value:g})")
    if config.max_probes is not None and config.max_probes < 0:
        raise UsageError(f"the number of probes cannot be negative (got {config.max_probes})")


def check_llm_model(model: str | None) -> None:
    """A litellm model string has no spaces (``provider/model`` or a bare model name).

    Whether the provider knows the model is only learnt by asking it; that happens
    when the session loads, and a failure there hands over to the offline planner.
    """
    if model is None:
        return
    if not model.strip() or any(c.isspace() for c in model.strip()):
        raise UsageError(f"'{model}' is not an LLM model name: use a litellm model string "
                         "such as ollama/llama3.2 or openai/gpt-4o-mini")


def check_whisper_model(name: str) -> None:
    """A Whisper size name (tiny.en, base, …), a Hugging Face repo id or a local folder."""
    from pathlib import Path

    from voice_interview.speech import DEFAULT_MODEL

    if name in ("", "default", DEFAULT_MODEL) or "/" in name or Path(name).expanduser().exists():
        return  # the folder itself is checked when the model loads (it names what is missing)
    from faster_whisper.utils import available_models

    if name not in available_models():
        valid = list(dict.fromkeys([DEFAULT_MODEL, *available_models()]))
        raise UsageError(f"unknown model '{name}'; {choices_hint(name, valid)}, "
                         "or a local model folder")


def check_rubric(rubric_id: str | None) -> None:
    if rubric_id is None:
        return
    from voice_interview.interviewer.rubric import load_rubrics

    rubrics = load_rubrics().rubrics
    if rubric_id not in rubrics:
        raise unknown("rubric", rubric_id, rubrics)
