"""Signed bundles: `satchel bundle keygen`, `satchel bundle --sign-key`, `satchel bundle verify --key`. With the
maker's public key, verify refuses a bundle that is unsigned, signed by another key, or changed in any way after
signing — even when SHA256SUMS was rewritten to match — each with a one-line reason and a non-zero exit."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from satchel.bundle import BundleSpec, make_bundle, verify_bundle
from satchel.bundle.signing import load_private_key, load_public_key, write_key_pair
from satchel.bundle.verify import MAX_KEPT
from satchel.cli import main
from satchel.policy import parse_policy_toml
from tests.bundle.conftest import RIVERSIDE_TOML, URL, bundle_into
from tests.conftest import NODE_MODULES, REPO

SIGNATURE = "SHA256SUMS.sig"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A signed bundle folder (made once: every test changes a copy) and its maker's private key."""
    folder = tmp_path_factory.mktemp("signed")
    key = folder / "signing-key"
    write_key_pair(key)
    spec = BundleSpec(policy=parse_policy_toml(RIVERSIDE_TOML), url=URL)
    make_bundle(
        spec,
        folder / "bundle",
        app_dir=REPO / "app",
        node_modules=NODE_MODULES,
        sign_key=load_private_key(key),
    )
    return folder / "bundle", key


@pytest.fixture
def signed(made: tuple[Path, Path], tmp_path: Path) -> Path:
    """A copy of the signed bundle that the test may change."""
    return Path(shutil.copytree(made[0], tmp_path / "bundle"))


@pytest.fixture
def public_key(made: tuple[Path, Path]) -> Path:
    return made[1].with_name(made[1].name + ".pub")


def verify(bundle: Path, key: Path | None) -> Result:
    return CliRunner().invoke(main, ["bundle", "verify", str(bundle), *(["--key", str(key)] if key else [])])


def rewrite_sums(bundle: Path) -> None:
    """SHA256SUMS made to match the bundle's files again, as someone changing the bundle would do."""
    files = sorted(
        p.relative_to(bundle).as_posix()
        for p in bundle.rglob("*")
        if p.is_file() and p.name not in ("SHA256SUMS", SIGNATURE)
    )
    lines = [f"{hashlib.sha256((bundle / path).read_bytes()).hexdigest()}  {path}\n" for path in files]
    (bundle / "SHA256SUMS").write_text("".join(lines))


def test_keygen_writes_a_private_key_only_its_owner_reads_and_a_pem_public_key(tmp_path: Path) -> None:
    key = tmp_path / "satchel-signing"
    made = CliRunner().invoke(main, ["bundle", "keygen", "--out", str(key)])
    assert made.exit_code == 0, made.output
    assert f"public key {key}.pub" in made.output and "keep it off the devices" in made.output
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
    assert (tmp_path / "satchel-signing.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----\n")
    load_public_key(tmp_path / "satchel-signing.pub")
    private = key.read_bytes()

    again = CliRunner().invoke(main, ["bundle", "keygen", "--out", str(key)])
    assert again.exit_code == 1
    assert again.output == f"Error: {key} exists: choose another --out (an existing key is never replaced)\n"
    assert key.read_bytes() == private


def test_a_signed_bundle_verifies_with_its_makers_key_and_says_so(signed: Path, public_key: Path) -> None:
    assert (signed / SIGNATURE).stat().st_size == 64
    assert (
        SIGNATURE not in (signed / "SHA256SUMS").read_text()
    )  # it signs SHA256SUMS, so it cannot be listed there
    checked = verify(signed, public_key)
    assert checked.exit_code == 0, checked.output
    assert checked.output.endswith(f"is valid; signed by the key in {public_key}\n")
    unchecked = verify(signed, None)
    assert unchecked.exit_code == 0, unchecked.output
    assert (
        "signed, but the signature is not checked: give the maker's public key with --key" in unchecked.output
    )


def test_openssl_checks_the_signature_as_kiosk_md_says(signed: Path, public_key: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl on this machine")
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public_key), "-rawin"]
    command += ["-in", "SHA256SUMS", "-sigfile", SIGNATURE]
    assert " ".join(command[:5]) in (signed / "KIOSK.md").read_text()
    good = subprocess.run(command, cwd=signed, capture_output=True, text=True, check=False)
    assert good.returncode == 0 and "Signature Verified Successfully" in good.stdout, good
    rewrite_sums(signed)
    (signed / "SHA256SUMS").write_text((signed / "SHA256SUMS").read_text() + "\n")
    bad = subprocess.run(command, cwd=signed, capture_output=True, text=True, check=False)
    assert bad.returncode != 0


Tamper = Callable[[Path], None]


def _change_a_file(bundle: Path) -> None:
    (bundle / "dist" / "styles.css").write_text("body { display: none }")


def _add_a_file(bundle: Path) -> None:
    (bundle / "dist" / "evil.js").write_text("steal()")


def _remove_a_file(bundle: Path) -> None:
    (bundle / "server" / "Caddyfile").unlink()


def _lift_the_policy(bundle: Path) -> None:
    for path in ("policy.json", "dist/policy.json"):
        (bundle / path).write_text('{"version": 1, "organization": "Riverside Clinic"}')


def _and_rewrite_sums(tamper: Tamper) -> Tamper:
    def both(bundle: Path) -> None:
        tamper(bundle)
        rewrite_sums(bundle)

    return both


BAD_SIGNATURE = (
    "SHA256SUMS.sig: bad signature: SHA256SUMS was changed after signing, or another key signed it"
)


