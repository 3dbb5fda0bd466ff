"""Exports: registries of small writers, listed by format name."""

from qda.export.tables import TABLE_WRITERS, build_report, write_table
from qda.export.transcripts import TRANSCRIPT_WRITERS, transcript_of_interview, write_transcript

__all__ = [
    "TABLE_WRITERS",
    "TRANSCRIPT_WRITERS",
    "build_report",
    "transcript_of_interview",
    "write_table",
    "write_transcript",
]
