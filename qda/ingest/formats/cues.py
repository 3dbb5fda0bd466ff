"""WebVTT and SRT: timed cues, each with its speaker as a voice tag or a `Name:` prefix.

Zoom's transcripts number their cues and start each with `Name: `; Teams gives cue ids
(`…/12-0`) and voice tags `<v Name>`. Both cut speech into caption-sized cues, so
consecutive cues of one speaker are joined into one turn (up to `MAX_TURN_S` seconds
and `MAX_TURN_CHARS` characters), with the first cue's start time. Other cue files
(qda's own exports among them) keep one turn per cue.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

from qda.errors import InvalidInput, InvalidInputs
from qda.ingest.formats import Document, DocumentKind, Reader, Reading, Turn
from qda.ingest.formats.timing import TIME, fill_ends, looks_like_speaker, parse_time

MAX_TURN_S = 120.0
MAX_TURN_CHARS = 2000

_TIMING = re.compile(rf"^\s*(?P<start>{TIME})\s*-->\s*(?P<end>{TIME})(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]+)?\s+(?P<speaker>[^>]+)>")
_TAG = re.compile(r"</?[^>]+>")
_PREFIX = re.compile(r"^(?P<speaker>[^:\n]{1,40}?)\s*:\s+(?P<text>\S.*)$", re.DOTALL)
_TEAMS_ID = re.compile(r"^[0-9a-f-]{8,}/\d+-\d+$", re.IGNORECASE)


def _pieces(payload: list[str]) -> list[tuple[str, str]]:
    """(speaker, text) pieces of one cue: voice tags first, then `Speaker: ` prefixes."""
    joined = "\n".join(payload)
    voices = list(_VOICE.finditer(joined))
    if voices:
        pieces = []
        for i, m in enumerate(voices):
            end = voices[i + 1].start() if i + 1 < len(voices) else len(joined)
            body = html.unescape(_TAG.sub("", joined[m.end() : end])).strip()
            if body:
                pieces.append((m["speaker"].strip(), body))
        return pieces
    body = html.unescape(_TAG.sub("", joined)).strip().replace("\n", " ")
    if (m := _PREFIX.match(body)) and looks_like_speaker(m["speaker"]):
        return [(m["speaker"].strip(), m["text"].strip())]
    return [("", body)] if body else []


def _blocks(doc: Document, skip: int) -> list[tuple[int, list[str]]]:
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    for number, line in enumerate([*doc.text.splitlines()[skip:], ""], start=skip + 1):
        if line.strip():
            if not current:
                first = number
            current.append(line.rstrip())
        elif current:
            blocks.append((first, current))
            current = []
    return blocks


def _read_cues(doc: Document, *, vtt: bool) -> Reading:
    if vtt and not doc.text.lstrip("\ufeff").startswith("WEBVTT"):
        raise InvalidInputs(
            [InvalidInput("not a WebVTT file: the first line must be 'WEBVTT'",
                          source=doc.name, line=1)]
        )  # fmt: skip
    errors: list[InvalidInput] = []
    turns: list[Turn] = []
    ids: list[str] = []
    prefixed = 0
    for line_no, block in _blocks(doc, 1 if vtt else 0):
        if vtt and block[0].split()[0] in ("NOTE", "STYLE", "REGION"):
            continue
        timing_at = next((k for k, b in enumerate(block[:2]) if "-->" in b), None)
        if timing_at is None:
            if vtt and line_no == 2:
                continue  # header metadata lines under WEBVTT
            sep = "." if vtt else ","
            errors.append(
                InvalidInput(
                    f"expected a timing line like '00:00:01{sep}000 --> 00:00:04{sep}000', "
                    f"found '{block[0][:60]}'",
                    source=doc.name,
                    line=line_no,
                )
            )
            continue
        if timing_at:
            ids.append(block[0].strip())
        m = _TIMING.match(block[timing_at])
        if not m:
            errors.append(
                InvalidInput(f"cannot read the timing '{block[timing_at][:60]}'",
                             source=doc.name, line=line_no + timing_at)
            )  # fmt: skip
            continue
        start, end = parse_time(m["start"]), parse_time(m["end"])
        if end < start:
            errors.append(
                InvalidInput("the cue ends before it starts", source=doc.name,
                             line=line_no + timing_at)
            )  # fmt: skip
            continue
        payload = block[timing_at + 1 :]
        prefixed += not _VOICE.search("\n".join(payload)) and bool(_PREFIX.match(" ".join(payload)))
        for speaker, body in _pieces(payload):
            turns.append(Turn(body, speaker, start, end, line_no))
    if errors:
        raise InvalidInputs(errors)
    label = ""
    if vtt and ids and sum(bool(_TEAMS_ID.match(i)) for i in ids) >= len(ids) / 2:
        label = "Teams WebVTT"
    elif vtt and ids and all(i.isdigit() for i in ids) and prefixed >= len(turns) / 2:
        label = "Zoom WebVTT"
    if label:
        turns = join_cues(turns)
    return Reading(fill_ends(turns, doc), label=label)


def join_cues(turns: list[Turn]) -> list[Turn]:
    """Consecutive cues of one speaker as one turn, up to a sensible length."""
    out: list[Turn] = []
    for turn in turns:
        last = out[-1] if out else None
        if (
            last is not None
            and turn.speaker
            and turn.speaker == last.speaker
            and last.start is not None
            and (turn.end or turn.start or 0) - last.start <= MAX_TURN_S
            and len(last.text) + len(turn.text) < MAX_TURN_CHARS
        ):
            out[-1] = replace(last, text=f"{last.text} {turn.text}", end=turn.end)
        else:
            out.append(turn)
    return out


def _sniff_vtt(doc: Document) -> float:
    return (
        1000.0
        if doc.kind is DocumentKind.TEXT and doc.text.lstrip("\ufeff").startswith("WEBVTT")
        else 0.0
    )


def _sniff_srt(doc: Document) -> float:
    if doc.kind is not DocumentKind.TEXT:
        return 0.0
    lines = [x.text.strip() for x in doc.lines if x.text.strip()][:2]
    if len(lines) == 2 and lines[0].isdigit() and _TIMING.match(lines[1]):
        return 1000.0
    return 0.0


WEBVTT = Reader("webvtt", "WebVTT", _sniff_vtt, lambda doc: _read_cues(doc, vtt=True), ("vtt",))
SRT = Reader("srt", "SRT subtitles", _sniff_srt, lambda doc: _read_cues(doc, vtt=False), ("srt",))
