"""The demo study: its files and the project `qda demo` builds from them."""

from __future__ import annotations

import csv
from collections import Counter

import av
import numpy as np
import pytest

import qda
from qda.demo import build_demo
from qda.errors import ProjectError
from qda.ingest import read_transcript
from qda.models import SpeakerRole
from tests.conftest import REPO

SAMPLES = REPO / "sample_transcripts"
RECORDINGS = sorted((SAMPLES / "recordings").glob("*.opus"))


def test_demo_project_holds_the_whole_study(demo_path):
    p = qda.open_project(demo_path)
    s = p.summary()
    assert (s.participants, s.interviews, s.codes, s.codings) == (18, 15, 26, 88)
    groups = {p.participant(i.participant_id).stakeholder_group for i in p.interviews}
    assert groups == {
        "beneficiaries",
        "frontline staff",
        "specialists",
        "allied organisations",
    }
    analysed = [i for i in p.interviews if not i.excluded]
    languages = Counter(i.language for i in analysed)
    assert languages == {"en": 8, "da": 3, "fr": 3}
    # P18 withdrew consent: the file is a notice, imported and excluded
    assert [i.id for i in p.interviews if i.excluded] == ["P18"]
    assert p.interview("P18").excluded_reason.startswith("placeholder: Removed: this participant")
    readers = {i.id: i.engine_options["reader"] for i in p.interviews}
    assert readers["P04"] == "otter" and readers["P10"] == "teams" and readers["P14"] == "rev"
    assert readers["P02"] == "webvtt" and readers["P06"] == "srt" and readers["P07"] == "text"
    assert {s.speaker for s in p.segments("P10")} == {"Sara Holm", "Mette Lund"}
    for interview in analysed:
        segments = p.segments(interview.id)
        assert 15 <= len(segments) <= 40, interview.id
        roles = {seg.role for seg in segments}
        assert roles == {SpeakerRole.INTERVIEWER, SpeakerRole.PARTICIPANT}, interview.id
    coded = {p.segment(c.segment_id).interview_id for c in p.codings()}
    assert coded == {"P01", "P02", "P03", "P05", "P09", "P12"}
    assert {c.coder for c in p.codings()} == {"Anna", "Lars", "Claire"}
    assert {m.kind for m in p.memos()} == {"interview", "code"}
    assert p.memo("interview", "P01").startswith("Maureen was anxious")
    # no transcript of the demo holds a repetition loop
    from qda.transcribe.loops import find_loops

    assert not [i.id for i in p.interviews if find_loops(p.segments(i.id))]


def test_every_interview_file_of_the_study_is_linked(demo_path):
    with (SAMPLES / "participants.csv").open(encoding="utf-8") as f:
        linked = {row["transcript_file"] for row in csv.DictReader(f) if row["transcript_file"]}
    on_disk = {p.name for p in SAMPLES.iterdir() if p.suffix in (".txt", ".vtt", ".srt", ".docx")}
    assert linked == on_disk
    sources = {i.source_name for i in qda.open_project(demo_path).interviews}
    assert sources == on_disk


def test_demo_is_never_built_over_a_project(demo_path, tmp_path):
    with pytest.raises(ProjectError, match="already holds"):
        build_demo(demo_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.docx").write_text("precious")
    with pytest.raises(ProjectError, match="other files"):
        build_demo(tmp_path / "busy")
    assert (tmp_path / "busy" / "thesis.docx").read_text() == "precious"


def test_failed_build_leaves_no_half_project(tmp_path):
    broken = tmp_path / "src"
    (broken / "sample_transcripts").mkdir(parents=True)
    (broken / "sample_transcripts" / "participants.csv").write_text(
        "participant_id,stakeholder_group\nP01,a\n"
    )
    (broken / "sample_transcripts" / "P01.txt").write_text("A: hi\n")
    (broken / "sample_transcripts" / "codings_first_pass.csv").write_text("")
    with pytest.raises(FileNotFoundError):
        build_demo(tmp_path / "demo", root=broken)  # no codebook
    assert list(tmp_path.iterdir()) == [broken]


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.name)
def test_recordings_are_short_real_speech_with_reference_text(recording):
    assert len(RECORDINGS) >= 3
    assert recording.stat().st_size < 200_000
    with av.open(str(recording)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus"
        samples = np.concatenate(
            [frame.to_ndarray().reshape(-1) for frame in container.decode(stream)]
        )
        rate = stream.codec_context.sample_rate
    seconds = len(samples) / rate
    assert 10 < seconds <= 60
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 0.01  # not silence
    with recording.with_suffix(".txt").open("rb") as f:
        reference = read_transcript(f, recording.with_suffix(".txt").name)
    assert {s.role for s in reference.segments} == {
        SpeakerRole.INTERVIEWER,
        SpeakerRole.PARTICIPANT,
    }
    assert reference.segments[-1].start < seconds
