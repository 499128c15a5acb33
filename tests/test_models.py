"""The Whisper base model joined from its two installed chunk packages, offline."""

from __future__ import annotations

import json

import pytest

from tests.audio_helpers import shared_clip
from tests.cli_helpers import run_cli
from voice_interview.speech.models import BASE_SIZE, base_model_dir, check_join

pytestmark = pytest.mark.slow


def test_analyze_with_base_offline_and_an_empty_hugging_face_cache(tmp_path):
    hf = tmp_path / "hf"
    hf.mkdir()
    proc = run_cli("analyze", str(shared_clip("spk1_snt2.wav")), "--model", "base", "--json",
                   home=tmp_path / "home",
                   env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(hf), "HF_HUB_CACHE": str(hf)})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    text = doc["transcript"].lower()
    assert "drop the two" in text and "figures" in text, text
    assert list(hf.iterdir()) == []  # nothing was fetched into the cache
    joined = tmp_path / "home" / "data" / "models" / "whisper-base" / "model.bin"
    assert joined.stat().st_size == BASE_SIZE


def test_a_truncated_or_corrupted_join_is_rebuilt_and_reported(tmp_path):
    target = tmp_path / "whisper-base"
    lines: list[str] = []
    base_model_dir(target, report=lines.append)
    assert lines == []  # the first join is not a repair
    model_bin = target / "model.bin"
    assert check_join(model_bin) is None

    with open(model_bin, "r+b") as f:  # a truncated join (an interrupted copy)
        f.truncate(BASE_SIZE // 3)
    assert "truncated" in check_join(model_bin)
    base_model_dir(target, report=lines.append)
    assert check_join(model_bin) is None
    assert len(lines) == 1 and "truncated" in lines[0] and "rebuilt" in lines[0], lines

    with open(model_bin, "r+b") as f:  # same size, one byte flipped
        f.seek(BASE_SIZE // 2)
        byte = f.read(1)
        f.seek(BASE_SIZE // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert "corrupted" in check_join(model_bin)
    base_model_dir(target, report=lines.append)
    assert check_join(model_bin) is None
    assert len(lines) == 2 and "corrupted" in lines[1] and "\n" not in lines[1], lines
