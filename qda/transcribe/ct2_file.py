"""Read the variables of a CTranslate2 `model.bin` (binary format version 6)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

# Order of CTranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


def _read(f: BinaryIO, fmt: str):
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("the model file ends early")
    return struct.unpack(fmt, data)[0]


def _read_string(f: BinaryIO) -> str:
    length = _read(f, "H")
    return f.read(length)[:-1].decode("utf-8")


def read_ct2_variables(path: str | Path) -> tuple[str, dict[str, np.ndarray]]:
    """The spec name and the variables (aliases resolved) of a CTranslate2 model file."""
    variables: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        version = _read(f, "I")
        if version not in (5, 6):
            raise ValueError(f"unsupported CTranslate2 model version {version}")
        spec = _read_string(f)
        _read(f, "I")  # spec revision
        for _ in range(_read(f, "I")):
            name = _read_string(f)
            rank = _read(f, "B")
            shape = tuple(_read(f, "I") for _ in range(rank))
            dtype = _DTYPES[_read(f, "B")]
            nbytes = _read(f, "I")
            raw = f.read(nbytes)
            if dtype == "bfloat16":
                bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
                array = bits.view(np.float32)
            else:
                array = np.frombuffer(raw, dtype=dtype)
            variables[name] = array.reshape(shape)
        for _ in range(_read(f, "I")):
            alias, target = _read_string(f), _read_string(f)
            variables[alias] = variables[target]
    return spec, variables
