"""The session store: real files, a real SQLite index, real threads."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import threading
import wave

import numpy as np
import pytest

from tests.session_helpers import abandon, feed, scripted_session
from voice_interview.audio.playback import read_wav
from voice_interview.session.files import (
    CANDIDATE_WAV,
    EVENTS,
    FORMAT_VERSION,
    META,
    SAMPLE_RATE,
    SUMMARY,
)
from voice_interview.session.index import MIGRATIONS, SCHEMA_VERSION, Index
from voice_interview.session.store import (
    RecordingError,
    SessionCorrupt,
    SessionFormatError,
    SessionNotFound,
    SessionStore,
    save_analysis,
    shift_analysis,
)

META_DOC = {"question_id": "dd-end-to-end", "question_text": "Walk me through a project.",
            "format_id": "conversational", "started_at": "2025-02-03T10:00:00+00:00",
            "voice": "piper", "llm_model": None}


def ramp(n: int, start: int = 0) -> np.ndarray:
    """Distinct, exactly representable 16-bit values: checks content, not just length."""
    k = np.arange(start, start + n)
    return (((k * 37) % 20000) - 10000).astype(np.float32) / 32767.0


def pcm(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1, 1) * 32767.0).astype("<i2")


@pytest.fixture
def store(tmp_path):
    return SessionStore(tmp_path / "recordings")


def test_round_trip_audio_events_answers_and_privacy(store):
    audio = ramp(SAMPLE_RATE * 3)
    voice = 0.25 * np.ones(8000, dtype=np.float32)
    with store.create(META_DOC) as w:
        w.log_event({"type": "session_started", "t": 0.0})
        feed(w, audio)
        w.write_interviewer(voice, SAMPLE_RATE, 1.5)
        w.add_answer(0, "dd-end-to-end", "Walk me through a project.", "question",
                     {"metrics": {"speech_span_s": 20.0, "word_count": 50, "wpm": 150.0,
                                  "long_pause_count": 2, "filler_count": 3},
                      "structure": {"parts": [{"id": "hook", "covered": True},
                                              {"id": "data", "covered": False}]}})
        w.finish({"reason": "done"})
        sid = w.id
    data = store.open(sid)
    assert data.status == "complete" and data.warnings == ()
    np.testing.assert_array_equal(np.asarray(data.candidate_pcm()), pcm(audio))
    # The interviewer sits at 1.5 s on the same timeline; before it, silence.
    track = np.asarray(data.interviewer_pcm())
    assert track.size == int(1.5 * SAMPLE_RATE) + voice.size
    assert not track[: int(1.5 * SAMPLE_RATE)].any()
    np.testing.assert_array_equal(track[int(1.5 * SAMPLE_RATE):], pcm(voice))
    # Standard WAV files any player opens.
    samples, rate = read_wav(data.path / CANDIDATE_WAV)
    assert rate == SAMPLE_RATE and samples.size == audio.size
    types = [e["type"] for e in data.events]
    assert types == ["session_started", "interviewer_audio"]
    assert data.events[1]["t"] == 1.5
    [info] = store.list()
    assert (info.id, info.status, info.answers, info.wpm, info.long_pauses, info.coverage) == (
        sid, "complete", 1, 150.0, 2, 0.5)
    assert info.audio_s == pytest.approx(3.0)
    # Private: 0700 folders, 0600 files (the index too).
    assert stat.S_IMODE(os.stat(store.root).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data.path).st_mode) == 0o700
    for f in list(data.path.iterdir()) + [store.root / "index.sqlite"]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_an_answer_scored_again_replaces_its_first_score(store):
    """A late polish scores an answer again: its second line in answers.jsonl (and
    its second answer_scored event, if the file is lost) is the answer, once."""
    first = {"metrics": {"speech_span_s": 20.0, "word_count": 50, "wpm": 150.0,
                         "long_pause_count": 2, "filler_count": 3}, "transcript": "rear anchor"}
    again = {"metrics": {"speech_span_s": 20.0, "word_count": 52, "wpm": 156.0,
                         "long_pause_count": 2, "filler_count": 1}, "transcript": "re-ranker"}
    with store.create(META_DOC) as w:
        for k, analysis in ((0, first), (1, first), (0, again)):
            w.log_event({"type": "answer_scored", "t": 1.0 + k, "answer_index": k,
                         "question_id": "dd-end-to-end", "analysis": analysis})
            w.add_answer(k, "dd-end-to-end", "Walk me through a project.",
                         "question" if k == 0 else "probe", analysis)
        w.finish({"reason": "done"})
        sid = w.id
    data = store.open(sid)
    assert [a["index"] for a in data.answers] == [0, 1]
    assert data.answers[0]["analysis"]["transcript"] == "re-ranker"
    [info] = store.list()
    assert info.answers == 2
    (data.path / "answers.jsonl").unlink()  # lost: rebuilt from the events, same answer
    data = store.open(sid)
    assert [a["index"] for a in data.answers] == [0, 1]
    assert data.answers[0]["analysis"]["transcript"] == "re-ranker"


def test_candidate_timestamps_keep_audio_aligned(store):
    w = store.create(META_DOC)
    block = np.full(512, 0.5, dtype=np.float32)
    w.write_candidate(block, t=0.0)
    w.write_candidate(block, t=1.0)  # blocks were dropped: a silent gap
    w.write_candidate(block, t=1.0 + 256 / SAMPLE_RATE)  # overlaps half the last block
    w.finish({})
    track = np.asarray(store.open(w.id).candidate_pcm())
    assert track.size == SAMPLE_RATE + 512 + 256
    assert track[:512].all() and not track[512:SAMPLE_RATE].any()
    assert track[SAMPLE_RATE:].all()


def test_events_from_many_threads_are_whole_lines(store):
    w = store.create(META_DOC)

    def spam(k: int) -> None:
        for i in range(200):
            w.log_event({"type": "tick", "t": i / 10, "thread": k, "i": i, "pad": "x" * 300})

    threads = [threading.Thread(target=spam, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.finish({})
    data = store.open(w.id)
    assert data.warnings == ()
    seen = {(e["thread"], e["i"]) for e in data.events if e["type"] == "tick"}
    assert len(seen) == 800


def test_open_by_prefix_path_and_last_and_clear_errors(store, tmp_path):
    a = scripted_session(store, started_at="2025-01-02T09:30:00+00:00")
    b = scripted_session(store, started_at="2025-01-03T09:30:00+00:00")
    assert store.open("last").id == b
    assert store.open(a[:9]).id == a
    assert store.open(str(store.root / b)).id == b
    with pytest.raises(SessionNotFound, match="matches 2 sessions"):
        store.open("2025")
    with pytest.raises(SessionNotFound, match="no session 'nope'"):
        store.open("nope")
    with pytest.raises(SessionNotFound, match="no such session folder"):
        store.open(str(tmp_path / "elsewhere"))
    # A deleted folder: listed as missing, and opening it says so.
    import shutil

    shutil.rmtree(store.root / a)
    store.repair_interrupted()
    assert {i.id: i.status for i in store.list()}[a] == "missing"
    with pytest.raises(SessionNotFound, match="folder .* is missing"):
        store.open(a)
    empty = SessionStore(tmp_path / "empty")
    with pytest.raises(SessionNotFound, match="no recorded sessions yet"):
        empty.open(None)


def test_corrupt_and_newer_sessions_are_refused_clearly(store):
    sid = scripted_session(store)
    meta_path = store.root / sid / META
    good = meta_path.read_text()
    meta_path.write_text(good[: len(good) // 2])
    with pytest.raises(SessionCorrupt, match="damaged"):
        store.open(sid)
    doc = json.loads(good)
    doc["format"] = FORMAT_VERSION + 1
    meta_path.write_text(json.dumps(doc))
    with pytest.raises(SessionFormatError, match="newer voice-interview") as err:
        store.open(sid)
    assert f"format {FORMAT_VERSION + 1}" in str(err.value)
    meta_path.unlink()
    with pytest.raises(SessionCorrupt, match="not a voice-interview session"):
        store.open(sid)


def test_torn_event_line_and_truncated_audio_are_survived_then_repaired(store):
    w = scripted_session(store, finish=False)
    abandon(w)
    sid, folder = w.id, w.path
    frames = (folder / CANDIDATE_WAV).stat().st_size
    events_before = (folder / EVENTS).read_text().count("\n")
    # As if the writer died mid-line and mid-sample: tear the files by hand.
    with open(folder / EVENTS, "ab") as fh:
        fh.write(b'{"type":"transcript_final","t":3.1,"te')
    with open(folder / CANDIDATE_WAV, "ab") as fh:
        fh.write(b"\x01")  # half a sample

    data = store.open(sid)  # readable before any repair
    assert data.status == "interrupted"
    assert any("cut off" in x for x in data.warnings)
    assert len(data.events) == events_before
    assert store.repair_interrupted() == [sid]
    data = store.open(sid)
    assert data.status == "interrupted" and data.warnings == ()
    assert (folder / EVENTS).read_bytes().endswith(b"\n")
    assert (folder / CANDIDATE_WAV).stat().st_size == frames  # the half sample is gone
    with wave.open(str(folder / CANDIDATE_WAV)) as wf:  # header agrees with the data
        assert wf.getnframes() == (frames - 44) // 2
    summary = json.loads((folder / SUMMARY).read_text())
    assert summary["status"] == "interrupted"
    assert any("torn" in r for r in summary["repairs"])
    assert {i.id: i.status for i in store.list()}[sid] == "interrupted"
    assert store.repair_interrupted() == []  # nothing left to do


def test_truncated_audio_file_reads_what_is_there(store):
    sid = scripted_session(store)
    path = store.root / sid / CANDIDATE_WAV
    full = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(44 + (full - 44) // 2)
    data = store.open(sid)
    assert data.candidate_frames == (full - 44) // 4
    assert any("header says" in x for x in data.warnings)
    assert data.candidate_audio().size == data.candidate_frames


def test_live_session_is_left_alone_by_repair(store):
    w = store.create(META_DOC)
    feed(w, ramp(8000))
    w.flush()
    other = SessionStore(store.root)  # as another command would see it
    assert other.repair_interrupted() == []
    assert other.open(w.id).status == "recording"
    assert not (w.path / SUMMARY).exists()
    w.finish({})
    assert other.open(w.id).status == "complete"


def test_context_manager_aborts_on_error(store):
    with pytest.raises(ValueError), store.create(META_DOC) as w:
        feed(w, ramp(4000))
        raise ValueError("the microphone vanished")
    data = store.open(w.id)
    assert data.status == "aborted"
    assert data.summary["reason"] == "the microphone vanished"
    assert data.events[-1]["type"] == "session_aborted"
    assert data.candidate_frames == 4000


class FullDisk:
    """FAULT INJECTION: the disk "fills up" after ``room`` bytes of candidate audio."""

    def __init__(self, room: int) -> None:
        self.room = room

    def __call__(self, name: str, nbytes: int) -> None:
        if name == CANDIDATE_WAV and nbytes > 44:
            if nbytes > self.room:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.room -= nbytes


def test_full_disk_stops_cleanly_and_keeps_what_was_captured(store):
    w = store.create(META_DOC, fault_hook=FullDisk(room=2 * SAMPLE_RATE * 2))  # 2 s fit
    audio = ramp(SAMPLE_RATE * 4)
    written = 0
    with pytest.raises(RecordingError, match="disk is full") as err:
        for i in range(0, audio.size, 512):
            w.write_candidate(audio[i:i + 512])
            written = i + 512
            if i % 8192 == 0:
                w.flush()
    assert err.value.exit_code == 9
    with pytest.raises(RecordingError):
        w.log_event({"type": "late"})
    w.finish({"reason": "disk full"})
    data = store.open(w.id)
    assert data.status == "disk_full"
    kept = np.asarray(data.candidate_pcm())
    assert 0 < kept.size <= 2 * SAMPLE_RATE < written
    np.testing.assert_array_equal(kept, pcm(audio[: kept.size]))  # playable prefix
    samples, _ = read_wav(data.path / CANDIDATE_WAV)
    assert samples.size == kept.size
    assert "disk is full" in data.summary["error"]
    assert {i.id: i.status for i in store.list()}[w.id] == "disk_full"


def test_full_disk_at_the_start_is_a_clear_error_and_leaves_nothing_listed(store):
    def no_room(name: str, nbytes: int) -> None:  # FAULT INJECTION: nothing fits
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(RecordingError, match="disk is full"):
        store.create(META_DOC, fault_hook=no_room)
    assert store.repair_interrupted() == [] and store.list() == []


def test_index_migrates_old_versions_and_refuses_newer(tmp_path):
    path = tmp_path / "index.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.execute("INSERT INTO sessions (id, path, started_at, status) "
                 "VALUES ('s1', '/x', '2025-01-01', 'complete')")
    conn.commit()
    conn.close()
    index = Index(path)
    assert index.version() == SCHEMA_VERSION > 1
    [row] = index.sessions()
    assert row["id"] == "s1" and row["wpm"] is None
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(SessionFormatError, match="newer voice-interview"):
        Index(path).sessions()


def test_damaged_or_lost_index_is_rebuilt_from_the_folders(store):
    ids = {scripted_session(store, started_at=f"2025-01-0{d}T09:00:00+00:00") for d in (1, 2)}
    (store.root / "index.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (store.root / f"index.sqlite{suffix}").unlink(missing_ok=True)
    fresh = SessionStore(store.root)
    fresh.repair_interrupted()
    assert {i.id for i in fresh.list()} == ids
    assert all(i.answers == 2 and i.wpm for i in fresh.list())
    assert list(store.root.glob("index.sqlite.damaged-*"))


def test_shift_analysis_moves_every_time():
    from voice_interview.analysis import measure_answer
    from voice_interview.audio.vad import Segment

    # The layout analyze writes (pauses and windows come with metrics, in full).
    metrics = measure_answer([{"word": "a", "start": 1.0, "end": 1.2}],
                             [Segment(0.9, 2.0)]).to_json()["metrics"]
    doc = {"audio": {"duration_s": 10.0}, "words": [{"word": "a", "start": 1.0, "end": 1.2}],
           "speech_segments": [{"start": 0.9, "end": 2.0}], "metrics": metrics,
           "pauses": [{"start": 2.0, "end": 3.0, "duration_s": 1.0, "long": True,
                       "mid_sentence": False}],
           "windows": [{"start": 0.9, "end": 9.0, "word_count": 1, "wpm": 6.7,
                        "pause_count": 1}],
           "structure": {"parts": [{"id": "hook", "start": 1.0}, {"id": "x", "start": None}]}}
    out = shift_analysis(doc, 5.0)
    assert out["words"][0]["start"] == 6.0 and out["speech_segments"][0]["end"] == 7.0
    assert out["pauses"][0]["start"] == 7.0 and out["windows"][0]["end"] == 14.0
    assert out["structure"]["parts"][0]["start"] == 6.0
    assert out["structure"]["parts"][1]["start"] is None
    assert out["span"] == {"start": 5.0, "end": 15.0}
    assert doc["words"][0]["start"] == 1.0  # the original is untouched


@pytest.mark.slow
def test_save_analysis_imports_an_outside_recording(store, tmp_path, sentences, whisper):
    from tests.audio_helpers import join_clips, write_wav16
    from voice_interview.analysis import analyze_file
    from voice_interview.session.scoring import interviewer_view, question_for

    joined = join_clips(sentences[:3], [0.5, 1.5], words=30)
    path = write_wav16(tmp_path / "answer.wav", joined.samples)
    result = analyze_file(path, whisper)
    question = question_for(None)
    result.extra.update(interviewer_view(result.words, question))
    sid = save_analysis(path, result, question, store=store)
    data = store.open(sid)
    assert data.status == "complete" and data.meta["source"] == "imported"
    assert data.candidate_frames == joined.samples.size
    [answer] = data.answers
    assert answer["analysis"]["transcript"] == result.transcript
    assert answer["analysis"]["structure"]["rubric"] == question.rubric
    [info] = store.list()
    assert info.wpm == pytest.approx(result.metrics.wpm, rel=0.01)
    assert info.long_pauses == result.metrics.long_pause_count >= 1
