"""Existing transcripts into a project: read, preview, and import as interviews.

A file is opened by content (`formats.documents`), read by the reader surest of its
layout (`formats`: Otter, Teams, Zoom, Rev, noScribe, WebVTT, SRT, `Name: text` in
text or Word), its speakers checked for mistyped names and given roles (`speakers`).
`preview_transcripts` shows all of that before anything is written;
`import_transcripts` checks a whole batch first and stores it in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import BinaryIO

from qda.errors import InvalidInput, InvalidInputs
from qda.ingest.formats import Turn, choose_reader, open_document
from qda.ingest.formats.timing import INTERVIEWER_LABELS
from qda.ingest.speakers import SpeakerSummary, assign_roles, fix_typos, set_interviewers
from qda.models import (
    AttributeValue,
    Interview,
    InterviewStatus,
    Participant,
    SegmentDraft,
    SpeakerRole,
)
from qda.store import Project
from qda.text import remove_controls

MAX_TRANSCRIPT_BYTES = 20_000_000
TRANSCRIPT_EXTENSIONS = ("txt", "text", "md", "vtt", "srt", "docx", "odt", "html", "htm")
_REFUSED_EXTENSIONS = {
    "doc": "an old Word 97–2003 file: open it in Word or LibreOffice and save it as .docx",
    "pdf": "a PDF, which holds no speaker turns qda can read: export the transcript as "
    ".docx or .txt from the program that made it",
    "rtf": "an RTF file: open it in Word or LibreOffice and save it as .docx",
    "pages": "an Apple Pages file: export it as Word (.docx)",
}
_NOTICE = re.compile(
    r"\b(?:removed|withdr[ae]wn?|withdrawal|consent\w*|placeholder|redacted|not available|"
    r"unavailable|deleted|excluded|no (?:recording|transcript)|pilot|samtykke|trukket|slettet|"
    r"fjernet|udeladt|consentement|retir\w*|supprim\w*|indisponible|pas de transcription)\b",
    re.IGNORECASE,
)
PLACEHOLDER_WORDS = 40  # a transcript this short that says it was removed is a placeholder


@dataclass(frozen=True)
class Transcript:
    """A transcript file, read and checked."""

    source: str
    format: str  # the reader's id: "otter", "webvtt", "text", "paragraphs", …
    format_label: str  # what to call it: "Otter.ai export"
    segments: list[SegmentDraft]
    sha256: str
    warnings: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # header lines and the app's own notes
    speakers: list[SpeakerSummary] = field(default_factory=list)
    placeholder: str = ""  # the notice, when the file is only a short placeholder

    @property
    def title(self) -> str:
        """The first header line (a title, in most files), as the interview's title."""
        return self.left_out[0][:200] if self.left_out else ""

    @property
    def found_turns(self) -> bool:
        return self.format != "paragraphs"

    @property
    def reading(self) -> str:
        """One line on how the file was read, for the import report."""
        if not self.found_turns:
            n = len(self.segments)
            return f"no speaker turns found: read as {n} paragraph{'' if n == 1 else 's'}"
        people = ", ".join(f"{s.speaker} ({s.role}, {s.turns})" for s in self.speakers)
        return f"{self.format_label}: {len(self.segments)} turns; speakers {people or 'none'}"


def check_extension(name: str) -> None:
    """Refuse a file whose extension says it is no transcript qda reads.

    Raises:
        InvalidInput: naming what the file is and how to make it readable.
    """
    suffix = PurePath(name).suffix.lower().lstrip(".")
    if suffix in _REFUSED_EXTENSIONS:
        raise InvalidInput(f"this is {_REFUSED_EXTENSIONS[suffix]}", source=name)
    if suffix not in TRANSCRIPT_EXTENSIONS:
        known = ", ".join(f".{x}" for x in TRANSCRIPT_EXTENSIONS)
        raise InvalidInput(
            f"unknown transcript format '.{suffix}' (qda reads {known})", source=name
        )


def placeholder_notice(segments: list[SegmentDraft]) -> str:
    """The notice, when a transcript is only a short placeholder ("removed: the
    participant did not consent"); "" for a real transcript."""
    words = sum(len(s.text.split()) for s in segments)
    text = " ".join(s.text for s in segments)
    if len(segments) <= 3 and words <= PLACEHOLDER_WORDS and _NOTICE.search(text):
        return re.sub(r"\s+", " ", text)[:160]
    if words <= 12 and not any(s.speaker for s in segments):
        return re.sub(r"\s+", " ", text)[:160]
    return ""


