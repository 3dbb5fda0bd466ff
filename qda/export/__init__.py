"""Exports: a registry of small writers, listed by format name."""

from qda.export.transcripts import TRANSCRIPT_WRITERS, transcript_of_interview, write_transcript

__all__ = ["TRANSCRIPT_WRITERS", "transcript_of_interview", "write_transcript"]
