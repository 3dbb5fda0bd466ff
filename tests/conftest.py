"""Shared fixtures: fresh projects, the demo study, Streamlit caches, the browser."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import qda
from qda.demo import build_demo
from qda.models import AttributeType, Participant, SegmentDraft, SpeakerRole

REPO = Path(__file__).resolve().parent.parent
RECORDINGS = REPO / "sample_transcripts" / "recordings"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Models are assembled from the installed packages into a cache of this run only,
    so the tests rely on nothing left outside the repository by an earlier run."""
    path = tmp_path_factory.mktemp("models")
    previous = os.environ.get("QDA_MODEL_CACHE")
    os.environ["QDA_MODEL_CACHE"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("QDA_MODEL_CACHE", None)
    else:
        os.environ["QDA_MODEL_CACHE"] = previous


@pytest.fixture(scope="session")
def base_model():
    """The bundled Whisper base model in faster-whisper, loaded once per run."""
    from qda.transcribe import load_transcriber

    return load_transcriber("faster-whisper", "base", threads=2)


def reference_text(stem: str) -> str:
    """The exact words of a demo recording (its .txt file without stamps and names)."""
    with (RECORDINGS / f"{stem}.txt").open("rb") as f:
        from qda.ingest import read_transcript

        return " ".join(s.text for s in read_transcript(f, f"{stem}.txt").segments)


@pytest.fixture
def project(tmp_path: Path) -> qda.Project:
    """A new, empty project in its own folder (a real SQLite file)."""
    p = qda.create_project(tmp_path / "study", name="Test study")
    yield p
    p.close()


@pytest.fixture
def small_project(project: qda.Project) -> qda.Project:
    """Two participants in two groups, one interview of three turns, two codes."""
    project.define_attribute("age", AttributeType.NUMBER)
    project.save_participant(Participant("P01", "beneficiaries", "Ann", {"age": 70.0}))
    project.save_participant(Participant("P02", "frontline staff", "Bob"))
    project.add_interview(
        "P01",
        [
            SegmentDraft("How do you get online?", "Interviewer", SpeakerRole.INTERVIEWER, 0, 4),
            SegmentDraft("Only on my phone.", "Ann", SpeakerRole.PARTICIPANT, 4, 9),
            SegmentDraft("I go to the library.", "Ann", SpeakerRole.PARTICIPANT, 9, 14),
        ],
        language="en",
    )
    theme = project.add_code("Access barriers", by="tester")
    project.add_code("Devices", by="tester", parent_id=theme.id, definition="No device.")
    return project


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo study, built once per run. Tests must not change it (copy it first)."""
    path = tmp_path_factory.mktemp("demo") / "demo-study"
    build_demo(path).close()
    before = _dump(path)
    yield path
    assert _dump(path) == before, "a test changed the shared demo study: use demo_copy"


def _dump(project: Path) -> str:
    import sqlite3

    conn = sqlite3.connect(project / "project.sqlite")
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def demo_copy(demo_path: Path, tmp_path: Path) -> Path:
    """A private copy of the demo study that a test may change."""
    target = tmp_path / "demo-copy"
    shutil.copytree(demo_path, target)
    return target


def as_file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def shown(markdown: object) -> str:
    """What a reader sees of Markdown made literal (`qda.text.markdown_literal`): the
    escapes and the invisible word joiners gone."""
    import re

    return re.sub(r"\\(.)", r"\1", str(markdown)).replace("\u2060", "")
