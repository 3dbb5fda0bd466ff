"""Participants from a CSV file: one row per participant.

Required columns: `participant_id`, `stakeholder_group`. Optional: `pseudonym` (the
name used in quotes), `transcript_file` (links a transcript file to the participant).
Every other column becomes a typed attribute: a header `age:number` or
`joined:date` fixes the type; otherwise a column whose values are all numbers is a
number, all ISO dates (2026-03-02) a date, anything else text. Empty cells mean
"unknown". The file is checked whole before anything is written: a bad file changes
nothing and every problem is reported with its line and column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from qda.errors import InvalidInput, InvalidInputs
from qda.ingest.csv_rows import csv_rows
from qda.models import AttributeType, AttributeValue, Participant
from qda.store import Project
from qda.text import CONTROLS, remove_controls

REQUIRED = ("participant_id", "stakeholder_group")
RESERVED = (*REQUIRED, "pseudonym", "transcript_file")
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$", re.ASCII)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class ParticipantTable:
    """A participants file, checked and typed, ready to import."""

    participants: list[Participant]
    attribute_types: dict[str, AttributeType]
    transcript_files: dict[str, str] = field(default_factory=dict)  # file name -> id
    warnings: list[str] = field(default_factory=list)
    source: str = "participants.csv"


MAX_TABLE_BYTES = 50_000_000  # 100,000 participants with many columns fit in a tenth of it


def read_table_bytes(stream: BinaryIO, source: str, what: str) -> bytes:
    """The bytes of a CSV file after checking it is one: not too large, and text, not
    a spreadsheet saved under a .csv name.

    Raises:
        InvalidInput: naming the file.
    """
    data = stream.read(MAX_TABLE_BYTES + 1)
    if len(data) > MAX_TABLE_BYTES:
        raise InvalidInput(
            f"larger than {MAX_TABLE_BYTES // 1_000_000} MB: is this really a {what}?",
            source=source,
        )
    if data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0":
        raise InvalidInput(_office_file(data), source=source)
    nuls = data[:4096].count(b"\x00")
    if nuls > 2 and nuls > len(data[:4096]) // 100:  # a stray NUL is removed later
        raise InvalidInput("this is not a text file (it holds binary data)", source=source)
    return data


def _office_file(data: bytes) -> str:
    """What an Office file sent as a CSV is, and how to make the CSV."""
    if b"word/document.xml" in data or "WordDocument".encode("utf-16-le") in data:
        return (
            "this is a Word document, not a CSV file: put the table in Excel or LibreOffice "
            "Calc and save it as CSV UTF-8"
        )
    if b"ppt/presentation.xml" in data or b"opendocument.text" in data:
        return "this is not a CSV file but a document: save the table as CSV UTF-8"
    if b"xl/workbook" in data or "Workbook".encode("utf-16-le") in data:
        return (
            "this is an Excel workbook, not a CSV file: in Excel, use File > Save As > "
            "CSV UTF-8, and import that file"
        )
    return "this is a zip archive or an Office file, not a CSV file: save the table as CSV UTF-8"


def decode_text(data: bytes, source: str) -> tuple[str, list[str]]:
    """Decode a text file: UTF-8 (with or without BOM), else Windows-1252/Latin-1;
    control characters (NUL, ESC, …) are removed, with a warning."""
    warnings: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        text = data.decode("cp1252", errors="replace")
        warnings.append(
            f"{source}: not UTF-8 (first odd byte on line {line}); read as "
            "Windows-1252/Latin-1 — check accented letters, or save the file as UTF-8"
        )
    first = CONTROLS.search(text)
    if first:
        line = text.count("\n", 0, first.start()) + 1
        text, removed = remove_controls(text)
        warnings.append(
            f"{source}: removed {removed} control character(s) such as NUL or ESC (the "
            f"first on line {line}), which have no place in text"
        )
    return text, warnings


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _parse_header(name: str) -> tuple[str, AttributeType | None]:
    """`age:number` -> ("age", NUMBER); `age` -> ("age", None)."""
    base, _, kind = name.partition(":")
    base = base.strip()
    if not kind:
        return base, None
    try:
        return base, AttributeType(kind.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"unknown attribute type '{kind}' (use text, number or date)", column=name
        ) from None


_DIGITS_KEPT = 15  # a float keeps 15 significant digits exactly; more is an identifier


def _identifier_like(value: str) -> bool:
    """Digits that name something rather than count it: a leading zero (004520…), a
    leading + (a phone number), or more digits than a number keeps."""
    digits = sum(c.isdigit() for c in value)
    whole = value.lstrip("+-").split(".")[0].split(",")[0]
    return (
        (len(whole) > 1 and whole.startswith("0")) or value.startswith("+") or digits > _DIGITS_KEPT
    )


def _infer_type(values: list[str]) -> AttributeType:
    filled = [v for v in values if v]
    if filled and all(_NUMBER.match(v) and not _identifier_like(v) for v in filled):
        return AttributeType.NUMBER
    if filled and all(_DATE.match(v) for v in filled):
        return AttributeType.DATE
    return AttributeType.TEXT


def _convert(value: str, kind: AttributeType) -> AttributeValue:
    if kind is AttributeType.NUMBER:
        if not _NUMBER.match(value):
            raise ValueError(f"'{value:.40}' is not a number")
        if sum(c.isdigit() for c in value) > _DIGITS_KEPT:
            raise ValueError(
                f"'{value:.40}' has more digits than a number keeps exactly: make the "
                "column text (header name:text)"
            )
        return float(value.replace(",", "."))
    if kind is AttributeType.DATE:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a date in the form YYYY-MM-DD") from None
    return value


def read_participants_csv(
    stream: BinaryIO, source: str = "participants.csv", *, max_rows: int = 100_000
) -> ParticipantTable:
    """Read and check a participants CSV.

    Raises:
        InvalidInputs: every problem found, each with its line and column.
    """
    text, warnings = decode_text(read_table_bytes(stream, source, "participants file"), source)
    if not text.strip():
        raise InvalidInputs([InvalidInput("the file is empty", source=source)])
    first_line = text.splitlines()[0]
    rows_in = csv_rows(text, source, _sniff_delimiter(first_line))
    try:
        header = [h.strip() for h in next(rows_in)[1]]
    except InvalidInput as e:
        raise InvalidInputs([e]) from None
    errors: list[InvalidInput] = []

    columns: list[tuple[str, AttributeType | None]] = []
    for h in header:
        try:
            columns.append(_parse_header(h))
        except InvalidInput as e:
            errors.append(InvalidInput(e.message, source=source, line=1, column=h))
            columns.append((h, None))
    names = [n for n, _ in columns]
    for required in REQUIRED:
        if required not in names:
            errors.append(
                InvalidInput(
                    f"missing column '{required}' (columns found: {', '.join(names) or 'none'})",
                    source=source,
                    line=1,
                )
            )
    seen_names: set[str] = set()
    for n in names:
        if not n:
            errors.append(InvalidInput("a column has no name", source=source, line=1))
        elif n in seen_names:
            errors.append(InvalidInput(f"column '{n}' appears twice", source=source, line=1))
        seen_names.add(n)
    if errors:
        raise InvalidInputs(errors)

    rows: list[tuple[int, dict[str, str]]] = []
    try:
        numbered = list(rows_in)
    except InvalidInput as e:
        raise InvalidInputs([e]) from None
    for line_no, raw in numbered:
        if not any(cell.strip() for cell in raw):
            continue
        if len(rows) >= max_rows:
            raise InvalidInputs(
                [InvalidInput(f"more than {max_rows:,} participants", source=source, line=line_no)]
            )
        if len(raw) != len(header):
            errors.append(
                InvalidInput(
                    f"{len(raw)} cells where the header has {len(header)}",
                    source=source,
                    line=line_no,
                )
            )
            continue
        rows.append((line_no, {n: cell.strip() for n, cell in zip(names, raw, strict=True)}))

    return _check_rows(columns, rows, source, errors, warnings, "line")


def participants_from_records(
    records: list[dict[str, object]],
    attribute_types: dict[str, AttributeType],
    source: str = "participants table",
) -> ParticipantTable:
    """Check participants edited as a table (one dict per row, typed cell values).

    Cells may hold numbers, dates, text or None; columns are `participant_id`,
    `stakeholder_group`, `pseudonym` and the project's attributes, typed as in
    `attribute_types`. Problems are reported by row (1-based) and column.

    Raises:
        InvalidInputs: every problem found.
    """
    columns = [(name, None) for name in ("participant_id", "pseudonym", "stakeholder_group")]
    columns += list(attribute_types.items())
    rows = [
        (number, {name: _cell_text(record.get(name)) for name, _ in columns})
        for number, record in enumerate(records, start=1)
    ]
    rows = [(n, r) for n, r in rows if any(r.values())]
    return _check_rows(columns, rows, source, [], [], "row")


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _check_rows(
    columns: list[tuple[str, AttributeType | None]],
    rows: list[tuple[int, dict[str, str]]],
    source: str,
    errors: list[InvalidInput],
    warnings: list[str],
    unit: str,
) -> ParticipantTable:
    """Type the attribute columns and check each row; `unit` is "line" or "row"."""

    def problem(message: str, number: int, column: str | None = None) -> InvalidInput:
        return InvalidInput(message, source=source, column=column, **{unit: number})

    attr_columns = [(n, kind) for n, kind in columns if n not in RESERVED]
    types = {n: kind or _infer_type([r[n] for _, r in rows]) for n, kind in attr_columns}
    participants: list[Participant] = []
    transcripts: dict[str, str] = {}
    first_line_of: dict[str, int] = {}
    for line_no, row in rows:
        pid = row["participant_id"]
        if not pid:
            errors.append(problem("participant_id is empty", line_no, "participant_id"))
            continue
        if len(pid) > MAX_ID_LENGTH or any(c in pid for c in "/\\\n\t"):
            errors.append(
                problem(
                    f"participant_id '{pid[:40]}' is too long or has '/', '\\' or tabs",
                    line_no,
                    "participant_id",
                )
            )
            continue
        if pid in first_line_of:
            errors.append(
                problem(
                    f"participant_id '{pid}' also appears on {unit} {first_line_of[pid]}",
                    line_no,
                    "participant_id",
                )
            )
            continue
        first_line_of[pid] = line_no
        if not row["stakeholder_group"]:
            errors.append(
                problem(
                    f"participant '{pid}' has no stakeholder group",
                    line_no,
                    "stakeholder_group",
                )
            )
            continue
        attributes: dict[str, AttributeValue] = {}
        for name, kind in types.items():
            if row[name]:
                try:
                    attributes[name] = _convert(row[name], kind)
                except ValueError as e:
                    errors.append(problem(str(e), line_no, name))
        if row.get("transcript_file"):
            transcripts[row["transcript_file"]] = pid
        participants.append(
            Participant(
                id=pid,
                stakeholder_group=row["stakeholder_group"],
                pseudonym=row.get("pseudonym", ""),
                attributes=attributes,
            )
        )
    if errors:
        raise InvalidInputs(errors)
    if not participants:
        raise InvalidInputs([problem("no participant rows", 2 if unit == "line" else 1)])
    return ParticipantTable(participants, types, transcripts, warnings, source)


def save_edited_participants(
    project: Project, records: list[dict[str, object]], source: str = "participants table"
) -> int:
    """Store participants edited as a table in the app: an emptied cell clears that
    attribute. Rows are checked first; a table with any problem changes nothing.

    Returns:
        How many participants were saved.
    """
    table = participants_from_records(records, project.attribute_types, source)
    project.save_participants(table.participants, clear_missing=True)
    return len(table.participants)


def changes_to_existing(project: Project, table: ParticipantTable) -> list[str]:
    """What importing `table` would change about participants already in the project:
    a stakeholder group, a pseudonym or an attribute value that is there and differs
    (an empty cell changes nothing). One line a change, e.g. "P01: stakeholder group
    Staff → Beneficiary"."""
    before = {p.id: p for p in project.participants}
    lines: list[str] = []
    for new in table.participants:
        old = before.get(new.id)
        if old is None:
            continue
        if new.stakeholder_group != old.stakeholder_group:
            lines.append(
                f"{new.id}: stakeholder group {old.stakeholder_group} → {new.stakeholder_group}"
            )
        if new.pseudonym and old.pseudonym and new.pseudonym != old.pseudonym:
            lines.append(f"{new.id}: pseudonym {old.pseudonym} → {new.pseudonym}")
        for name, value in new.attributes.items():
            was = old.attributes.get(name)
            if was is not None and was != value:
                lines.append(f"{new.id}: {name} {_shown(was)} → {_shown(value)}")
    return lines


