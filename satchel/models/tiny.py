"""`satchel models make-tiny`: tiny random-weight models of the real architectures, for tests and benchmarks.

No hub is reachable and real weights are large, so tests run on models made here, deterministically from a seed:
a llama-architecture GGUF whose tokenizer (and so its tokenization) comes from llama.cpp's vocab-only
`models/ggml-vocab-llama-spm.gguf`, and a whisper.cpp ggml model whose header (mel filters, vocabulary) comes from
whisper.cpp's weightless `models/for-tests-ggml-tiny.bin`, both found in the pinned sdists. The weights are noise,
so the output is nonsense, but every build runs the full graph of the real architecture on them, which is what
equality tests (native vs WASM) and speed figures need. Same seed, same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

# numpy and gguf take ~0.4 s to import: only the make-tiny command pays for them, not every `satchel` run.
if TYPE_CHECKING:
    import gguf
    import numpy as np
    import numpy.typing as npt

    from satchel.models.whisper_ggml import GgmlTensor

DEFAULT_OUT_DIR = Path(".cache/models/tiny")
LLAMA_FILE = "tiny-llama.gguf"
WHISPER_FILE = "tiny-whisper.bin"
LLAMA_VOCAB = "models/ggml-vocab-llama-spm.gguf"
WHISPER_HEADER = "models/for-tests-ggml-tiny.bin"
#: ChatML, which llama.cpp's built-in template list recognises, so `summarize` goes through a real template.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass(frozen=True)
class LlamaShape:
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_head_kv: int = 2
    n_ff: int = 128
    n_ctx: int = 512


@dataclass(frozen=True)
class WhisperShape:
    n_state: int = 64
    n_head: int = 2
    n_layer: int = 1


def _normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> npt.NDArray[np.float32]:
    import numpy as np

    values: npt.NDArray[np.float32] = rng.standard_normal(shape, dtype=np.float32) / np.float32(
        np.sqrt(fan_in)
    )
    return values


def _copy_tokenizer(vocab: gguf.GGUFReader, writer: gguf.GGUFWriter) -> int:
    """Copy every `tokenizer.*` key of the vocab-only GGUF; returns the vocabulary size."""
    import gguf

    size = 0
    for name, field in vocab.fields.items():
        if not name.startswith("tokenizer."):
            continue
        value = field.contents()
        sub_type = field.types[1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, value, field.types[0], sub_type=sub_type)
        if name == "tokenizer.ggml.tokens":
            size = len(value)
    if size == 0:
        raise click.ClickException("the vocab GGUF has no tokenizer.ggml.tokens")
    return size


def make_tiny_llama(
    vocab_path: Path, output: Path, *, seed: int = 0, shape: LlamaShape = LlamaShape()
) -> Path:
    """Write a random-weight llama GGUF (F16 matrices, F32 norms) with the tokenizer of `vocab_path`."""
    import gguf
    import numpy as np

    rng = np.random.default_rng(seed)
    vocab = gguf.GGUFReader(vocab_path)
    temporary = output.with_name(output.name + ".tmp")
    writer = gguf.GGUFWriter(temporary, "llama")
    writer.add_name("satchel-tiny-llama")
    n_vocab = _copy_tokenizer(vocab, writer)
    writer.add_chat_template(CHAT_TEMPLATE)
    head_dim = shape.n_embd // shape.n_head
    writer.add_context_length(shape.n_ctx)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)

    def matrix(name: str, rows: int, cols: int, scale: float = 1.0) -> None:
        writer.add_tensor(name, (_normal(rng, (rows, cols), cols) * scale).astype(np.float16))

    def norm(name: str) -> None:
        writer.add_tensor(
            name, (1.0 + 0.1 * rng.standard_normal(shape.n_embd, dtype=np.float32)).astype(np.float32)
        )

    n_kv = shape.n_head_kv * head_dim
    # Unit-scale embeddings and a wide output projection spread the logits, so the greedy choice is not a near-tie
    # that rounding differences between CPU kernels could flip.
    writer.add_tensor(
        "token_embd.weight", rng.standard_normal((n_vocab, shape.n_embd), dtype=np.float32).astype(np.float16)
    )
    for layer in range(shape.n_layer):
        prefix = f"blk.{layer}"
        norm(f"{prefix}.attn_norm.weight")
        matrix(f"{prefix}.attn_q.weight", shape.n_embd, shape.n_embd)
        matrix(f"{prefix}.attn_k.weight", n_kv, shape.n_embd)
        matrix(f"{prefix}.attn_v.weight", n_kv, shape.n_embd)
        matrix(f"{prefix}.attn_output.weight", shape.n_embd, shape.n_embd)
        norm(f"{prefix}.ffn_norm.weight")
        matrix(f"{prefix}.ffn_gate.weight", shape.n_ff, shape.n_embd)
        matrix(f"{prefix}.ffn_up.weight", shape.n_ff, shape.n_embd)
        matrix(f"{prefix}.ffn_down.weight", shape.n_embd, shape.n_ff)
    norm("output_norm.weight")
    matrix("output.weight", n_vocab, shape.n_embd, scale=4.0)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    temporary.replace(output)
    return output


def _whisper_tensors(
    rng: np.random.Generator, hparams: dict[str, int], shape: WhisperShape
) -> list[GgmlTensor]:
    """Every tensor whisper.cpp's loader expects, in OpenAI's state-dict order (numpy shapes, outermost first)."""
    import numpy as np

    from satchel.models.whisper_ggml import F16, F32, GgmlTensor

    state, n_mels = shape.n_state, hparams["n_mels"]
    out: list[GgmlTensor] = []

    def f32(name: str, value: npt.NDArray[np.float32]) -> None:
        out.append(GgmlTensor(name, F32, value.shape, np.ascontiguousarray(value, dtype="<f4").tobytes()))

    def f16(name: str, value: npt.NDArray[np.float32]) -> None:
        out.append(GgmlTensor(name, F16, value.shape, np.ascontiguousarray(value, dtype="<f2").tobytes()))

    def linear(name: str, rows: int, cols: int, *, bias: bool = True) -> None:
        f16(f"{name}.weight", _normal(rng, (rows, cols), cols))
        if bias:
            f32(f"{name}.bias", 0.02 * rng.standard_normal(rows, dtype=np.float32))

    def layer_norm(name: str) -> None:
        f32(f"{name}.weight", 1.0 + 0.1 * rng.standard_normal(state, dtype=np.float32))
        f32(f"{name}.bias", 0.02 * rng.standard_normal(state, dtype=np.float32))

    def attention(name: str) -> None:
        linear(f"{name}.query", state, state)
        linear(f"{name}.key", state, state, bias=False)  # whisper's key projection has no bias
        linear(f"{name}.value", state, state)
        linear(f"{name}.out", state, state)

    def block(name: str, *, cross: bool) -> None:
        attention(f"{name}.attn")
        layer_norm(f"{name}.attn_ln")
        if cross:
            attention(f"{name}.cross_attn")
            layer_norm(f"{name}.cross_attn_ln")
        linear(f"{name}.mlp.0", 4 * state, state)
        linear(f"{name}.mlp.2", state, 4 * state)
        layer_norm(f"{name}.mlp_ln")

    f32(
        "encoder.positional_embedding",
        0.1 * rng.standard_normal((hparams["n_audio_ctx"], state), dtype=np.float32),
    )
    f16("encoder.conv1.weight", _normal(rng, (state, n_mels, 3), 3 * n_mels))  # conv weights must be F16
    f32("encoder.conv1.bias", 0.02 * rng.standard_normal((state, 1), dtype=np.float32))
    f16("encoder.conv2.weight", _normal(rng, (state, state, 3), 3 * state))
    f32("encoder.conv2.bias", 0.02 * rng.standard_normal((state, 1), dtype=np.float32))
    for index in range(shape.n_layer):
        block(f"encoder.blocks.{index}", cross=False)
    layer_norm("encoder.ln_post")
    f32(
        "decoder.positional_embedding",
        0.1 * rng.standard_normal((hparams["n_text_ctx"], state), dtype=np.float32),
    )
    f16("decoder.token_embedding.weight", rng.standard_normal((hparams["n_vocab"], state), dtype=np.float32))
    for index in range(shape.n_layer):
        block(f"decoder.blocks.{index}", cross=True)
    layer_norm("decoder.ln")
    return out


def make_tiny_whisper(
    header_path: Path, output: Path, *, seed: int = 0, shape: WhisperShape = WhisperShape()
) -> Path:
    """Write a random-weight whisper.cpp ggml model with the mel filters and vocabulary of `header_path`."""
    import numpy as np

    from satchel.models.whisper_ggml import WhisperHeader, read_header, write_model

    rng = np.random.default_rng(seed)
    with header_path.open("rb") as stream:
        template = read_header(stream)
    hparams = dict(template.hparams)
    hparams.update(
        n_audio_state=shape.n_state,
        n_audio_head=shape.n_head,
        n_audio_layer=shape.n_layer,
        n_text_state=shape.n_state,
        n_text_head=shape.n_head,
        n_text_layer=shape.n_layer,
        ftype=1,
    )
    header = WhisperHeader(hparams=hparams, mel_filters=template.mel_filters, vocab=template.vocab)
    temporary = output.with_name(output.name + ".tmp")
    with temporary.open("wb") as stream:
        write_model(stream, header, _whisper_tensors(rng, hparams, shape))
    temporary.replace(output)
    return output


def make_tiny_models(
    out_dir: Path, *, seed: int = 0, log: Callable[[str], None] = print
) -> tuple[Path, Path]:
    """Both tiny models in `out_dir`, from the trees of the pinned sdists (fetched if needed)."""
    from satchel.wasm.build import REPO_ROOT
    from satchel.wasm.sources import DEFAULT_SDIST_DIR, fetch_sources

    sources = fetch_sources(REPO_ROOT / DEFAULT_SDIST_DIR, log=log)
    out_dir.mkdir(parents=True, exist_ok=True)
    llama = make_tiny_llama(sources.llama_cpp / LLAMA_VOCAB, out_dir / LLAMA_FILE, seed=seed)
    whisper = make_tiny_whisper(sources.whisper_cpp / WHISPER_HEADER, out_dir / WHISPER_FILE, seed=seed)
    return llama, whisper


@click.command("make-tiny")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_OUT_DIR,
    show_default=True,
    help="Folder for tiny-llama.gguf and tiny-whisper.bin.",
)
@click.option(
    "--seed", default=0, show_default=True, type=click.IntRange(0), help="Seed of the random weights."
)
def make_tiny(out_dir: Path, seed: int) -> None:
    """Write tiny random-weight llama (GGUF) and whisper (ggml) models, deterministically."""
    from satchel.wasm import WasmError

    try:
        paths = make_tiny_models(out_dir, seed=seed, log=click.echo)
    except WasmError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in paths:
        click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
