"""The terminal while the TUI runs: native libraries' writes to fd 2 go to a log."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from voice_interview.errors import VoiceInterviewError


def _open_log(path: Path | None) -> tuple[int, Path] | None:
    try:
        if path is None:
            from voice_interview.paths import cache_dir

            path = cache_dir() / "practice.log"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        return os.open(path, flags, 0o600), path
    except (OSError, VoiceInterviewError):
        return None


@contextlib.contextmanager
def terminal_guard(log_path: Path | None = None) -> Iterator[Path | None]:
    """Keep C libraries from writing over the screen while the TUI runs.

    PortAudio/ALSA (e.g. when a microphone disappears), onnxruntime and
    CTranslate2 write straight to file descriptor 2, which is also where Textual
    draws. Inside this block fd 2 goes to a log file (with the package's Python
    warnings), and Textual draws on its own handle to the terminal. Yields the
    log's path, or None where nothing was redirected (not a terminal, no POSIX).
    """
    opened = _open_log(log_path) if os.name == "posix" and os.isatty(2) else None
    if opened is None:
        yield None
        return
    log_fd, path = opened
    saved_fd = os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package_log = logging.getLogger("voice_interview")
    package_log.addHandler(handler)
    original = sys.__stderr__
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.__stderr__ = terminal  # type: ignore[misc]  # Textual's driver draws on it
    try:
        yield path
    finally:
        sys.__stderr__ = original  # type: ignore[misc]
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        package_log.removeHandler(handler)
        handler.close()
        terminal.close()
