"""CLI sub-commands. Each module exposes ``register(subparsers)``; cli.py lists them.

A command's handler takes the parsed ``argparse.Namespace`` and returns an exit
code. Heavy imports (Whisper, Piper, litellm, textual) happen inside handlers so
``voice-interview --help`` stays instant.
"""
