"""Reading the TOML data files (prompts/, rubrics/, the user's config), entry by entry.

Every problem becomes a ``ConfigError`` naming the file, the line of the entry
and the entry itself. One helper for every loader: the question and probe
banks (interviewer/banks.py), the structure rubrics and claims
(interviewer/rubricset.py, claims.py), the pacing rubric (pacing.py) and the
user's config.toml (config.py). It sits below them all (it needs only errors.py),
so no loader imports another to read its file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from voice_interview.errors import ConfigError

_ID = re.compile(r"^[a-z][a-z0-9_-]*$")


# ---------------------------------------------------------------------------
# Validation helpers


def header_lines(path: Path, table: str) -> list[int]:
    """Line numbers of each ``[[table]]`` header, in file order."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    pattern = re.compile(r"^[ \t]*\[\[[ \t]*" + re.escape(table) + r"[ \t]*\]\]", re.MULTILINE)
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]


def table_line(path: Path, table: str) -> int | None:
    """Line number of a ``[table]`` header, or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.search(r"^[ \t]*\[[ \t]*" + re.escape(table) + r"[ \t]*\]", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


def choices_text(values: Iterable[str]) -> str:
    return ", ".join(values)


class Entry:
    """One table of a data file, read field by field.

    Every problem becomes a ``ConfigError`` that names the file, the line and
    the entry (by id when it has one, else by position).
    """

    def __init__(self, path: Path, kind: str, index: int, line: int | None, raw: Any):
        self.path = path
        self.line = line
        self.label = f"{kind} #{index + 1}"
        if not isinstance(raw, dict):
            raise self.error(f"must be a table, not {type(raw).__name__}")
        self.raw: dict[str, Any] = raw
        ident = raw.get("id")
        if isinstance(ident, str) and ident:
            self.label = f"{kind} '{ident}'"

    def error(self, message: str) -> ConfigError:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return ConfigError(f"{where}: {self.label}: {message}")

    def allow(self, keys: Iterable[str]) -> None:
        keys = tuple(keys)
        unknown = sorted(set(self.raw) - set(keys))
        if unknown:
            raise self.error(f"unknown field '{unknown[0]}' (expected: {choices_text(keys)})")

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.raw and required:
            raise self.error(f"missing field '{key}'")
        return self.raw.get(key)

    def text(self, key: str, *, required: bool = True, choices: Iterable[str] | None = None,
             ident: bool = False) -> Any:
        """A non-empty string (None when optional and absent)."""
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"'{key}' must be non-empty text")
        value = value.strip()
        if ident and not _ID.match(value):
            raise self.error(f"'{key}' = '{value}' is not a valid id "
                             "(lower-case letters, digits, '-' or '_')")
        if choices is not None:
            choices = tuple(choices)
            if value not in choices:
                raise self.error(f"unknown {key} '{value}' (expected one of: "
                                 f"{choices_text(choices)})")
        return value

    def integer(self, key: str, lo: int, hi: int, *, required: bool = True) -> Any:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.error(f"'{key}' must be a whole number from {lo} to {hi}")
        return value

    def number(self, key: str, *, required: bool = True, lo: float = 0.0,
               strict: bool = True) -> Any:
        """A number above ``lo`` (or at least ``lo`` when not ``strict``)."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"'{key}' must be a number")
        if value < lo or (strict and value == lo):
            raise self.error(f"'{key}' must be {'greater than' if strict else 'at least'} "
                             f"{lo:g}")
        return float(value)

    def texts(self, key: str, *, required: bool = True, choices: Iterable[str] | None = None,
              nonempty: bool = True) -> tuple[str, ...]:
        """A list of non-empty strings (empty tuple when optional and absent)."""
        value = self._get(key, required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            raise self.error(f"'{key}' must be a list of non-empty text")
        if nonempty and not value:
            raise self.error(f"'{key}' must not be empty")
        items = tuple(v.strip() for v in value)
        if choices is not None:
            choices = tuple(choices)
            for item in items:
                if item not in choices:
                    raise self.error(f"unknown {key} entry '{item}' (expected one of: "
                                     f"{choices_text(choices)})")
        return items

    def span(self, key: str, *, required: bool = True, unit: str = "seconds") -> Any:
        """``[min, max]`` with 0 < min <= max, as a tuple."""
        value = self._get(key, required)
        if value is None:
            return None
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            and 0 < value[0] <= value[1]
        )
        if not ok:
            raise self.error(f"'{key}' must be [min, max] {unit} with 0 < min <= max")
        return (float(value[0]), float(value[1]))


def section(path: Path, data: dict, name: str, *, missing: str = "needs a [{name}] table",
            required: bool = True) -> Entry | None:
    """The ``[name]`` table of a parsed file as an ``Entry`` labelled ``[name]``
    (None when optional and absent)."""
    raw = data.get(name)
    if raw is None and not required:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {missing.format(name=name)}")
    e = Entry(path, name, 0, table_line(path, name), raw)
    e.label = f"[{name}]"
    return e




def entries(path: Path, data: dict, key: str, table: str | None = None,
            kind: str | None = None) -> list[Entry]:
    """The ``[[key]]`` tables of a parsed file, each wrapped in an ``Entry``."""
    raw = data.get(key)
    if raw is None:
        raise ConfigError(f"{path}: no [[{table or key}]] entries")
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: '{key}' must be a list of [[{table or key}]] tables")
    lines = header_lines(path, table or key)
    return [
        Entry(path, kind or key, i, lines[i] if i < len(lines) else None, item)
        for i, item in enumerate(raw)
    ]


def check_unique(items: Iterable[Entry], field_name: str = "id") -> None:
    seen: dict[Any, Entry] = {}
    for item in items:
        value = item.raw.get(field_name)
        if value in seen:
            first = seen[value]
            raise item.error(f"duplicate {field_name} '{value}' (first at line {first.line})")
        seen[value] = item


def check_cues(e: Entry, key: str, cues: Iterable[str]) -> None:
    """Cue phrases are lower case, with "*" only at the end of a word."""
    for cue in cues:
        words = cue.split()
        if cue != cue.lower() or any(w == "*" or "*" in w[:-1] for w in words):
            raise e.error(f"{key} entry '{cue}': use lower case, with '*' only at the end "
                          "of a word")
