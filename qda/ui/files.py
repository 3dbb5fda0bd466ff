"""Dropped files of the wrong kind: said in words, with where they go instead.

A Streamlit uploader limited to some types refuses other files in the browser with
"application/vnd.openxmlformats-… files are not allowed."; qda's uploaders take any
file and say here what it is and where it belongs.
"""

from __future__ import annotations

from pathlib import Path

from qda.audio import AUDIO_EXTENSIONS
from qda.ingest.transcripts import TRANSCRIPT_EXTENSIONS

KINDS = {
    "docx": "a Word document",
    "doc": "an old Word document",
    "odt": "an OpenDocument text",
    "pdf": "a PDF",
    "xlsx": "an Excel workbook",
    "xls": "an old Excel workbook",
    "csv": "a CSV table",
    "qdc": "a REFI-QDA codebook",
    "qdpx": "a REFI-QDA project",
    "qde": "a REFI-QDA project",
    "yaml": "a YAML file",
    "yml": "a YAML file",
    "txt": "a text file",
    "vtt": "a WebVTT transcript",
    "srt": "an SRT transcript",
    "html": "a web page",
    "zip": "a zip archive",
}
WHERE = [
    (set(AUDIO_EXTENSIONS), "add recordings on the Upload page"),
    (set(TRANSCRIPT_EXTENSIONS) | {"doc", "pdf", "rtf"},
     "bring transcripts in under Import transcripts on the Project page"),
    ({"qdc", "yaml", "yml"}, "import a codebook on the Codebook page"),
    ({"qdpx", "qde"}, "bring in a whole project with “A project from NVivo, ATLAS.ti, …” on "
                      "the Project page"),
    ({"csv", "xlsx"}, "participants and codings go in on the Project page"),
]  # fmt: skip


def kind_of(name: str) -> str:
    ext = Path(name).suffix.lower().lstrip(".")
    if ext in AUDIO_EXTENSIONS:
        return "a recording"
    return KINDS.get(ext, f"a .{ext} file" if ext else "a file without an extension")


def wrong_kind(name: str, allowed, wanted: str) -> str | None:
    """Why `name` cannot go here (it is not one of `allowed` extensions), in words, with
    where it goes instead; None when it can."""
    ext = Path(name).suffix.lower().lstrip(".")
    if ext in allowed:
        return None
    message = f"{name} is {kind_of(name)}, not {wanted}"
    instead = next((where for exts, where in WHERE if ext in exts), None)
    if instead:
        return f"{message}: {instead}."
    listed = ", ".join(f".{a}" for a in allowed)
    return f"{message} ({wanted}: {listed})."


def keep_right_kind(files, allowed, wanted: str) -> tuple[list, list[str]]:
    """The files that can go here, and a message for each one that cannot."""
    kept, refused = [], []
    for f in files:
        problem = wrong_kind(f.name, allowed, wanted)
        if problem:
            refused.append(problem)
        else:
            kept.append(f)
    return kept, refused
