#!/usr/bin/env bash
# Install the embedded LLM's runtime into a virtualenv: llama-cpp-python[server],
# a local OpenAI-compatible server (python -m llama_cpp.server). PyPI has no
# prebuilt Linux wheel of it (nor of a llama.cpp server package that works
# here), so it compiles from source: ~4 min on 2 cores, once.
# Usage: scripts/install-llm-runtime.sh [VENV]   (default: .venv)
# Idempotent: returns at once when a portable build already imports.
set -euo pipefail

venv="${1:-.venv}"
py="$venv/bin/python"
if [[ ! -x "$py" ]]; then
    echo "no Python at $py: create the venv first (python3 -m venv $venv)" >&2
    exit 1
fi

# find_spec looks without importing. llama_cpp.server's extras: uvicorn, fastapi,
# sse_starlette, starlette_context, pydantic_settings.
installed() {
    "$py" - <<'PY'
import importlib.util, sys
names = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context",
         "pydantic_settings")
sys.exit(any(importlib.util.find_spec(n) is None for n in names))
PY
}

# llama.cpp must be built for any x86-64 with AVX2, not with -march=native: on
# a CPU that reports AMX but whose kernel or hypervisor does not enable it, a
# native build dies with SIGILL (tilezero) on its first completion. The stamp
# marks a portable build; an older native build is replaced.
portable="$venv/.llama-cpp-portable"
if installed && [[ -f "$portable" ]]; then
    exit 0
fi
if [[ ! -f "$portable" ]] && "$py" -m pip show -q llama-cpp-python >/dev/null 2>&1; then
    echo "replacing a native llama-cpp-python build with a portable one"
    "$py" -m pip uninstall -y -q llama-cpp-python
fi
printf '\033[1m==> %s\033[0m\n' "building the embedded LLM's runtime (llama.cpp, portable; first time only, ~4 min on 2 cores)" >&2
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
# --no-cache-dir: a wheel cached from a native build would be reused as is.
CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" "$py" -m pip install -q --no-cache-dir \
    --disable-pip-version-check 'llama-cpp-python[server]>=0.3'
installed || { echo "the install finished but a package is still missing" >&2; exit 1; }
touch "$portable"
