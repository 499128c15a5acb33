"""Where the project's data files live (prompts/, rubrics/).

In a checkout they sit at the top of the repository, beside the package; a
built wheel carries copies inside the package (``voice_interview/_data/``, put
there by setup.py's build step). ``VOICE_INTERVIEW_DATA`` points elsewhere (a
user's own banks).
"""

from __future__ import annotations

import os
from pathlib import Path

from voice_interview.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent
_PACKAGED = _PACKAGE / "_data"  # an installed wheel
_REPO_ROOT = _PACKAGE.parent  # a checkout


def data_root() -> Path:
    env = os.environ.get("VOICE_INTERVIEW_DATA")
    if env:
        return Path(env)
    return _PACKAGED if (_PACKAGED / "prompts").is_dir() else _REPO_ROOT


def data_dir(name: str) -> Path:
    """Return ``prompts`` or ``rubrics`` directory, or raise a readable error."""
    path = data_root() / name
    if not path.is_dir():
        raise ConfigError(
            f"data folder {path} is missing; set VOICE_INTERVIEW_DATA to the folder "
            f"that holds prompts/ and rubrics/"
        )
    return path


def load_toml(path: Path) -> dict:
    """Parse a TOML data file; a syntax error names the file and the line."""
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line N, column M)".
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
