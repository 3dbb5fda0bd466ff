"""Getting data in: participants (CSV), existing transcripts (txt, VTT, SRT), codings (CSV)."""

from qda.ingest.codings import import_codings_csv
from qda.ingest.participants import ParticipantTable, import_participants, read_participants_csv
from qda.ingest.transcripts import (
    Transcript,
    TranscriptFormat,
    TranscriptImport,
    import_transcripts,
    match_participant,
    read_transcript,
)

__all__ = [
    "ParticipantTable",
    "Transcript",
    "TranscriptFormat",
    "TranscriptImport",
    "import_codings_csv",
    "import_participants",
    "import_transcripts",
    "match_participant",
    "read_participants_csv",
    "read_transcript",
]
