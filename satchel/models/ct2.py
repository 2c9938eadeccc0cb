"""Reads CTranslate2 `model.bin` files, the format faster-whisper checkpoints ship in, without CTranslate2 itself.

Layout (CTranslate2 binary version 6): u32 version, u16-length spec name, u32 spec revision, u32 variable count,
then per variable a u16-length name, u8 rank, u32 dims, u8 dtype, u32 byte count and the raw little-endian data,
then a u32 alias count and (alias, target) name pairs. Strings carry a trailing NUL inside their length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

SUPPORTED_VERSION = 6

# CTranslate2's DataType enum, in its order.
_DTYPES: dict[int, np.dtype[np.generic]] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
}


class Ct2FormatError(ValueError):
    """The file is not a CTranslate2 model this reader understands."""


@dataclass(frozen=True)
class Ct2Model:
    """Every variable of a CTranslate2 model, by name, plus the aliases the file declares."""

    spec: str
    revision: int
    variables: dict[str, npt.NDArray[np.generic]]
    aliases: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> npt.NDArray[np.generic]:
        """The variable called `name`, following an alias if it is one."""
        target = self.aliases.get(name, name)
        try:
            return self.variables[target]
        except KeyError:
            raise Ct2FormatError(f"the CTranslate2 model has no variable {name!r}") from None


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.offset = 0
        self.path = path

    def unpack(self, fmt: str) -> tuple[int, ...]:
        size = struct.calcsize(fmt)
        if self.offset + size > len(self.data):
            raise Ct2FormatError(f"{self.path}: truncated at byte {self.offset}")
        values = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += size
        return values

    def string(self) -> str:
        (length,) = self.unpack("<H")
        raw = self.take(length)
        return raw.rstrip(b"\0").decode("utf-8")

    def take(self, length: int) -> bytes:
        if self.offset + length > len(self.data):
            raise Ct2FormatError(f"{self.path}: truncated at byte {self.offset}")
        raw = self.data[self.offset : self.offset + length]
        self.offset += length
        return raw


def read_ct2_model(path: Path) -> Ct2Model:
    """Load every variable of the CTranslate2 model at `path` into numpy arrays of the stored dtype."""
    reader = _Reader(path.read_bytes(), path)
    (version,) = reader.unpack("<I")
    if version != SUPPORTED_VERSION:
        raise Ct2FormatError(
            f"{path}: CTranslate2 binary version {version}, this reader understands {SUPPORTED_VERSION}"
        )
    spec = reader.string()
    (revision,) = reader.unpack("<I")
    (count,) = reader.unpack("<I")
    variables: dict[str, npt.NDArray[np.generic]] = {}
    for _ in range(count):
        name = reader.string()
        (rank,) = reader.unpack("<B")
        shape = reader.unpack(f"<{rank}I")
        (dtype_code,) = reader.unpack("<B")
        (nbytes,) = reader.unpack("<I")
        dtype = _DTYPES.get(dtype_code)
        if dtype is None:
            raise Ct2FormatError(f"{path}: variable {name!r} has unsupported dtype code {dtype_code}")
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if nbytes != expected:
            raise Ct2FormatError(
                f"{path}: variable {name!r} holds {nbytes} bytes, its shape needs {expected}"
            )
        variables[name] = np.frombuffer(reader.take(nbytes), dtype=dtype).reshape(shape)
    aliases: dict[str, str] = {}
    if reader.offset < len(reader.data):
        (alias_count,) = reader.unpack("<I")
        for _ in range(alias_count):
            alias = reader.string()
            aliases[alias] = reader.string()
    if reader.offset != len(reader.data):
        raise Ct2FormatError(f"{path}: {len(reader.data) - reader.offset} unexpected trailing bytes")
    return Ct2Model(spec=spec, revision=revision, variables=variables, aliases=aliases)
