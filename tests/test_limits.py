"""Limits that protect the machine: configurable, and a clear message when hit."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner

import qda
from qda.cli import main
from qda.errors import InvalidInput, QdaError
from qda.limits import Limits


def test_limits_come_from_the_environment_and_bad_values_are_named():
    assert Limits.from_env({}) == Limits()
    chosen = Limits.from_env({"QDA_MAX_UPLOAD_MB": "500", "QDA_MAX_AUDIO_HOURS": "1.5"})
    assert (chosen.upload_bytes, chosen.audio_seconds) == (500_000_000, 5400.0)
    assert chosen.topic_segments == Limits().topic_segments
    for raw in ("lots", "-3", "0"):
        with pytest.raises(InvalidInput, match="QDA_MAX_TOPIC_SEGMENTS must be a positive whole"):
            Limits.from_env({"QDA_MAX_TOPIC_SEGMENTS": raw})


def test_qda_app_hands_its_limits_to_streamlit_and_to_the_worker(monkeypatch, tmp_path):
    """`qda app --max-upload-mb` sets Streamlit's upload limit; every limit reaches the
    app's process (and the transcription worker it starts) as an environment variable."""
    import subprocess

    seen = {}

    class Server:
        def __init__(self, command, env):
            seen["command"], seen["env"] = command, env

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(subprocess, "Popen", Server)
    monkeypatch.setenv("QDA_MAX_AUDIO_HOURS", "6")
    result = CliRunner().invoke(
        main, ["app", "--max-upload-mb", "300", "--max-topic-segments", "900"]
    )
    assert result.exit_code == 0, result.output
    uploads = [c for c in seen["command"] if c.startswith("--server.maxUploadSize=")]
    assert uploads == ["--server.maxUploadSize=300"]
    env = seen["env"]
    assert (env["QDA_MAX_UPLOAD_MB"], env["QDA_MAX_AUDIO_HOURS"]) == ("300", "6.0")
    assert env["QDA_MAX_TOPIC_SEGMENTS"] == "900"
    result = CliRunner().invoke(main, ["app", "--max-upload-mb", "0"])
    assert result.exit_code == 2 and "--max-upload-mb" in result.output


def test_a_topic_run_over_the_segment_limit_is_refused_before_any_work(demo_copy, monkeypatch):
    from qda.suggest.themes import theme_candidates

    class NoEmbedding:
        name = "none"

        def embed(self, texts, *, query=False):
            raise AssertionError("the limit is checked before embedding")

    monkeypatch.setenv("QDA_MAX_TOPIC_SEGMENTS", "50")
    with pytest.raises(QdaError) as raised:
        theme_candidates(qda.open_project(demo_copy), NoEmbedding())
    message = str(raised.value)
    assert "is more than the limit of 50" in message and "QDA_MAX_TOPIC_SEGMENTS" in message
    result = CliRunner().invoke(main, ["suggest", str(demo_copy), "--themes"])
    assert result.exit_code == 1 and "the limit of 50" in result.output
    from qda.suggest.runs import run_themes, runs

    assert runs(qda.open_project(demo_copy)) == []  # refused before a run was recorded
    with pytest.raises(QdaError):  # in the app: the run is recorded as failed, with why
        run_themes(qda.open_project(demo_copy), NoEmbedding(), by="anna")
    (refused,) = runs(qda.open_project(demo_copy))
    assert refused.status == "failed" and "the limit of 50" in refused.error


def test_recordings_over_the_size_or_length_limit_are_refused(project, monkeypatch):
    from qda.jobs import add_recording
    from qda.models import Participant
    from tests.conftest import RECORDINGS

    project.save_participant(Participant("P01", "beneficiaries"))
    data = (RECORDINGS / "P15_lorraine.opus").read_bytes()  # 116 kB, 32 s
    monkeypatch.setenv("QDA_MAX_AUDIO_HOURS", str(20 / 3600))
    with pytest.raises(
        InvalidInput,
        match=r"P15.opus: the recording is 0.5\d+ minutes long; the limit is 0.333 minutes",
    ):
        add_recording(project, "P01", io.BytesIO(data), "P15.opus")
    monkeypatch.setenv("QDA_MAX_AUDIO_HOURS", "1")
    monkeypatch.setenv("QDA_MAX_UPLOAD_MB", "1")
    add_recording(project, "P01", io.BytesIO(data), "P15.opus")  # under both limits
    with pytest.raises(InvalidInput, match=r"big.wav: the file is 2 MB; the limit is 1 MB"):
        add_recording(project, "P01", io.BytesIO(b"\0" * 2_000_000), "big.wav")
    assert len(project.interviews) == 1
    assert len(list((project.root / "media").iterdir())) == 1
