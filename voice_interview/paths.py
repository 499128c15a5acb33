"""Where voice-interview keeps its files.

Config and data live in the platform's user directories
(e.g. ~/.config/voice-interview, ~/.local/share/voice-interview). Setting
``VOICE_INTERVIEW_HOME`` moves all of them under one folder (tests, portable use).
"""

from __future__ import annotations

import os
from pathlib import Path

from voice_interview.errors import ConfigError

APP = "voice-interview"


def _home() -> Path | None:
    env = os.environ.get("VOICE_INTERVIEW_HOME")
    return Path(env).expanduser() if env else None


def _ensure(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror or exc}") from None
    return path


def config_dir() -> Path:
    import platformdirs

    home = _home()
    return _ensure(home / "config" if home else Path(platformdirs.user_config_dir(APP)))


def data_home() -> Path:
    import platformdirs

    home = _home()
    return _ensure(home / "data" if home else Path(platformdirs.user_data_dir(APP)))


def cache_dir() -> Path:
    import platformdirs

    home = _home()
    return _ensure(home / "cache" if home else Path(platformdirs.user_cache_dir(APP)))
