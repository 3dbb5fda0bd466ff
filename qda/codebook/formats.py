"""Codebook file formats, chosen by file extension: a registry of readers and writers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from qda.codebook import Codebook
from qda.codebook.csv_format import read_codebook_csv, write_codebook_csv
from qda.codebook.qdc import read_qdc, write_qdc
from qda.codebook.yaml_format import read_codebook_yaml, write_codebook_yaml
from qda.errors import InvalidInput

READERS: dict[str, Callable[[BinaryIO, str], Codebook]] = {
    "yaml": read_codebook_yaml,
    "yml": read_codebook_yaml,
    "qdc": read_qdc,
    "qdpx": read_qdc,  # the codebook of a REFI-QDA project
    "qde": read_qdc,
    "csv": read_codebook_csv,
}
WRITERS: dict[str, tuple[Callable[[Codebook, BinaryIO], None], str]] = {
    "yaml": (write_codebook_yaml, "application/yaml"),
    "qdc": (write_qdc, "application/xml"),
    "csv": (write_codebook_csv, "text/csv"),
}


def _format(name: str, table: dict) -> str:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix not in table:
        raise InvalidInput(
            f"unknown codebook format '.{suffix}' (use {', '.join('.' + k for k in table)})",
            source=Path(name).name,
        )
    return suffix


def read_codebook(stream: BinaryIO, name: str) -> Codebook:
    """Read a codebook file; the format comes from the name's extension."""
    return READERS[_format(name, READERS)](stream, Path(name).name)


def write_codebook(codebook: Codebook, out: BinaryIO, name_or_format: str) -> None:
    """Write a codebook in the format of a file name (or a bare format name)."""
    fmt = name_or_format if name_or_format in WRITERS else _format(name_or_format, WRITERS)
    WRITERS[fmt][0](codebook, out)
