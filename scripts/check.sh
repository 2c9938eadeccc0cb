#!/usr/bin/env bash
# Every check a change must pass: formatting, lint, types (Python and JavaScript), the JavaScript unit tests, then all
# Python tests (unit and end-to-end in Chromium).
# Extra arguments go to pytest, e.g. `scripts/check.sh -m e2e`.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/mypy
# The browser code: types from its JSDoc (strict outside the page modules), lint, unit tests of its logic.
node_modules/.bin/tsc -p tsconfig.json
node_modules/.bin/tsc -p tsconfig.page.json
node_modules/.bin/eslint .
node --test tests/js/
# Browser tests run as a session of their own (see tests/conftest.py). Exit code 5 means a filter left a run
# without tests, which is fine when the other run has them.
status=0
.venv/bin/python -m pytest -m "not e2e" "$@" || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 5 ] || exit "$status"
e2e_status=0
.venv/bin/python -m pytest -m e2e "$@" || e2e_status=$?
[ "$e2e_status" -eq 0 ] || [ "$e2e_status" -eq 5 ] || exit "$e2e_status"
if [ "$status" -eq 5 ] && [ "$e2e_status" -eq 5 ]; then
  echo "check: no test matched" >&2
  exit 5
fi
