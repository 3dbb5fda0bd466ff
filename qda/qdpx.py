"""REFI-QDA project exchange (`.qdpx`): a whole project to and from NVivo, ATLAS.ti,
MAXQDA, QualCoder, f4 and others.

A `.qdpx` file is a zip holding `project.qde` (XML, namespace `urn:QDA-XML:project:1.0`)
and the sources under `sources/`.

Export (`export_qdpx`) writes, with GUIDs derived from qda's own ids (the same project
gives the same file):

- users: every coder;
- the codebook with its hierarchy and sets;
- variables and cases: a case per participant, with the stakeholder group, the
  pseudonym and every attribute as typed variable values, and references to the
  participant's interviews;
- a `TextSource` per interview: the transcript as plain text, one paragraph per turn
  (`[hh:mm:ss] Speaker: text`), with a `PlainTextSelection` per coded span holding its
  codings (code, user, time);
- for an interview with a recording, also an `AudioSource` with the recording and a
  `Transcript` of the same text whose `SyncPoint`s tie each turn to its time, so tools
  that play audio stay in step;
- `qda/interviews.json`: what REFI-QDA has no place for (speaker roles, exact start and
  end times, the text before correction, word timings, how each coding came about), so
  that qda → .qdpx → qda loses nothing. Other tools ignore it.

Import (`import_qdpx`) is lenient, like the codebook import, and reports what it kept,
fixed and dropped: `internal://`, bare relative and `sources/` paths; missing names;
namespace variants; a `.qde` without its sources (text held in the XML is used).
Text is split into segments at speaker turns (`Name: ` at the start of a line) or,
failing that, at blank lines; each selection keeps its exact character span and is
mapped onto the segments it covers (a selection across two turns codes the covered
part of each). Cases and their variables become participants and attributes; the
variable the researcher picks becomes the stakeholder group. Everything is written in
one transaction: a file that fails leaves the project as it was.

The zip is checked before anything is unpacked: a member path that would leave the
folder, or a size or compression ratio no real project has, is refused.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import sqlalchemy as sa

import qda
from qda.codebook import Codebook, import_codebook
from qda.codebook.operations import codebook_of
from qda.codebook.qdc import (
    _children,
    _local,
    add_codes,
    codebook_from_xml,
    guid_for,
    parse_xml,
)
from qda.errors import InvalidInput
from qda.media import staged_media
from qda.models import (
    AttributeType,
    CodingOrigin,
    InterviewStatus,
    Participant,
    SegmentDraft,
    SpeakerRole,
)
from qda.schema import _now, codings_t, segments_t
from qda.store import Project
from qda.text import xml_safe_tree

NS = "urn:QDA-XML:project:1.0"
QDA_NAMESPACE = uuid.UUID("0b6a0e36-5c2b-4b7f-9f3e-2f1d5e9c7a11")
EXTENSION = "qda/interviews.json"
MAX_TOTAL_BYTES = 4_000_000_000  # everything unpacked: recordings of a large study
MAX_XML_BYTES = 200_000_000
MAX_RATIO = 200  # text compresses 5-10x; a zip bomb thousands of times
NO_GROUP = "(no group)"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same project gives the same bytes
_TYPES = {AttributeType.TEXT: "Text", AttributeType.NUMBER: "Float", AttributeType.DATE: "Date"}


def _guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(QDA_NAMESPACE, f"{kind}:{key}")).upper()


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- export ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSummary:
    cases: int
    sources: int
    audio_sources: int
    selections: int
    codings: int
    codes: int
    excluded: int = 0  # interviews excluded from analysis, left out of the file


def transcript_text(segments) -> tuple[str, list[tuple[int, int]]]:
    """The plain text of an interview and, per segment, (line start, text start)."""
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    position = 0
    for s in segments:
        stamp = f"[{_clock(s.start)}] " if s.start is not None else ""
        label = f"{s.speaker}: " if s.speaker else ""
        if parts:
            parts.append("\n\n")
            position += 2
        offsets.append((position, position + len(stamp) + len(label)))
        line = f"{stamp}{label}{s.text}"
        parts.append(line)
        position += len(line)
    return "".join(parts), offsets


def export_qdpx(project: Project, out: BinaryIO) -> ExportSummary:
    """Write the whole project as a `.qdpx` file (its `project.qde` valid against
    REFI-QDA's Project.xsd). Interviews excluded from analysis are left out: a file
    made to share must not carry a withdrawn participant's words."""
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    root = ET.Element(
        f"{{{NS}}}Project", {"name": project.name, "origin": f"qda {qda.__version__}"}
    )
    analysed = {s.id for s in project.segments(analysed_only=True)}
    codings = [c for c in project.codings() if c.segment_id in analysed]
    coders = sorted({c.coder for c in codings})
    if coders:
        users = ET.SubElement(root, f"{{{NS}}}Users")
        for name in coders:
            ET.SubElement(users, f"{{{NS}}}User", {"guid": _guid("user", name), "name": name})
    codebook = codebook_of(project)
    code_guids: dict[str, str] = {}
    if codebook.codes:
        book = ET.SubElement(root, f"{{{NS}}}CodeBook")
        code_guids = add_codes(book, codebook, NS)

    participants = project.participants
    types = project.attribute_types
    variables = [("Stakeholder group", "Text")]
    if any(p.pseudonym for p in participants):
        variables.append(("Pseudonym", "Text"))
    variables += [(name, _TYPES[kind]) for name, kind in types.items()]
    variable_guids = {name: _guid("variable", name) for name, _ in variables}
    if participants:
        element = ET.SubElement(root, f"{{{NS}}}Variables")
        for name, kind in variables:
            ET.SubElement(
                element,
                f"{{{NS}}}Variable",
                {"guid": variable_guids[name], "name": name, "typeOfVariable": kind},
            )

    interviews = [i for i in project.interviews if not i.excluded]
    segments_of = defaultdict(list)
    for s in project.segments(analysed_only=True):
        segments_of[s.interview_id].append(s)
    with_text = [i for i in interviews if segments_of[i.id]]
    source_guid = {i.id: _guid("source", i.id) for i in with_text}
    if participants:
        cases = ET.SubElement(root, f"{{{NS}}}Cases")
        for p in participants:
            case = ET.SubElement(
                cases, f"{{{NS}}}Case", {"guid": _guid("case", p.id), "name": p.id}
            )
            values = [("Stakeholder group", "Text", p.stakeholder_group)]
            if p.pseudonym:
                values.append(("Pseudonym", "Text", p.pseudonym))
            for name, value in p.attributes.items():
                values.append((name, _TYPES[types[name]], value))
            for name, kind, value in values:
                vv = ET.SubElement(case, f"{{{NS}}}VariableValue")
                ET.SubElement(vv, f"{{{NS}}}VariableRef", {"targetGUID": variable_guids[name]})
                if kind == "Date":
                    text = value.isoformat()
                elif kind == "Float":
                    text = repr(float(value))
                else:
                    text = str(value)
                ET.SubElement(vv, f"{{{NS}}}{kind}Value").text = text
            for i in with_text:
                if i.participant_id == p.id:
                    ET.SubElement(case, f"{{{NS}}}SourceRef", {"targetGUID": source_guid[i.id]})

    files: dict[str, bytes | Path] = {}
    extension: dict[str, dict] = {}
    by_segment = defaultdict(list)
    for c in codings:
        by_segment[c.segment_id].append(c)
    n_selections = n_audio = 0
    if with_text:
        sources = ET.SubElement(root, f"{{{NS}}}Sources")
    for interview in with_text:
        segments = segments_of[interview.id]
        text, offsets = transcript_text(segments)
        guid = source_guid[interview.id]
        files[f"sources/{guid}.txt"] = text.encode("utf-8")
        element = ET.SubElement(
            sources,
            f"{{{NS}}}TextSource",
            {
                "guid": guid,
                "name": interview.title or interview.id,
                "plainTextPath": f"internal://{guid}.txt",
            },
        )
        origins: dict[str, str] = {}
        for s, (_, text_start) in zip(segments, offsets, strict=True):
            spans = defaultdict(list)
            for c in by_segment.get(s.id, []):
                spans[c.span or (0, len(s.text))].append(c)
            for (start, end), group in sorted(spans.items()):
                n_selections += 1
                selection = ET.SubElement(
                    element,
                    f"{{{NS}}}PlainTextSelection",
                    {
                        "guid": _guid("selection", f"{interview.id}/{s.index}/{start}/{end}"),
                        "name": s.text[start:end][:60],
                        "startPosition": str(text_start + start),
                        "endPosition": str(text_start + end),
                        "creatingUser": _guid("user", group[0].coder),
                    },
                )
                for c in sorted(group, key=lambda c: (c.code_id, c.coder)):
                    coding_guid = _guid(
                        "coding", f"{interview.id}/{s.index}/{start}/{end}/{c.code_id}/{c.coder}"
                    )
                    attributes = {"guid": coding_guid, "creatingUser": _guid("user", c.coder)}
                    if c.created_at is not None:
                        attributes["creationDateTime"] = _iso(c.created_at)
                    coding = ET.SubElement(selection, f"{{{NS}}}Coding", attributes)
                    ET.SubElement(coding, f"{{{NS}}}CodeRef", {"targetGUID": code_guids[c.code_id]})
                    origins[coding_guid] = str(c.origin)
        media = project.media_path(interview)
        if media is not None and media.exists():
            n_audio += 1
            audio_guid = _guid("audio", interview.id)
            name = f"{audio_guid}{media.suffix.lower()}"
            files[f"sources/{name}"] = media
            audio = ET.SubElement(
                sources,
                f"{{{NS}}}AudioSource",
                {
                    "guid": audio_guid,
                    "name": interview.source_name or interview.title or interview.id,
                    "path": f"internal://{name}",
                },
            )
            transcript = ET.SubElement(
                audio,
                f"{{{NS}}}Transcript",
                {
                    "guid": _guid("transcript", interview.id),
                    "name": interview.title or interview.id,
                    "plainTextPath": f"internal://{guid}.txt",
                },
            )
            for s, (line_start, _) in zip(segments, offsets, strict=True):
                if s.start is not None:
                    ET.SubElement(
                        transcript,
                        f"{{{NS}}}SyncPoint",
                        {
                            "guid": _guid("sync", f"{interview.id}/{s.index}"),
                            "timeStamp": str(round(s.start * 1000)),
                            "position": str(line_start),
                        },
                    )
        extension[guid] = {
            "interview_id": interview.id,
            "participant_id": interview.participant_id,
            "title": interview.title,
            "language": interview.language,
            "status": str(interview.status),
            "source_name": interview.source_name,
            "duration_s": interview.duration_s,
            "segments": [
                {
                    "speaker": s.speaker,
                    "role": str(s.role),
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "original_text": s.original_text,
                    "words": [list(w) for w in s.words],
                }
                for s in segments
            ],
            "coding_origins": origins,
        }
    sets = [s for s in codebook.sets if any(m in code_guids for m in s.members)]
    if sets:
        sets_element = ET.SubElement(root, f"{{{NS}}}Sets")
        for s in sets:
            element = ET.SubElement(
                sets_element,
                f"{{{NS}}}Set",
                {"guid": guid_for(s.id, f"set:{s.name}"), "name": s.name},
            )
            if s.description:
                ET.SubElement(element, f"{{{NS}}}Description").text = s.description
            for member in s.members:
                if member in code_guids:
                    ET.SubElement(
                        element, f"{{{NS}}}MemberCode", {"targetGUID": code_guids[member]}
                    )
    ET.indent(root, space="  ")
    xml_safe_tree(root)
    xml = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, data: bytes | Path) -> None:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if isinstance(data, Path):
                with data.open("rb") as src, archive.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            else:
                archive.writestr(info, data)

        put("project.qde", xml)
        for name in sorted(files):
            put(name, files[name])
        if extension:
            put(EXTENSION, json.dumps(extension, ensure_ascii=False, indent=1).encode("utf-8"))
    return ExportSummary(
        cases=len(participants),
        sources=len(with_text),
        audio_sources=n_audio,
        selections=n_selections,
        codings=len(codings),
        codes=len(codebook.walk()),
        excluded=sum(i.excluded for i in project.interviews),
    )


