"""The managed policy of the site `satchel serve` serves, as the site's `/policy.json` says it now.

The CSP header (its `connect-src` comes from `servers.origins`) and the relay (which reaches only those origins)
depend on it, and `serve --reload` may rebuild the site with an edited policy, so the file is read again whenever it
changes (one `stat` per request) rather than once at start. A file that cannot be read or checked any more gives
the strictest policy, never an open one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from satchel.policy import POLICY_PATH, Policy, PolicyError, parse_policy_json
from satchel.security import security_headers

log = logging.getLogger("satchel.server")

#: What a managed site falls back to when its policy file turns bad while served: no other origin at all.
UNREADABLE_POLICY = Policy(organization="(unreadable policy)", allowed_origins=(), user_servers_allowed=False)
_NEVER_READ = (-1, -1, -1)


class ServedPolicy:
    """The policy in `dist_dir/policy.json` (None when the site is unmanaged) and the headers it gives."""

    def __init__(self, dist_dir: Path) -> None:
        self.path = dist_dir / POLICY_PATH
        #: (inode, mtime, size) of the file last read; None when there was no file.
        self._seen: tuple[int, int, int] | None = _NEVER_READ
        self._policy: Policy | None = None
        self._headers: Mapping[str, str] = security_headers(None)

    def check(self) -> None:
        """Read the policy now; PolicyError when the file is there but is not a valid policy."""
        self._seen = _NEVER_READ
        self._refresh(strict=True)

    def current(self) -> Policy | None:
        self._refresh(strict=False)
        return self._policy

    def headers(self) -> Mapping[str, str]:
        """The security headers for the policy in force (see satchel/security.py)."""
        self._refresh(strict=False)
        return self._headers

    def _refresh(self, *, strict: bool) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            seen = None
        else:
            seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if seen == self._seen:
            return
        policy: Policy | None = None
        if seen is not None:
            try:
                policy = parse_policy_json(_read(self.path), str(self.path))
            except PolicyError as exc:
                if strict:
                    raise
                log.error("%s; until it is fixed, no other origin may be reached", exc)
                policy = UNREADABLE_POLICY
        self._seen, self._policy = seen, policy
        self._headers = security_headers(policy)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read the policy {path}: {exc.strerror or exc}") from exc
