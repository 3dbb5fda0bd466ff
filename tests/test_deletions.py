"""Deleting interviews and participants for good, and moving an interview to another
participant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qda
from qda.errors import InvalidInput, NotFound
from qda.models import Participant, SegmentDraft, SpeakerRole
from qda.suggest.embed import cached_embeddings

SECRET = "Quixotrabble"  # a word that is nowhere else in the project


class CountingEmbedder:
    name = "fake"

    def embed(self, texts, *, query=False):
        return np.ones((len(texts), 4), np.float32) / 2


def file_bytes(project_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in project_dir.glob("project.sqlite*") if p.is_file())


@pytest.fixture
def study(small_project):
    p = small_project
    p.save_participant(Participant("P03", "beneficiaries", "Cy"))
    p.add_interview(
        "P03",
        [
            SegmentDraft(
                "Tell me about the council?", "Interviewer", SpeakerRole.INTERVIEWER, 0, 3
            ),
            SegmentDraft(f"My neighbour {SECRET} helps me.", "Cy", SpeakerRole.PARTICIPANT, 3, 8),
        ],
    )
    segment = p.segments("P03")[1]
    code = p.codes[-1]
    p.apply_code(segment.id, code.id, coder="anna")
    p.edit_segment(segment.id, f"My neighbour {SECRET} helps me a lot.", by="anna")
    cached_embeddings(p, CountingEmbedder(), [s.text for s in p.segments()])
    return p


def test_a_participant_is_erased_from_the_database_file(study):
    study.set_memo("segment", study.segments("P03")[0].id, "Memo on a Zebulon turn", by="anna")
    study.set_memo("interview", "P03", "Zebulon-memo about the interview", by="anna")
    assert SECRET.encode() in file_bytes(study.root)
    plan = study.deletion_plan(participant_id="P03")
    assert (plan.participants, plan.interviews, plan.segments, plan.codings) == (
        ["P03"],
        ["P03"],
        2,
        1,
    )
    assert plan.describe().startswith(
        "This deletes participant P03 and interview P03: 2 segments, 1 codings"
    )
    study.delete(plan)
    assert [p.id for p in study.participants] == ["P01", "P02"]
    assert [i.id for i in study.interviews] == ["P01"]
    study.close()
    assert SECRET.encode() not in file_bytes(study.root)
    assert b"Zebulon turn" not in file_bytes(study.root)
    assert b"Zebulon-memo" not in file_bytes(study.root)
    again = qda.open_project(study.root)
    assert len(again.segments("P01")) == 3 and len(again.codings()) == 0
    with again._read() as conn:
        cached = conn.exec_driver_sql("SELECT count(*) FROM embedding_cache").scalar_one()
    assert cached == 3  # the P01 turns keep theirs


def test_an_interview_is_deleted_with_its_recording(demo_copy):
    from tests.conftest import RECORDINGS

    p = qda.open_project(demo_copy)
    from qda.jobs import attach_recording

    with (RECORDINGS / "P15_lorraine.opus").open("rb") as f:
        attach_recording(p, "P04", f, "P04.opus")
    media = p.media_path(p.interview("P04"))
    assert media.exists()
    plan = p.deletion_plan(interview_id="P04")
    assert plan.recordings and plan.segments == 20
    p.delete(plan)
    assert not media.exists() and "P04" in {x.id for x in p.participants}
    with pytest.raises(NotFound):
        p.interview("P04")


def test_an_interview_moves_to_another_participant(study):
    codings = len(study.codings(interview_id="P03"))
    history = len(study.segment_history("P03"))
    new_id = study.relink_interview("P03", "P02")
    assert new_id == "P02"
    assert study.interview("P02").participant_id == "P02"
    assert len(study.segments("P02")) == 2 and len(study.codings(interview_id="P02")) == codings
    assert len(study.segment_history("P02")) == history
    assert study.relink_interview("P02", "P01") == "P01-2"  # P01 has an interview already
    with pytest.raises(InvalidInput, match="already P01's"):
        study.relink_interview("P01-2", "P01")


def test_delete_and_relink_from_the_command_line(demo_copy):
    from click.testing import CliRunner

    from qda.cli import main

    run = CliRunner()
    asked = run.invoke(main, ["delete", str(demo_copy), "--participant", "P18"], input="n\n")
    assert "This deletes participant P18 and interview P18: 1 segments, 0 codings" in asked.output
    assert "nothing was deleted" in asked.output
    assert "P18" in {p.id for p in qda.open_project(demo_copy).participants}
    done = run.invoke(main, ["delete", str(demo_copy), "--participant", "P18"], input="y\n")
    assert done.exit_code == 0 and "deleted P18" in done.output
    assert "P18" not in {p.id for p in qda.open_project(demo_copy).participants}
    moved = run.invoke(main, ["relink", str(demo_copy), "P08", "P15"])
    assert "P08 is now interview P15 of P15" in moved.output
    assert len(qda.open_project(demo_copy).segments("P15")) == 20
    missing = run.invoke(main, ["delete", str(demo_copy), "--interview", "P99", "--yes"])
    assert missing.exit_code == 1 and "no interview 'P99'" in missing.output


def test_delete_and_move_on_the_project_page(demo_copy, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=30)
    at.run()
    at.radio(key="del_what").set_value("Delete a participant").run()
    at.selectbox(key="del_participant").set_value("P18").run()
    assert "This deletes participant P18 and interview P18" in at.warning[0].value
    assert at.button(key="do_delete").disabled
    at.checkbox(key="del_sure_P18").check().run()
    at.button(key="do_delete").click().run()
    assert not at.exception, at.exception
    assert "P18" not in {p.id for p in qda.open_project(demo_copy).participants}
    at.radio(key="del_what").set_value("Move an interview").run()
    at.selectbox(key="mv_interview").set_value("P08").run()
    at.selectbox(key="mv_participant").set_value("P16").run()
    at.button(key="do_move").click().run()
    assert qda.open_project(demo_copy).interview("P16").participant_id == "P16"
