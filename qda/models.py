"""The data model: the words used everywhere in qda (code, UI, docs).

Plain frozen dataclasses. The store turns database rows into these and back; nothing
here touches the database, the file system or Streamlit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

AttributeValue = str | float | dt.date
"""A typed participant attribute value: text, number or date."""


def clock(seconds: float | None) -> str:
    """Seconds as `hh:mm:ss` (the form transcripts and quotes show); "" when unknown."""
    if seconds is None or seconds != seconds:  # None or NaN
        return ""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class AttributeType(StrEnum):
    """The type of a free participant attribute, fixed per project and attribute name."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"


class SpeakerRole(StrEnum):
    """Who is speaking in a segment; analysis can leave interviewer turns out."""

    INTERVIEWER = "interviewer"
    PARTICIPANT = "participant"
    OTHER = "other"


class InterviewStatus(StrEnum):
    """Where an interview is in its life: from recording to a usable transcript."""

    PENDING = "pending"  # a recording waits for transcription
    TRANSCRIBING = "transcribing"  # a transcription job is running
    TRANSCRIBED = "transcribed"  # segments came from a transcription engine
    IMPORTED = "imported"  # segments came from an existing transcript file
    FAILED = "failed"  # the last transcription job failed; see `error`


class CodingOrigin(StrEnum):
    """How a coding came about."""

    MANUAL = "manual"
    SUGGESTION = "suggestion"  # accepted from a suggestion
    IMPORTED = "imported"  # read from a file (codings CSV, REFI-QDA project)


class Decision(StrEnum):
    """A researcher's decision on a suggested code for a segment."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Participant:
    """One interviewee (a *case*)."""

    id: str  # the study's own id, e.g. "P01"
    stakeholder_group: str
    pseudonym: str = ""  # the name shown in quotes and reports
    attributes: dict[str, AttributeValue] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How the participant is named in quotes: pseudonym if set, else the id."""
        return self.pseudonym or self.id


@dataclass(frozen=True)
class Interview:
    """One interview with a participant: its source and its transcription."""

    id: str
    participant_id: str
    title: str = ""
    language: str = ""  # ISO 639-1 code ("en", "da", "fr"); empty when unknown
    status: InterviewStatus = InterviewStatus.IMPORTED
    source_name: str = ""  # original file name of the recording or transcript
    source_sha256: str = ""
    duration_s: float | None = None
    engine: str = ""  # transcription engine, model and options used, when transcribed
    model: str = ""
    engine_options: dict[str, object] = field(default_factory=dict)
    error: str = ""  # why the last job failed, in words a researcher can act on
    created_at: dt.datetime | None = None
    media_file: str = ""  # the recording, relative to the project folder ("" = none)
    excluded_reason: str = ""  # why it is left out of the analysis ("" = it counts)
    excluded_by: str = ""

    @property
    def excluded(self) -> bool:
        """Left out of every count, base, suggestion and export."""
        return bool(self.excluded_reason)


@dataclass(frozen=True)
class SegmentDraft:
    """A segment before it is stored: what importers and engines produce."""

    text: str
    speaker: str = ""  # the label in the source ("Interviewer", "Maureen", "SPEAKER_1")
    role: SpeakerRole = SpeakerRole.PARTICIPANT
    start: float | None = None  # seconds from the start of the recording
    end: float | None = None
    words: tuple[tuple[float, float, str], ...] = ()  # (start, end, word) when known


@dataclass(frozen=True)
class Segment:
    """A stored segment: one speaker turn (or ASR segment) of an interview."""

    id: int
    interview_id: str
    index: int  # 0-based position in the interview
    text: str  # current text, as corrected by the researcher
    original_text: str  # text as the engine or the imported file gave it
    speaker: str = ""
    role: SpeakerRole = SpeakerRole.PARTICIPANT
    start: float | None = None
    end: float | None = None
    words: tuple[tuple[float, float, str], ...] = ()

    @property
    def edited(self) -> bool:
        return self.text != self.original_text


