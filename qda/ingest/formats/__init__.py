"""Readers of transcript files made elsewhere, behind one registry.

A file is first opened as a `Document` (`documents.py`: plain text, Word `.docx`,
OpenDocument `.odt` or HTML, told apart by content as well as by extension), a list
of numbered lines or paragraphs. Each reader then says how sure it is that the
document is in its layout (`sniff`) and the surest one reads it into `Turn`s:

- `cues.py`: WebVTT and SRT; Zoom (numbered cues, `Name: text`) and Teams (cue ids,
  `<v Name>`) cues of one speaker joined into turns.
- `otter.py`: Otter.ai TXT and DOCX: a header block, then `Name  mm:ss` over the words.
- `teams.py`: Teams transcripts in Word: `Name   m:ss` over the words.
- `rev.py`: Rev and Trint: `Name (hh:mm:ss):` then the words.
- `noscribe.py`: noScribe HTML: `S00: text` paragraphs with time anchors.
- `plain.py`: `Name: text` turns (`[hh:mm:ss]` stamps, bold names, `Name :` in French
  typography, MAXQDA and f4 stamps): qda's own text and Word exports, most typed
  transcripts; and the paragraph reading when no reader finds turns.

When no reader finds speaker turns the document is read as paragraphs, and the
reading says so. Nothing here knows about projects; `qda.ingest.transcripts` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from qda.ingest.formats.documents import Document, DocumentKind, Line, open_document


@dataclass(frozen=True)
class Turn:
    """One speaker turn as a file gives it."""

    text: str
    speaker: str = ""  # the label in the file; "" when the file names no speaker
    start: float | None = None  # seconds, when the file has times
    end: float | None = None
    line: int = 0  # line (or paragraph) of the file where the turn starts


@dataclass(frozen=True)
class Reading:
    """What a reader made of a document."""

    turns: list[Turn]
    warnings: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  # lines before the first turn, left out
    speakers: tuple[str, ...] = ()  # speakers the file itself lists (Otter's SPEAKERS line)
    label: str = ""  # a more exact name of the format than the reader's ("Zoom WebVTT")


@dataclass(frozen=True)
class Reader:
    """A transcript layout: how sure it is that a document is in it, and how to read it."""

    name: str  # short id, stored with the import ("otter", "webvtt", …)
    label: str  # what the import report and the preview call it
    sniff: Callable[[Document], float]  # 0: not this layout; more: surer
    read: Callable[[Document], Reading]
    extensions: tuple[str, ...] = ()  # file extensions that say "this layout" (vtt, srt)


def _registry() -> tuple[Reader, ...]:
    from qda.ingest.formats import cues, noscribe, otter, plain, rev, teams

    return (cues.WEBVTT, cues.SRT, noscribe.READER, otter.READER, teams.READER, rev.READER,
            plain.READER)  # fmt: skip


def readers() -> tuple[Reader, ...]:
    """Every reader, the most specific first (ties go to the earlier one)."""
    return _registry()


def choose_reader(doc: Document) -> Reader:
    """The reader surest of the document, or the paragraph reader when none finds turns.

    The content decides; the extension only where the content is not clearly another
    layout (a `.vtt` without its `WEBVTT` line is read as WebVTT, to say what is wrong).
    """
    from qda.ingest.formats import plain

    scored = [(reader.sniff(doc), -i, reader) for i, reader in enumerate(readers())]
    score, _, best = max(scored, key=lambda x: (x[0], x[1]))
    suffix = PurePath(doc.name).suffix.lower().lstrip(".")
    claimed = next((r for r in readers() if suffix in r.extensions), None)
    if claimed is not None and score < 1000:
        return claimed
    return best if score > 0 else plain.PARAGRAPHS


__all__ = [
    "Document",
    "DocumentKind",
    "Line",
    "Reader",
    "Reading",
    "Turn",
    "choose_reader",
    "open_document",
    "readers",
]
