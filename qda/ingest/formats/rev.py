"""Rev and Trint: `Name (hh:mm:ss):` then the words, on the same line or below.

Speaker 1 (00:00:03):
Thanks for joining.

Maureen (00:00:08): That's fine.
"""

from __future__ import annotations

import re

from qda.ingest.formats import Document, Reader, Reading, Turn
from qda.ingest.formats.timing import TIME, fill_ends, looks_like_speaker, parse_time, split_header

_HEAD = re.compile(rf"^(?P<speaker>[^():\[\]]{{1,40}}?)\s*\((?P<t>{TIME})\)\s*:?\s*(?P<text>.*)$")


def _head(text: str) -> tuple[str, float, str] | None:
    m = _HEAD.match(text.strip())
    if m and looks_like_speaker(m["speaker"]):
        return m["speaker"].strip(), parse_time(m["t"]), m["text"].strip()
    return None


def sniff(doc: Document) -> float:
    n = sum(1 for x in doc.lines if _head(x.text))
    return float(n) if n >= 2 else 0.0


def read(doc: Document) -> Reading:
    turns: list[dict] = []
    preamble: list[tuple[int, str]] = []
    for line in doc.lines:
        text = line.text.strip()
        if not text:
            continue
        if found := _head(text):
            speaker, start, words = found
            turns.append({"speaker": speaker, "start": start, "lines": [words] if words else [],
                          "line": line.number})  # fmt: skip
        elif turns:
            turns[-1]["lines"].append(text)
        else:
            preamble.append((line.number, text))
    made = [Turn("\n".join(t["lines"]), t["speaker"], t["start"], None, t["line"]) for t in turns]
    made, header, warnings = split_header(made, preamble, doc)
    return Reading(fill_ends(made, doc), warnings, header)


READER = Reader("rev", "Rev / Trint (Name (hh:mm:ss):)", sniff, read)
