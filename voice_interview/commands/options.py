"""Options several commands share, spelled the same everywhere: ``--whisper`` is the
speech-to-text model, ``--llm`` the interviewer's.

An old spelling (``--model``, which meant Whisper in analyze and rescore but the
LLM in practice) still works: ``Deprecated`` stores its value as the new option's
and leaves a one-line notice, which ``cli.main`` prints once the command has
succeeded (so an error is still one line).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any


class Deprecated(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, *, new: str, what: str,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.new = new
        self.what = what

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        note = f"{option_string} for the {self.what} is deprecated; use {self.new}"
        namespace.deprecations = [*deprecations(namespace), note]


def deprecations(args: argparse.Namespace) -> list[str]:
    """The notices the old spellings in ``args`` left."""
    return list(vars(args).get("deprecations") or [])


def add_whisper_argument(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--whisper", metavar="M", help=help)
    p.add_argument("--model", dest="whisper", metavar="M", action=Deprecated,
                   new="--whisper", what="Whisper model", help=argparse.SUPPRESS)
