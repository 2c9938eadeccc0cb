"""`SHA256SUMS`: the bundle's table of contents, in the format `sha256sum -c` checks (two spaces, sorted paths).

Every file except SHA256SUMS itself is listed, so an admin can check a bundle with coreutils alone, and
`satchel bundle verify` can tell a changed file from a missing or an extra one.
"""

from __future__ import annotations

import re

from satchel.bundle.contents import Contents

_LINE = re.compile(r"^([0-9a-f]{64})  (\S(?:.*\S)?)$")


class SumsError(ValueError):
    """SHA256SUMS is malformed; the message names the line."""


def sha256sums(contents: Contents) -> bytes:
    return "".join(f"{contents[path].sha256()}  {path}\n" for path in sorted(contents)).encode()


def parse_sha256sums(text: bytes) -> dict[str, str]:
    """Path → sha256; raise SumsError naming the first malformed or repeated line."""
    try:
        lines = text.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise SumsError(f"SHA256SUMS is not UTF-8 text: {exc}") from exc
    if lines and lines[-1] == "":
        lines.pop()
    sums: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        match = _LINE.match(line)
        if match is None:
            raise SumsError(f"SHA256SUMS line {number} is malformed (expected '<sha256>  <path>'): {line!r}")
        digest, path = match.groups()
        if path in sums:
            raise SumsError(f"SHA256SUMS line {number} lists {path} a second time")
        sums[path] = digest
    return sums
