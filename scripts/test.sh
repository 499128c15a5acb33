#!/usr/bin/env bash
# Quick start, part 2: set everything up (test extras included), then run
# ruff, the import contract, mypy and the whole test suite with the real model,
# voice, audio path and LLM server. Extra arguments go to pytest (e.g. scripts/test.sh -k vad).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
echo "==> ruff" >&2
.venv/bin/ruff check .
echo "==> import contract" >&2
.venv/bin/lint-imports --no-cache
echo "==> type check" >&2
.venv/bin/mypy
echo "==> pytest" >&2
exec .venv/bin/python -m pytest -p no:cacheprovider -ra "$@"