# --- reading the file safely -------------------------------------------------------------


def _child(element: ET.Element, name: str) -> ET.Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _key(guid: str | None) -> str:
    return (guid or "").strip().strip("{}").lower()


class _Archive:
    """The members of a .qdpx, checked before anything is read."""

    def __init__(self, data: bytes, source: str) -> None:
        self.source = source
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except zipfile.BadZipFile:
            raise InvalidInput("a damaged .qdpx file (not a readable zip)", source=source) from None
        total = 0
        self.names: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            path = PurePosixPath(name.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
                raise InvalidInput(
                    f"refused: the member '{name}' would be unpacked outside the project "
                    "folder (a path that escapes the folder)",
                    source=source,
                )
            total += info.file_size
            if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise InvalidInput(
                    f"refused: '{name}' would expand from {info.compress_size:,} bytes to "
                    f"{info.file_size:,} ({info.file_size // max(info.compress_size, 1):,} "
                    "times): a zip bomb, not a project",
                    source=source,
                )
            if not info.is_dir():
                self.names[str(path).lower()] = info
        if total > MAX_TOTAL_BYTES:
            raise InvalidInput(
                f"refused: the file would unpack to {total / 1e9:.1f} GB "
                f"(the limit is {MAX_TOTAL_BYTES / 1e9:.0f} GB)",
                source=source,
            )

    def find(self, reference: str) -> zipfile.ZipInfo | None:
        """A source named as `internal://x`, `sources/x`, a bare relative path, or
        `file:///…/x` (matched by its file name in `sources/`)."""
        ref = reference.strip()
        for prefix in ("internal://", "relative://", "file://"):
            if ref.lower().startswith(prefix):
                ref = ref[len(prefix) :]
        ref = ref.replace("\\", "/").lstrip("/")
        candidates = [ref, f"sources/{ref}", f"sources/{PurePosixPath(ref).name}"]
        for candidate in candidates:
            info = self.names.get(candidate.lower())
            if info is not None:
                return info
        return None

    def read(self, info: zipfile.ZipInfo) -> bytes:
        try:
            return self.zip.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
            raise self.damaged(info, e) from None

    def damaged(self, info: zipfile.ZipInfo, error: Exception) -> InvalidInput:
        return InvalidInput(
            f"the member '{info.filename}' is damaged ({error}): nothing was imported; "
            "export the project again from the program that made it",
            source=self.source,
        )


# --- import ------------------------------------------------------------------------------


@dataclass
class QdpxReport:
    """What an import found, kept, fixed and dropped."""

    codes: int = 0
    sources: int = 0
    selections: int = 0
    codings_read: int = 0
    codings_stored: int = 0
    participants: int = 0
    interviews: int = 0
    segments: int = 0
    group_variable: str = ""
    fixed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"{self.codes} codes, {self.participants} participants, {self.interviews} "
            f"interviews ({self.segments} segments), {self.selections} selections with "
            f"{self.codings_read} codings read, {self.codings_stored} codings stored",
            "stakeholder group from: "
            + (f"variable '{self.group_variable}'" if self.group_variable else "no variable"),
        ]
        out += [f"fixed: {f}" for f in self.fixed]
        out += [f"dropped: {d}" for d in self.dropped]
        return out


