#!/usr/bin/env bash
# Sets up everything Satchel needs on a fresh Debian machine, and does nothing when it is already set up:
# Debian packages (Chromium for the browser tests, cairo for icon rendering), the project virtualenv in .venv/
# from requirements.lock, and the browser dependencies in node_modules/ from package-lock.json. pip's and npm's
# caches live in the per-user cache that every clone shares (satchel/user_cache.py: $SATCHEL_CACHE, else
# $XDG_CACHE_HOME/satchel, else ~/.cache/satchel), so a new clone reuses the compiled llama-cpp-python wheel and
# every download; a second run in the same clone is a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium fonts-liberation libcairo2 nodejs)
APT_PACKAGES+=(emscripten binaryen ninja-build cmake g++)  # wasm: satchel wasm builds the C++ MCP servers
APT_PACKAGES+=(cmake g++ espeak-ng sox)  # models: whisper.cpp quantiser build, spoken test audio
APT_PACKAGES+=(nginx caddy)  # bundle: the generated web-server configs are tested with the real servers
APT_PACKAGES+=(clang-14 libclang-rt-14-dev)  # reliability: libFuzzer + ASan/UBSan over the C++ MCP core

log() { printf 'setup: %s\n' "$*"; }

user_cache="${SATCHEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/satchel}"
export PIP_CACHE_DIR="$user_cache/pip" PIP_DISABLE_PIP_VERSION_CHECK=1

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ! command -v npm >/dev/null; then missing+=(npm); fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# A stamp holds the hash of the files an install step depends on; the step runs again only when they change.
stamp_matches() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

python_inputs=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
if ! stamp_matches .venv/.setup-stamp "$python_inputs"; then
  log "installing Python packages into .venv"
  # llama-cpp-python compiles once (~11 min), then pip reuses the cached wheel. GGML_NATIVE=OFF gives ggml's
  # x86-64-v3 default kernels, the baseline our native servers are pinned to (satchel/wasm/native.py).
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
  # (this machine's pip.conf names an optional local index that may be absent: drop pip's warnings about it)
  .venv/bin/python -m pip install -q -r requirements.lock 2> >(grep -v "is ignored: it is neither" >&2)
  .venv/bin/python -m pip install -q --no-deps -e . 2> >(grep -v "is ignored: it is neither" >&2)
  echo "$python_inputs" > .venv/.setup-stamp
fi

node_inputs=$(sha256sum package-lock.json | cut -d' ' -f1)
if ! stamp_matches node_modules/.setup-stamp "$node_inputs"; then
  log "installing browser dependencies into node_modules"
  npm ci --cache "$user_cache/npm" --no-audit --no-fund --loglevel=error
  echo "$node_inputs" > node_modules/.setup-stamp
fi
# Pure-Python wheels for the browser's Python (Pyodide), pinned with their sha256; `satchel build` serves them.
pyodide_inputs=$(sha256sum requirements-pyodide.lock | cut -d' ' -f1)
if ! stamp_matches .cache/pyodide-wheels/.setup-stamp "$pyodide_inputs"; then
  log "downloading the wheels Pyodide serves into .cache/pyodide-wheels"
  .venv/bin/python -m pip download -q --no-deps \
    --only-binary=:all: --python-version 3.14 -d .cache/pyodide-wheels -r requirements-pyodide.lock \
    2> >(grep -v "is ignored: it is neither" >&2)
  echo "$pyodide_inputs" > .cache/pyodide-wheels/.setup-stamp
fi
log "ready"