class JobStatus(StrEnum):
    """Where a background job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class Job:
    """A background job (transcription of one interview) and its progress."""

    id: int
    kind: str
    interview_id: str
    status: JobStatus
    options: dict[str, object]
    progress_s: float = 0.0  # seconds of audio done
    duration_s: float = 0.0
    phase: str = ""  # what the job is doing now, in words
    error: str = ""
    worker: str = ""
    created_by: str = ""
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    heartbeat_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def fraction(self) -> float:
        """Share done: never 100% before the job is done (labelling speakers and the
        second pass over skipped speech come after the last second is decoded)."""
        if self.status is JobStatus.DONE:
            return 1.0
        return min(0.99, self.progress_s / self.duration_s) if self.duration_s else 0.0

    def seconds_left(self, now: dt.datetime | None = None) -> float | None:
        """Seconds of decoding left, from the speed measured since decoding began (not
        counting the model's loading); before the first segment, from the speed of this
        project's earlier transcriptions with the same model. None while no speed is
        known, and in the steps after decoding (their phase says what they do)."""
        if self.status is not JobStatus.RUNNING or not self.phase.startswith("transcribing"):
            return None
        began = self.options.get("decoding_started_at")
        if not began:
            return None
        began = dt.datetime.fromisoformat(str(began))
        now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        done = self.progress_s - float(self.options.get("decoding_from", 0.0) or 0.0)
        if done > 0 and self.heartbeat_at and self.heartbeat_at > began:
            per_second = (self.heartbeat_at - began).total_seconds() / done
            return max(0.0, (self.duration_s - self.progress_s) * per_second)
        factor = self.options.get("expected_factor")
        if factor is None:
            return None
        expected = self.duration_s * float(factor) - (now - began).total_seconds()
        return max(expected, 1.0)


@dataclass(frozen=True)
class Memo:
    """A researcher's note on a segment, a code or an interview (one saved wording)."""

    kind: str  # "segment", "code" or "interview"
    target: str  # the segment id (as text), code id or interview id
    text: str
    by: str
    at: dt.datetime | None = None


@dataclass(frozen=True)
class Code:
    """A code of the codebook. A code with children is a theme."""

    id: str  # stable GUID, kept across renames and file exchanges
    name: str
    parent_id: str | None = None
    definition: str = ""
    include: str = ""  # when to use it
    exclude: str = ""  # when not to use it
    examples: tuple[str, ...] = ()
    colour: str = ""  # "#RRGGBB"
    position: int = 0  # order among its siblings
    codable: bool = True  # False: a heading for its codes (REFI-QDA isCodable="false")


@dataclass(frozen=True)
class Coding:
    """A code applied to a segment (or to a character span of it) by a coder."""

    id: int
    segment_id: int
    code_id: str
    coder: str
    origin: CodingOrigin = CodingOrigin.MANUAL
    created_at: dt.datetime | None = None
    span: tuple[int, int] | None = None  # character offsets in the segment; None = whole


@dataclass(frozen=True)
class SuggestionDecision:
    """A researcher's answer to "does code X fit segment Y?"."""

    segment_id: int
    code_id: str
    decision: Decision
    decided_by: str
    decided_at: dt.datetime | None = None


@dataclass(frozen=True)
class CodebookInfo:
    """What describes a codebook as a whole (its codes live in the Code table)."""

    title: str = ""
    version: str = ""
    language: str = ""
    authors: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeSetRecord:
    """A stored group of codes (REFI-QDA set)."""

    name: str
    id: str = ""
    description: str = ""
    members: tuple[str, ...] | list[str] = ()


@dataclass(frozen=True)
class CodebookChange:
    """One entry of the codebook's change log."""

    at: dt.datetime
    by: str
    action: str  # "add", "rename", "import", …
    detail: str


@dataclass(frozen=True)
class ProjectSummary:
    """Counts for an overview page."""

    name: str
    participants: int
    interviews: int
    segments: int
    codes: int
    codings: int
    interviews_by_status: dict[InterviewStatus, int] = field(default_factory=dict)