@dataclass
class _Source:
    guid: str
    name: str
    text: str
    selections: list[tuple[int, int, list[tuple[str, str, str | None]], str]]  # start,end,codes
    times: list[tuple[int, float]] = field(default_factory=list)  # (position, seconds)
    media: zipfile.ZipInfo | None = None
    media_name: str = ""


_TURN = re.compile(
    r"^(?:\[(?P<stamp>\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)\]\s*)?"
    r"(?P<label>[^\s:\[\]][^:\n\[\]]{0,39}?):[ \t]+(?=\S)",
    re.MULTILINE,
)


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def split_text(text: str) -> list[tuple[int, int, str, float | None]]:
    """(start, end, speaker, time) of each segment's text in `text`: speaker turns when
    at least two lines start with `Name: ` (optionally after `[hh:mm:ss]`), otherwise
    paragraphs. Offsets are exact: text[start:end] is the segment's text."""
    turns = [m for m in _TURN.finditer(text) if m.start() == 0 or text[m.start() - 1] == "\n"]
    out: list[tuple[int, int, str, float | None]] = []
    if len(turns) >= 2:
        if text[: turns[0].start()].strip():
            start, end = _trim(text, 0, turns[0].start())
            out.append((start, end, "", None))
        for k, m in enumerate(turns):
            stop = turns[k + 1].start() if k + 1 < len(turns) else len(text)
            start, end = _trim(text, m.end(), stop)
            if end > start:
                stamp = m.group("stamp")
                out.append(
                    (start, end, m.group("label").strip(), _seconds(stamp) if stamp else None)
                )
        return out
    for m in re.finditer(r"\S(?:.*?\S)?(?=\s*\n\s*\n|\s*$)", text, re.DOTALL):
        out.append((m.start(), m.end(), "", None))
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _variable_value(vv: ET.Element) -> object | None:
    for kind in ("Text", "Integer", "Float", "Boolean", "Date", "DateTime"):
        element = _child(vv, f"{kind}Value")
        if element is not None and element.text is not None:
            raw = element.text.strip()
            try:
                if kind in ("Integer", "Float"):
                    return float(raw)
                if kind == "Date":
                    return dt.date.fromisoformat(raw[:10])
                if kind == "DateTime":
                    return dt.date.fromisoformat(raw[:10])
                if kind == "Boolean":
                    return "true" if raw.lower() in ("true", "1") else "false"
            except ValueError:
                return raw
            return raw
    return None


