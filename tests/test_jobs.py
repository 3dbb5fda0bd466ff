"""Recordings in a project, and background transcription jobs (real model, real worker)."""

from __future__ import annotations

import io
import itertools
import os
import signal
import subprocess
import sys
import time
import wave

import numpy as np
import pytest

import qda
from qda.audio import SAMPLE_RATE, UnsupportedAudio, load_audio
from qda.errors import InvalidInput
from qda.jobs import TranscriptionRequest, Worker, add_recording, queue_transcription
from qda.models import InterviewStatus, JobStatus, Participant, SpeakerRole
from qda.transcribe.metrics import word_error_rate
from tests.conftest import RECORDINGS, reference_text

ENGLISH = RECORDINGS / "P15_lorraine.opus"


@pytest.fixture
def study(project):
    project.save_participant(Participant("P15", "beneficiaries", "Lorraine"))
    return project


def test_a_bad_recording_changes_nothing(study):
    with pytest.raises(UnsupportedAudio, match=r"notes\.mp3: not an audio or video file"):
        add_recording(study, "P15", io.BytesIO(b"no sound here" * 500), "notes.mp3")
    assert study.interviews == []
    assert not (study.root / "media").exists() or not any((study.root / "media").iterdir())


def test_recording_is_kept_in_the_project_and_not_added_twice(study):
    with ENGLISH.open("rb") as f:
        interview = add_recording(study, "P15", f, "Lorraine interview.opus", language="en")
    assert interview.status is InterviewStatus.PENDING
    assert abs(interview.duration_s - 31.7) < 0.3
    stored = study.media_path(interview)
    assert stored.read_bytes() == ENGLISH.read_bytes()
    assert stored.parent == study.root / "media"
    with (
        ENGLISH.open("rb") as f,
        pytest.raises(InvalidInput, match="already in the project as interview P15"),
    ):
        add_recording(study, "P15", f, "copy.opus")


def test_language_defaults_to_the_participants_language(study):
    from qda.models import AttributeType

    study.define_attribute("language", AttributeType.TEXT)
    study.save_participant(Participant("P16", "frontline staff", attributes={"language": "da"}))
    with (RECORDINGS / "P16_birgit.opus").open("rb") as f:
        assert add_recording(study, "P16", f, "P16.opus").language == "da"


@pytest.mark.slow
def test_worker_transcribes_labels_speakers_and_records_how(study):
    with ENGLISH.open("rb") as f:
        interview = add_recording(study, "P15", f, "P15.opus", language="en")
    job = queue_transcription(study, interview.id, TranscriptionRequest(), by="anna")
    assert job.status is JobStatus.QUEUED and job.created_by == "anna"
    with pytest.raises(InvalidInput, match="already has a job"):
        queue_transcription(study, interview.id, TranscriptionRequest(), by="anna")
    assert Worker(study, threads=2, log=lambda m: None).run(idle_timeout=0) == 1

    job = study.job(job.id)
    assert (job.status, job.fraction, job.error) == (JobStatus.DONE, 1.0, "")
    # the speed of this run estimates the next one's time left before its first segment
    assert job.options["decoding_started_at"] and job.options["expected_factor"] is None
    assert 0 < study.transcription_speed("faster-whisper", "base") < 5
    assert study.transcription_speed("faster-whisper", "small") is None
    interview = study.interview(interview.id)
    assert interview.status is InterviewStatus.TRANSCRIBED
    assert (interview.engine, interview.model, interview.language) == (
        "faster-whisper",
        "base",
        "en",
    )
    options = interview.engine_options
    assert options["engine_version"] and options["beam_size"] == 5 and options["vad"] is True
    assert options["condition_on_previous_text"] is False and options["speaker_labels"] == "voices"
    segments = study.segments(interview.id)
    assert [s.speaker for s in segments[:2]] == ["Interviewer", "Lorraine"]
    assert {s.role for s in segments} == {SpeakerRole.INTERVIEWER, SpeakerRole.PARTICIPANT}
    text = " ".join(s.text for s in segments)
    assert word_error_rate(reference_text("P15_lorraine"), text) < 0.1
    assert all(s.words for s in segments)


