"""Build step: the precache manifest and the service worker that carries it.

Every file of the site except the service worker itself and the lazy files (`BuildContext.lazy_files`: models,
which the worker that needs them fetches and keeps) is listed with its sha256. The build hash is the hash of
that list, so the service worker's bytes (and its cache name) change exactly when some file of the site changes,
which is what makes the browser install the new version. A bundle's release (`BuildContext.release`) is part of
that hash too: the service worker records it with the build's cache and refuses to replace a higher release.
"""

from __future__ import annotations

import hashlib
import json

from satchel.build.context import BuildContext, BuildError, sha256_hex
from satchel.build.templates import SERVICE_WORKER_TEMPLATE, render_template

SERVICE_WORKER = SERVICE_WORKER_TEMPLATE.removesuffix(".j2")
#: The page shell: what an offline navigation is answered with.
SHELL = "index.html"


def precache_manifest(files: dict[str, bytes]) -> list[dict[str, object]]:
    """URL, sha256 and size of every file the app needs offline (`BuildContext.files`: the lazy ones are apart),
    sorted by URL."""
    return [
        {"url": "/" + path, "sha256": sha256_hex(data), "size": len(data)}
        for path, data in sorted(files.items())
        if path != SERVICE_WORKER
    ]


def build_hash(manifest: list[dict[str, object]], release: str | None = None) -> str:
    hashed: object = manifest if release is None else {"release": release, "files": manifest}
    return hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()


def write_service_worker(ctx: BuildContext) -> None:
    if not (ctx.app_dir / SERVICE_WORKER_TEMPLATE).is_file():
        raise BuildError(f"service worker template missing: {ctx.app_dir / SERVICE_WORKER_TEMPLATE}")
    if SHELL not in ctx.files:
        raise BuildError(f"the app has no {SHELL} (expected a template {SHELL}.j2 in {ctx.app_dir})")
    manifest = precache_manifest(ctx.files)
    digest = build_hash(manifest, ctx.release)
    ctx.template_vars["build_hash"] = digest
    ctx.add(
        SERVICE_WORKER,
        render_template(ctx, SERVICE_WORKER_TEMPLATE, precache=manifest, shell="/" + SHELL),
    )
