"""Codebooks as CSV: one row per code, `path` (`Theme/Code`) for the hierarchy.

Columns: path, id, colour, definition, include, exclude, examples (several examples
separated by ` | `). Spreadsheet-friendly both ways; errors name the row.
"""

from __future__ import annotations

import csv
import io
import re
from typing import BinaryIO

from qda.cells import safe_cell, unsafe_cell
from qda.codebook import MAX_CODE_DEPTH, Codebook, CodeNode, ImportReport
from qda.errors import InvalidInput, InvalidInputs
from qda.ingest.participants import decode_text

COLUMNS = ("path", "id", "colour", "definition", "include", "exclude", "examples")
EXAMPLE_SEPARATOR = " | "
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def write_codebook_csv(codebook: Codebook, out: BinaryIO) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for path, node in codebook.walk():
        writer.writerow(
            [
                safe_cell(path),
                safe_cell(node.id),
                node.colour,
                safe_cell(node.definition),
                safe_cell(node.include),
                safe_cell(node.exclude),
                safe_cell(EXAMPLE_SEPARATOR.join(node.examples)),
            ]
        )
    out.write(buffer.getvalue().encode("utf-8"))


def read_codebook_csv(stream: BinaryIO, source: str = "codebook.csv") -> Codebook:
    """Read a codebook CSV.

    Raises:
        InvalidInputs: every bad row, with its line and column.
    """
    text, _ = decode_text(stream.read(), source)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    if "path" not in header:
        raise InvalidInputs(
            [
                InvalidInput(
                    f"missing column 'path' (found: {', '.join(header) or 'none'})",
                    source=source,
                    line=1,
                )
            ]
        )
    errors: list[InvalidInput] = []
    fixed: list[str] = []
    rows: dict[str, dict[str, object]] = {}
    order: list[str] = []
    id_lines: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        row = {k.strip(): unsafe_cell((v or "").strip()) for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        path = "/".join(part.strip() for part in row.get("path", "").split("/"))
        if not path or any(not part for part in path.split("/")):
            errors.append(
                InvalidInput(
                    "path is empty or has an empty part", source=source, line=line, column="path"
                )
            )
            continue
        if path in rows:
            errors.append(
                InvalidInput(f"'{path}' appears twice", source=source, line=line, column="path")
            )
            continue
        if path.count("/") > MAX_CODE_DEPTH:
            errors.append(
                InvalidInput(
                    f"the path is {path.count('/') + 1} levels deep; a codebook has at most "
                    f"{MAX_CODE_DEPTH + 1}",
                    source=source,
                    line=line,
                    column="path",
                )
            )
            continue
        code_id = row.get("id", "")
        if code_id:
            other = id_lines.setdefault(code_id.lower(), line)
            if other != line:
                errors.append(
                    InvalidInput(
                        f"id {code_id} is also the id of the code on line {other}; "
                        "each code needs its own",
                        source=source,
                        line=line,
                        column="id",
                    )
                )
                continue
        colour = row.get("colour", "") or row.get("color", "")
        if colour and not _COLOUR.match(colour):
            errors.append(
                InvalidInput(
                    f"colour '{colour}' is not #RRGGBB", source=source, line=line, column="colour"
                )
            )
            continue
        examples = tuple(e.strip() for e in row.get("examples", "").split("|") if e.strip())
        rows[path] = {
            "id": code_id,
            "colour": colour.upper(),
            "definition": row.get("definition", ""),
            "include": row.get("include", ""),
            "exclude": row.get("exclude", ""),
            "examples": examples,
        }
        order.append(path)
    if errors:
        raise InvalidInputs(errors)
    if not rows:
        raise InvalidInputs([InvalidInput("no codes in the file", source=source, line=2)])
    complete: list[str] = []  # every path after the themes it sits under
    for path in order:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent not in rows:
                rows[parent] = {
                    "id": "",
                    "colour": "",
                    "definition": "",
                    "include": "",
                    "exclude": "",
                    "examples": (),
                }
                complete.append(parent)
                fixed.append(f"added the theme '{parent}', which '{path}' sits under")
        complete.append(path)
    children: dict[str, list[str]] = {}
    for path in complete:
        children.setdefault(path.rpartition("/")[0], []).append(path)

    def build(prefix: str) -> tuple[CodeNode, ...]:
        return tuple(
            CodeNode(name=path.rpartition("/")[2], children=build(path), **rows[path])
            for path in children.get(prefix, ())
        )

    return Codebook(codes=build(""), report=ImportReport(kept=len(rows), fixed=tuple(fixed)))