def read_transcript(
    stream: BinaryIO,
    name: str,
    *,
    interviewer_names: Iterable[str] = (),
    interviewer_labels: Iterable[str] = INTERVIEWER_LABELS,
    interviewers: Iterable[str] | None = None,
) -> Transcript:
    """Read one transcript file and label speaker roles.

    Args:
        interviewer_names: the study's interviewers (the project setting), found first.
        interviewers: the speakers of this file who interview, as chosen in a preview;
            when given, no role is guessed.

    Raises:
        InvalidInput / InvalidInputs: the file cannot be used; the message names the place.
    """
    check_extension(name)
    data = stream.read(MAX_TRANSCRIPT_BYTES + 1)
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise InvalidInput(
            f"larger than {MAX_TRANSCRIPT_BYTES // 1_000_000} MB: is this really a transcript?",
            source=name,
        )
    doc = open_document(data, name)
    reader = choose_reader(doc)
    reading = reader.read(doc)
    turns = [t for t in reading.turns if t.text.strip()]
    if not turns:
        raise InvalidInput("no text found in the transcript", source=name)
    turns, typos = fix_typos(turns, doc, reading.speakers)
    turns, controls = _without_controls(turns)
    if controls:
        typos = [
            *typos,
            f"{name}: removed {controls} control character(s) such as ESC or NUL from the "
            "text, which have no place in a transcript",
        ]
    drafts = [SegmentDraft(t.text.strip(), t.speaker, SpeakerRole.PARTICIPANT, t.start, t.end)
              for t in turns]  # fmt: skip
    if interviewers is not None:
        drafts, speakers = set_interviewers(drafts, interviewers)
    else:
        drafts, speakers = assign_roles(drafts, interviewer_names, interviewer_labels)
    warnings = [*doc.warnings, *reading.warnings, *typos]
    if len(speakers) >= 2 and not any(s.role is SpeakerRole.INTERVIEWER for s in speakers):
        warnings.append(
            f"{name}: could not tell which speaker is the interviewer "
            f"({', '.join(s.speaker for s in speakers)}): name them with "
            "`qda config PROJECT --interviewer NAME`, or choose them in the import preview"
        )
    if reader.name == "paragraphs":
        warnings.append(f"{name}: no speaker turns found: read as paragraphs")
    elif not speakers:
        warnings.append(
            f"{name}: read as {reading.label or reader.label}, but it names no speakers: "
            "set them on the Transcripts page"
        )
    return Transcript(
        source=name,
        format=reader.name,
        format_label=reading.label or reader.label,
        segments=drafts,
        sha256=doc.sha256,
        warnings=warnings,
        left_out=list(reading.header),
        speakers=speakers,
        placeholder=placeholder_notice(drafts),
    )


def _without_controls(turns: list[Turn]) -> tuple[list[Turn], int]:
    """The turns with control characters removed from text and speaker, and how many."""
    removed = 0
    clean: list[Turn] = []
    for turn in turns:
        text, a = remove_controls(turn.text)
        speaker, b = remove_controls(turn.speaker)
        removed += a + b
        clean.append(replace(turn, text=text, speaker=speaker) if a or b else turn)
    return clean, removed


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
class TranscriptPreview:
    """What importing one file would do, before anything is written."""

    name: str
    transcript: Transcript | None  # None when the file cannot be read
    participant: str | None  # the participant it goes to, when one fits
    problems: list[str] = field(default_factory=list)  # what stops the import as it is
    duplicate: str = ""  # the interview that already holds this file


def preview_transcripts(
    project: Project,
    files: Iterable[tuple[str, BinaryIO]],
    *,
    transcript_files: Mapping[str, str] | None = None,
) -> list[TranscriptPreview]:
    """Read every file as an import would, and say per file what it would become."""
    people = project.participants
    held = {i.source_sha256: i.id for i in project.interviews}
    names = project.interviewer_names
    out: list[TranscriptPreview] = []
    for name, stream in files:
        try:
            transcript = read_transcript(stream, name, interviewer_names=names)
        except (InvalidInput, InvalidInputs) as e:
            out.append(TranscriptPreview(name, None, None, [str(e)]))
            continue
        try:
            pid: str | None = match_participant(name, people, transcript_files or {})
            problems = []
        except InvalidInput as e:
            pid, problems = None, [str(e)]
        out.append(
            TranscriptPreview(name, transcript, pid, problems, held.get(transcript.sha256, ""))
        )
    return out


