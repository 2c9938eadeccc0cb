"""`satchel bundle`: one reproducible artefact that a kiosk or a managed fleet installs and serves without internet.

One module per concern: `spec.py` (what the admin asked for and the bundle's layout), `webserver.py` (nginx and
Caddy configs), `systemd.py` (the unit serving the bundle at localhost), `browser_policies.py` (Chrome, Chromium
and Edge policies for Linux, Windows and macOS, and the kiosk launcher), `kiosk_doc.py` (KIOSK.md), `models.py`
(pre-placed, verified model files), `sums.py` (SHA256SUMS), `signing.py` (Ed25519 keys and SHA256SUMS.sig),
`archive.py` (byte-identical tar.gz or a folder), `assemble.py` (puts it all together) and `verify.py`
(`satchel bundle verify`).
"""

from __future__ import annotations

from satchel.bundle.assemble import make_bundle
from satchel.bundle.spec import BundleError, BundleSpec
from satchel.bundle.verify import verify_bundle

__all__ = ["BundleError", "BundleSpec", "make_bundle", "verify_bundle"]
