#!/usr/bin/env bash
# Quick start, part 1: set everything up, then run the main job: a spoken
# practice session. On a machine without a microphone, the demo instead: the
# same session with a sample candidate spoken by the built-in voice.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if .venv/bin/python -c 'from voice_interview.audio.sources import input_devices as d; raise SystemExit(0 if d() else 1)' 2>/dev/null; then
    exec .venv/bin/voice-interview "$@"
fi
echo "No microphone found: running the demo (a sample candidate answers for you)." >&2
exec .venv/bin/voice-interview demo
