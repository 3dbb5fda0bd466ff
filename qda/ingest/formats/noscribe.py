"""noScribe HTML: a paragraph per speaker turn, `S00: text`, with time anchors.

noScribe wraps each piece of speech in `<a name="ts_<start ms>_<end ms>_<speaker>">`;
the paragraph's first anchor gives its start, the last its end. The file name and
"(Transcribed with noScribe …)" paragraphs before the first turn are the header.
"""

from __future__ import annotations

import re

from qda.ingest.formats import Document, DocumentKind, Reader, Reading, Turn
from qda.ingest.formats.timing import TIME, fill_ends, looks_like_speaker

_PREFIX = re.compile(rf"^(?:\[(?:{TIME})\]\s*)?(?P<speaker>[^:]{{1,40}}?)\s*:\s*(?P<text>.*)$",
                     re.DOTALL)  # fmt: skip
_STAMP = re.compile(rf"^\[(?:{TIME})\]\s*")


def sniff(doc: Document) -> float:
    anchored = sum(1 for x in doc.lines if x.anchors)
    return 1000.0 if doc.kind is DocumentKind.HTML and anchored else 0.0


def read(doc: Document) -> Reading:
    turns: list[Turn] = []
    header: list[str] = []
    for line in doc.lines:
        text = line.text.strip()
        if not line.anchors:
            if not turns:
                if text:
                    header.append(text)
            elif text:
                last = turns[-1]
                turns[-1] = Turn(f"{last.text}\n{text}", last.speaker, last.start, last.end,
                                 last.line)  # fmt: skip
            continue
        start, end, speaker = line.anchors[0][0], line.anchors[-1][1], line.anchors[0][2]
        m = _PREFIX.match(text)
        if m and looks_like_speaker(m["speaker"]):
            speaker, text = m["speaker"].strip(), m["text"].strip()
        else:
            text = _STAMP.sub("", text)
        turns.append(Turn(text, speaker, start, end, line.number))
    return Reading(fill_ends([t for t in turns if t.text], doc), header=header)


READER = Reader("noscribe", "noScribe HTML", sniff, read)
