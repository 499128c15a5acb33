"""Making an interrupted session folder whole again (the store's ``repair_interrupted``).

After ``kill -9`` or a power cut the WAV headers may lag the data by one flush and
the logs may end in a torn line; ``repair_folder`` fixes both from what is on disk.
"""

from __future__ import annotations

from pathlib import Path

from voice_interview.session.files import (
    ANSWERS,
    CANDIDATE_WAV,
    EVENTS,
    INTERVIEWER_WAV,
    SAMPLE_RATE,
    WAV_HEADER_BYTES,
    SessionCorrupt,
    fix_wav_header,
    read_wav_info,
)

# ----------------------------------------------------------------------------- repair


def drop_torn_tail(path: Path) -> bool:
    """Cut a JSON-lines file after its last newline; True if something was cut."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size == 0:
        return False
    with open(path, "r+b") as fh:
        fh.seek(max(0, size - 65536))
        tail = fh.read()
        if tail.endswith(b"\n"):
            return False
        cut = tail.rfind(b"\n")
        if cut < 0 and size > 65536:  # one enormous torn line: scan back further
            fh.seek(0)
            cut = fh.read().rfind(b"\n")
            keep = cut + 1
        else:
            keep = size - len(tail) + cut + 1
        fh.truncate(keep)
    return True


def repair_folder(folder: Path) -> list[str]:
    """Make an interrupted session whole again; returns what was done (for the summary)."""
    done: list[str] = []
    for name in (CANDIDATE_WAV, INTERVIEWER_WAV):
        path = folder / name
        if not path.exists():
            continue
        before = path.stat().st_size
        try:
            info = read_wav_info(path) if before >= WAV_HEADER_BYTES else None
        except SessionCorrupt:
            done.append(f"{name}: header unreadable; left as is")
            continue
        frames = fix_wav_header(path)
        if info is None or info[1] != frames or before != WAV_HEADER_BYTES + 2 * frames:
            done.append(f"{name}: header fixed ({frames / SAMPLE_RATE:.2f} s)")
    for name in (EVENTS, ANSWERS):
        if drop_torn_tail(folder / name):
            done.append(f"{name}: torn last line dropped")
    return done
