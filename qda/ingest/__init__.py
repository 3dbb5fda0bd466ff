"""Getting data in: participants (CSV), existing transcripts (text, Word, Otter, Zoom,
Teams, Rev, noScribe, WebVTT, SRT; readers in `formats/`), codings (CSV)."""

from qda.ingest.codings import import_codings_csv
from qda.ingest.participants import ParticipantTable, import_participants, read_participants_csv
from qda.ingest.transcripts import (
    TRANSCRIPT_EXTENSIONS,
    Transcript,
    TranscriptImport,
    TranscriptPreview,
    import_transcripts,
    match_participant,
    preview_transcripts,
    read_transcript,
)

__all__ = [
    "TRANSCRIPT_EXTENSIONS",
    "ParticipantTable",
    "Transcript",
    "TranscriptImport",
    "TranscriptPreview",
    "import_codings_csv",
    "import_participants",
    "import_transcripts",
    "match_participant",
    "preview_transcripts",
    "read_participants_csv",
    "read_transcript",
]
