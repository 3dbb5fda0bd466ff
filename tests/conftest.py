"""Shared fixtures: fresh projects, the demo study, Streamlit caches, the browser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
