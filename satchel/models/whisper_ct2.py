"""Turns a CTranslate2 (faster-whisper) whisper checkpoint into whisper.cpp's ggml format, losslessly.

CTranslate2 fuses the attention projections (self-attention Q|K|V, cross-attention K|V) and names everything its own
way; whisper.cpp wants OpenAI's tensor names, with the key projection unbiased. Every float16 weight is carried over
bit for bit (biases, norms and position tables widen to float32 exactly as whisper.cpp's own converter does). The
header (hyperparameters, mel filterbank, vocabulary) comes from the weightless `for-tests-ggml-*.bin` file of the
whisper.cpp tree whose hyperparameters match the checkpoint, so the result loads in whisper.cpp as it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from satchel.models.ct2 import Ct2Model, read_ct2_model
from satchel.models.whisper_ggml import F16, F32, GgmlTensor, WhisperHeader, read_header, write_model


class WhisperConversionError(ValueError):
    """The checkpoint cannot be converted without losing or inventing weights."""


def hparams_of(model: Ct2Model) -> dict[str, int]:
    """whisper.cpp hyperparameters implied by the checkpoint's shapes and attributes (ftype 1: mostly F16)."""
    if model.spec != "WhisperSpec":
        raise WhisperConversionError(f"not a whisper checkpoint: its spec is {model.spec!r}")
    conv1 = model.get("encoder/conv1/weight")
    embeddings = model.get("decoder/embeddings/weight")
    return {
        "n_vocab": embeddings.shape[0],
        "n_audio_ctx": model.get("encoder/position_encodings/encodings").shape[0],
        "n_audio_state": conv1.shape[0],
        "n_audio_head": int(model.get("encoder/num_heads")),
        "n_audio_layer": _layer_count(model, "encoder"),
        "n_text_ctx": model.get("decoder/position_encodings/encodings").shape[0],
        "n_text_state": embeddings.shape[1],
        "n_text_head": int(model.get("decoder/num_heads")),
        "n_text_layer": _layer_count(model, "decoder"),
        "n_mels": conv1.shape[1],
        "ftype": 1,
    }


def _layer_count(model: Ct2Model, stack: str) -> int:
    count = 0
    while f"{stack}/layer_{count}/ffn/linear_0/weight" in model.variables:
        count += 1
    if count == 0:
        raise WhisperConversionError(f"the checkpoint has no {stack} layers")
    return count


def find_header_template(models_dir: Path, hparams: dict[str, int]) -> Path:
    """The `for-tests-ggml-*.bin` in whisper.cpp's models/ folder whose hyperparameters equal `hparams`."""
    candidates = sorted(models_dir.glob("for-tests-ggml-*.bin"))
    for candidate in candidates:
        with candidate.open("rb") as stream:
            if read_header(stream).hparams == hparams:
                return candidate
    raise WhisperConversionError(
        f"no for-tests-ggml-*.bin in {models_dir} has the checkpoint's hyperparameters {hparams} "
        f"({len(candidates)} looked at)"
    )


class _Tensors:
    """Collects output tensors and remembers which checkpoint variables were used, to prove nothing is left out."""

    def __init__(self, model: Ct2Model) -> None:
        self.model = model
        self.used: set[str] = set()

    def take(self, name: str) -> npt.NDArray[np.float16]:
        value = self.model.get(name)
        if value.dtype != np.float16:
            raise WhisperConversionError(
                f"{name} is {value.dtype}, expected float16 (a lossless copy needs it)"
            )
        self.used.add(self.model.aliases.get(name, name))
        return value.astype(np.float16, copy=False)

    def unused(self) -> list[str]:
        weights = (name for name, value in self.model.variables.items() if value.ndim > 0)
        return sorted(name for name in weights if name not in self.used)


def _tensor(name: str, value: npt.NDArray[np.float16], *, widen: bool = False) -> GgmlTensor:
    """One ggml tensor: float16 matrices stay F16; vectors, conv biases and position tables widen to F32."""
    if widen or value.ndim < 2:
        return GgmlTensor(name, F32, value.shape, np.ascontiguousarray(value, dtype="<f4").tobytes())
    return GgmlTensor(name, F16, value.shape, np.ascontiguousarray(value, dtype="<f2").tobytes())


def _split(value: npt.NDArray[np.float16], parts: int, what: str) -> list[npt.NDArray[np.float16]]:
    if value.shape[0] % parts:
        raise WhisperConversionError(f"{what}: {value.shape[0]} rows do not split into {parts} projections")
    return list(np.split(value, parts, axis=0))


def _zero_key_bias(bias: npt.NDArray[np.float16], what: str) -> None:
    if np.any(bias != 0):
        raise WhisperConversionError(
            f"{what}: the key projection has a non-zero bias, which whisper.cpp cannot hold"
        )


