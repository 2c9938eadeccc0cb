"""Fixtures for the bundle tests: a managed policy, and bundles made from a private copy of the app."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from satchel.bundle import BundleSpec, make_bundle
from satchel.bundle.assemble import BundleResult
from satchel.models.catalog import DEFAULT_CATALOG
from satchel.policy import Policy, parse_policy_toml
from satchel.wasm import DEFAULT_WASM_DIR
from tests.conftest import NODE_MODULES

RIVERSIDE_TOML = """
organization = "Riverside Clinic"
[servers]
allow = ["io.satchel/tools", "io.satchel/workspace"]
[tools]
deny = ["io.satchel/workspace:delete_note"]
always_ask = ["io.satchel/workspace:save_note"]
[sync]
redact_before_sync = true
"""
URL = "https://satchel.example.org/"


@pytest.fixture
def policy() -> Policy:
    return parse_policy_toml(RIVERSIDE_TOML)


@pytest.fixture
def spec(policy: Policy) -> BundleSpec:
    return BundleSpec(policy=policy, url=URL)


def bundle_into(
    out: Path,
    spec: BundleSpec,
    app: Path,
    *,
    catalog_path: Path = DEFAULT_CATALOG,
    models_dir: Path | None = None,
    wasm_dir: Path = DEFAULT_WASM_DIR,
) -> BundleResult:
    return make_bundle(
        spec,
        out,
        app_dir=app,
        node_modules=NODE_MODULES,
        catalog_path=catalog_path,
        models_dir=models_dir,
        wasm_dir=wasm_dir,
    )


@pytest.fixture
def bundle_dir(tmp_path: Path, spec: BundleSpec, app_copy: Path) -> Path:
    out = tmp_path / "bundle"
    bundle_into(out, spec, app_copy)
    return out


def spec_for_install(policy: Policy, install_dir: Path, listen: str, url: str) -> BundleSpec:
    return BundleSpec(policy=policy, url=url, listen=listen, install_dir=PurePosixPath(install_dir))
