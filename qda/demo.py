"""The demo study: a ready project built from `sample_transcripts/` and `codebooks/`.

"Digital by default?" is a co-production study written for qda: 14 interviews with
beneficiaries, frontline staff, specialists and allied organisations in Leeds (English),
Aarhus (Danish) and Lille (French), a codebook, and a first-pass coding of six of the
interviews. The transcripts come as researchers bring them: typed text, WebVTT, SRT, an
Otter.ai export, a Teams transcript, Word files and a Rev file. A fifteenth participant
withdrew consent: their file is only a notice, imported and excluded from analysis.
Three more participants have short recordings waiting to be transcribed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import qda
from qda.codebook import import_codebook
from qda.codebook.yaml_format import read_codebook_yaml
from qda.errors import ProjectError
from qda.ingest import (
    import_codings_csv,
    import_participants,
    import_transcripts,
    read_participants_csv,
)
from qda.store import DB_FILE, Project, create_project, open_project

DEMO_NAME = "Digital by default? (demo study)"
DEMO_CODER = "demo"
DEMO_INTERVIEWERS = ["Sara Holm"]  # named in P10's Teams transcript


# a researcher's first notes: on an interview, on a code, on a segment (P01, turn 6)
DEMO_MEMOS = [
    ("interview", "P01", "Maureen was anxious about being recorded; she relaxed after turn 4."),
    (
        "code",
        "Access barriers/Login and identity",
        "Split into 'codes that never arrive' and 'ID checks'? Ask the frontline staff.",
    ),
]


def data_dir() -> Path:
    """The folder holding `sample_transcripts/` and `codebooks/` (the source tree)."""
    root = Path(qda.__file__).resolve().parent.parent
    if not (root / "sample_transcripts" / "participants.csv").exists():
        raise ProjectError(
            f"the demo study files are not in {root}: run qda from a clone of its "
            "repository (pip install -e .) to build the demo"
        )
    return root


def _demo_folder(path: str | Path) -> Path:
    if not str(path).strip():
        raise ProjectError("no folder given for the demo study")
    return Path(path).expanduser().resolve()


def build_demo(path: str | Path, *, root: Path | None = None) -> Project:
    """Build the demo project in folder `path`.

    The project is assembled in a temporary folder beside `path` and moved into place
    only when complete, so an interrupted build never leaves half a project.

    Raises:
        ProjectError: `path` already holds a project (it is never overwritten).
    """
    target = _demo_folder(path)
    if (target / DB_FILE).exists():
        raise ProjectError(f"{target} already holds a qda project; it was left as it is")
    if target.exists() and any(target.iterdir()):
        raise ProjectError(f"{target} is a folder with other files in it; choose an empty one")
    root = root or data_dir()
    samples = root / "sample_transcripts"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".qda-demo-", dir=target.parent))
    try:
        project = create_project(staging, name=DEMO_NAME)
        with (samples / "participants.csv").open("rb") as f:
            table = read_participants_csv(f, "participants.csv")
        import_participants(project, table)
        files = sorted(samples / name for name in table.transcript_files)
        streams = [(p.name, p.open("rb")) for p in files]
        try:
            project.set_interviewer_names(DEMO_INTERVIEWERS)
            import_transcripts(
                project,
                streams,
                transcript_files=table.transcript_files,
                exclude_placeholders=True,
                by=DEMO_CODER,
            )
        finally:
            for _, stream in streams:
                stream.close()
        codebook_file = root / "codebooks" / "digital_access.yaml"
        with codebook_file.open("rb") as f:
            codebook = read_codebook_yaml(f, codebook_file.name)
        import_codebook(project, codebook, by=DEMO_CODER, source=codebook_file.name)
        with (samples / "codings_first_pass.csv").open("rb") as f:
            import_codings_csv(project, f, "codings_first_pass.csv")
        for kind, on, text in DEMO_MEMOS:
            on = project.code_paths()[on].id if kind == "code" else on
            project.set_memo(kind, on, text, by=DEMO_CODER)
        project.close()
        if target.exists():
            target.rmdir()
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return open_project(target)


def open_or_build_demo(path: str | Path) -> tuple[Project, bool]:
    """Open the project in `path`, building the demo there first if it holds none.

    Returns:
        The project, and whether it was built just now.
    """
    target = _demo_folder(path)
    if (target / DB_FILE).exists():
        return open_project(target), False
    return build_demo(target), True
