"""TLS files for `satchel serve --certfile/--keyfile`, checked before the server starts.

uvicorn would fail on a bad pair deep inside its startup (or prompt on the terminal for an encrypted key); checking
first lets the CLI say which file is wrong: unreadable, not PEM, encrypted, or a key that is not the certificate's.
"""

from __future__ import annotations

import ssl
from pathlib import Path


class TlsError(ValueError):
    """The certificate or key cannot be used; the message names the file and what to do."""


def check_tls_files(certfile: Path | None, keyfile: Path | None) -> bool:
    """True when TLS is asked for and the pair is usable, False when neither is given; TlsError otherwise."""
    if certfile is None and keyfile is None:
        return False
    if certfile is None or keyfile is None:
        raise TlsError("--certfile and --keyfile go together: pass the certificate (PEM) and its private key")
    for flag, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        try:
            path.read_bytes()
        except OSError as exc:
            raise TlsError(f"cannot read {flag} {path}: {exc.strerror or exc}") from exc
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # An empty password makes an encrypted key fail here instead of prompting on the terminal.
        context.load_cert_chain(certfile, keyfile, password=b"")
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsError(
                f"--keyfile {keyfile} is not the private key of the certificate in {certfile}"
            ) from exc
        raise TlsError(
            f"--certfile {certfile} and --keyfile {keyfile} must be a PEM certificate and its unencrypted "
            f"private key ({exc.reason or exc})"
        ) from exc
    return True
