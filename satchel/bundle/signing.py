"""Ed25519 signatures over a bundle's SHA256SUMS: who made a bundle, not only whether it arrived whole.

SHA256SUMS detects damage, but whoever can change a file of a bundle can rewrite SHA256SUMS to match. A bundle made
with `satchel bundle --sign-key KEY` also carries `SHA256SUMS.sig` beside SHA256SUMS (at the bundle's top, not
listed in SHA256SUMS): the raw 64-byte Ed25519 signature of SHA256SUMS's bytes. Checked with the public key, it ties
every listed file to the holder of the private key; `satchel bundle verify --key KEY.pub` checks both.

Keys are PEM files: the private key PKCS#8 (`-----BEGIN PRIVATE KEY-----`, written with mode 0600), the public key
SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`), which OpenSSL 3 reads too, so a device without Satchel can check a
bundle with `openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig`.
Ed25519 signatures are deterministic: the same bundle signed with the same key is the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from satchel.bundle.spec import SUMS, SUMS_SIGNATURE, BundleError

SIGNATURE_SIZE = 64
#: A PEM Ed25519 key is about 120 bytes; anything far larger is not a key file.
MAX_KEY_FILE = 16 * 1024


class SigningError(BundleError):
    """A key cannot be written or read; the message names the file and what to do."""


def public_key_path(private_key: Path) -> Path:
    """Where `keygen` writes the public key of `private_key`: beside it, with `.pub` added."""
    return private_key.with_name(private_key.name + ".pub")


def write_key_pair(private_key: Path) -> Path:
    """Write a new private key to `private_key` (mode 0600) and its public key beside it; returns the public key's
    path. Refuses to replace either file: a lost private key cannot sign the next release."""
    public_key = public_key_path(private_key)
    for path in (private_key, public_key):
        if path.exists():
            raise SigningError(f"{path} exists: choose another --out (an existing key is never replaced)")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        descriptor = os.open(private_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(private_pem)
        public_key.write_bytes(public_pem)
    except OSError as exc:
        raise SigningError(f"cannot write the key pair: {exc}") from exc
    return public_key


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise SigningError(f"cannot read the {what} {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_KEY_FILE:
        raise SigningError(f"{path} is not an Ed25519 {what} (larger than {MAX_KEY_FILE} bytes)")
    return data


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file `path` (as `satchel bundle keygen` writes it)."""
    data = _read_key_file(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(
            f"{path} is not an unencrypted PEM private key (make one with `satchel bundle keygen --out KEY`)"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path} is not an Ed25519 key (make one with `satchel bundle keygen --out KEY`)")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM file `path` (the `.pub` that `satchel bundle keygen` writes)."""
    data = _read_key_file(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise SigningError(
            f"{path} is not a PEM public key ('-----BEGIN PUBLIC KEY-----', the .pub of `satchel bundle keygen`)"
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path} is not an Ed25519 public key")
    return key


def sign_sums(sums: bytes, key: Ed25519PrivateKey) -> bytes:
    return key.sign(sums)


def signature_problem(sums: bytes | None, signature: bytes | None, key: Ed25519PublicKey) -> str | None:
    """Why `signature` does not prove that the holder of `key`'s private half signed `sums`, or None when it does."""
    if signature is None:
        return f"{SUMS_SIGNATURE}: missing (the bundle is not signed; make it with `satchel bundle --sign-key KEY`)"
    if sums is None:
        return None  # SHA256SUMS missing is reported as such
    if len(signature) != SIGNATURE_SIZE:
        return f"{SUMS_SIGNATURE}: not an Ed25519 signature ({len(signature)} bytes, not {SIGNATURE_SIZE})"
    try:
        key.verify(signature, sums)
    except InvalidSignature:
        return f"{SUMS_SIGNATURE}: bad signature: {SUMS} was changed after signing, or another key signed it"
    return None
