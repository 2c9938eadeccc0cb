"""DeepSeek → GGUF offline: tiny DeepSeek-layout checkpoints through llama.cpp's converter and quantiser, then run.

The checkpoints (tests/models/checkpoints.py) have the real config and tokenizer layouts with random weights and a
locally trained BPE tokenizer, so generation is nonsense; what must hold is that the files convert, quantise, load
in llama-cpp-python, tokenize exactly as the Hugging Face tokenizer does, and generate deterministically.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from llama_cpp import Llama

from satchel.cli import main
from satchel.digests import file_sha256
from satchel.models.convert import ConversionError, convert_checkpoint
from satchel.models.store import ModelStore
from tests.models.checkpoints import Checkpoint, make_deepseek_llm, make_deepseek_r1_distill_qwen

SAMPLE = "the meeting notes say we ship the offline client on friday, 12 345 calls queued"


def _load(path: Path) -> Llama:
    return Llama(model_path=str(path), n_ctx=256, n_threads=1, seed=7, verbose=False)


def _greedy(model: Llama, prompt: list[int], count: int) -> list[int]:
    tokens: list[int] = []
    for token in model.generate(prompt, temp=0.0, top_k=1, reset=True):
        tokens.append(int(token))
        if len(tokens) == count:
            break
    return tokens


@pytest.fixture(
    scope="module", params=[make_deepseek_llm, make_deepseek_r1_distill_qwen], ids=["llama", "qwen2"]
)
def converted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Checkpoint, ModelStore, dict[str, Path]]:
    make: Callable[[Path], Checkpoint] = request.param
    root = tmp_path_factory.mktemp(make.__name__)
    checkpoint = make(root / "checkpoint")
    store = ModelStore(root / "store")
    outputs = {}
    for quantisation in ("Q8_0", "Q4_0"):
        model_id = f"tiny-{checkpoint.architecture}-{quantisation.lower()}"
        result = convert_checkpoint(
            checkpoint.path,
            store,
            model_id,
            f"{model_id}.gguf",
            quantisation,
            pre_tokenizer=checkpoint.pre_tokenizer,
        )
        assert result.record.sha256 == file_sha256(store.path_of(result.record.file))
        outputs[quantisation] = store.path_of(result.record.file)
    return checkpoint, store, outputs


def test_conversion_records_both_quantisations_in_the_store(
    converted: tuple[Checkpoint, ModelStore, dict[str, Path]],
) -> None:
    checkpoint, store, outputs = converted
    records = store.records()
    assert sorted(records) == sorted(f"tiny-{checkpoint.architecture}-{q}" for q in ("q8_0", "q4_0"))
    assert all(not record.pinned and "converted from" in record.source for record in records.values())
    assert outputs["Q4_0"].stat().st_size < outputs["Q8_0"].stat().st_size
    assert not list(store.work_dir.rglob("*.gguf")), "intermediate files must not be left behind"


@pytest.mark.parametrize("quantisation", ["Q8_0", "Q4_0"])
def test_converted_model_loads_with_deepseek_metadata(
    converted: tuple[Checkpoint, ModelStore, dict[str, Path]], quantisation: str
) -> None:
    checkpoint, _, outputs = converted
    model = _load(outputs[quantisation])
    metadata = model.metadata
    assert metadata["general.architecture"] == checkpoint.architecture
    assert metadata["tokenizer.ggml.model"] == "gpt2"
    assert metadata["tokenizer.ggml.pre"] == checkpoint.pre_tokenizer
    file_type = {"Q8_0": "7", "Q4_0": "2"}[quantisation]
    assert metadata["general.file_type"] == file_type
    assert model.n_vocab() % 64 == 0 and model.n_vocab() >= checkpoint.tokenizer.get_vocab_size()


@pytest.mark.parametrize("quantisation", ["Q8_0", "Q4_0"])
def test_llama_cpp_tokenizes_like_the_hugging_face_tokenizer(
    converted: tuple[Checkpoint, ModelStore, dict[str, Path]], quantisation: str
) -> None:
    checkpoint, _, outputs = converted
    model = _load(outputs[quantisation])
    expected = checkpoint.tokenizer.encode(SAMPLE).ids
    assert model.tokenize(SAMPLE.encode(), add_bos=True) == expected
    assert model.detokenize(expected[1:]).decode() == SAMPLE


def test_quantised_model_generates_deterministically(
    converted: tuple[Checkpoint, ModelStore, dict[str, Path]],
) -> None:
    checkpoint, _, outputs = converted
    prompt = checkpoint.tokenizer.encode(SAMPLE).ids
    first = _greedy(_load(outputs["Q4_0"]), prompt, 12)
    second = _greedy(_load(outputs["Q4_0"]), prompt, 12)
    assert len(first) == 12 and first == second
    vocab = checkpoint.tokenizer.get_vocab_size()
    assert all(0 <= token < _load(outputs["Q4_0"]).n_vocab() for token in first)
    assert vocab > 0


def test_unknown_tokenizer_without_pre_tokenizer_fails_clearly(tmp_path: Path) -> None:
    checkpoint = make_deepseek_llm(tmp_path / "checkpoint")
    store = ModelStore(tmp_path / "store")
    with pytest.raises(
        ConversionError,
        match=r"failed on .*: NotImplementedError: BPE pre-tokenizer was not recognized.* --pre-tokenizer",
    ):
        convert_checkpoint(checkpoint.path, store, "tiny", "tiny.gguf", "Q4_0")
    assert store.records() == {}
    assert not (tmp_path / "store" / "tiny.gguf").exists()


def test_folder_without_config_is_not_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match=r"is not a Hugging Face checkpoint: it has no config.json"):
        convert_checkpoint(tmp_path, ModelStore(tmp_path / "store"), "x", "x.gguf", "Q4_0")


def test_unknown_quantisation_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match=r"quantisation Q3_X is not offered"):
        convert_checkpoint(tmp_path, ModelStore(tmp_path / "store"), "x", "x.gguf", "Q3_X")


def test_cli_convert_records_the_model_and_reports_timings(tmp_path: Path) -> None:
    checkpoint = make_deepseek_llm(tmp_path / "deepseek-coder-tiny")
    store = tmp_path / "store"
    arguments = [
        "models",
        "convert",
        str(checkpoint.path),
        "--id",
        "deepseek-tiny",
        "--models-dir",
        str(store),
    ]
    result = CliRunner().invoke(main, [*arguments, "-q", "q4_0", "--pre-tokenizer", "deepseek-llm"])
    assert result.exit_code == 0, result.output
    assert "deepseek-tiny: LlamaForCausalLM -> deepseek-tiny.Q4_0.gguf" in result.output
    assert "convert " in result.output and "quantise " in result.output
    assert (store / "deepseek-tiny.Q4_0.gguf").is_file()
    refused = CliRunner().invoke(main, [*arguments, "-q", "Q4_0"])
    assert refused.exit_code == 1
    assert "Error: convert_hf_to_gguf.py failed" in refused.output and "--pre-tokenizer" in refused.output
