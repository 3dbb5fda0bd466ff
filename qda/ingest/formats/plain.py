"""`Name: text` turns: what researchers type, and what qda, MAXQDA, f4 and Word exchange.

    [00:01:05] Interviewer: How do you contact the council?
    Maureen [00:01:09]: I used to go to the office.
    A second paragraph of the same turn.
    Enquêteur : Et maintenant ?          (French typography: a space before the colon)
    INTERVIEWER:                          (a name alone on its line, the words below;
                                           in Word also a bold name without a colon)

The `[hh:mm:ss]` stamp is optional (also `[mm:ss]`, with fractions, before or after the
speaker, or a bare `hh:mm:ss` before it); a MAXQDA/f4 stamp `#00:01:23-4#` at the end
of a turn marks when it ends. In a Word file the name is often bold, which is taken as
a sign that it is a name. Lines before the first turn (a title, a date) are the
file's header. A label used once, in a file whose speakers are already clear, that
is no name (`Example:`), stays part of the words.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from qda.ingest.formats import Document, DocumentKind, Reader, Reading, Turn
from qda.ingest.formats.timing import (
    ANSWER_LABELS,
    INTERVIEWER_LABELS,
    TIME,
    fill_ends,
    looks_like_speaker,
    parse_time,
    split_header,
)

_STAMP = re.compile(rf"^\s*\[(?P<t>{TIME})\]\s*")
_BARE_STAMP = re.compile(r"^\s*(?P<t>\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,3})?)\s+(?=\S)")
_END_STAMP = re.compile(r"#(?P<t>\d{1,2}:\d{2}:\d{2})(?:-(?P<f>\d+))?#")
_LABEL = re.compile(
    rf"^(?P<speaker>[^\s:\[\]#(][^:\[\]#()]{{0,39}}?)\s*(?:[\[(](?P<t>{TIME})[\])])?\s*:"
    r"(?:\s+(?P<text>\S.*))?$"
)
_LABEL_ALONE = re.compile(rf"^(?P<speaker>[^\s:\[\]#(][^:\[\]#()]{{0,39}}?)\s*\[(?P<t>{TIME})\]$")


@dataclass
class _Line:
    number: int
    text: str  # without stamps
    start: float | None = None
    end: float | None = None
    speaker: str | None = None  # a turn starts here
    raw: str = ""


def _parse(line, *, allow_alone: bool) -> _Line:
    text = line.text.strip()
    parsed = _Line(line.number, text, raw=text)
    stamped = False
    if m := _STAMP.match(text):
        parsed.start, text, stamped = parse_time(m["t"]), text[m.end() :], True
    if m := _END_STAMP.search(text):
        parsed.end = parse_time(m["t"]) + (float(f"0.{m['f']}") if m["f"] else 0.0)
        text = _END_STAMP.sub("", text).strip()
    bare = None if stamped else _BARE_STAMP.match(text)
    candidate = text[bare.end() :] if bare else text
    parsed.text = text
    m = _LABEL.match(candidate)
    if m and (m["text"] or allow_alone):
        bold = bool(line.bold) and line.bold.rstrip(" :\u00a0\u202f").strip() == m[
            "speaker"
        ].strip().rstrip(" :")
        if looks_like_speaker(m["speaker"], bold=bold):
            parsed.speaker = m["speaker"].strip()
            parsed.text = (m["text"] or "").strip()
            if bare:
                parsed.start = parse_time(bare["t"])
            if m["t"] and parsed.start is None:
                parsed.start = parse_time(m["t"])
            return parsed
    if allow_alone and (m := _LABEL_ALONE.match(text)) and looks_like_speaker(m["speaker"]):
        parsed.speaker, parsed.text = m["speaker"].strip(), ""
        parsed.start = parsed.start if parsed.start is not None else parse_time(m["t"])
        return parsed
    if stamped and allow_alone and looks_like_speaker(text) and len(text.split()) <= 3:
        parsed.speaker, parsed.text = text, ""  # "[00:01:05] Maureen", the words below
    elif (
        allow_alone
        and not line.heading
        and line.bold.strip() == text
        and len(text.split()) <= 3
        and looks_like_speaker(text, bold=True)
    ):
        parsed.speaker, parsed.text = text, ""  # a bold name alone, the words below
    return parsed


def _lines(doc: Document) -> list[_Line]:
    return [_parse(line, allow_alone=True) for line in doc.lines if line.text.strip()]


def _labels(lines: list[_Line]) -> Counter:
    return Counter(x.speaker for x in lines if x.speaker is not None)


def sniff(doc: Document) -> float:
    labels = _labels(_lines(doc))
    turns = sum(labels.values())
    if turns >= 2 or any(s.lower() in INTERVIEWER_LABELS | ANSWER_LABELS for s in labels):
        return float(turns)
    return 0.0


def read(doc: Document) -> Reading:
    lines = _lines(doc)
    labels = _labels(lines)
    settled = [s for s, n in labels.items() if n >= 3]
    known = INTERVIEWER_LABELS | ANSWER_LABELS
    if len(settled) >= 2:
        # a label used once in a file whose speakers are clear is words, unless it is a
        # role word or looks like a participant id ("P07", "BSR06")
        for x in lines:
            if (
                x.speaker is not None
                and labels[x.speaker] == 1
                and x.speaker.lower() not in known
                and not re.search(r"\d", x.speaker)
                and not _similar_to_any(x.speaker, settled)
            ):
                x.speaker, x.text = None, x.raw
    turns: list[dict] = []
    preamble: list[tuple[int, str]] = []
    for x in lines:
        if x.speaker is not None:
            turns.append({"speaker": x.speaker, "start": x.start, "end": x.end,
                          "lines": [x.text] if x.text else [], "line": x.number})  # fmt: skip
        elif not turns:
            if x.start is not None:
                turns.append({"speaker": "", "start": x.start, "end": x.end,
                              "lines": [x.text], "line": x.number})  # fmt: skip
            else:
                preamble.append((x.number, x.text))
        elif x.start is not None:
            turns.append({"speaker": "", "start": x.start, "end": x.end,
                          "lines": [x.text], "line": x.number})  # fmt: skip
        else:
            turns[-1]["lines"].append(x.text)
            if x.end is not None:
                turns[-1]["end"] = x.end
    made = [
        Turn("\n".join(t["lines"]).strip(), t["speaker"], t["start"], t["end"], t["line"])
        for t in turns
    ]
    made, header, warnings = split_header(made, preamble, doc)
    kind = {DocumentKind.WORD: "Word document", DocumentKind.ODT: "OpenDocument text"}.get(doc.kind)
    label = f"{kind}, speaker turns (Name: text)" if kind else ""
    return Reading(fill_ends(made, doc), warnings, header, label=label)


def _similar_to_any(label: str, names: list[str]) -> bool:
    from qda.ingest.speakers import similar

    return any(similar(label, name) for name in names)


def read_paragraphs(doc: Document) -> Reading:
    """No speaker turns: a paragraph (text lines up to a blank line, or a Word
    paragraph) is a segment; a `[hh:mm:ss]` stamp at the start of a line starts one."""
    turns: list[Turn] = []
    current: list[str] = []
    start: float | None = None
    first = 0
    joined = doc.kind is DocumentKind.TEXT

    def close() -> None:
        if current:
            turns.append(Turn("\n".join(current).strip(), "", start, None, first))
        current.clear()

    for line in doc.lines:
        text = line.text.strip()
        if not text:
            close()
            continue
        stamp = None
        if m := _STAMP.match(text):
            stamp, text = parse_time(m["t"]), text[m.end() :]
        if stamp is not None or not joined or not current:
            close()
            start, first = stamp, line.number
        current.append(text)
    close()
    return Reading(fill_ends([t for t in turns if t.text], doc))


READER = Reader("text", "speaker turns (Name: text)", sniff, read)
PARAGRAPHS = Reader(
    "paragraphs", "paragraphs (no speaker turns found)", lambda doc: 0.0, read_paragraphs
)