_SAFE_ID = re.compile(r"^[\w][\w.-]{0,63}$")


def _checked_extension(raw: object, report: QdpxReport) -> dict:
    """The entries of `qda/interviews.json` that are in the form qda writes; an entry
    that is not (edited by hand, or made to break qda) is left out and said so, and the
    standard parts of the file are used for that interview."""
    if not isinstance(raw, dict):
        report.dropped.append(f"{EXTENSION}: not in the form qda writes; standard parts used")
        return {}
    kept: dict = {}
    roles = {str(r) for r in SpeakerRole}
    statuses = {str(x) for x in InterviewStatus}
    for guid, entry in raw.items():
        problem = _entry_problem(entry, roles)
        if problem:
            report.dropped.append(f"{EXTENSION}: the entry {str(guid)[:40]!r} {problem}; "
                                  "standard parts used for it")  # fmt: skip
            continue
        if str(entry.get("status", "imported")) not in statuses:
            entry["status"] = "imported"
        for x in entry["segments"]:
            if x["role"] not in roles:
                report.fixed.append(
                    f"{EXTENSION}: speaker role {x['role']!r:.30} read as participant"
                )
                x["role"] = str(SpeakerRole.PARTICIPANT)
        if not isinstance(entry.get("coding_origins", {}), dict):
            entry["coding_origins"] = {}
        kept[str(guid)] = entry
    return kept


