"""Otter.ai exports (TXT and DOCX): a header block, then `Name  mm:ss` over the words.

    Interview with Tom
    Tue, Mar 09, 2026 2:15PM • 3:12
    SUMMARY KEYWORDS
    library, help, forms
    SPEAKERS
    Tom, Interviewer

    Interviewer  00:00
    Thanks for seeing me.

    Tom  0:09
    No bother.

    Transcribed by https://otter.ai

The time is `mm:ss` or `h:mm:ss`, after one or more spaces (hand-edited files have
one). Everything before the first speaker line is the header; the SPEAKERS line
names the speakers, which helps to catch a mistyped name. A line with only a time
starts a turn whose speaker is missing (reported).
"""

from __future__ import annotations

import re

from qda.ingest.formats import Document, DocumentKind, Reader, Reading, Turn
from qda.ingest.formats.timing import fill_ends, looks_like_speaker, parse_time

NAME_TIME = re.compile(r"^(?P<speaker>\S.{0,60}?)[ \t\u00a0]+(?P<t>(?:\d{1,2}:)?\d{1,2}:\d{2})$")
TIME_ALONE = re.compile(r"^(?P<t>(?:\d{1,2}:)?\d{1,2}:\d{2})$")
_FOOTER = re.compile(r"^transcribed by\s+(?:https?://)?otter\.ai\b", re.IGNORECASE)
_MARKERS = re.compile(r"^(?:SUMMARY KEYWORDS|KEYWORDS|SPEAKERS)\s*$|otter\.ai", re.MULTILINE)


def name_time(text: str) -> tuple[str, float] | None:
    """('Tom', 9.0) from 'Tom  0:09'; ('', 45.0) from a time alone; None otherwise."""
    text = text.strip()
    if m := TIME_ALONE.match(text):
        return "", parse_time(m["t"])
    m = NAME_TIME.match(text)
    if m and looks_like_speaker(m["speaker"]):
        return m["speaker"].strip(), parse_time(m["t"])
    return None


def count_name_time(doc: Document) -> int:
    return sum(1 for x in doc.lines if (found := name_time(x.text)) and found[0])


def read_name_time(doc: Document, *, left_out: re.Pattern | None = None) -> Reading:
    """Turns from `Name  time` lines, each over the lines of its words.

    Args:
        left_out: lines to leave out wherever they are (an app's own notes and footers).
    """
    turns: list[dict] = []
    header: list[str] = []
    warnings: list[str] = []
    speakers: tuple[str, ...] = ()
    expect_speakers = False
    for line in doc.lines:
        text = line.text.strip()
        if not text:
            continue
        if left_out is not None and left_out.search(text):
            header.append(text)
            continue
        found = name_time(text)
        if found is not None:
            speaker, start = found
            if not speaker:
                warnings.append(
                    f"{doc.name}, {doc.where(line.number)}: a turn with a time "
                    f"({text}) but no speaker name: kept without a speaker; set it on the "
                    "Transcripts page"
                )
            turns.append({"speaker": speaker, "start": start, "lines": [], "line": line.number})
            continue
        if not turns:
            if expect_speakers:
                speakers = tuple(s.strip() for s in text.split(",") if s.strip())
            expect_speakers = text.upper() == "SPEAKERS"
            header.append(text)
            continue
        turns[-1]["lines"].append(text)
    made = [Turn("\n".join(t["lines"]), t["speaker"], t["start"], None, t["line"]) for t in turns]
    return Reading(fill_ends(made, doc), warnings, header, speakers)


def sniff(doc: Document) -> float:
    n = count_name_time(doc)
    if n < 2:
        return 0.0
    if _MARKERS.search(doc.text):
        return n + 0.5
    return n - 0.25 if doc.kind is not DocumentKind.TEXT else float(n)


READER = Reader(
    "otter", "Otter.ai export", sniff, lambda doc: read_name_time(doc, left_out=_FOOTER)
)
