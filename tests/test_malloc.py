"""speech/malloc.py: Whisper's large scratch blocks come from the heap, not fresh mmaps."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli_helpers import ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

# Allocates and frees a 64 MB block and reports glibc's mmapped bytes meanwhile.
PROBE = """
import ctypes, sys
from voice_interview.speech.malloc import keep_working_memory
class MI(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MI
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = (ctypes.c_void_p,)
on = keep_working_memory() if sys.argv[1] == "apply" else False
before = libc.mallinfo2().hblkhd
block = libc.malloc(64 * 2**20)
mapped = libc.mallinfo2().hblkhd - before
libc.free(block)
print(on, mapped >= 64 * 2**20)
"""


def _probe(mode: str, env: dict | None = None) -> str:
    import os

    full = {k: v for k, v in os.environ.items()
            if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")}
    full.update(env or {})
    proc = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_without_the_setting_a_large_block_is_its_own_mmap():
    assert _probe("leave") == "False True"


def test_with_the_setting_a_large_block_comes_from_the_heap():
    assert _probe("apply") == "True False"


def test_the_users_own_malloc_tuning_wins():
    assert _probe("apply", {"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}) == "False True"
    assert _probe("apply", {"MALLOC_ARENA_MAX": "2"}) == "False True"
    assert _probe("apply", {"MALLOC_MMAP_THRESHOLD_": "131072"}) == "False True"
