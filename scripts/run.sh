#!/usr/bin/env bash
# Quick start, part 1: set everything up, then run the main job.
# With a microphone: a practice session. Without one: the demo (the whole
# pipeline on a sample answer spoken by the built-in voice).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/voice-interview demo "$@"
