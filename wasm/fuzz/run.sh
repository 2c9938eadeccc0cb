#!/bin/sh
# Builds the libFuzzer harnesses of the C++ MCP core with clang, AddressSanitizer and UndefinedBehaviorSanitizer,
# and runs each for RUNS inputs (default 10000). Needs clang-14 and its runtimes (Debian: clang-14 libclang-rt-14-dev)
# and nlohmann/json from the llama.cpp sdist that `satchel wasm` unpacks into .cache/sdists. Exits non-zero on the
# first crash, hang or failed check, leaving the input as crash-*/timeout-* in the output folder.
#
#   wasm/fuzz/run.sh [RUNS] [OUT_DIR]
set -eu
RUNS=${1:-10000}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${2:-$ROOT/.cache/fuzz}
JSON=$(find "$ROOT/.cache/sdists/src" -path '*/vendor/nlohmann/json.hpp' | head -n 1)
[ -n "$JSON" ] || { echo "run.sh: nlohmann/json.hpp not found under .cache/sdists (run satchel wasm first)" >&2; exit 1; }
CXX=${CXX:-clang++-14}
FLAGS="-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
INCLUDES="-I$HERE/../mcp -I$(dirname "$(dirname "$JSON")")"
MCP=$HERE/../mcp
mkdir -p "$OUT/corpus-core" "$OUT/corpus-json" "$OUT/corpus-lines"
cp "$HERE"/seeds/* "$OUT/corpus-core/"
$CXX $FLAGS $INCLUDES "$HERE/core_fuzzer.cpp" "$MCP/server.cpp" "$MCP/schema.cpp" "$MCP/bounded_json.cpp" -o "$OUT/core_fuzzer"
$CXX $FLAGS $INCLUDES "$HERE/bounded_json_fuzzer.cpp" "$MCP/bounded_json.cpp" -o "$OUT/bounded_json_fuzzer"
$CXX $FLAGS $INCLUDES "$HERE/line_reader_fuzzer.cpp" "$MCP/line_reader.cpp" -o "$OUT/line_reader_fuzzer"
cd "$OUT"
./core_fuzzer -runs="$RUNS" -max_len=512 -timeout=10 -dict="$HERE/json.dict" corpus-core
./bounded_json_fuzzer -runs="$RUNS" -max_len=256 -timeout=10 -dict="$HERE/json.dict" corpus-json
./line_reader_fuzzer -runs="$RUNS" -max_len=300 -timeout=10 corpus-lines
