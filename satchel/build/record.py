"""What a build was made from (`BuildInputs`), kept next to its output so that a rebuild can use the same inputs.

`satchel build --policy P --wasm-dir W --model whisper=M` and then `satchel serve --reload` must rebuild the same
kind of site (managed, with its WASM servers), not a plain one: the rebuild would otherwise silently drop the
policy and the local servers from the registry. So every CLI build records its inputs, with absolute paths, in the
output's marker file (`.satchel-build`, which `write_site` uses to recognise its folders; the dev server does not
serve hidden files and bundles leave it out), and `serve --reload` reads them back.
"""

from __future__ import annotations

import json
from pathlib import Path

from satchel.build.inputs import BuildInputs
from satchel.build.output import MARKER

_NOTE = "This folder is written by `satchel build`; its contents are replaced on every build."


def record_inputs(inputs: BuildInputs, out_dir: Path) -> None:
    """Record `inputs` in the marker file of the build just written to `out_dir` (unchanged: not rewritten)."""
    record = json.dumps({"note": _NOTE, "inputs": inputs.to_json()}, indent=2, sort_keys=True) + "\n"
    marker = out_dir / MARKER
    if not marker.is_file() or marker.read_text(encoding="utf-8", errors="replace") != record:
        marker.write_text(record, encoding="utf-8")


def recorded_inputs(out_dir: Path) -> BuildInputs | None:
    """The inputs of the CLI build in `out_dir`, or None when there is none (or it was made without a record)."""
    marker = out_dir / MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        return BuildInputs.from_json(data["inputs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
