"""The rows of a CSV file, read strictly enough to say what is wrong and where.

`csv_rows` gives each row with the line it starts on (a quoted cell may hold line
breaks, so rows and lines differ). It refuses a quote that is opened and never closed
(which would swallow the rest of the file into one cell) and a cell longer than
`MAX_CELL_CHARS`, each with its line; the caller has already removed control
characters (`qda.text.remove_controls`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from qda.errors import InvalidInput

MAX_CELL_CHARS = 100_000  # a long answer to an open survey question is a few thousand


def csv_rows(text: str, source: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(first line of the row, its cells) for every row of `text`.

    Raises:
        InvalidInput: an unclosed quote or a cell that is too long, naming the line.
    """
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(max(previous_limit, 4 * MAX_CELL_CHARS))
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise _problem(str(e), source, line) from None
            for number, cell in enumerate(row, start=1):
                if len(cell) > MAX_CELL_CHARS:
                    raise InvalidInput(
                        f"cell {number} is {len(cell):,} characters long; a cell may hold "
                        f"at most {MAX_CELL_CHARS:,} (is a quote left open?)",
                        source=source,
                        line=line,
                    )
            yield line, row
    finally:
        csv.field_size_limit(previous_limit)


def _problem(error: str, source: str, line: int) -> InvalidInput:
    if "unexpected end of data" in error:
        return InvalidInput(
            'a quote (") opened on this line is never closed, so the rest of the file would '
            "be read as one cell: close the quote or remove it",
            source=source,
            line=line,
        )
    if "field larger than field limit" in error:
        return InvalidInput(
            f"a cell is longer than {4 * MAX_CELL_CHARS:,} characters (is a quote left open?)",
            source=source,
            line=line,
        )
    if "expected after" in error:
        return InvalidInput(
            "a quoted cell goes on after its closing quote: write a quote inside a quoted "
            'cell as two quotes ("")',
            source=source,
            line=line,
        )
    return InvalidInput(f"not a readable CSV row ({error})", source=source, line=line)