@dataclass(frozen=True)
class TranscriptImport:
    """What `import_transcripts` did."""

    added: list[Interview]
    skipped: list[str]  # files already in the project (same content)
    warnings: list[str]
    readings: dict[str, str] = field(default_factory=dict)  # file -> how it was read
    placeholders: dict[str, str] = field(default_factory=dict)  # interview -> its notice
    excluded: list[str] = field(default_factory=list)  # interviews excluded at import


def import_transcripts(
    project: Project,
    files: Iterable[tuple[str, BinaryIO]],
    *,
    transcript_files: Mapping[str, str] | None = None,
    participants: Mapping[str, str] | None = None,
    interviewers: Mapping[str, Iterable[str]] | None = None,
    exclude: Mapping[str, str] | None = None,
    exclude_placeholders: bool = False,
    interviewer_labels: Iterable[str] = INTERVIEWER_LABELS,
    by: str = "",
) -> TranscriptImport:
    """Add each transcript file as an interview of its participant.

    All files are read and checked before anything is stored; if any is bad, nothing
    is stored and every problem is reported. A file whose content is already in the
    project is skipped, so importing a folder twice adds nothing twice.

    Args:
        transcript_files: file name -> participant, from a participants CSV.
        participants: file name -> participant, as chosen in the preview (first).
        interviewers: file name -> its speakers who interview, as chosen in the preview.
        exclude: file name -> reason, to import it excluded from analysis.
        exclude_placeholders: exclude a file that is only a placeholder notice.
    """
    people = project.participants
    known_hashes = {i.source_sha256 for i in project.interviews}
    names = project.interviewer_names
    chosen_pids = dict(participants or {})
    chosen_roles = dict(interviewers or {})
    errors: list[InvalidInput] = []
    planned: list[tuple[str, Transcript]] = []
    skipped: list[str] = []
    for name, stream in files:
        try:
            transcript = read_transcript(
                stream,
                name,
                interviewer_names=names,
                interviewer_labels=interviewer_labels,
                interviewers=chosen_roles.get(name),
            )
            if transcript.sha256 in known_hashes:
                skipped.append(name)
                continue
            pid = chosen_pids.get(name) or match_participant(name, people, transcript_files or {})
            if pid not in {p.id for p in people}:
                raise InvalidInput(f"no participant '{pid}' in this project", source=name)
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
    by_id = {p.id: p for p in people}
    added: list[Interview] = []
    warnings: list[str] = []
    readings: dict[str, str] = {}
    placeholders: dict[str, str] = {}
    excluded: list[str] = []
    reasons = dict(exclude or {})
    with project.transaction():
        for pid, transcript in planned:
            language: AttributeValue = by_id[pid].attributes.get("language", "")
            interview = project.add_interview(
                pid,
                transcript.segments,
                title=transcript.title,
                language=str(language) if isinstance(language, str) else "",
                status=InterviewStatus.IMPORTED,
                source_name=transcript.source,
                source_sha256=transcript.sha256,
                duration_s=max((s.end or s.start or 0.0 for s in transcript.segments), default=None)
                or None,
            )
            project.update_interview(
                interview.id,
                engine_options={
                    "reader": transcript.format,
                    "format": transcript.format_label,
                    "left_out": transcript.left_out,
                },
            )
            reason = reasons.get(transcript.source)
            if reason is None and exclude_placeholders and transcript.placeholder:
                reason = f"placeholder: {transcript.placeholder.rstrip('. ')}"
            if reason is not None:
                interview = project.exclude_interview(interview.id, reason, by=by)
                excluded.append(interview.id)
            elif transcript.placeholder:
                placeholders[interview.id] = transcript.placeholder
            added.append(interview)
            readings[transcript.source] = transcript.reading
            warnings.extend(transcript.warnings)
    return TranscriptImport(added, skipped, warnings, readings, placeholders, excluded)
