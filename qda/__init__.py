"""qda: qualitative analysis of interview recordings, local and private.

    >>> import qda
    >>> project = qda.open_project("my-study")
    >>> [p.id for p in project.participants]

`import qda` never imports Streamlit; the UI (`qda.ui`) and the CLI (`qda.cli`) are
thin layers over this package.
"""

from qda.errors import InvalidInput, InvalidInputs, NotFound, ProjectError, QdaError
from qda.models import (
    AttributeType,
    Code,
    Coding,
    CodingOrigin,
    Decision,
    Interview,
    InterviewStatus,
    Participant,
    Segment,
    SegmentDraft,
    SpeakerRole,
)
from qda.privacy import keep_third_parties_quiet
from qda.store import Project, create_project, open_project

# every entry point (CLI, app, worker, library use) imports this package first, before
# ONNX Runtime or Matplotlib read these settings
keep_third_parties_quiet()

__version__ = "0.1.0"

__all__ = [
    "AttributeType",
    "Code",
    "Coding",
    "CodingOrigin",
    "Decision",
    "Interview",
    "InterviewStatus",
    "InvalidInput",
    "InvalidInputs",
    "NotFound",
    "Participant",
    "Project",
    "ProjectError",
    "QdaError",
    "Segment",
    "SegmentDraft",
    "SpeakerRole",
    "create_project",
    "open_project",
]
