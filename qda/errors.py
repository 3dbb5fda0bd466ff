"""Errors that say what is wrong and where, in words a researcher can act on."""

from __future__ import annotations


class QdaError(Exception):
    """Base of every error qda raises on purpose. The UI shows its message as is."""


class InvalidInput(QdaError):
    """A file (or form value) that qda cannot use, with the place of the problem.

    Args:
        message: what is wrong, e.g. "stakeholder_group is empty".
        source: the file name, e.g. "participants.csv".
        line: 1-based line in the file (the header of a CSV is line 1).
        paragraph: 1-based paragraph of a Word, OpenDocument or HTML file.
        row: 1-based row of a table edited in the app (where there are no lines).
        column: column or field name.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        line: int | None = None,
        paragraph: int | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.paragraph = paragraph
        self.row = row
        self.column = column
        super().__init__(str(self))

    @property
    def place(self) -> str:
        parts = [self.source] if self.source else []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.paragraph is not None:
            parts.append(f"paragraph {self.paragraph}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


class InvalidInputs(QdaError):
    """Several problems found in one file; nothing was changed."""

    def __init__(self, errors: list[InvalidInput], *, limit: int = 20) -> None:
        self.errors = errors
        shown = [f"  - {e}" for e in errors[:limit]]
        if len(errors) > limit:
            shown.append(f"  - … and {len(errors) - limit} more")
        head = f"{len(errors)} problem{'s' if len(errors) != 1 else ''} found, nothing was changed:"
        super().__init__("\n".join([head, *shown]))


class ProjectError(QdaError):
    """A project that cannot be opened or an operation the project refuses."""


class NotFound(QdaError):
    """A participant, interview, segment or code that the project does not hold."""
