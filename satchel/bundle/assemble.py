"""Put a bundle together: build the managed site (with the WASM servers of its models), add configs, browser
policies and docs, sum, sign (when given a key), write.

The site is built into a private temporary folder (the caller's `dist/` is never touched), read back, and every
other file is generated from the `BundleSpec`, so the same sources, models and spec give the same bundle bytes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from satchel import __version__
from satchel.build import BuildError, WasmServerSources, build_app
from satchel.build.output import MARKER
from satchel.bundle.archive import write_folder, write_tar_gz
from satchel.bundle.browser_policies import kiosk_launcher, linux_policy_json, macos_mobileconfig, windows_reg
from satchel.bundle.contents import Contents, Entry
from satchel.bundle.kiosk_doc import kiosk_doc
from satchel.bundle.models import BundledModel, bundled_models, models_index
from satchel.bundle.signing import sign_sums
from satchel.bundle.spec import (
    CADDYFILE,
    DIST,
    KIOSK_DOC,
    KIOSK_LAUNCHER,
    MACOS_PROFILE,
    MODELS_INDEX,
    NGINX_CONF,
    POLICY,
    SUMS,
    SUMS_SIGNATURE,
    SYSTEMD_UNIT,
    VERSION_FILE,
    WINDOWS_REG,
    BundleError,
    BundleSpec,
    linux_policy_paths,
)
from satchel.bundle.sums import sha256sums
from satchel.bundle.systemd import systemd_unit
from satchel.bundle.webserver import caddyfile, nginx_conf
from satchel.models.catalog import DEFAULT_CATALOG, CatalogError, load_catalog
from satchel.models.store import ModelStore, default_models_dir
from satchel.wasm import DEFAULT_WASM_DIR

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


@dataclass(frozen=True)
class BundleResult:
    out: Path
    build_hash: str
    files: int
    sha256sums: bytes
    signed: bool = False


def version_text(spec: BundleSpec, build_hash: str) -> str:
    """VERSION: what this bundle is, one `key=value` per line (no date: the bytes must be reproducible)."""
    return (
        f"satchel={__version__}\n"
        f"release={spec.release}\n"
        f"build={build_hash}\n"
        f"url={spec.url}\n"
        f"organization={spec.policy.organization}\n"
        f"policy={Entry(POLICY, data=spec.policy.json_bytes()).sha256()}\n"
        f"models={','.join(spec.models)}\n"
        f"api={spec.api_base or ''}\n"
    )


def _models(spec: BundleSpec, catalog_path: Path, models_dir: Path | None) -> list[BundledModel]:
    if not spec.models:
        return []
    try:
        catalog = load_catalog(catalog_path)
    except CatalogError as exc:
        raise BundleError(f"the model catalogue cannot be read: {exc}") from exc
    return bundled_models(spec.models, catalog, ModelStore(models_dir or default_models_dir()))


def bundle_contents(
    spec: BundleSpec,
    *,
    app_dir: Path,
    node_modules: Path | None = None,
    catalog_path: Path = DEFAULT_CATALOG,
    models_dir: Path | None = None,
    wasm_dir: Path = DEFAULT_WASM_DIR,
) -> tuple[Contents, str]:
    """Every file of the bundle (except SHA256SUMS) and the site's build hash."""
    contents: Contents = {}

    def add(path: str, data: bytes | str, *, executable: bool = False) -> None:
        raw = data.encode() if isinstance(data, str) else data
        contents[path] = Entry(path, data=raw, executable=executable)

    models = _models(spec, catalog_path, models_dir)
    wasm = (
        WasmServerSources(wasm_dir=wasm_dir, models={m.server.key: m.file for m in models})
        if models
        else None
    )
    with tempfile.TemporaryDirectory(prefix="satchel-bundle-") as tmp:
        dist = Path(tmp) / DIST
        try:
            result = build_app(
                app_dir,
                dist,
                node_modules=node_modules,
                policy=spec.policy,
                wasm_sources=wasm,
                release=spec.release,
            )
        except BuildError as exc:
            raise BundleError(f"the app does not build: {exc}") from exc
        for file in sorted(p for p in dist.rglob("*") if p.is_file() and p.name != MARKER):
            add(f"{DIST}/{file.relative_to(dist).as_posix()}", file.read_bytes())
    site = [path.removeprefix(f"{DIST}/") for path in contents]
    if models:
        add(MODELS_INDEX, models_index(models))

    add(POLICY, spec.policy.json_bytes())
    add(VERSION_FILE, version_text(spec, result.build_hash))
    add(KIOSK_DOC, kiosk_doc(spec))
    add(NGINX_CONF, nginx_conf(spec, site))
    add(CADDYFILE, caddyfile(spec, site))
    add(SYSTEMD_UNIT, systemd_unit(spec))
    for path in linux_policy_paths().values():
        add(path, linux_policy_json(spec))
    add(WINDOWS_REG, windows_reg(spec))
    add(MACOS_PROFILE, macos_mobileconfig(spec))
    add(KIOSK_LAUNCHER, kiosk_launcher(spec), executable=True)
    return contents, result.build_hash


def make_bundle(
    spec: BundleSpec,
    out: Path,
    *,
    app_dir: Path,
    node_modules: Path | None = None,
    catalog_path: Path = DEFAULT_CATALOG,
    models_dir: Path | None = None,
    wasm_dir: Path = DEFAULT_WASM_DIR,
    sign_key: Ed25519PrivateKey | None = None,
) -> BundleResult:
    """Write the bundle to `out`: a `.tar.gz`/`.tgz` archive (top folder named like the install folder) or a folder;
    with `sign_key`, SHA256SUMS's signature beside it."""
    contents, build_hash = bundle_contents(
        spec,
        app_dir=app_dir,
        node_modules=node_modules,
        catalog_path=catalog_path,
        models_dir=models_dir,
        wasm_dir=wasm_dir,
    )
    sums = sha256sums(contents)
    contents[SUMS] = Entry(SUMS, data=sums)
    if sign_key is not None:
        contents[SUMS_SIGNATURE] = Entry(SUMS_SIGNATURE, data=sign_sums(sums, sign_key))
    if out.name.endswith(ARCHIVE_SUFFIXES):
        if not out.parent.is_dir():
            raise BundleError(f"--out {out}: the folder {out.parent} does not exist")
        write_tar_gz(contents, out, spec.install_dir.name)
    else:
        write_folder(contents, out)
    return BundleResult(
        out=out, build_hash=build_hash, files=len(contents), sha256sums=sums, signed=sign_key is not None
    )