def test_failed_and_cancelled_jobs(study):
    with ENGLISH.open("rb") as f:
        interview = add_recording(study, "P15", f, "P15.opus", language="en")
    job = queue_transcription(study, interview.id, TranscriptionRequest(), by="anna")
    study.cancel_job(job.id)
    assert Worker(study, log=lambda m: None).run(idle_timeout=0) == 0
    assert study.job(job.id).status is JobStatus.CANCELLED

    job = queue_transcription(study, interview.id, TranscriptionRequest(), by="anna")
    study.media_path(interview).unlink()
    Worker(study, log=lambda m: None).run(idle_timeout=0)
    failed = study.job(job.id)
    assert failed.status is JobStatus.FAILED
    assert "recording of P15 is missing" in failed.error
    assert study.interview(interview.id).status is InterviewStatus.FAILED


def _long_recording(path):
    """About 95 s of speech: the English demo recording three times."""
    samples = load_audio(ENGLISH).samples
    samples = np.concatenate([samples, samples, samples])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


@pytest.mark.slow
def test_a_killed_worker_is_resumed_without_gap_or_duplicate(tmp_path):
    """SIGKILL the worker process half-way; the next worker continues the same job."""
    path = tmp_path / "study"
    p = qda.create_project(path)
    p.save_participant(Participant("P15", "beneficiaries", "Lorraine"))
    with _long_recording(tmp_path / "long.wav").open("rb") as f:
        interview = add_recording(p, "P15", f, "long.wav", language="en")
    request = TranscriptionRequest(batch_size=1)  # one segment at a time: many to kill between
    job = queue_transcription(p, interview.id, request, by="anna")
    env = {**os.environ, "QDA_USER": "anna"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "qda.cli", "worker", str(path), "--idle-timeout", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while (
        len(p.segments(interview.id)) < 4 and time.monotonic() < deadline and worker.poll() is None
    ):
        time.sleep(0.2)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    before = p.segments(interview.id)
    interrupted = p.job(job.id)
    assert interrupted.status is JobStatus.RUNNING, "the worker finished before it was killed"
    assert len(before) >= 4 and interrupted.progress_s < 90

    Worker(p, threads=2, log=lambda m: None).run(idle_timeout=0)
    assert p.job(job.id).status is JobStatus.DONE
    after = p.segments(interview.id)
    starts = [s.start for s in after]
    assert starts == sorted(starts)
    for a, b in itertools.pairwise(after):
        assert a.end <= b.start + 0.05, (a, b)  # no overlap: nothing decoded twice
    texts = [s.text for s in after]
    assert len(texts) == len(set(texts)) or texts.count(texts[0]) <= 3
    expected = " ".join([reference_text("P15_lorraine")] * 3)
    assert word_error_rate(expected, " ".join(texts)) < 0.1  # no gap: every turn is there


def test_a_recording_is_attached_to_an_imported_transcript(demo_copy, tmp_path):
    from click.testing import CliRunner

    from qda.cli import main
    from qda.jobs import attach_recording

    p = qda.open_project(demo_copy)
    recording = RECORDINGS / "P15_lorraine.opus"
    result = CliRunner().invoke(main, ["attach-recording", str(demo_copy), "P04", str(recording)])
    assert (
        result.exit_code == 0 and "P04: P15_lorraine.opus kept with the transcript" in result.output
    )
    interview = p.interview("P04")
    assert p.media_path(interview).read_bytes() == recording.read_bytes()
    assert interview.status == "imported" and len(p.segments("P04")) == 20
    with recording.open("rb") as f, pytest.raises(InvalidInput, match="has a recording already"):
        attach_recording(p, "P04", f, recording.name)
    with (
        recording.open("rb") as f,
        pytest.raises(InvalidInput, match="already in the project as interview P04"),
    ):
        attach_recording(p, "P05", f, recording.name)
    bad = tmp_path / "notes.mp3"
    bad.write_bytes(b"not audio at all" * 100)
    refused = CliRunner().invoke(main, ["attach-recording", str(demo_copy), "P05", str(bad)])
    assert refused.exit_code == 1 and "notes.mp3: not an audio or video file" in refused.output
    assert qda.open_project(demo_copy).interview("P05").media_file == ""


@pytest.mark.slow
def test_transcribe_again_carries_codings_over_and_a_failure_puts_the_old_back(study):
    from qda.jobs import retranscribe

    with ENGLISH.open("rb") as f:
        interview = add_recording(study, "P15", f, "P15.opus", language="en")
    queue_transcription(study, interview.id, TranscriptionRequest(), by="anna")
    Worker(study, threads=2, log=lambda m: None).run(idle_timeout=0)
    first = study.segments(interview.id)
    theme = study.add_code("Access", by="anna")
    study.apply_code(first[1].id, theme.id, coder="anna")
    study.edit_segment(first[2].id, first[2].text + " (checked)", by="anna")
    study.apply_code(first[2].id, theme.id, coder="lars")  # on text that will change

    job = retranscribe(study, interview.id, TranscriptionRequest(speakers=2), by="anna")
    assert study.segments(interview.id) == []  # the old transcript waits in the history
    assert any(h["action"] == "replace transcript" for h in study.segment_history(interview.id))
    Worker(study, threads=2, log=lambda m: None).run(idle_timeout=0)
    assert study.job(job.id).status is JobStatus.DONE
    again = study.segments(interview.id)
    assert [s.text for s in again] == [s.text for s in first]
    carried = study.codings(interview_id=interview.id)
    assert [(study.segment(c.segment_id).text, c.coder) for c in carried] == [
        (first[1].text, "anna")
    ]
    not_carried = study.interview(interview.id).engine_options["codings_not_carried"]
    assert not_carried == [f"Access: {(first[2].text + ' (checked)')[:80]}"]

    job = retranscribe(study, interview.id, TranscriptionRequest(model="no-such-model"), by="anna")
    Worker(study, threads=2, log=lambda m: None).run(idle_timeout=0)
    failed = study.interview(interview.id)
    assert study.job(job.id).status is JobStatus.FAILED
    assert failed.error.endswith("the previous transcript was put back")
    assert [s.text for s in study.segments(interview.id)] == [s.text for s in again]
    assert len(study.codings(interview_id=interview.id)) == 1


def test_progress_is_not_100_percent_before_the_job_is_done():
    from qda.models import Job

    running = Job(1, "transcribe", "P15", JobStatus.RUNNING, {}, progress_s=30.0, duration_s=30.0)
    assert running.fraction == 0.99  # speakers are still being labelled
    assert Job(1, "transcribe", "P15", JobStatus.DONE, {}, 30.0, 30.0).fraction == 1.0
    assert Job(1, "transcribe", "P15", JobStatus.RUNNING, {}, 15.0, 30.0).fraction == 0.5


def test_time_left_is_measured_from_decoding_not_from_loading_the_model():
    import datetime as dt

    from qda.models import Job

    began = dt.datetime(2026, 3, 1, 10, 0, 0)
    timing = {"decoding_started_at": began.isoformat(), "decoding_from": 0.0}

    def job(progress, heartbeat_s, phase="transcribing", **options):
        return Job(1, "transcribe", "P15", JobStatus.RUNNING, {**timing, **options},
                   progress_s=progress, duration_s=600.0, phase=phase,
                   started_at=began - dt.timedelta(seconds=70),  # 70 s loading the model
                   heartbeat_at=began + dt.timedelta(seconds=heartbeat_s))  # fmt: skip

    now = began + dt.timedelta(seconds=10)
    # 60 s of audio in the first 10 s of decoding: 540 s left at that speed = 90 s
    assert job(60.0, 10).seconds_left(now) == pytest.approx(90.0)
    # before the first segment: the project's earlier speed (0.2 s per audio second)
    assert job(0.0, 0, expected_factor=0.2).seconds_left(now) == pytest.approx(110.0)
    assert job(0.0, 0).seconds_left(now) is None  # no speed known yet: no guess
    # after decoding, the phase says what happens; no "0 s left"
    assert job(600.0, 100, phase="labelling speakers").seconds_left(now) is None
