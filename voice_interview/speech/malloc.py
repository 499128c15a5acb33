"""Keep Whisper's working memory in the heap instead of mapping it anew per call.

Every Whisper call (a partial, a final, a 30 s chunk of ``analyze``) needs about
70 MB of scratch memory, whatever the length of the audio: CTranslate2's encoder
attends over the full 30 s window (6 heads x 1500 x 1500 floats for tiny.en).
glibc serves any block over 32 MB with its own ``mmap`` and unmaps it on free,
so the process's RSS rose and fell by ~70 MB with every call, and each call
paid for ~17,000 fresh zeroed pages.

``keep_working_memory()`` tells glibc to serve large blocks from the heap
(``M_MMAP_MAX = 0``) and not to hand freed heap memory back below 256 MB
(``M_TRIM_THRESHOLD``): the scratch memory is reused from call to call, RSS
stays flat over a long session (benchmarks/README.md, soak), and a live
decode is ~15 % faster. The cost is a higher, flat RSS: the scratch stays
resident between calls, and the heap keeps free space between live blocks
(~165 MB over a whole practice session). There is no library for this; it is
two ``mallopt`` calls through ctypes.

Nothing happens off glibc (macOS, musl) or when the user tuned malloc through
the environment (``GLIBC_TUNABLES`` with ``glibc.malloc``, or any ``MALLOC_*``):
their choice wins.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
TRIM_THRESHOLD = 256 * 2**20

_lock = threading.Lock()
_state: bool | None = None  # None: not tried yet


def _user_tuned() -> bool:
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return True
    return any(k.startswith("MALLOC_") for k in os.environ)  # MALLOC_ARENA_MAX, ..._


def keep_working_memory() -> bool:
    """Apply the setting once per process; True when it is in effect."""
    global _state
    with _lock:
        if _state is not None:
            return _state
        _state = False
        if not sys.platform.startswith("linux") or _user_tuned():
            return False
        try:
            libc = ctypes.CDLL(None)
            mallopt = libc.mallopt
            libc.gnu_get_libc_version  # noqa: B018  (glibc only: musl lacks it)
        except (OSError, AttributeError):
            return False
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        mallopt.restype = ctypes.c_int
        _state = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        log.debug("large blocks served from the heap: %s", _state)
        return _state