@pytest.mark.parametrize(
    ("tamper", "problems"),
    [
        (lambda b: (b / SIGNATURE).unlink(), ["SHA256SUMS.sig: missing (the bundle is not signed; "]),
        (lambda b: (b / SIGNATURE).write_bytes(b"\0" * 64), [BAD_SIGNATURE]),
        (
            lambda b: (b / SIGNATURE).write_bytes(b"short"),
            ["SHA256SUMS.sig: not an Ed25519 signature (5 bytes"],
        ),
        (_change_a_file, ["dist/styles.css: contents changed (sha256 "]),
        (_add_a_file, ["dist/evil.js: extra file, not listed in SHA256SUMS"]),
        (_remove_a_file, ["server/Caddyfile: missing (listed in SHA256SUMS)"]),
        (_and_rewrite_sums(_change_a_file), [BAD_SIGNATURE]),
        (_and_rewrite_sums(_add_a_file), [BAD_SIGNATURE]),
        (_and_rewrite_sums(_remove_a_file), [BAD_SIGNATURE]),
        (_and_rewrite_sums(_lift_the_policy), [BAD_SIGNATURE]),
    ],
    ids=[
        "signature-removed",
        "signature-forged",
        "signature-truncated",
        "file-changed",
        "file-added",
        "file-removed",
        "file-changed-and-sums-rewritten",
        "file-added-and-sums-rewritten",
        "file-removed-and-sums-rewritten",
        "policy-lifted-and-sums-rewritten",
    ],
)
def test_verify_with_the_key_refuses_every_change_after_signing(
    signed: Path, public_key: Path, tamper: Tamper, problems: list[str]
) -> None:
    tamper(signed)
    refused = verify(signed, public_key)
    assert refused.exit_code == 1
    *lines, summary = refused.output.splitlines()
    assert len(lines) == len(problems) and all(
        line.startswith(problem) for line, problem in zip(lines, problems, strict=True)
    ), lines
    assert summary == f"Error: {signed} is not intact: {len(problems)} problem(s) above"


def test_a_signature_file_too_large_to_be_one_is_not_read(signed: Path, public_key: Path) -> None:
    (signed / SIGNATURE).write_bytes(b"\0" * (MAX_KEPT + 1))
    refused = verify(signed, public_key)
    assert refused.exit_code == 1
    assert refused.output.splitlines() == [
        f"SHA256SUMS.sig: larger than {MAX_KEPT} bytes, not a file a bundle makes",
        f"Error: {signed} is not intact: 1 problem(s) above",
    ]


def test_a_bundle_signed_by_another_key_is_refused(signed: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-key"
    write_key_pair(other)
    refused = verify(signed, tmp_path / "other-key.pub")
    assert refused.exit_code == 1
    assert refused.output.splitlines()[0] == BAD_SIGNATURE


def test_a_signed_archive_verifies_and_a_tampered_one_does_not(
    signed: Path, public_key: Path, tmp_path: Path
) -> None:
    def pack(name: str) -> Path:
        archive = tmp_path / name
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(signed, arcname="satchel")
        return archive

    assert verify(pack("good.tar.gz"), public_key).exit_code == 0
    _and_rewrite_sums(_add_a_file)(signed)
    refused = verify(pack("bad.tar.gz"), public_key)
    assert refused.exit_code == 1 and refused.output.splitlines()[0] == BAD_SIGNATURE


def test_an_unsigned_bundle_is_refused_with_a_key_and_called_unsigned_without(
    tmp_path: Path, app_copy: Path, public_key: Path
) -> None:
    result = bundle_into(
        tmp_path / "plain", BundleSpec(policy=parse_policy_toml(RIVERSIDE_TOML), url=URL), app_copy
    )
    assert not result.signed and not (tmp_path / "plain" / SIGNATURE).exists()
    unsigned = verify(tmp_path / "plain", None)
    assert unsigned.exit_code == 0
    assert "; unsigned: anyone could have rewritten it with its SHA256SUMS" in unsigned.output
    refused = verify(tmp_path / "plain", public_key)
    assert refused.exit_code == 1
    assert refused.output.splitlines()[0].startswith("SHA256SUMS.sig: missing (the bundle is not signed; ")
    assert verify_bundle(tmp_path / "plain").signed is False


def test_cli_signs_reproducibly_and_refuses_a_key_that_is_not_a_private_key(
    tmp_path: Path, app_copy: Path, made: tuple[Path, Path], public_key: Path
) -> None:
    args = ["bundle", "--app", str(app_copy), "--node-modules", str(NODE_MODULES), "--url", URL]
    outputs = []
    for name in ("one.tar.gz", "two.tar.gz"):
        run = CliRunner().invoke(main, [*args, "--out", str(tmp_path / name), "--sign-key", str(made[1])])
        assert run.exit_code == 0, run.output
        assert run.output.rstrip().endswith(f"signed with {made[1]}")
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]  # Ed25519 signatures are deterministic
    assert verify(tmp_path / "one.tar.gz", public_key).exit_code == 0

    wrong = CliRunner().invoke(
        main, [*args, "--out", str(tmp_path / "x.tar.gz"), "--sign-key", str(public_key)]
    )
    assert wrong.exit_code == 1
    assert wrong.output == (
        f"Error: {public_key} is not an unencrypted PEM private key "
        "(make one with `satchel bundle keygen --out KEY`)\n"
    )
    assert not (tmp_path / "x.tar.gz").exists()
    missing = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "x.tar.gz"), "--sign-key", "nope"])
    assert missing.exit_code == 1
    assert missing.output == "Error: cannot read the private key nope: No such file or directory\n"


def test_verify_refuses_a_key_that_is_not_an_ed25519_public_key(
    signed: Path, made: tuple[Path, Path]
) -> None:
    private = verify(signed, made[1])
    assert private.exit_code == 1
    assert private.output == (
        f"Error: {made[1]} is not a PEM public key "
        "('-----BEGIN PUBLIC KEY-----', the .pub of `satchel bundle keygen`)\n"
    )
