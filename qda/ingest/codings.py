"""Codings from a CSV file: which code applies to which turn of which interview.

Columns: `interview` (interview id, e.g. P01), `turn` (1-based turn number, as a
reader counts the turns of the transcript), `code` (path of the code, `Theme/Code`),
`coder`. A first-pass coding shipped with a study, or codings made in a spreadsheet,
come in this way. The whole file is checked before anything is stored.
"""

from __future__ import annotations

import csv
import io
from typing import BinaryIO

from qda.errors import InvalidInput, InvalidInputs
from qda.ingest.participants import decode_text, read_table_bytes
from qda.models import CodingOrigin
from qda.store import Project

COLUMNS = ("interview", "turn", "code", "coder")


def import_codings_csv(
    project: Project, stream: BinaryIO, source: str = "codings.csv", *, default_coder: str = ""
) -> int:
    """Apply every coding of the file; codings already there are not added twice.

    Returns:
        The number of rows applied.

    Raises:
        InvalidInputs: every bad row, with its line and column; nothing was stored.
    """
    text, _ = decode_text(read_table_bytes(stream, source, "codings file"), source)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header and not (c == "coder" and default_coder)]
    if missing:
        raise InvalidInputs(
            [InvalidInput(f"missing column '{c}'", source=source, line=1) for c in missing]
        )
    paths = project.code_paths()
    segments = {(s.interview_id, s.index + 1): s for s in project.segments()}
    interviews = {i.id for i in project.interviews}
    errors: list[InvalidInput] = []
    planned: list[tuple[int, str, str]] = []
    for line_no, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        interview, turn, path = row["interview"], row["turn"], row["code"]
        coder = row.get("coder") or default_coder
        if interview not in interviews:
            errors.append(
                InvalidInput(
                    f"no interview '{interview}'", source=source, line=line_no, column="interview"
                )
            )
            continue
        if not turn.isdigit() or (interview, int(turn)) not in segments:
            count = sum(1 for key in segments if key[0] == interview)
            errors.append(
                InvalidInput(
                    f"turn '{turn}' is not a turn of {interview} (it has turns 1–{count})",
                    source=source,
                    line=line_no,
                    column="turn",
                )
            )
            continue
        if path not in paths:
            errors.append(
                InvalidInput(
                    f"no code '{path}' in the codebook (write codes as Theme/Code)",
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
    with project.transaction():
        for segment_id, code_id, coder in planned:
            project.apply_code(segment_id, code_id, coder=coder, origin=CodingOrigin.IMPORTED)
    return len(planned)
