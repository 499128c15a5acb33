"""User configuration: ``config.toml`` in the config folder (see ``paths.config_dir``).

Everything is optional; command-line options win over the file. Example::

    [llm]
    model = "embedded"               # the default: the embedded Qwen2.5-Coder-1.5B;
                                     # "none": the offline planner alone; or any
                                     # litellm model string, e.g. "ollama/llama3.2"
    api_base = "http://127.0.0.1:11434"
    timeout_s = 6
    chooses_move = false             # true: the LLM picks among the planner's best
                                     # moves and words it; the planner checks the pick

``VOICE_INTERVIEW_LLM`` in the environment sets the model when the file does not.

    [voice]
    name = "piper"                   # piper | pyttsx3 | none

    [session]
    format = "conversational"
    patience_s = 2.5
    recordings = "~/voice-interview/recordings"

A syntax error, an unknown key or a value of the wrong type is a ConfigError
naming the file (and the line, for syntax errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voice_interview.datafiles import section
from voice_interview.errors import ConfigError
from voice_interview.resources import load_toml

_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "llm": {"model": str, "api_base": str, "timeout_s": (int, float), "chooses_move": bool},
    "voice": {"name": str, "output_device": (str, int)},
    "session": {"format": str, "patience_s": (int, float), "recordings": str,
                "input_device": (str, int)},
}


@dataclass(frozen=True)
class Config:
    llm_model: str | None = None  # None: the environment's, else "embedded" (interviewer.choice)
    api_base: str | None = None
    llm_timeout_s: float = 6.0
    llm_chooses_move: bool = False  # [llm] chooses_move (interviewer/llm_choice.py)
    voice: str | None = "piper"
    output_device: str | int | None = None
    input_device: str | int | None = None
    format_id: str = "conversational"
    patience_s: float | None = None
    recordings: Path | None = None
    path: Path | None = None


def config_path() -> Path:
    from voice_interview.paths import config_dir

    return config_dir() / "config.toml"


def load_config(path: Path | None = None) -> Config:
    path = path or config_path()
    if not path.exists():
        return Config()
    data = load_toml(path)
    for name, values in data.items():
        if name not in _SCHEMA or not isinstance(values, dict):
            raise ConfigError(f"{path}: unknown section [{name}] "
                              f"(known: {', '.join('[' + s + ']' for s in _SCHEMA)})")
        e = section(path, data, name)
        assert e is not None  # present
        for key, value in values.items():
            if key not in _SCHEMA[name]:
                raise e.error(f"unknown setting '{key}' (known: {', '.join(_SCHEMA[name])})")
            kind = _SCHEMA[name][key]
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
                raise e.error(f"{key} has the wrong type ({type(value).__name__})")
            if key in ("timeout_s", "patience_s") and isinstance(value, int | float) \
                    and value <= 0:
                raise e.error(f"{key} must be more than 0 (got {value})")
    llm, voice, session = data.get("llm", {}), data.get("voice", {}), data.get("session", {})
    voice_name = voice.get("name", "piper")
    return Config(
        llm_model=llm.get("model") or None,
        api_base=llm.get("api_base"),
        llm_timeout_s=float(llm.get("timeout_s", 6.0)),
        llm_chooses_move=bool(llm.get("chooses_move", False)),
        voice=None if voice_name == "none" else voice_name,
        output_device=voice.get("output_device"),
        input_device=session.get("input_device"),
        format_id=session.get("format", "conversational"),
        patience_s=session.get("patience_s"),
        recordings=Path(session["recordings"]).expanduser() if "recordings" in session else None,
        path=path,
    )
