"""Reads and writes whisper.cpp's own model format (legacy ggml, magic `ggml`), the file its loader and quantiser take.

Layout: u32 magic 0x67676d6c; eleven i32 hyperparameters; the mel filterbank (i32 n_mel, i32 n_fft, f32 values);
the vocabulary (i32 count, then i32 length + bytes per token); then tensors until end of file, each as i32 n_dims,
i32 name length, i32 ggml type, i32 dims (innermost first), the name and the raw data. There is no alignment.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

GGML_MAGIC = 0x67676D6C
HPARAM_NAMES = (
    "n_vocab",
    "n_audio_ctx",
    "n_audio_state",
    "n_audio_head",
    "n_audio_layer",
    "n_text_ctx",
    "n_text_state",
    "n_text_head",
    "n_text_layer",
    "n_mels",
    "ftype",
)

# ggml type id -> (name, elements per block, bytes per block) for the types whisper files hold.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
}
F32, F16 = 0, 1


class WhisperGgmlError(ValueError):
    """The file is not a whisper.cpp ggml model this module understands."""


@dataclass(frozen=True)
class WhisperHeader:
    """Everything before the tensors: hyperparameters, mel filterbank and vocabulary."""

    hparams: dict[str, int]
    mel_filters: npt.NDArray[np.float32]
    vocab: list[bytes]


@dataclass(frozen=True)
class GgmlTensor:
    """One tensor as stored: `shape` is numpy order (outermost first); `data` is raw bytes for quantised types."""

    name: str
    ggml_type: int
    shape: tuple[int, ...]
    data: bytes

    @property
    def type_name(self) -> str:
        return GGML_TYPES[self.ggml_type][0]

    def array(self) -> npt.NDArray[np.float32] | npt.NDArray[np.float16]:
        """The values as numpy (F32 and F16 tensors only)."""
        if self.ggml_type == F32:
            return np.frombuffer(self.data, dtype="<f4").reshape(self.shape)
        if self.ggml_type == F16:
            return np.frombuffer(self.data, dtype="<f2").reshape(self.shape)
        raise WhisperGgmlError(
            f"tensor {self.name!r} is {self.type_name}: quantised values have no plain array"
        )


def tensor_nbytes(ggml_type: int, shape: tuple[int, ...]) -> int:
    """Bytes a tensor of this type and shape occupies in the file."""
    try:
        _, block, block_bytes = GGML_TYPES[ggml_type]
    except KeyError:
        raise WhisperGgmlError(f"unsupported ggml tensor type {ggml_type}") from None
    count = int(np.prod(shape, dtype=np.int64))
    if count % block:
        raise WhisperGgmlError(f"{count} elements do not fill whole blocks of {block}")
    return count // block * block_bytes


def _read_exact(stream: BinaryIO, size: int, what: str) -> bytes:
    raw = stream.read(size)
    if len(raw) != size:
        raise WhisperGgmlError(f"file ends inside {what}")
    return raw


def _ints(stream: BinaryIO, count: int, what: str) -> tuple[int, ...]:
    return struct.unpack(f"<{count}i", _read_exact(stream, 4 * count, what))


def read_header(stream: BinaryIO) -> WhisperHeader:
    """Read the header, leaving `stream` at the first tensor."""
    (magic,) = struct.unpack("<I", _read_exact(stream, 4, "the magic"))
    if magic != GGML_MAGIC:
        raise WhisperGgmlError(f"bad magic {magic:#x}: not a whisper.cpp ggml model")
    hparams = dict(zip(HPARAM_NAMES, _ints(stream, len(HPARAM_NAMES), "the hyperparameters"), strict=True))
    n_mel, n_fft = _ints(stream, 2, "the mel filterbank size")
    filters = np.frombuffer(_read_exact(stream, 4 * n_mel * n_fft, "the mel filterbank"), dtype="<f4")
    (n_tokens,) = _ints(stream, 1, "the vocabulary size")
    vocab = []
    for _ in range(n_tokens):
        (length,) = _ints(stream, 1, "the vocabulary")
        vocab.append(_read_exact(stream, length, "the vocabulary"))
    return WhisperHeader(hparams=hparams, mel_filters=filters.reshape(n_mel, n_fft).copy(), vocab=vocab)


def iter_tensors(stream: BinaryIO) -> Iterator[GgmlTensor]:
    """Yield the tensors that follow the header, in file order."""
    while True:
        first = stream.read(12)
        if not first:
            return
        if len(first) != 12:
            raise WhisperGgmlError("file ends inside a tensor header")
        n_dims, name_length, ggml_type = struct.unpack("<3i", first)
        dims = _ints(stream, n_dims, "a tensor shape")
        name = _read_exact(stream, name_length, "a tensor name").decode("utf-8")
        shape = tuple(reversed(dims))
        data = _read_exact(stream, tensor_nbytes(ggml_type, shape), f"tensor {name!r}")
        yield GgmlTensor(name=name, ggml_type=ggml_type, shape=shape, data=data)


def read_model(path: Path) -> tuple[WhisperHeader, list[GgmlTensor]]:
    """Header and every tensor of the model at `path`."""
    with path.open("rb") as stream:
        header = read_header(stream)
        return header, list(iter_tensors(stream))


def write_model(stream: BinaryIO, header: WhisperHeader, tensors: Iterable[GgmlTensor]) -> None:
    """Write a complete model: the header, then `tensors` in the order given."""
    stream.write(struct.pack("<I", GGML_MAGIC))
    stream.write(struct.pack(f"<{len(HPARAM_NAMES)}i", *(header.hparams[name] for name in HPARAM_NAMES)))
    n_mel, n_fft = header.mel_filters.shape
    stream.write(struct.pack("<2i", n_mel, n_fft))
    stream.write(np.ascontiguousarray(header.mel_filters, dtype="<f4").tobytes())
    stream.write(struct.pack("<i", len(header.vocab)))
    for token in header.vocab:
        stream.write(struct.pack("<i", len(token)))
        stream.write(token)
    for tensor in tensors:
        if len(tensor.data) != tensor_nbytes(tensor.ggml_type, tensor.shape):
            raise WhisperGgmlError(f"tensor {tensor.name!r}: data size does not match its shape")
        name = tensor.name.encode("utf-8")
        stream.write(struct.pack("<3i", len(tensor.shape), len(name), tensor.ggml_type))
        stream.write(struct.pack(f"<{len(tensor.shape)}i", *reversed(tensor.shape)))
        stream.write(name)
        stream.write(tensor.data)
