"""`satchel serve --certfile/--keyfile`: a real HTTPS server with a self-signed certificate, and a clear one-line
error for every unusable pair."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from satchel.build import build_app
from satchel.cli import main
from satchel.security import SECURITY_HEADERS
from satchel.tls import TlsError, check_tls_files
from tests.conftest import NODE_MODULES
from tests.support.ports import free_port, wait_until_listening


def write_self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / f"{name}.crt", folder / f"{name}.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certfile, keyfile


def test_serve_over_tls_with_a_self_signed_certificate(tmp_path: Path, app_copy: Path) -> None:
    build_app(app_copy, tmp_path / "dist", node_modules=NODE_MODULES)
    certfile, keyfile = write_self_signed(tmp_path, "server")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "satchel",
        "serve",
        "--dist",
        str(tmp_path / "dist"),
        "--port",
        str(port),
    ]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *command,
                "--db",
                str(tmp_path / "ws.db"),
                "--certfile",
                str(certfile),
                "--keyfile",
                str(keyfile),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        wait_until_listening(proc, port, "satchel serve", log)
        trust = ssl.create_default_context(cafile=str(certfile))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trust) as client:
            response = client.get("/")
            assert response.status_code == 200
            assert (
                response.headers["cross-origin-opener-policy"]
                == SECURITY_HEADERS["Cross-Origin-Opener-Policy"]
            )
            assert client.get("/v0.1/servers").status_code == 200
        with pytest.raises(httpx.TransportError):  # plain HTTP is not served on the TLS port
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2).raise_for_status()
        assert f"Satchel is served at https://127.0.0.1:{port}/" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("missing key", "--certfile and --keyfile go together"),
        ("unreadable", "cannot read --keyfile {dir}/nope.key: No such file or directory"),
        (
            "mismatch",
            "--keyfile {dir}/other.key is not the private key of the certificate in {dir}/server.crt",
        ),
        (
            "garbage",
            "--certfile {dir}/server.crt and --keyfile {dir}/junk.key must be a PEM certificate and its",
        ),
    ],
)
def test_unusable_tls_files_fail_with_one_line(
    tmp_path: Path, app_copy: Path, problem: str, message: str
) -> None:
    certfile, _ = write_self_signed(tmp_path, "server")
    _, other_key = write_self_signed(tmp_path, "other")
    (tmp_path / "junk.key").write_text("not a key\n")
    pair: list[str] = {
        "missing key": ["--certfile", str(certfile)],
        "unreadable": ["--certfile", str(certfile), "--keyfile", str(tmp_path / "nope.key")],
        "mismatch": ["--certfile", str(certfile), "--keyfile", str(other_key)],
        "garbage": ["--certfile", str(certfile), "--keyfile", str(tmp_path / "junk.key")],
    }[problem]
    build_app(app_copy, tmp_path / "dist", node_modules=NODE_MODULES)
    result = CliRunner().invoke(main, ["serve", "--dist", str(tmp_path / "dist"), "--port", "0", *pair])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: " + message.format(dir=tmp_path)), line


def test_no_tls_files_means_plain_http() -> None:
    assert check_tls_files(None, None) is False
    with pytest.raises(TlsError):
        check_tls_files(None, Path("key.pem"))
