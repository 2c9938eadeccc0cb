"""Build step: bundle the browser's npm dependencies with esbuild into `dist/vendor/`.

Each `app/vendor/<name>.js` is an entry point that re-exports what the app uses from npm packages; esbuild turns
it into one self-contained ES module, so the browser never resolves bare imports and everything is precachable.
Files named `_*.js` are parts imported by entry points, not entry points themselves.
"""

from __future__ import annotations

import os
import subprocess

from satchel.build.context import BuildContext, BuildError

ESBUILD_FLAGS = (
    "--bundle",
    "--format=esm",
    "--platform=browser",
    "--target=es2022",
    "--minify",
    "--legal-comments=eof",
    "--log-level=warning",
)


def bundle_vendor_modules(ctx: BuildContext) -> None:
    entries = sorted(p for p in (ctx.app_dir / "vendor").glob("*.js") if not p.name.startswith("_"))
    if not entries:
        return
    esbuild = ctx.node_modules / ".bin" / "esbuild"
    if not esbuild.exists():
        raise BuildError(
            f"esbuild not found at {esbuild}: install the browser dependencies with `npm ci` "
            "(or `make setup`), or pass --node-modules"
        )
    env = {**os.environ, "NODE_PATH": str(ctx.node_modules)}
    for entry in entries:
        proc = subprocess.run(
            [str(esbuild), str(entry), *ESBUILD_FLAGS], capture_output=True, env=env, check=False
        )
        if proc.returncode != 0:
            reason = proc.stderr.decode(errors="replace").strip() or f"exit code {proc.returncode}"
            raise BuildError(f"esbuild failed on {ctx.relative(entry)}: {reason}")
        ctx.add(f"vendor/{entry.name}", proc.stdout)
