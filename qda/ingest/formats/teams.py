"""Microsoft Teams transcripts downloaded as Word: `Name   m:ss` over the words.

    Transcript
    March 2, 2026, 10:02AM
    Anna Jensen started transcription
    Anna Jensen   0:03
    Thanks for joining.

The lines Teams adds about the transcription itself ("… started transcription") are
left out. Teams' WebVTT files are read by `cues.py`.
"""

from __future__ import annotations

import re

from qda.ingest.formats import Document, DocumentKind, Reader
from qda.ingest.formats.otter import _MARKERS, count_name_time, read_name_time

_NOTES = re.compile(r"^.{1,80}\s(?:started|stopped|paused|resumed) transcription$", re.IGNORECASE)


def sniff(doc: Document) -> float:
    if doc.kind is DocumentKind.TEXT or _MARKERS.search(doc.text):
        return 0.0
    n = count_name_time(doc)
    return float(n) if n >= 2 else 0.0


READER = Reader(
    "teams", "Teams transcript (Word)", sniff, lambda doc: read_name_time(doc, left_out=_NOTES)
)
