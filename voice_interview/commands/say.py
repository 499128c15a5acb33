"""``voice-interview say TEXT``: speak text with a voice, or write it to a WAV file."""

from __future__ import annotations

from voice_interview.errors import AudioDeviceError, UsageError


def register(sub) -> None:
    from voice_interview.speech import DEFAULT_VOICE, VOICE_NAMES

    p = sub.add_parser(
        "say",
        help="speak text with the interviewer's voice (or write it to a WAV file)",
        description=(
            "Speak TEXT with a local voice. With --out the speech is written to a "
            "16-bit WAV file instead, which needs no sound device."
        ),
    )
    p.add_argument("text", nargs="+", help="the text to speak")
    p.add_argument(
        "--voice",
        default=DEFAULT_VOICE,
        help=f"voice to use: {' or '.join(VOICE_NAMES)} (default: {DEFAULT_VOICE})",
    )
    p.add_argument("--out", metavar="FILE.wav", help="write the speech to this WAV file")
    p.add_argument(
        "--device",
        metavar="NAME",
        help="output device: index or part of its name (see 'voice-interview devices')",
    )
    p.set_defaults(handler=run)


def run(args) -> int:
    from voice_interview.audio.playback import Player, write_wav
    from voice_interview.speech.voices import get_voice

    text = " ".join(args.text).strip()
    if not text:
        raise UsageError("nothing to say: give some text, e.g. voice-interview say \"Hello\"")
    if args.out and args.device:
        raise UsageError("--out and --device do not go together: choose a file or a device")

    if args.out:
        voice = get_voice(args.voice)
        try:
            audio = voice.synthesize(text)
        finally:
            voice.close()
        path = write_wav(args.out, audio, voice.sample_rate)
        print(f"wrote {path} ({len(audio) / voice.sample_rate:.1f} s)")
        return 0

    player = Player(args.device)
    try:
        player.check_device()  # fail fast, before loading a voice
    except AudioDeviceError as exc:
        raise AudioDeviceError(f"{exc}; use --out FILE.wav to write the speech to a file") \
            from None
    voice = get_voice(args.voice)
    try:
        player.play(voice.stream(text), voice.sample_rate)
    except KeyboardInterrupt:
        player.stop()
        raise
    finally:
        voice.close()
    return 0
