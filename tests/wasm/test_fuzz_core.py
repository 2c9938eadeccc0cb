"""The C++ MCP core under libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer (the reliability suite):
`wasm/fuzz/run.sh` builds three harnesses with clang (the core's `handle_line` with a tool using every schema
keyword, the nesting scan, the stdin line reader) and runs each for 10,000 generated inputs; any crash, sanitizer
report, leak or hang fails it and leaves the input in the output folder. The native and WASM servers are built from
these same sources."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.fuzz_inputs import FUZZ_INPUTS
from tests.support.stdio_mcp import REPO

RUN_SCRIPT = REPO / "wasm" / "fuzz" / "run.sh"


def test_libfuzzer_with_sanitizers_finds_nothing_in_the_cpp_core(
    native_servers: dict[str, Path], tmp_path: Path
) -> None:
    # native_servers: the build unpacked the vendored nlohmann/json the harnesses compile against.
    completed = subprocess.run(
        [str(RUN_SCRIPT), str(FUZZ_INPUTS), str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    report = (completed.stdout + completed.stderr)[-4000:]
    assert completed.returncode == 0, f"the fuzzers found a problem (inputs in {tmp_path}):\n{report}"
    harnesses = completed.stderr.count(f"Done {FUZZ_INPUTS} runs")
    assert harnesses == 3, f"expected 3 harnesses to finish {FUZZ_INPUTS} runs each:\n{report}"
    print(f"\nC++ core fuzzing: {harnesses} harnesses x {FUZZ_INPUTS} inputs under ASan+UBSan, no finding")
