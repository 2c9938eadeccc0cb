"""`satchel build`: turn the browser sources in `app/` into the static, offline-capable site in `dist/`.

The build is a fixed sequence of steps, declared in `STEPS`. Each step reads the sources and adds files to the
in-memory output; nothing touches `dist/` until every step has succeeded, and then only files whose bytes changed
are written. So a failed build leaves the previous `dist/` intact, and a rebuild with no change writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from satchel.build.context import BuildContext, BuildError, BuildResult
from satchel.build.icons import render_icons
from satchel.build.inputs import BuildInputs, WasmServerSources
from satchel.build.output import write_site
from satchel.build.policy import write_policy
from satchel.build.precache import write_service_worker
from satchel.build.pyodide_packages import add_pyodide_packages
from satchel.build.pyodide_runtime import copy_pyodide_runtime
from satchel.build.record import record_inputs, recorded_inputs
from satchel.build.registry_snapshot import write_registry_snapshot
from satchel.build.static import copy_static_files
from satchel.build.templates import render_templates
from satchel.build.tools_server import register_tools_server
from satchel.build.vendor import bundle_vendor_modules
from satchel.build.wasm_servers import add_wasm_servers, hash_model
from satchel.policy import Policy, PolicyError, load_policy

__all__ = [
    "STEPS",
    "BuildError",
    "BuildInputs",
    "BuildResult",
    "WasmServerSources",
    "build_app",
    "build_from_inputs",
    "hash_model",
    "recorded_inputs",
]

Step = Callable[[BuildContext], None]

#: The build order. The policy comes before the templates (they read `managed`); steps that ship a local MCP server
#: come before the registry snapshot that lists them; the service worker comes last: its precache manifest lists
#: what every other step produced.
STEPS: Sequence[Step] = (
    copy_static_files,
    write_policy,
    render_icons,
    bundle_vendor_modules,
    render_templates,
    copy_pyodide_runtime,
    add_pyodide_packages,
    register_tools_server,
    add_wasm_servers,
    write_registry_snapshot,
    write_service_worker,
)


def build_app(
    app_dir: Path,
    out_dir: Path,
    *,
    node_modules: Path | None = None,
    policy: Policy | None = None,
    wasm_sources: WasmServerSources | None = None,
    release: str | None = None,
) -> BuildResult:
    """Build `app_dir` into `out_dir` (managed when `policy` is given, with the WASM servers and models of
    `wasm_sources`, as bundle `release`); raise `BuildError` on bad input."""
    ctx = BuildContext.create(
        app_dir,
        out_dir,
        node_modules=node_modules,
        policy=policy,
        wasm_sources=wasm_sources,
        release=release,
    )
    for step in STEPS:
        step(ctx)
    return write_site(ctx)


def build_from_inputs(inputs: BuildInputs, out_dir: Path) -> BuildResult:
    """Build as `satchel build` does and record `inputs` in the output (for `serve --reload`); raise `BuildError`
    on bad input (a bad policy included)."""
    try:
        policy = load_policy(inputs.policy_file) if inputs.policy_file is not None else None
    except PolicyError as exc:
        raise BuildError(str(exc)) from exc
    result = build_app(
        inputs.app_dir,
        out_dir,
        node_modules=inputs.node_modules,
        policy=policy,
        wasm_sources=inputs.wasm_sources(),
    )
    record_inputs(inputs, out_dir)
    return result
