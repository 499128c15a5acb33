"""``voice-interview devices``: list microphones and speakers."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "devices",
        help="list audio input and output devices",
        description="List the microphones and speakers PortAudio can see.",
    )
    p.set_defaults(handler=run)


def run(args) -> int:
    from voice_interview.audio.sources import input_devices, output_devices

    ins, outs = input_devices(), output_devices()
    if not ins and not outs:
        print(
            "No audio devices found: no microphone and no speaker. "
            "You can still use 'voice-interview analyze FILE' and "
            "'voice-interview say TEXT --out FILE.wav'."
        )
        return 1
    for title, devs, key in (("Input", ins, "max_input_channels"),
                             ("Output", outs, "max_output_channels")):
        print(f"{title} devices:" if devs else f"{title} devices: none")
        for d in devs:
            print(f"  [{d['index']}] {d['name']}  ({d[key]} ch, "
                  f"{int(d['default_samplerate'])} Hz)")
    return 0
