"""Existing transcripts from text files: plain text turns, WebVTT and SRT.

Plain text is what researchers type and what MAXQDA, f4 and noScribe exchange:

    [00:01:05] Interviewer: How do you contact the council?
    [00:01:09] Maureen: I used to go to the office.
    A second paragraph of the same turn.

The `[hh:mm:ss]` stamp is optional (also `[mm:ss]`, with fractions, before or after the
speaker); a MAXQDA/f4 stamp `#00:01:23-4#` at the end of a turn marks when it ends.
WebVTT cues may name their speaker with a voice tag (`<v Maureen>…</v>`); cues in VTT
and SRT may also start with `Speaker: `.

Each reader returns `SegmentDraft`s and never writes; `import_transcripts` checks a
whole batch of files first and then stores them in one transaction.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import PurePath
from typing import BinaryIO

from qda.errors import InvalidInput, InvalidInputs
from qda.ingest.participants import decode_text
from qda.models import (
    AttributeValue,
    Interview,
    InterviewStatus,
    Participant,
    SegmentDraft,
    SpeakerRole,
)
from qda.store import Project

MAX_TRANSCRIPT_BYTES = 20_000_000

INTERVIEWER_LABELS = frozenset(
    {
        # English, Danish, French words for the one asking the questions
        "interviewer", "interviewer 1", "interviewer 2", "int", "i", "q", "iv",
        "researcher", "moderator", "facilitator", "intervieweren", "interviewer (i)",
        "forsker", "intervieweur", "intervieweuse", "enquêteur", "enquêtrice",
        "chercheur", "chercheuse", "animateur", "animatrice",
    }
)  # fmt: skip

_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_LEADING_STAMP = re.compile(rf"^\s*\[(?P<t>{_TIME})\]\s*")
_MAXQDA_STAMP = re.compile(r"#(?P<t>\d{1,2}:\d{2}:\d{2})(?:-(?P<f>\d+))?#")
_SPEAKER = re.compile(
    r"^(?P<speaker>[^\s:\[\]#][^:\[\]#]{0,39}?)\s*(?:\[(?P<t>"
    + _TIME
    + r")\])?\s*:\s+(?P<text>\S.*)$"
)
_CUE_TIMING = re.compile(rf"^\s*(?P<start>{_TIME})\s*-->\s*(?P<end>{_TIME})(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]+)?\s+(?P<speaker>[^>]+)>")
_TAG = re.compile(r"</?[^>]+>")


class TranscriptFormat(StrEnum):
    """Transcript file formats qda reads, by file extension."""

    TEXT = "txt"
    WEBVTT = "vtt"
    SRT = "srt"


@dataclass(frozen=True)
class Transcript:
    """A transcript file, read and checked."""

    source: str
    format: TranscriptFormat
    segments: list[SegmentDraft]
    sha256: str
    warnings: list[str] = field(default_factory=list)


def parse_time(value: str) -> float:
    """'01:02:03.5', '01:02:03,500' or '02:03' -> seconds."""
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def _speaker_label(line: str) -> tuple[str, float | None, str] | None:
    """Split 'Speaker: text' (or 'Speaker [00:01:02]: text'); None if not a turn."""
    m = _SPEAKER.match(line)
    if not m:
        return None
    speaker = m["speaker"].strip()
    if len(speaker.split()) > 4 or re.search(r"[.!?,;\"“”]", speaker) or speaker[0].isdigit():
        return None  # "Well, the thing is: …" is text, not a speaker
    return speaker, parse_time(m["t"]) if m["t"] else None, m["text"].strip()


def guess_role(label: str, interviewer_labels: Iterable[str] = INTERVIEWER_LABELS) -> SpeakerRole:
    """Interviewer if the label is one of the interviewer words, else participant."""
    labels = {x.lower() for x in interviewer_labels}
    return SpeakerRole.INTERVIEWER if label.strip().lower() in labels else SpeakerRole.PARTICIPANT


def assign_roles(
    segments: list[SegmentDraft], interviewer_labels: Iterable[str] = INTERVIEWER_LABELS
) -> list[SegmentDraft]:
    """Set each segment's role from its speaker label.

    When no label names an interviewer and there are exactly two speakers, the one
    whose turns more often end in a question is taken as the interviewer.
    """
    labelled = [
        replace(s, role=guess_role(s.speaker, interviewer_labels)) if s.speaker else s
        for s in segments
    ]
    speakers = Counter(s.speaker for s in labelled if s.speaker)
    if len(speakers) == 2 and not any(s.role is SpeakerRole.INTERVIEWER for s in labelled):
        questions = Counter(s.speaker for s in labelled if s.text.rstrip().endswith("?"))

        def ratio(speaker: str) -> float:
            return questions[speaker] / speakers[speaker]

        asker = max(speakers, key=ratio)
        if ratio(asker) > min(map(ratio, speakers)):
            labelled = [
                replace(s, role=SpeakerRole.INTERVIEWER) if s.speaker == asker else s
                for s in labelled
            ]
    return labelled


def read_text(text: str, source: str) -> tuple[list[SegmentDraft], list[str]]:
    """Plain text with `Speaker: text` turns and optional timestamps."""
    turns: list[dict] = []
    warnings: list[str] = []
    has_labels = any(
        _speaker_label(_LEADING_STAMP.sub("", line, count=1)) for line in text.splitlines()
    )
    paragraph_break = False
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            paragraph_break = True
            continue
        start = None
        if m := _LEADING_STAMP.match(line):
            start = parse_time(m["t"])
            line = line[m.end() :]
        end = None
        if m := _MAXQDA_STAMP.search(line):
            stamp = parse_time(m["t"]) + (float(f"0.{m['f']}") if m["f"] else 0.0)
            line = _MAXQDA_STAMP.sub("", line).strip()
            end = stamp
        label = _speaker_label(line) if has_labels else None
        if label:
            speaker, stamp_after, body = label
            turns.append(
                {"speaker": speaker, "start": start if start is not None else stamp_after,
                 "end": end, "lines": [body], "line": line_no}
            )  # fmt: skip
        elif turns and (has_labels or not paragraph_break) and start is None:
            turns[-1]["lines"].append(line)
            if end is not None:
                turns[-1]["end"] = end
        else:
            if has_labels and not turns:
                warnings.append(
                    f"{source}, line {line_no}: text before the first speaker turn "
                    "was kept as a segment without a speaker"
                )
            turns.append(
                {"speaker": "", "start": start, "end": end, "lines": [line], "line": line_no}
            )
        paragraph_break = False
    segments = [
        SegmentDraft(
            text="\n".join(t["lines"]).strip(),
            speaker=t["speaker"],
            role=SpeakerRole.PARTICIPANT if t["speaker"] else SpeakerRole.OTHER,
            start=t["start"],
            end=t["end"],
        )
        for t in turns
    ]
    return _fill_ends(segments, source, [t["line"] for t in turns]), warnings


def _fill_ends(segments: list[SegmentDraft], source: str, lines: list[int]) -> list[SegmentDraft]:
    """A turn without an end time ends where the next one starts; times must not go back."""
    out: list[SegmentDraft] = []
    errors: list[InvalidInput] = []
    previous_start: float | None = None
    for i, s in enumerate(segments):
        if s.start is not None and previous_start is not None and s.start < previous_start:
            errors.append(
                InvalidInput(
                    "this turn starts before the one above it: timestamps must go forward",
                    source=source,
                    line=lines[i],
                )
            )
        if s.start is not None:
            previous_start = s.start
        if s.end is None and s.start is not None and i + 1 < len(segments):
            next_start = segments[i + 1].start
            if next_start is not None and next_start >= s.start:
                s = replace(s, end=next_start)
        out.append(s)
    if errors:
        raise InvalidInputs(errors)
    return out


def _cue_text(payload: list[str]) -> list[tuple[str, str]]:
    """(speaker, text) pieces of one cue: voice tags first, then `Speaker: ` prefixes."""
    joined = "\n".join(payload)
    pieces: list[tuple[str, str]] = []
    voices = list(_VOICE.finditer(joined))
    if voices:
        for i, m in enumerate(voices):
            end = voices[i + 1].start() if i + 1 < len(voices) else len(joined)
            body = html.unescape(_TAG.sub("", joined[m.end() : end])).strip()
            if body:
                pieces.append((m["speaker"].strip(), body))
        return pieces
    body = html.unescape(_TAG.sub("", joined)).strip()
    label = _speaker_label(body.replace("\n", " "))
    if label:
        return [(label[0], label[2])]
    return [("", body)] if body else []


def _read_cues(text: str, source: str, *, vtt: bool) -> list[SegmentDraft]:
    lines = text.splitlines()
    errors: list[InvalidInput] = []
    if vtt:
        if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
            raise InvalidInputs(
                [
                    InvalidInput(
                        "not a WebVTT file: the first line must be 'WEBVTT'", source=source, line=1
                    )
                ]
            )
        lines = lines[1:]
        offset = 2
    else:
        offset = 1
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start_line = offset
    for i, line in enumerate([*lines, ""]):
        if line.strip():
            if not current:
                start_line = i + offset
            current.append(line.rstrip())
        elif current:
            blocks.append((start_line, current))
            current = []
    segments: list[SegmentDraft] = []
    line_of: list[int] = []
    for line_no, block in blocks:
        if vtt and block[0].split()[0] in ("NOTE", "STYLE", "REGION"):
            continue
        timing_at = next((k for k, b in enumerate(block[:2]) if "-->" in b), None)
        if timing_at is None:
            if vtt and line_no == offset:
                continue  # header metadata lines under WEBVTT
            errors.append(
                InvalidInput(
                    f"expected a timing line like '00:00:01{'.' if vtt else ','}000 --> "
                    f"00:00:04{'.' if vtt else ','}000', found '{block[0][:60]}'",
                    source=source,
                    line=line_no,
                )
            )
            continue
        m = _CUE_TIMING.match(block[timing_at])
        if not m:
            errors.append(
                InvalidInput(
                    f"cannot read the timing '{block[timing_at][:60]}'",
                    source=source,
                    line=line_no + timing_at,
                )
            )
            continue
        start, end = parse_time(m["start"]), parse_time(m["end"])
        if end < start:
            errors.append(
                InvalidInput(
                    "the cue ends before it starts", source=source, line=line_no + timing_at
                )
            )
            continue
        for speaker, body in _cue_text(block[timing_at + 1 :]):
            segments.append(SegmentDraft(text=body, speaker=speaker, start=start, end=end))
            line_of.append(line_no)
    if errors:
        raise InvalidInputs(errors)
    return _fill_ends(segments, source, line_of)


def _read_vtt(text: str, source: str) -> tuple[list[SegmentDraft], list[str]]:
    return _read_cues(text, source, vtt=True), []


def _read_srt(text: str, source: str) -> tuple[list[SegmentDraft], list[str]]:
    return _read_cues(text, source, vtt=False), []


READERS: dict[TranscriptFormat, Callable[[str, str], tuple[list[SegmentDraft], list[str]]]] = {
    TranscriptFormat.TEXT: read_text,
    TranscriptFormat.WEBVTT: _read_vtt,
    TranscriptFormat.SRT: _read_srt,
}


def transcript_format(name: str) -> TranscriptFormat:
    suffix = PurePath(name).suffix.lower().lstrip(".")
    try:
        return TranscriptFormat("txt" if suffix in ("txt", "text", "md") else suffix)
    except ValueError:
        known = ", ".join(f".{f}" for f in TranscriptFormat)
        raise InvalidInput(
            f"unknown transcript format '.{suffix}' (qda reads {known})", source=name
        ) from None


def read_transcript(
    stream: BinaryIO,
    name: str,
    *,
    interviewer_labels: Iterable[str] = INTERVIEWER_LABELS,
) -> Transcript:
    """Read one transcript file (format from its extension) and label speaker roles.

    Raises:
        InvalidInput / InvalidInputs: the file cannot be used; the message names the line.
    """
    fmt = transcript_format(name)
    data = stream.read(MAX_TRANSCRIPT_BYTES + 1)
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise InvalidInput(
            f"larger than {MAX_TRANSCRIPT_BYTES // 1_000_000} MB: is this really a transcript?",
            source=name,
        )
    if b"\x00" in data[:4096]:
        raise InvalidInput("this is not a text file (it holds binary data)", source=name)
    text, warnings = decode_text(data, name)
    segments, more = READERS[fmt](text, name)
    segments = [s for s in segments if s.text]
    if not segments:
        raise InvalidInput("no text found in the transcript", source=name)
    return Transcript(
        source=name,
        format=fmt,
        segments=assign_roles(segments, interviewer_labels),
        sha256=hashlib.sha256(data).hexdigest(),
        warnings=warnings + more,
    )


def match_participant(
    file_name: str, participants: Iterable[Participant], transcript_files: Mapping[str, str]
) -> str:
    """The participant a transcript belongs to.

    By the `transcript_file` column of the participants CSV, else by file name:
    `P01.txt`, `P01_maureen.vtt`, `p01 - interview.srt` all belong to P01.

    Raises:
        InvalidInput: no participant, or more than one, fits the name.
    """
    base = PurePath(file_name).name
    if base in transcript_files:
        return transcript_files[base]
    stem = PurePath(base).stem.lower()
    matches = [
        p.id
        for p in participants
        if stem == p.id.lower() or re.match(rf"^{re.escape(p.id.lower())}[\s_\-.]", stem)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InvalidInput(
            "no participant fits this file name: name the file after the participant id "
            "(e.g. P01_interview.txt) or list it in the transcript_file column",
            source=base,
        )
    raise InvalidInput(
        f"several participants fit this file name: {', '.join(matches)}", source=base
    )


@dataclass(frozen=True)
class TranscriptImport:
    """What `import_transcripts` did."""

    added: list[Interview]
    skipped: list[str]  # files already in the project (same content)
    warnings: list[str]


def import_transcripts(
    project: Project,
    files: Iterable[tuple[str, BinaryIO]],
    *,
    transcript_files: Mapping[str, str] | None = None,
    interviewer_labels: Iterable[str] = INTERVIEWER_LABELS,
) -> TranscriptImport:
    """Add each transcript file as an interview of its participant.

    All files are read and checked before anything is stored; if any is bad, nothing
    is stored and every problem is reported. A file whose content is already in the
    project is skipped, so importing a folder twice adds nothing twice.
    """
    participants = project.participants
    known_hashes = {i.source_sha256 for i in project.interviews}
    errors: list[InvalidInput] = []
    planned: list[tuple[str, Transcript]] = []
    skipped: list[str] = []
    for name, stream in files:
        try:
            transcript = read_transcript(stream, name, interviewer_labels=interviewer_labels)
            if transcript.sha256 in known_hashes:
                skipped.append(name)
                continue
            pid = match_participant(name, participants, transcript_files or {})
        except InvalidInputs as e:
            errors.extend(e.errors)
            continue
        except InvalidInput as e:
            errors.append(e)
            continue
        known_hashes.add(transcript.sha256)
        planned.append((pid, transcript))
    if errors:
        raise InvalidInputs(errors)
    by_id = {p.id: p for p in participants}
    added: list[Interview] = []
    warnings: list[str] = []
    with project.transaction():
        for pid, transcript in planned:
            language: AttributeValue = by_id[pid].attributes.get("language", "")
            added.append(
                project.add_interview(
                    pid,
                    transcript.segments,
                    language=str(language) if isinstance(language, str) else "",
                    status=InterviewStatus.IMPORTED,
                    source_name=transcript.source,
                    source_sha256=transcript.sha256,
                    duration_s=max(
                        (s.end or s.start or 0.0 for s in transcript.segments), default=None
                    )
                    or None,
                )
            )
            warnings.extend(transcript.warnings)
    return TranscriptImport(added, skipped, warnings)
