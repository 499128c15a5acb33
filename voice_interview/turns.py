"""Turn manager: a pure state machine over the voice-activity timeline.

Fed one frame at a time (``on_frame(t, speech)``, 32 ms frames), it decides
when the candidate is speaking, pausing or done, and returns the typed events
that happened in that frame. It never looks at a clock: time is the audio
timeline, so the same audio always gives the same events (tests, replay).

A silence inside the answer of at least ``pause_min_s`` is a pause; after
``patience_s`` of silence the turn ends (a thinking pause is not the end of an
answer). ``hold()`` keeps the turn open while the candidate thinks;
``end_turn()`` ends it at once. Budgets are checked against the monologue:
time since the answer's first speech, pauses included.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_interview.audio.sources import BLOCK_S
from voice_interview.events import (
    Event,
    HardBudgetReached,
    MonologueTick,
    PauseEnded,
    PauseStarted,
    SoftBudgetReached,
    SpeechStarted,
    SpeechStopped,
    TurnEnded,
)


@dataclass(frozen=True)
class TurnSettings:
    patience_s: float = 2.5
    pause_min_s: float = 0.25
    long_pause_s: float = 1.0
    soft_budget_s: float | None = 150.0
    hard_budget_s: float | None = 180.0
    tick_s: float = 1.0
    frame_s: float = BLOCK_S


class TurnManager:
    def __init__(self, settings: TurnSettings = TurnSettings()):
        self.s = settings
        self.state = "waiting"  # waiting | speaking | silent | ended
        self.speech_start: float | None = None
        self.last_speech_end: float | None = None
        self.held = False
        self._silence_from: float | None = None  # where the patience count starts
        self._pause_open = False
        self._next_tick: float | None = None
        self._soft_done = False
        self._hard_done = False
        self.now = 0.0

    # -- inputs ----------------------------------------------------------------------

    def on_frame(self, t: float, speech: bool) -> list[Event]:
        if self.state == "ended":
            return []
        end = t + self.s.frame_s
        self.now = end
        events: list[Event] = []
        if speech:
            if self.state == "waiting":
                self.speech_start = t
                events.append(SpeechStarted(t))
            elif self.state == "silent":
                if self._pause_open:
                    assert self.last_speech_end is not None  # set while speaking
                    duration = t - self.last_speech_end
                    events.append(
                        PauseEnded(
                            self.last_speech_end,
                            end=t,
                            duration_s=duration,
                            long=duration >= self.s.long_pause_s,
                        )
                    )
                    self._pause_open = False
                events.append(SpeechStarted(t))
            self.state = "speaking"
            self.last_speech_end = end
            self._silence_from = end
        elif self.state in ("speaking", "silent"):
            assert self.last_speech_end is not None and self._silence_from is not None
            silence = end - self.last_speech_end
            if self.state == "speaking" and silence >= self.s.pause_min_s:
                self.state = "silent"
                events.append(SpeechStopped(self.last_speech_end))
                events.append(PauseStarted(self.last_speech_end))
                self._pause_open = True
            if (
                self.state == "silent"
                and not self.held
                and end - self._silence_from >= self.s.patience_s
            ):
                events.extend(self._end(end, "silence"))
                return events
        events.extend(self._clock(end))
        return events

    def hold(self, on: bool = True) -> None:
        """Candidate is thinking: silence does not end the turn while held."""
        self.held = on
        if not on:  # patience counts again from the release
            self._silence_from = max(self._silence_from or self.now, self.now)

    def end_turn(self, reason: str = "user") -> list[Event]:
        if self.state == "ended":
            return []
        return self._end(self.now, reason)

    # -- derived -----------------------------------------------------------------------

    @property
    def monologue_s(self) -> float:
        if self.speech_start is None:
            return 0.0
        return self.now - self.speech_start

    # -- internals ----------------------------------------------------------------------

    def _clock(self, now: float) -> list[Event]:
        if self.speech_start is None:
            return []
        events: list[Event] = []
        mono = now - self.speech_start
        if self._next_tick is None:
            self._next_tick = self.speech_start + self.s.tick_s
        if now >= self._next_tick:
            events.append(MonologueTick(now, monologue_s=mono, speaking=self.state == "speaking"))
            self._next_tick += self.s.tick_s
        soft, hard = self.s.soft_budget_s, self.s.hard_budget_s
        if soft is not None and not self._soft_done and mono >= soft:
            self._soft_done = True
            events.append(SoftBudgetReached(now, monologue_s=mono))
        if hard is not None and not self._hard_done and mono >= hard:
            self._hard_done = True
            events.append(HardBudgetReached(now, monologue_s=mono))
        return events

    def _end(self, now: float, reason: str) -> list[Event]:
        self.state = "ended"
        mono = (self.last_speech_end or now) - self.speech_start if self.speech_start else 0.0
        return [
            TurnEnded(
                now,
                reason=reason,
                monologue_s=mono,
                speech_start=self.speech_start,
                speech_end=self.last_speech_end,
            )
        ]
