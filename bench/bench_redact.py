"""Throughput of ``redact`` on adversarial text beside ordinary text, both measured in this run.

Run: ``python bench/bench_redact.py [--kb N]``. The reference row is ordinary personal-data prose (names, cards,
IBANs, phones, addresses); the others are inputs built to hurt a backtracking regex or a quadratic overlap check:
long digit runs that look like phone numbers until their last character, tens of thousands of addresses, and
runs of separators, brackets and dots. Linear redaction keeps every row within a small factor of the reference;
before it, the digit runs took about a second per KB and 20,000 addresses about half a minute.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from satchel.tools.builtin.redact import redact  # noqa: E402

PERSONAL = (
    "Dear Ms Jane Roe, born 17 May 1990, your card 4111 1111 1111 1111 and IBAN DE89 3704 0044 0532 0130 00 "
    "are on file. Call +44 20 7946 0958 or write to jane.roe@example.org from 192.168.10.4. "
)


def inputs(size: int) -> dict[str, str]:
    """Each input about ``size`` characters long."""

    def fill(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    addresses = " ".join(f"10.{i // 62500}.{i // 250 % 250}.{i % 250}" for i in range(size // 11))
    return {
        "ordinary prose (reference)": fill(PERSONAL),
        "40-digit runs then a letter": fill("0" * 40 + "x "),
        "digit groups 12 345 678 ...": fill("12 345 678 9"),
        "IPv4 addresses, one per 11 chars": addresses[:size],
        "separators 1-1-1-...": fill("1-"),
        "dots a.a.a...@": fill("a.") + "@",
        "brackets and pluses": fill("(+") + " 4",
    }


def throughput(text: str, rounds: int) -> tuple[float, int]:
    """Best-of-rounds characters per second, and the number of findings."""
    best = float("inf")
    findings = 0
    for _ in range(rounds):
        started = time.perf_counter()
        result = redact.run({"text": text, "names": ["Jane Roe"]})
        best = min(best, time.perf_counter() - started)
        findings = len(result["findings"])  # type: ignore[index]
    return len(text) / best, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=200, help="size of each input in KB (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs (default 3)")
    options = parser.parse_args()
    rows = inputs(options.kb * 1000)
    print(f"redact on {options.kb} KB inputs, best of {options.rounds}; throughput in MB/s\n")
    header = f"{'input':<36}{'MB/s':>8}{'findings':>10}{'vs reference':>14}"
    print(header)
    print("-" * len(header))
    reference = None
    for label, text in rows.items():
        speed, findings = throughput(text, options.rounds)
        reference = reference or speed
        print(f"{label:<36}{speed / 1e6:>8.2f}{findings:>10}{speed / reference:>13.2f}x")


if __name__ == "__main__":
    main()