def _attention(
    tensors: _Tensors, source: str, target: str, *, fused_qkv: bool, out_linear: str
) -> Iterator[GgmlTensor]:
    if fused_qkv:
        q_w, k_w, v_w = _split(tensors.take(f"{source}/linear_0/weight"), 3, source)
        q_b, k_b, v_b = _split(tensors.take(f"{source}/linear_0/bias"), 3, source)
    else:
        q_w, q_b = tensors.take(f"{source}/linear_0/weight"), tensors.take(f"{source}/linear_0/bias")
        k_w, v_w = _split(tensors.take(f"{source}/linear_1/weight"), 2, source)
        k_b, v_b = _split(tensors.take(f"{source}/linear_1/bias"), 2, source)
    _zero_key_bias(k_b, source)
    yield _tensor(f"{target}.query.weight", q_w)
    yield _tensor(f"{target}.query.bias", q_b)
    yield _tensor(f"{target}.key.weight", k_w)
    yield _tensor(f"{target}.value.weight", v_w)
    yield _tensor(f"{target}.value.bias", v_b)
    yield _tensor(f"{target}.out.weight", tensors.take(f"{source}/{out_linear}/weight"))
    yield _tensor(f"{target}.out.bias", tensors.take(f"{source}/{out_linear}/bias"))


def _norm(tensors: _Tensors, source: str, target: str) -> Iterator[GgmlTensor]:
    yield _tensor(f"{target}.weight", tensors.take(f"{source}/gamma"))
    yield _tensor(f"{target}.bias", tensors.take(f"{source}/beta"))


def _block(tensors: _Tensors, stack: str, index: int) -> Iterator[GgmlTensor]:
    source, target = f"{stack}/layer_{index}", f"{stack}.blocks.{index}"
    yield from _attention(
        tensors, f"{source}/self_attention", f"{target}.attn", fused_qkv=True, out_linear="linear_1"
    )
    yield from _norm(tensors, f"{source}/self_attention/layer_norm", f"{target}.attn_ln")
    if stack == "decoder":
        yield from _attention(
            tensors, f"{source}/attention", f"{target}.cross_attn", fused_qkv=False, out_linear="linear_2"
        )
        yield from _norm(tensors, f"{source}/attention/layer_norm", f"{target}.cross_attn_ln")
    for linear, target_index in (("linear_0", 0), ("linear_1", 2)):
        yield _tensor(f"{target}.mlp.{target_index}.weight", tensors.take(f"{source}/ffn/{linear}/weight"))
        yield _tensor(f"{target}.mlp.{target_index}.bias", tensors.take(f"{source}/ffn/{linear}/bias"))
    yield from _norm(tensors, f"{source}/ffn/layer_norm", f"{target}.mlp_ln")


def ggml_tensors(model: Ct2Model) -> list[GgmlTensor]:
    """Every whisper.cpp tensor, in OpenAI's state-dict order, after checking that no weight was left behind."""
    hparams = hparams_of(model)
    tensors = _Tensors(model)
    out: list[GgmlTensor] = [
        _tensor(
            "encoder.positional_embedding", tensors.take("encoder/position_encodings/encodings"), widen=True
        )
    ]
    for conv in ("conv1", "conv2"):
        out.append(_tensor(f"encoder.{conv}.weight", tensors.take(f"encoder/{conv}/weight")))
        bias = tensors.take(f"encoder/{conv}/bias")
        out.append(_tensor(f"encoder.{conv}.bias", bias.reshape(bias.shape[0], 1), widen=True))
    for index in range(hparams["n_audio_layer"]):
        out.extend(_block(tensors, "encoder", index))
    out.extend(_norm(tensors, "encoder/layer_norm", "encoder.ln_post"))
    out.append(
        _tensor(
            "decoder.positional_embedding", tensors.take("decoder/position_encodings/encodings"), widen=True
        )
    )
    embeddings = tensors.take("decoder/embeddings/weight")
    out.append(_tensor("decoder.token_embedding.weight", embeddings))
    for index in range(hparams["n_text_layer"]):
        out.extend(_block(tensors, "decoder", index))
    out.extend(_norm(tensors, "decoder/layer_norm", "decoder.ln"))
    # whisper.cpp ties the output projection to the token embedding; the checkpoint must do the same.
    projection = model.get("decoder/projection/weight")
    if not np.array_equal(projection, embeddings):
        raise WhisperConversionError("decoder/projection/weight differs from the token embedding")
    tensors.used.add(model.aliases.get("decoder/projection/weight", "decoder/projection/weight"))
    left = tensors.unused()
    if left:
        raise WhisperConversionError(f"the conversion would drop checkpoint variables: {', '.join(left)}")
    return out


@dataclass(frozen=True)
class WhisperConversion:
    """What `convert_ct2_to_ggml` wrote."""

    output: Path
    header_template: Path
    hparams: dict[str, int]
    tensor_count: int
    size: int


def convert_ct2_to_ggml(model_bin: Path, whisper_models_dir: Path, output: Path) -> WhisperConversion:
    """Convert the CTranslate2 `model.bin` to a whisper.cpp ggml F16 file at `output` (written atomically)."""
    model = read_ct2_model(model_bin)
    hparams = hparams_of(model)
    template = find_header_template(whisper_models_dir, hparams)
    with template.open("rb") as stream:
        template_header = read_header(stream)
    header = WhisperHeader(
        hparams=hparams, mel_filters=template_header.mel_filters, vocab=template_header.vocab
    )
    tensors = ggml_tensors(model)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as stream:
            write_model(stream, header, tensors)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return WhisperConversion(
        output=output,
        header_template=template,
        hparams=hparams,
        tensor_count=len(tensors),
        size=output.stat().st_size,
    )