def _entry_problem(entry: object, roles: set[str]) -> str:
    if not isinstance(entry, dict):
        return "is not a mapping"
    for key in ("interview_id", "participant_id"):
        value = entry.get(key)
        if value is not None and not (isinstance(value, str) and _SAFE_ID.match(value)):
            return f"has an {key} that is not an id ({str(value)[:30]!r})"
    for key in ("title", "language", "source_name", "status"):
        if not isinstance(entry.get(key, ""), str):
            return f"has a {key} that is not text"
    if not isinstance(entry.get("duration_s"), int | float | None):
        return "has a duration that is not a number"
    segments = entry.get("segments")
    if not isinstance(segments, list):
        return "has no list of segments"
    for x in segments:
        if not isinstance(x, dict) or not isinstance(x.get("speaker", ""), str):
            return "has a segment that is not in the form qda writes"
        x.setdefault("speaker", "")
        x["role"] = str(x.get("role", "participant"))
        for key in ("start", "end"):
            if not isinstance(x.get(key), int | float | None) or isinstance(x.get(key), bool):
                return f"has a segment {key} that is not a number"
            x.setdefault(key, None)
        words = x.setdefault("words", [])
        if not isinstance(words, list) or not all(
            isinstance(w, list) and len(w) == 3 for w in words
        ):
            return "has word timings that are not in the form qda writes"
        for key in ("text", "original_text"):
            if not isinstance(x.get(key), str | None):
                return f"has a segment {key} that is not text"
    return ""


def _interview_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^\w.-]+", "-", PurePosixPath(name).stem if "." in name else name).strip("-")
    base = base[:60] or "source"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def read_project_xml(data: bytes, source: str) -> tuple[ET.Element, _Archive | None]:
    if data[:4] == b"PK\x03\x04":
        archive = _Archive(data, source)
        info = next((i for n, i in archive.names.items() if n.endswith(".qde")), None)
        if info is None:
            raise InvalidInput("the .qdpx file holds no project.qde", source=source)
        if info.file_size > MAX_XML_BYTES:
            raise InvalidInput(f"{info.filename} is larger than 200 MB; refused", source=source)
        root = parse_xml(archive.read(info), f"{source}: {info.filename}")
    else:
        archive = None
        root = parse_xml(data, source)
    if _local(root.tag) != "Project":
        raise InvalidInput(
            f"not a REFI-QDA project: the root element is <{_local(root.tag)}>", source=source
        )
    return root, archive


def case_variables(stream: BinaryIO, source: str = "project.qdpx") -> list[str]:
    """The names of the case variables a project file declares (to pick the group)."""
    root, _ = read_project_xml(stream.read(), source)
    return [
        (v.get("name") or "").strip()
        for element in _children(root, "Variables")
        for v in _children(element, "Variable")
        if (v.get("name") or "").strip()
    ]


