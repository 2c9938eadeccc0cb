"""`satchel bundle verify`: is this bundle (folder or .tar.gz) exactly what `satchel bundle` wrote, and is its
policy one the app will accept?

Every problem is reported, one line each, naming the file: a file whose bytes changed, a file listed in SHA256SUMS
that is missing, a file that is not listed, a malformed SHA256SUMS, a missing or malformed policy, and a site whose
own `/policy.json` is not the bundle's policy. An archive must also unpack safely: one top folder, regular files
and folders only, no absolute or `..` paths.

SHA256SUMS only shows that the files are those it lists; given the maker's public key (`--key`), verify also checks
SHA256SUMS.sig (`signing.py`), so a bundle rewritten together with its SHA256SUMS, or not signed at all, is refused.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from satchel.bundle.contents import CHUNK
from satchel.bundle.signing import signature_problem
from satchel.bundle.spec import DIST, POLICY, SUMS, SUMS_SIGNATURE, VERSION_FILE
from satchel.bundle.sums import SumsError, parse_sha256sums
from satchel.policy import PolicyError, parse_policy_json

SITE_POLICY = f"{DIST}/{POLICY}"
#: Files a bundle cannot work without, whatever SHA256SUMS says.
REQUIRED = (SUMS, VERSION_FILE, POLICY, f"{DIST}/index.html", f"{DIST}/sw.js", SITE_POLICY)
#: Files verify reads whole (small); every other file is only hashed.
_KEPT = frozenset({SUMS, SUMS_SIGNATURE, POLICY, SITE_POLICY})
#: More than any of them holds in a real bundle (SHA256SUMS: about 100 bytes a file); a larger one is refused.
MAX_KEPT = 16 << 20


@dataclass
class Verification:
    """What verify found: `problems` is empty for an intact bundle."""

    files: int = 0
    organization: str | None = None
    problems: list[str] = field(default_factory=list)
    #: The bundle carries SHA256SUMS.sig (checked only when verify was given a key).
    signed: bool = False
    #: SHA256SUMS.sig is a good signature of SHA256SUMS by the key verify was given.
    signature_verified: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Scan:
    digests: dict[str, str] = field(default_factory=dict)
    kept: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, path: str, stream: IO[bytes]) -> None:
        digest = hashlib.sha256()
        kept = bytearray()
        keep = path in _KEPT
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            if keep:
                kept += chunk
                if len(kept) > MAX_KEPT:
                    self.problems.append(f"{path}: larger than {MAX_KEPT} bytes, not a file a bundle makes")
                    keep = False
        self.digests[path] = digest.hexdigest()
        if keep:
            self.kept[path] = bytes(kept)


def _scan_folder(root: Path) -> _Scan:
    scan = _Scan()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            scan.problems.append(f"{relative}: a symbolic link (a bundle holds only files and folders)")
        elif path.is_file():
            with path.open("rb") as stream:
                scan.add(relative, stream)
    return scan


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    member = tar.next()
    while member is not None:
        yield member
        member = tar.next()


def _scan_archive(archive: Path) -> _Scan:
    scan = _Scan()
    tops: set[str] = set()
    with tarfile.open(archive, mode="r:gz") as tar:
        for member in _members(tar):
            name = PurePosixPath(member.name)
            if name.is_absolute() or ".." in name.parts:
                scan.problems.append(f"{member.name}: unsafe path in the archive")
                continue
            tops.add(name.parts[0])
            relative = PurePosixPath(*name.parts[1:]).as_posix() if len(name.parts) > 1 else ""
            if member.isdir():
                continue
            if not member.isfile() or not relative:
                scan.problems.append(f"{member.name}: not a regular file inside the bundle's folder")
                continue
            stream = tar.extractfile(member)
            assert stream is not None
            scan.add(relative, stream)
    if len(tops) > 1:
        scan.problems.append(f"the archive has {len(tops)} top folders ({', '.join(sorted(tops))}), not one")
    return scan


def verify_bundle(path: Path, key: Ed25519PublicKey | None = None) -> Verification:
    """Check the bundle folder or archive at `path`; with `key`, also that its maker holds the private half."""
    if path.is_dir():
        scan = _scan_folder(path)
    elif path.is_file():
        try:
            scan = _scan_archive(path)
        except (tarfile.TarError, OSError, EOFError) as exc:
            return Verification(problems=[f"{path}: not a readable .tar.gz bundle ({exc})"])
    else:
        return Verification(problems=[f"{path}: no such folder or archive"])
    result = Verification(
        files=len(scan.digests), problems=scan.problems, signed=SUMS_SIGNATURE in scan.digests
    )
    if key is not None:
        _check_signature(scan, result, key)
    _check_sums(scan, result)
    _check_policy(scan, result)
    for required in REQUIRED:
        if required not in scan.digests and not any(p.startswith(f"{required}: ") for p in result.problems):
            result.problems.append(f"{required}: missing (every bundle has it)")
    return result


def _check_signature(scan: _Scan, result: Verification, key: Ed25519PublicKey) -> None:
    if any(f in scan.digests and f not in scan.kept for f in (SUMS, SUMS_SIGNATURE)):
        return  # too large to read: reported as such
    problem = signature_problem(scan.kept.get(SUMS), scan.kept.get(SUMS_SIGNATURE), key)
    if problem is not None:
        result.problems.append(problem)
    result.signature_verified = problem is None and SUMS in scan.kept


def _check_sums(scan: _Scan, result: Verification) -> None:
    if SUMS not in scan.kept:
        return
    try:
        listed = parse_sha256sums(scan.kept[SUMS])
    except SumsError as exc:
        result.problems.append(str(exc))
        return
    for path in sorted(set(listed) | set(scan.digests)):
        if path in (SUMS, SUMS_SIGNATURE):
            continue
        actual, expected = scan.digests.get(path), listed.get(path)
        if actual is None:
            result.problems.append(f"{path}: missing (listed in {SUMS})")
        elif expected is None:
            result.problems.append(f"{path}: extra file, not listed in {SUMS}")
        elif actual != expected:
            result.problems.append(f"{path}: contents changed (sha256 {actual}, {SUMS} says {expected})")


def _check_policy(scan: _Scan, result: Verification) -> None:
    if POLICY not in scan.kept:
        return
    try:
        result.organization = parse_policy_json(scan.kept[POLICY], POLICY).organization
    except PolicyError as exc:
        reason = str(exc).removeprefix(f"{POLICY}: ")
        result.problems.append(f"{POLICY}: malformed ({reason}): the app would refuse to start")
    site = scan.kept.get(SITE_POLICY)
    if site is not None and site != scan.kept[POLICY]:
        result.problems.append(f"{SITE_POLICY}: differs from {POLICY} (the app enforces {SITE_POLICY})")
