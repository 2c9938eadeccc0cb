"""The per-user cache that every checkout of Satchel shares: slow downloads and finished builds, keyed by inputs.

A fresh clone (CI makes one for every run) then reuses what an earlier clone fetched or compiled instead of doing
it again. Only finished outputs are shared, never build folders (CMake refuses a folder configured from another
path). `scripts/setup.sh` puts pip's and npm's caches under the same folder, by the same rule.
"""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """`$SATCHEL_CACHE`, else `$XDG_CACHE_HOME/satchel`, else `~/.cache/satchel`."""
    configured = os.environ.get("SATCHEL_CACHE")
    if configured:
        return Path(configured)
    cache_home = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache_home) if cache_home else Path.home() / ".cache") / "satchel"