def import_qdpx(
    project: Project,
    stream: BinaryIO,
    source: str = "project.qdpx",
    *,
    group_variable: str | None = None,
    by: str,
) -> QdpxReport:
    """Bring a REFI-QDA project (.qdpx, or a bare .qde) into `project`, all or nothing."""
    data = stream.read()
    root, archive = read_project_xml(data, source)
    report = QdpxReport()
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if namespace != NS:
        report.fixed.append(f"read namespace '{namespace or 'none'}' as {NS}")
    extension: dict = {}
    if archive is not None and (info := archive.find(EXTENSION)) is not None:
        try:
            extension = _checked_extension(json.loads(archive.read(info)), report)
        except ValueError:
            report.dropped.append(f"{EXTENSION}: not readable JSON; standard parts used")

    users = {
        _key(u.get("guid")): (u.get("name") or u.get("id") or "").strip()
        for users in _children(root, "Users")
        for u in _children(users, "User")
    }

    def user(guid: str | None) -> str:
        return users.get(_key(guid)) or ("imported" if not guid else f"user {_key(guid)[:8]}")

    id_map: dict[str, str] = {}
    book = _child(root, "CodeBook")
    codebook = codebook_from_xml(book, source, id_map) if book is not None else Codebook()
    report.codes = len(codebook.walk())
    report.fixed += list(codebook.report.fixed)
    report.dropped += list(codebook.report.dropped)
    if book is None:
        report.fixed.append("the project has no codebook")

    variables: dict[str, str] = {}
    for element in _children(root, "Variables"):
        for v in _children(element, "Variable"):
            variables[_key(v.get("guid"))] = (v.get("name") or "").strip() or "variable"
    cases = []
    for element in _children(root, "Cases"):
        for case in _children(element, "Case"):
            values: dict[str, object] = {}
            for vv in _children(case, "VariableValue"):
                ref = _child(vv, "VariableRef")
                name = variables.get(_key(ref.get("targetGUID") if ref is not None else ""))
                value = _variable_value(vv)
                if name is None:
                    report.dropped.append(
                        f"case '{case.get('name', '')}': a value of an undeclared variable"
                    )
                elif value is not None:
                    values[name] = value
            refs = [_key(r.get("targetGUID")) for r in _children(case, "SourceRef")]
            cases.append(((case.get("name") or "").strip(), _key(case.get("guid")), values, refs))
    names_used = {n for _, _, v, _ in cases for n in v}
    if group_variable is None:
        group_variable = next(
            (
                n
                for n in sorted(names_used)
                if re.search(r"stakeholder|group|gruppe|groupe|role|rolle|type", n, re.I)
            ),
            "",
        )
    elif group_variable and group_variable not in names_used:
        raise InvalidInput(
            f"no case variable '{group_variable}' (the variables are: "
            f"{', '.join(sorted(names_used)) or 'none'})",
            source=source,
        )
    report.group_variable = group_variable

    sources: list[_Source] = []
    transcripts: list[_Source] = []
    for sources_element in _children(root, "Sources"):
        for element in sources_element:
            kind = _local(element.tag)
            label = (element.get("name") or "").strip()
            guid = _key(element.get("guid"))
            if kind == "TextSource":
                if not label:
                    path = element.get("plainTextPath") or ""
                    label = PurePosixPath(path.replace("\\", "/")).stem or guid[:8]
                    report.fixed.append(f"a text source without a name: named it {label}")
                text = _source_text(element, archive, label, report)
                if text is None:
                    continue
                if not text.strip():
                    report.dropped.append(f"source '{label}': its text is empty")
                    continue
                sources.append(_Source(guid, label, text, _selections(element, user, report)))
            elif kind in ("AudioSource", "VideoSource"):
                media = archive.find(element.get("path") or "") if archive is not None else None
                if media is None:
                    report.dropped.append(
                        f"{kind} '{label or guid}': its recording is not in the file"
                    )
                for transcript in _children(element, "Transcript"):
                    text = _source_text(transcript, archive, label or guid, report)
                    if text is None:
                        continue
                    entry = _Source(
                        _key(transcript.get("guid")) or guid,
                        label or guid[:8],
                        text,
                        _selections(transcript, user, report),
                        times=sorted(
                            (int(p.get("position")), int(p.get("timeStamp")) / 1000)
                            for p in _children(transcript, "SyncPoint")
                            if (p.get("position") or "").isdigit()
                            and (p.get("timeStamp") or "").lstrip("-").isdigit()
                        ),
                        media=media,
                        media_name=label,
                    )
                    transcripts.append(entry)
                if not _children(element, "Transcript"):
                    report.dropped.append(
                        f"{kind} '{label or guid}': no transcript (qda holds interviews as text)"
                    )
                for selection in _children(element, f"{kind[:5]}Selection"):
                    report.dropped.append(
                        f"{kind} '{label or guid}': a selection of the recording itself "
                        f"({selection.get('begin')}–{selection.get('end')} ms) has no text"
                    )
            else:
                report.dropped.append(
                    f"{kind} '{label or guid}': qda holds interviews (text and audio), not "
                    f"{kind.removesuffix('Source').lower()} sources"
                )
    # a transcript whose text is a text source's is that interview's recording
    by_text = {s.text: s for s in sources}
    for t in transcripts:
        twin = by_text.get(t.text)
        if twin is not None:
            twin.times, twin.media, twin.media_name = t.times, t.media, t.media_name
            twin.selections += t.selections
        else:
            sources.append(t)
    report.sources = len(sources)
    report.selections = sum(len(s.selections) for s in sources)
    report.codings_read = sum(len(sel[2]) for s in sources for sel in s.selections)

    # participants: a case per participant; a source no case refers to gets one of its own
    case_of: dict[str, str] = {}
    participants: dict[str, Participant] = {}
    for name, guid, values, refs in cases:
        pid = name or re.sub(r"[^0-9a-z]", "", guid)[:8] or "case"
        if not name:
            report.fixed.append(f"a case without a name: called it {pid}")
        elif len(pid) > 64 or any(c in pid for c in "/\\\n\t"):
            pid = _interview_id(pid.replace("/", "-").replace("\\", "-"), set(participants))
            report.fixed.append(f"case '{name[:40]}': its name is no id; called it {pid}")
        group = str(values.pop(group_variable, "")).strip() if group_variable else ""
        pseudonym = str(values.pop("Pseudonym", "") or "")
        participants[pid] = Participant(
            pid, group or NO_GROUP, pseudonym=pseudonym, attributes=dict(values)
        )
        for ref in refs:
            case_of[ref] = pid
    before = {p.id: p for p in project.participants}
    for pid, p in list(participants.items()):
        old = before.get(pid)
        if old is None:
            continue
        group = p.stakeholder_group
        if group == NO_GROUP:
            group = old.stakeholder_group  # the file says nothing about it: keep it
        elif group != old.stakeholder_group:
            report.fixed.append(
                f"participant {pid}: stakeholder group {old.stakeholder_group} → {group}"
            )
        participants[pid] = Participant(
            pid, group, pseudonym=p.pseudonym or old.pseudonym, attributes=p.attributes
        )
    # stakeholder group kept under its own name when it came from qda
    types = _attribute_types(participants.values(), report)
    taken = {i.id for i in project.interviews}
    existing_participants = {p.id for p in project.participants}
    plans = []
    for s in sources:
        saved = extension.get(s.guid.upper()) or extension.get(s.guid)
        pid = case_of.get(s.guid)
        if pid is None and saved and saved.get("participant_id") in participants:
            pid = saved["participant_id"]
        if pid is None:
            pid = _interview_id(s.name, set(participants) | existing_participants)
            participants[pid] = Participant(pid, NO_GROUP)
            report.fixed.append(
                f"source '{s.name}' belongs to no case: added participant {pid} for it"
            )
        wanted = saved.get("interview_id") if saved else None
        if wanted and wanted not in taken:
            interview_id = wanted
            taken.add(wanted)
        else:
            interview_id = _interview_id(s.name, taken)
        plans.append((s, pid, interview_id, saved))

    with staged_media(project.root) as media, project.transaction() as conn:
        for name, kind in types.items():
            if name not in project.attribute_types:
                project.define_attribute(name, kind)
        if participants:
            project.save_participants(list(participants.values()))
        report.participants = len(participants)
        if codebook.codes:
            import_codebook(project, codebook, by=by, source=source)
        for s, pid, interview_id, saved in plans:
            pieces = split_text(s.text)
            drafts = _drafts(s, pieces, saved)
            if saved and len(saved["segments"]) != len(pieces):
                report.fixed.append(
                    f"'{s.name}': the text was changed outside qda; segments re-cut from it"
                )
            media_file = ""
            if s.media is not None and project.root is not None:
                suffix = PurePosixPath(s.media.filename).suffix.lower()
                if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
                    suffix = ""
                stem = re.sub(r"[^0-9a-z]", "", s.guid)[:8] or "media"
                try:
                    with archive.zip.open(s.media) as src:
                        media_file = media.add(f"{interview_id}-{stem}{suffix}", src)
                except (zipfile.BadZipFile, zlib.error, EOFError) as e:
                    raise archive.damaged(s.media, e) from None
            interview = project.add_interview(
                pid,
                drafts,
                interview_id=interview_id,
                title=(saved or {}).get("title", s.name if s.name != interview_id else ""),
                language=(saved or {}).get("language", ""),
                status=InterviewStatus((saved or {}).get("status", "imported")),
                source_name=(saved or {}).get("source_name", s.media_name or s.name),
                duration_s=(saved or {}).get("duration_s"),
                media_file=media_file,
            )
            if saved and len(saved["segments"]) == len(pieces):
                _restore_originals(conn, interview.id, saved["segments"])
            report.interviews += 1
            report.segments += len(drafts)
            report.codings_stored += _store_codings(
                conn, project, interview.id, s, pieces, id_map, saved, report
            )
    return report


