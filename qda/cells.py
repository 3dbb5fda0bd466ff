"""Spreadsheet-safe text cells (OWASP CSV injection): a cell that starts like a formula
is written with a leading apostrophe, which spreadsheets show as text, and read back
without it."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """The value as a spreadsheet will not run it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unsafe_cell(value: str) -> str:
    """The text `safe_cell` protected."""
    return value[1:] if value[:1] == "'" and value[1:2] and value[1:2] in FORMULA_STARTS else value