def _shown(value: AttributeValue) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:60]


def import_participants(project: Project, table: ParticipantTable, *, update: bool = False) -> int:
    """Add the participants of `table`, and update those already in the project, all
    in one transaction. A pseudonym left empty keeps the one there.

    Raises:
        InvalidInput: the file would change participants already in the project and
            `update` is false; it lists the changes, and nothing is stored.

    Returns:
        How many participants were added or updated.
    """
    existing = project.attribute_types
    changes = changes_to_existing(project, table)
    if changes and not update:
        shown = changes[:20] + ([f"… and {len(changes) - 20} more"] if len(changes) > 20 else [])
        raise InvalidInput(
            f"this file would change {len(changes)} value(s) of participants already in the "
            "project:\n  " + "\n  ".join(shown) + "\nImport it with --update (in the app: "
            "tick 'Change participants already here') to make these changes",
            source=table.source,
        )
    pseudonyms = {p.id: p.pseudonym for p in project.participants}
    participants = [
        p if p.pseudonym or not pseudonyms.get(p.id) else replace(p, pseudonym=pseudonyms[p.id])
        for p in table.participants
    ]
    with project.transaction():
        for name, kind in table.attribute_types.items():
            used = any(name in p.attributes for p in participants)
            try:
                project.define_attribute(name, kind if used else existing.get(name, kind))
            except InvalidInput as e:
                raise InvalidInput(e.message, source=table.source, line=1, column=name) from None
        project.save_participants(participants)
    return len(participants)