def _source_text(
    element: ET.Element, archive: _Archive | None, label: str, report: QdpxReport
) -> str | None:
    content = _child(element, "PlainTextContent")
    if content is not None and content.text:
        return content.text
    path = element.get("plainTextPath") or ""
    if path and archive is not None:
        info = archive.find(path)
        if info is not None:
            raw = archive.read(info)
            for encoding in ("utf-8-sig", "utf-16", "cp1252"):
                try:
                    text = raw.decode(encoding)
                    if encoding != "utf-8-sig":
                        report.fixed.append(f"'{label}': text read as {encoding}")
                    return text.replace("\r\n", "\n")
                except UnicodeDecodeError:
                    continue
    where = f"'{path}'" if path else "no plain-text path"
    rich = element.get("richTextPath")
    report.dropped.append(
        f"source '{label}': its plain text ({where}) is not in the file"
        + (" (only a rich-text version is named)" if rich and not path else "")
        + "; its selections are dropped with it"
    )
    return None


def _selections(element: ET.Element, user, report: QdpxReport):
    out = []
    for kind in ("PlainTextSelection", "TranscriptSelection"):
        for sel in _children(element, kind):
            codings = [
                (
                    _key(ref.get("targetGUID")),
                    user(c.get("creatingUser") or sel.get("creatingUser")),
                    c.get("creationDateTime") or sel.get("creationDateTime"),
                    _key(c.get("guid")),
                )
                for c in _children(sel, "Coding")
                if (ref := _child(c, "CodeRef")) is not None
            ]
            if kind == "TranscriptSelection":
                report.dropped.append(
                    "a transcript selection between sync points (qda keeps text spans)"
                )
                continue
            try:
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            except (TypeError, ValueError):
                report.dropped.append(f"selection {sel.get('guid')}: no usable start and end")
                continue
            if codings:
                out.append((start, end, codings, _key(sel.get("guid"))))
    return out


