#!/usr/bin/env bash
# Kept for old instructions: the LLM runtime is part of the main set-up now
# (scripts/setup.sh runs scripts/install-llm-runtime.sh; litellm and the embedded
# model are core dependencies in pyproject.toml).
# Usage: scripts/install-llm-test-deps.sh [VENV]   (default: .venv)
set -euo pipefail
exec bash "$(dirname "$0")/install-llm-runtime.sh" "${1:-.venv}"
