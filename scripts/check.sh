#!/usr/bin/env bash
# Every check a change must pass: formatting, lint, types, then all tests (unit and end-to-end in Chromium).
# Extra arguments go to pytest, e.g. `scripts/check.sh -m e2e`.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
