"""Codings from a CSV file: which code applies to which turn of which interview.

Columns: `interview` (interview id, e.g. P01), `turn` (1-based turn number, as a
reader counts the turns of the transcript), `code` (path of the code, `Theme/Code`),
`coder`. A first-pass coding shipped with a study, or codings made in a spreadsheet,
come in this way. The whole file is checked before anything is stored.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import BinaryIO

from qda.errors import InvalidInput, InvalidInputs
from qda.ingest.csv_rows import csv_rows
from qda.ingest.participants import decode_text, read_table_bytes
from qda.models import CodingOrigin
from qda.store import Project

COLUMNS = ("interview", "turn", "code", "coder")
MAX_ROWS = 200_000  # a study of 100 interviews coded densely by three coders has ~30,000
_TURN = re.compile(r"^[0-9]{1,9}$")


def import_codings_csv(
    project: Project, stream: BinaryIO, source: str = "codings.csv", *, default_coder: str = ""
) -> int:
    """Apply every coding of the file; codings already there are not added twice.

    Returns:
        The number of codings that were new (a row the project holds already is not
        counted).

    Raises:
        InvalidInputs: every bad row, with its line and column; nothing was stored.
    """
    text, _ = decode_text(read_table_bytes(stream, source, "codings file"), source)
    try:
        rows_in = csv_rows(text, source)
        header = [h.strip() for h in next(rows_in, (1, []))[1]]
        missing = [c for c in COLUMNS if c not in header and not (c == "coder" and default_coder)]
        if missing:
            raise InvalidInputs(
                [InvalidInput(f"missing column '{c}'", source=source, line=1) for c in missing]
            )
        numbered = []
        for line_no, cells in rows_in:
            if len(numbered) >= MAX_ROWS:
                raise InvalidInput(
                    f"more than {MAX_ROWS:,} codings in one file: split it into several files",
                    source=source,
                    line=line_no,
                )
            numbered.append((line_no, cells))
    except InvalidInput as e:
        raise InvalidInputs([e]) from None
    paths = project.code_paths()
    segments = {(s.interview_id, s.index + 1): s for s in project.segments()}
    turns = Counter(interview for interview, _ in segments)
    errors: list[InvalidInput] = []
    planned: list[tuple[int, str, str]] = []
    for line_no, cells in numbered:
        row = {name: cell.strip() for name, cell in zip(header, cells, strict=False) if name}
        if not any(row.values()):
            continue
        interview, turn, path = row.get("interview", ""), row.get("turn", ""), row.get("code", "")
        coder = row.get("coder") or default_coder
        if interview not in turns:
            errors.append(
                InvalidInput(
                    f"no interview '{interview[:60]}'",
                    source=source,
                    line=line_no,
                    column="interview",
                )
            )
            continue
        if not _TURN.match(turn) or (interview, int(turn)) not in segments:
            errors.append(
                InvalidInput(
                    f"turn '{turn[:20]}' is not a turn of {interview} "
                    f"(it has turns 1–{turns[interview]})",
                    source=source,
                    line=line_no,
                    column="turn",
                )
            )
            continue
        if path not in paths:
            errors.append(
                InvalidInput(
                    f"no code '{path[:80]}' in the codebook (write codes as Theme/Code)",
                    source=source,
                    line=line_no,
                    column="code",
                )
            )
            continue
        if not paths[path].codable:
            errors.append(
                InvalidInput(
                    f"'{path}' is not codable (it heads other codes)",
                    source=source,
                    line=line_no,
                    column="code",
                )
            )
            continue
        if not coder:
            errors.append(
                InvalidInput("coder is empty", source=source, line=line_no, column="coder")
            )
            continue
        planned.append((segments[(interview, int(turn))].id, paths[path].id, coder))
    if errors:
        raise InvalidInputs(errors)
    return project.add_codings(planned, origin=CodingOrigin.IMPORTED)