def _attribute_types(participants, report: QdpxReport) -> dict[str, AttributeType]:
    """A type per attribute: number or date when every value is, else text (values are
    converted so that they fit)."""
    values = defaultdict(list)
    for p in participants:
        for name, value in p.attributes.items():
            values[name].append(value)
    types: dict[str, AttributeType] = {}
    for name, seen in values.items():
        if all(isinstance(v, float) for v in seen):
            types[name] = AttributeType.NUMBER
        elif all(isinstance(v, dt.date) for v in seen):
            types[name] = AttributeType.DATE
        else:
            types[name] = AttributeType.TEXT
            if any(not isinstance(v, str) for v in seen):
                report.fixed.append(f"variable '{name}' has mixed types: kept as text")
    for p in participants:
        for name, value in list(p.attributes.items()):
            if types[name] is AttributeType.TEXT and not isinstance(value, str):
                p.attributes[name] = (
                    value.isoformat() if isinstance(value, dt.date) else f"{value:g}"
                )
    return types


def _drafts(s: _Source, pieces, saved) -> list[SegmentDraft]:
    if saved and len(saved["segments"]) == len(pieces):
        return [
            SegmentDraft(
                s.text[a:b],
                x["speaker"],
                SpeakerRole(x["role"]),
                x["start"],
                x["end"],
                tuple(tuple(w) for w in x["words"]),
            )
            for (a, b, _, _), x in zip(pieces, saved["segments"], strict=True)
        ]
    from qda.ingest.speakers import assign_roles

    drafts = []
    points = s.times
    for a, b, speaker, time in pieces:
        if time is None and points:
            line_start = s.text.rfind("\n", 0, a) + 1
            synced = [t for position, t in points if line_start <= position <= a]
            time = synced[-1] if synced else None
        drafts.append(SegmentDraft(s.text[a:b], speaker, SpeakerRole.PARTICIPANT, time, None))
    for k in range(len(drafts) - 1):
        if drafts[k].start is not None and drafts[k + 1].start is not None:
            d = drafts[k]
            drafts[k] = SegmentDraft(d.text, d.speaker, d.role, d.start, drafts[k + 1].start)
    return assign_roles(drafts)[0] if any(d.speaker for d in drafts) else drafts


def _restore_originals(conn, interview_id: str, saved_segments) -> None:
    for index, x in enumerate(saved_segments):
        if x.get("original_text") is not None and x["original_text"] != x.get("text"):
            conn.execute(
                sa.update(segments_t)
                .where((segments_t.c.interview_id == interview_id) & (segments_t.c.idx == index))
                .values(original_text=x["original_text"])
            )


def _store_codings(conn, project, interview_id, s: _Source, pieces, id_map, saved, report) -> int:
    ids = [
        r.id
        for r in conn.execute(
            sa.select(segments_t.c.id)
            .where(segments_t.c.interview_id == interview_id)
            .order_by(segments_t.c.idx)
        )
    ]
    origins = (saved or {}).get("coding_origins", {})
    rows: dict[tuple, dict] = {}
    spanning = 0
    for start, end, codings, _ in s.selections:
        covered = [
            (k, max(start, a) - a, min(end, b) - a)
            for k, (a, b, _, _) in enumerate(pieces)
            if min(end, b) > max(start, a)
        ]
        if not covered:
            report.dropped.append(
                f"'{s.name}': selection {start}–{end} covers no segment text "
                f"({len(codings)} coding(s))"
            )
            continue
        if len(covered) > 1:
            spanning += 1
        for code_guid, coder, created, coding_guid in codings:
            code_id = id_map.get(code_guid)
            if code_id is None:
                report.dropped.append(
                    f"'{s.name}': a coding with code {code_guid} that is not in the codebook"
                )
                continue
            for k, a, b in covered:
                length = pieces[k][1] - pieces[k][0]
                span = (0, -1) if (a, b) == (0, length) else (a, b)
                key = (ids[k], code_id, coder, span)
                if key in rows:
                    continue
                rows[key] = {
                    "segment_id": ids[k],
                    "code_id": code_id,
                    "coder": coder or "imported",
                    "origin": origins.get(coding_guid.upper(), CodingOrigin.IMPORTED),
                    "created_at": _parse_time(created) or _now(),
                    "span_start": span[0],
                    "span_end": span[1],
                }
    if spanning:
        report.fixed.append(
            f"'{s.name}': {spanning} selection(s) ran across turns; each turn got its part"
        )
    if rows:
        conn.execute(sa.insert(codings_t), list(rows.values()))
    return len(rows)


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a time, or one no calendar holds (year 1 in UTC−)
        return None
    if not 1900 <= moment.year <= 2200:
        return None
    return moment
