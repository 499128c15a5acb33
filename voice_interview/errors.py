"""Typed errors. Each carries a one-line message meant for the user.

They are raised deep in the engine and turned into words only at the edge
(the CLI prints ``str(err)`` and exits with ``err.exit_code``; the TUI shows a
notification or a modal). No traceback reaches a user.
"""

from __future__ import annotations


class VoiceInterviewError(Exception):
    """Base class: ``str(err)`` is a complete, readable sentence for the user."""

    exit_code = 1


class UsageError(VoiceInterviewError):
    exit_code = 2


class AudioFileError(VoiceInterviewError):
    """A file that is missing, unreadable, corrupt or empty."""

    exit_code = 3


class AudioDeviceError(VoiceInterviewError):
    """No microphone/speaker, or the device failed."""

    exit_code = 4


class ModelError(VoiceInterviewError):
    """A speech model that cannot be found or loaded."""

    exit_code = 5


class ConfigError(VoiceInterviewError):
    """A malformed config, prompts/ or rubrics/ file; names the file and line."""

    exit_code = 6


class LLMError(VoiceInterviewError):
    """The configured LLM failed; the offline planner takes over."""

    exit_code = 7


class VoiceError(VoiceInterviewError):
    """Text-to-speech failed or the voice is unknown."""

    exit_code = 8
