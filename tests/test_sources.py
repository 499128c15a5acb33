"""Audio sources: decoding anything FFmpeg reads, block framing, bad files."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from tests.audio_helpers import SR, encode, write_wav16
from voice_interview.audio.sources import (
    BLOCK,
    ArraySource,
    FileSource,
    decode_file,
    probe_file,
)
from voice_interview.errors import AudioFileError


@pytest.fixture(scope="module")
def speech(sentences):
    return np.concatenate(sentences[:2])


@pytest.mark.parametrize(
    "suffix,codec,rate,layout",
    [
        (".wav", "pcm_s16le", 22050, "stereo"),
        (".flac", "flac", 44100, "mono"),
        (".mp3", "mp3", 44100, "stereo"),
        (".ogg", "libopus", 48000, "mono"),
        (".m4a", "aac", 24000, "mono"),
    ],
)
def test_decodes_formats_rates_and_channels(tmp_path, speech, whisper, suffix, codec, rate,
                                            layout):
    from voice_interview.audio.playback import resample

    src = resample(speech, SR, rate)
    path = encode(src, rate, tmp_path / f"a{suffix}", codec, layout)
    duration, native = probe_file(path)
    assert native == rate
    audio = decode_file(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / SR - speech.size / SR) < 0.1  # codec padding only
    # Same content after the round trip: the real model hears the same words.
    text = " ".join(w.word for w in whisper.transcribe(audio)).lower()
    assert "search tool" in text and "forty percent" in text.replace("40%", "forty percent")


def test_file_source_frames_blocks(tmp_path, speech):
    path = write_wav16(tmp_path / "a.wav", speech)
    src = FileSource(path)
    blocks = list(src.blocks())
    assert all(b.shape == (BLOCK,) and b.dtype == np.float32 for b in blocks)
    assert len(blocks) == -(-speech.size // BLOCK)
    assert src.duration_s == pytest.approx(speech.size / SR, abs=1e-3)
    joined = np.concatenate(blocks)[: speech.size]
    assert np.abs(joined - speech).max() < 1e-3  # 16-bit quantisation


def test_realtime_source_is_paced_and_closable(speech):
    one_second = speech[:SR]
    src = ArraySource(one_second, realtime=True)
    t0 = time.monotonic()
    n = sum(1 for _ in src.blocks())
    assert n == -(-SR // BLOCK)
    assert time.monotonic() - t0 >= 0.95  # never faster than real time
    src = ArraySource(speech, realtime=True)
    it = src.blocks()
    next(it)
    src.close()
    assert list(it) == []


@pytest.mark.parametrize(
    "make,needle",
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty"),
        (lambda p: (p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk" * 50), p)[1], "audio"),
        (lambda p: (p.write_text("just some text, not audio\n" * 20), p)[1], "audio"),
        (lambda p: (p.mkdir(), p)[1], "folder"),
    ],
    ids=["missing", "empty", "corrupt-wav", "text", "directory"],
)
def test_bad_files_raise_readable_errors(tmp_path, make, needle):
    path = make(tmp_path / "answer.wav")
    with pytest.raises(AudioFileError) as exc:
        FileSource(path)
    assert needle in str(exc.value).lower() and "answer.wav" in str(exc.value)


def test_truncated_file_keeps_what_is_there(tmp_path, speech):
    full = write_wav16(tmp_path / "full.wav", speech)
    data = full.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    audio = decode_file(cut)
    assert abs(audio.size - speech.size / 2) < SR * 0.05


def _candidate(tmp_path, answers: dict[str, int], fallback: bool = True):
    """A candidate script whose answers are tones told apart by their length."""
    from voice_interview.session.candidate import ScriptedCandidate, write_script

    tmp_path.mkdir(exist_ok=True)

    def wav(name: str, n: int):
        return write_wav16(tmp_path / f"{name}.wav", np.full(n * 160, 0.1, np.float32))

    opening = wav("opening", 5)
    paths = {f: [wav(f"{f}-{k}", 10 + 10 * i + k) for k in range(count)]
             for i, (f, count) in enumerate(answers.items())}
    script = write_script(tmp_path / "s.candidate.json", opening, paths,
                          wav("fallback", 3) if fallback else None)
    return ScriptedCandidate(script)


def test_scripted_candidate_answers_each_probe_from_its_family(tmp_path):
    """The demo's candidate: each probe gets the next answer written for its family,
    then the fallback, never another family's answer (it once gave a decisions answer
    to a second debugging probe)."""
    cand = _candidate(tmp_path, {"decisions": 1, "debugging": 2, "evaluation": 1})
    for family in ("debugging", "debugging", "debugging", "decisions", "ownership"):
        cand.answer(family)
    assert cand.played == ["debugging", "debugging#2", "fallback", "decisions", "fallback"]
    queued = [len(cand._queue.get_nowait()) for _ in cand.played]
    assert queued == [160 * n for n in (20, 21, 3, 10, 3)]  # the files named above
    mute = _candidate(tmp_path / "mute", {"debugging": 1}, fallback=False)
    mute.answer("debugging")
    mute.answer("debugging")  # used up and no fallback: silence, not another answer
    assert mute.played == ["debugging"]
    old = tmp_path / "old.candidate.json"  # one answer per family, as a string
    old.write_text(json.dumps({"opening": str(tmp_path / "opening.wav"),
                               "answers": {"context": str(tmp_path / "debugging-0.wav")}}))
    from voice_interview.session.candidate import ScriptedCandidate

    assert [len(a) for a in ScriptedCandidate(old).answers["context"]] == [20 * 160]


def test_bad_candidate_script_is_one_readable_error(tmp_path):
    from voice_interview.session.candidate import ScriptedCandidate

    bad = tmp_path / "bad.candidate.json"
    bad.write_text('{"opening": "missing.wav", "answers": {}}')
    with pytest.raises(AudioFileError, match="missing.wav: no such file"):
        ScriptedCandidate(bad)
    bad.write_text('{"answers": {}')  # cut short
    with pytest.raises(AudioFileError, match="bad.candidate.json: not a usable candidate script"):
        ScriptedCandidate(bad)


# What a reply must show, as the interviewer reads it, to answer a probe of each family.
_FITS = {"decisions": {"alternative", "reason"}, "debugging": {"failure", "found"},
         "evaluation": {"result", "baseline"}, "reflection": {"reflection"},
         "ownership": {"action", "role"}, "context": {"pain", "purpose", "scene", "role"}}


def test_sample_candidate_has_fitting_answers_for_every_family():
    """Every family the planner can ask has a first and a second prepared answer,
    each read by the interviewer as answering that family, and a fallback."""
    from voice_interview.commands.demo import prepared_answers
    from voice_interview.interviewer import load_probe_families
    from voice_interview.interviewer.planner import analyze_answer
    from voice_interview.resources import data_dir, load_toml
    from voice_interview.session.scoring import question_for

    doc = load_toml(data_dir("prompts") / "sample_answer.toml")
    names = [name for name, _text in prepared_answers(doc)]
    families = set(load_probe_families())
    assert families == set(_FITS)
    for family in families:
        assert family in names and f"{family}-2" in names, family
    assert doc["fallback"].strip()
    question = question_for(doc["question"])
    for name, text in prepared_answers(doc):
        claims = analyze_answer(text, question)["structure"]["claims"]
        kinds = {c["kind"] for c in claims}
        assert kinds & _FITS[name.split("-")[0]], (name, kinds)
