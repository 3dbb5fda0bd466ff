"""The app shell, driven by Streamlit's AppTest (no browser)."""

from __future__ import annotations

import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import qda
from tests.conftest import REPO, shown

APP = str(REPO / "app.py")


@pytest.fixture(autouse=True)
def fresh_streamlit_caches(monkeypatch):
    """Each test starts with no cached project and no project from the environment."""
    monkeypatch.delenv("QDA_PROJECT", raising=False)
    monkeypatch.setenv("QDA_USER", "anna")
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def start(**env) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown] + [t.value for t in at.title] + [h.value for h in at.header]
    )
    parts += (
        [c.value for c in at.caption] + [i.value for i in at.info] + [e.value for e in at.error]
    )
    return "\n".join(shown(p) for p in parts)


def test_without_a_project_the_page_offers_open_create_demo():
    at = start()
    assert at.title[0].value == "qda"
    assert [s.value for s in at.subheader] == ["Open a project", "New project", "Demo study"]


def test_demo_project_from_environment_shows_groups_and_interviews(demo_path, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_path))
    at = start()
    assert at.title[0].value == "Digital by default? (demo study)"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Participants": "18",
        "Interviews": "15",
        "Turns": "267",
        "Codes": "26",
        "Codings": "88",
    }
    labels = [t.label for t in at.tabs]
    assert labels == [
        "allied organisations (5)",
        "beneficiaries (6)",
        "frontline staff (4)",
        "specialists (3)",
    ]
    (interviews,) = [d.value for d in at.dataframe if "interview" in d.value.columns]
    assert list(interviews.interview) == [*(f"P{i:02d}" for i in range(1, 15)), "P18"]
    assert set(interviews.status) == {"imported"}
    excluded = dict(zip(interviews.interview, interviews.excluded, strict=True))
    assert excluded["P18"].startswith("placeholder: Removed") and excluded["P01"] == ""
    assert "P15 (Lorraine)" in texts(at)


def test_open_a_project_by_folder(demo_path):
    at = start()
    at.text_input(key="open_path").input(str(demo_path))
    at.button[0].click().run()
    assert at.title[0].value == "Digital by default? (demo study)"


def test_opening_a_missing_folder_says_so(tmp_path):
    at = start()
    at.text_input(key="open_path").input(str(tmp_path / "nothing"))
    at.button[0].click().run()
    assert "no qda project" in at.error[0].value


def test_create_a_project_and_import_participants(tmp_path):
    at = start()
    at.text_input(key="new_path").input(str(tmp_path / "new"))
    at.text_input(key="new_name").input("Pilot")
    at.button[1].click().run()
    assert at.title[0].value == "Pilot"
    assert "This project is empty" in at.info[0].value

    bad = b"participant_id,group\nP01,a\n"
    at.file_uploader(key="up_participants").set_value(("people.csv", bad, "text/csv")).run()
    at.button(key="do_participants").click().run()
    assert "people.csv, line 1: missing column 'stakeholder_group'" in shown(at.error[0].value)
    assert qda.open_project(tmp_path / "new").participants == []

    good = b"participant_id,stakeholder_group\nP01,beneficiaries\nP02,specialists\n"
    at.file_uploader(key="up_participants").set_value(("people.csv", good, "text/csv")).run()
    at.button(key="do_participants").click().run()
    assert "2 participants imported." in at.success[0].value
    at.run()
    assert {m.label: m.value for m in at.metric}["Participants"] == "2"


def test_demo_in_one_click_then_reopened_unchanged(tmp_path):
    at = start()
    at.text_input(key="demo_path").input(str(tmp_path / "demo"))
    at.button[2].click().run()
    assert at.title[0].value == "Digital by default? (demo study)"
    p = qda.open_project(tmp_path / "demo")
    p.edit_segment(p.segments("P03")[0].id, "Changed.", by="anna")

    at = start()
    at.text_input(key="demo_path").input(str(tmp_path / "demo"))
    at.button[2].click().run()
    assert not at.error
    assert qda.open_project(tmp_path / "demo").segments("P03")[0].text == "Changed."


def test_add_participants_by_hand_then_edit_them(tmp_path):
    qda.create_project(tmp_path / "p", name="Pilot").close()
    at = start()
    at.text_input(key="open_path").input(str(tmp_path / "p"))
    at.button[0].click().run()
    at.text_input(key="new_participant_id").input("P01")
    at.text_input(key="new_participant_pseudonym").input("Ann")
    at.text_input(key="new_participant_new_group").input("beneficiaries")
    at.button(key="FormSubmitter:add_participant-Add participant").click().run()
    assert not at.error
    at.text_input(key="new_participant_id").input("P02")
    at.text_input(key="new_participant_new_group").input("frontline staff")
    at.button(key="FormSubmitter:add_participant-Add participant").click().run()
    p = qda.open_project(tmp_path / "p")
    assert [(x.id, x.pseudonym, x.stakeholder_group) for x in p.participants] == [
        ("P01", "Ann", "beneficiaries"),
        ("P02", "", "frontline staff"),
    ]
    assert [t.label for t in at.tabs] == ["beneficiaries (1)", "frontline staff (1)"]

    at.text_input(key="new_participant_id").input("P01")
    at.selectbox(key="new_participant_group").set_value("beneficiaries")
    at.button(key="FormSubmitter:add_participant-Add participant").click().run()
    assert "participant 'P01' already exists" in at.error[0].value
    assert qda.open_project(tmp_path / "p").participant("P01").stakeholder_group == "beneficiaries"


def test_edit_participants_in_the_table(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    at = start()
    at.session_state["participants_editor"] = {
        "edited_rows": {"0": {"stakeholder_group": "specialists", "age": None}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="save_participants").click().run()
    assert at.success[0].value == "18 participants saved."
    p01 = qda.open_project(demo_copy).participant("P01")
    assert p01.stakeholder_group == "specialists"
    assert "age" not in p01.attributes and p01.attributes["site"] == "Leeds"
    assert "specialists (4)" in [t.label for t in at.tabs]

    at.session_state["participants_editor"] = {
        "edited_rows": {"1": {"stakeholder_group": None}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="save_participants").click().run()
    assert "row 2, column 'stakeholder_group'" in shown(at.error[0].value)
    assert qda.open_project(demo_copy).participant("P02").stakeholder_group == "beneficiaries"


def test_an_empty_folder_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    at = start()
    at.button[1].click().run()
    assert "no project folder given" in at.error[0].value
    at.text_input(key="demo_path").input("")
    at.button[2].click().run()
    assert "no folder given for the demo" in at.error[-1].value
    assert list(tmp_path.iterdir()) == []


def open_page(at: AppTest, name: str) -> AppTest:
    at.switch_page(str(REPO / "qda" / "ui" / "views" / f"{name}.py"))
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_upload_links_recordings_to_participants_and_queues_them(demo_copy, monkeypatch):
    from qda.jobs import Worker
    from tests.conftest import RECORDINGS

    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    monkeypatch.setenv("QDA_WORKER", "off")  # the test runs the worker itself
    at = open_page(start(), "upload")
    assert "No transcriptions yet." in texts(at)
    good = (RECORDINGS / "P15_lorraine.opus").read_bytes()
    at.file_uploader(key="up_audio").set_value(
        [("P15_lorraine.opus", good, "audio/ogg"), ("broken.mp3", b"nonsense" * 100, "audio/mpeg")]
    ).run()
    assert at.selectbox(key="rec_participant_0").value == "P15"  # from the file name
    assert at.selectbox(key="rec_language_0").value == "en"  # from the participants file
    at.selectbox(key="rec_participant_1").set_value("P16")
    at.button(key="start_transcription").click().run()
    assert "Transcribing P15 (job 1)" in at.success[0].value
    assert "broken.mp3 was not added: broken.mp3: not an audio or video file" in at.error[0].value

    p = qda.open_project(demo_copy)
    assert [j.interview_id for j in p.jobs()] == ["P15"]
    Worker(p, threads=2, log=lambda m: None).run(idle_timeout=0)
    at = open_page(start(), "upload")
    assert [bar.proto.text for bar in at.get("progress")] == ["done"]
    at = open_page(start(), "transcript")
    at.selectbox(key="transcript_interview").set_value("P15").run()
    assert "transcribed · language en · faster-whisper base" in texts(at)


def test_correct_a_transcript_and_swap_speakers(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    at = open_page(start(), "transcript")
    at.selectbox(key="transcript_interview").set_value("P04").run()
    # read: whole turns, as text (no recording here, so no ▶)
    assert any(
        t.value.startswith("I volunteered after university while I was job hunting.")
        for t in at.text
    )
    assert not [b for b in at.button if b.key and b.key.startswith("play_")]
    at.session_state["transcript_view"] = "Correct"
    at.run()
    # a cell typed in is saved at once: nothing to press, nothing lost on leaving
    at.session_state["segments_P04"] = {
        "edited_rows": {"1": {"text": "I volunteered after university."}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert [t.proto.body for t in at.toast] == ["1 correction saved; the original text is kept."]
    at.run()
    assert not at.toast  # saved once, not again on the next run
    p = qda.open_project(demo_copy)
    assert len(p.segment_history("P04")) == 1
    second = p.segments("P04")[1]
    assert second.text == "I volunteered after university."
    assert second.original_text.startswith(
        "I volunteered after university while I was job hunting."
    )

    at.button(key="swap_speakers").click().run()
    assert at.success[0].value == "Speakers swapped."
    assert qda.open_project(demo_copy).segments("P04")[0].speaker == "Tom"


def test_codebook_page_edits_merges_and_imports(demo_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    at = open_page(start(), "codebook")
    table = at.dataframe[0].value
    assert len(table) == 26
    p = qda.open_project(demo_copy)
    code = p.code_paths()["Consequences/Financial hardship"]
    at.selectbox(key="cb_code").set_value("Consequences/Financial hardship").run()
    at.text_area(key=f"cb_definition_{code.id}").input("Money lost or debt taken on.")
    at.button(key="FormSubmitter:cb_edit-Save code").click().run()
    assert at.success[0].value == "Saved Financial hardship."
    assert qda.open_project(demo_copy).code(code.id).definition == "Money lost or debt taken on."

    at.selectbox(key="cb_code").set_value("Consequences/Financial hardship").run()
    assert at.selectbox(key="cb_merge_into").value is None  # no code is merged by default
    at.selectbox(key="cb_move_to").set_value("Human contact")
    at.button(key="FormSubmitter:cb_move-Move").click().run()
    assert "Human contact/Financial hardship" in qda.open_project(demo_copy).code_paths()
    at.button(key="cb_undo_move").click().run()
    assert "Consequences/Financial hardship" in qda.open_project(demo_copy).code_paths()
    at.selectbox(key="cb_merge_into").set_value("Consequences/Shame and stress")
    at.button(key="FormSubmitter:cb_merge-Merge").click().run()
    assert "Tick the box to merge Financial hardship" in at.error[0].value
    assert "Consequences/Financial hardship" in qda.open_project(demo_copy).code_paths()
    codings = len(qda.open_project(demo_copy).codings())
    at.selectbox(key="cb_merge_into").set_value("Consequences/Shame and stress")
    at.checkbox(key="cb_merge_sure").check()
    at.button(key="FormSubmitter:cb_merge-Merge").click().run()
    assert at.success[0].value.startswith(
        "Merged Financial hardship into Consequences/Shame and stress"
    )
    assert "Consequences/Financial hardship" not in qda.open_project(demo_copy).code_paths()
    at.button(key="cb_undo_merge").click().run()
    assert at.success[0].value == "Financial hardship is back, with its codings."
    assert "Consequences/Financial hardship" in qda.open_project(demo_copy).code_paths()
    assert len(qda.open_project(demo_copy).codings()) == codings  # as before the merge

    changed = (REPO / "codebooks" / "digital_access.yaml").read_text()
    changed = changed.replace("name: Peer support", "name: Peer support and mutual aid")
    at.file_uploader(key="cb_upload").set_value(
        ("colleague.yaml", changed.encode(), "application/yaml")
    ).run()
    assert "0 new codes" in texts(at)  # the merge was undone: every code of the file is here
    rename = next(c for c in at.checkbox if "renamed Peer support" in c.label)
    rename.check().run()
    at.button(key="cb_do_merge").click().run()
    assert at.success[0].value.startswith("From colleague.yaml: no new codes; 1 of 2 changes")
    assert "Co-production/Peer support and mutual aid" in qda.open_project(demo_copy).code_paths()


def test_crosstab_page_shows_the_table_and_the_quotes_of_a_cell(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    at = open_page(start(), "crosstab")
    assert "percentage of the column's participants with a coded interview" in texts(at)
    assert "Not coded yet: allied organisations." in texts(at)
    heatmap = at.dataframe[0].value
    heatmap = getattr(heatmap, "data", heatmap)  # a Styler holds its frame in .data
    assert set(heatmap["allied organisations (not coded yet)"]) == {"–"}  # not "0 (0%)"
    at.radio(key="ct_counted").set_value(False).run()
    assert "percentage of the column's interviewed participants" in texts(at)
    assert "8 interviews not coded yet count in the bases as mentioning nothing" in texts(at)
    at.selectbox(key="ct_code").set_value("Working together/Staff workload")
    at.selectbox(key="ct_value").set_value("frontline staff").run()
    quotes_table = at.dataframe[-2].value if len(at.dataframe) > 2 else at.dataframe[1].value
    assert set(quotes_table.participant) == {"Aisha"} and len(quotes_table) == 3
    at.radio(key="ct_measure").set_value("segments").run()
    assert "percentage of all segments" in texts(at)
    at.selectbox(key="ct_by").set_value("site").run()
    assert not at.exception


def test_coding_page_applies_and_removes_codes(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    at = open_page(start(), "coding")
    at.selectbox(key="coding_interview").set_value("P04").run()
    assert "0 of 10 participant segments coded" in texts(at)
    at.selectbox(key="coding_turn").set_value(2).run()
    at.multiselect(
        key=next(m.key for m in at.multiselect if m.key.startswith("apply_codes_"))
    ).set_value(["Co-production/Peer support", "Human contact/Trusted intermediaries"])
    at.button(
        key=next(b.key for b in at.button if b.key and b.key.startswith("FormSubmitter:apply_"))
    ).click().run()
    assert (
        at.success[0].value
        == "Applied Co-production/Peer support, Human contact/Trusted intermediaries to turn 2."
    )
    p = qda.open_project(demo_copy)
    assert len(p.codings(interview_id="P04")) == 2
    assert {c.coder for c in p.codings(interview_id="P04")} == {"anna"}
    at.selectbox(key="coding_filter").set_value("not yet coded").run()
    remaining = [str(o) for o in at.selectbox(key="coding_turn").options]
    assert "2" not in remaining and "4" in remaining


@pytest.mark.slow
def test_suggestions_page_accepts_a_code(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    import time

    from qda.suggest.runs import runs

    at = open_page(start(), "suggestions")
    # the demo's segments are embedded in the background first, with progress
    assert "Embedding segments (e5-small)" in " ".join(str(p.text) for p in at.get("progress"))
    project = qda.open_project(demo_copy)
    deadline = time.monotonic() + 120
    while runs(project, "embed")[0].status != "done":
        assert time.monotonic() < deadline and runs(project, "embed")[0].status != "failed"
        time.sleep(0.5)
    at.run()
    # the threshold measured on the project's coding, and what it hides
    (floor,) = [x for x in at.slider if x.key.startswith("sg_floor_")]
    assert 0 <= floor.value <= 1
    assert any("suggestions with a chance of at least" in shown(c.value) for c in at.caption)
    every = {b.key for b in at.button if b.key and b.key.startswith("sg_accept_")}
    floor.set_value(0.0).run()
    assert every <= {b.key for b in at.button if b.key and b.key.startswith("sg_accept_")}
    assert re.search(r"`\d+%` \*\*", " ".join(m.value for m in at.markdown))  # the chance
    at.selectbox(key="sg_interview").set_value("P04").run()
    accept = next(b for b in at.button if b.key and b.key.startswith("sg_accept_"))
    segment_id = int(accept.key.split("_")[2])
    accept.click().run()
    assert at.success[0].value.startswith("Coded turn")
    assert any("1 suggestions accepted, 0 rejected" in shown(c.value) for c in at.caption)
    (coding,) = [c for c in qda.open_project(demo_copy).codings() if c.segment_id == segment_id]
    assert coding.origin == "suggestion"
    # the accepted segment left the queue; its undo takes the coding back out
    assert not any(b.key == accept.key for b in at.button)
    at.button(key="sg_undo").click().run()
    assert not [c for c in qda.open_project(demo_copy).codings() if c.segment_id == segment_id]
    assert any(b.key == accept.key for b in at.button)
    # one queue over every interview, best fit first
    at.selectbox(key="sg_interview").set_value("all interviews").run()
    on_page = {b.key.split("_")[2] for b in at.button if b.key and b.key.startswith("sg_accept_")}
    owners = {qda.open_project(demo_copy).segment(int(i)).interview_id for i in on_page}
    assert len(on_page) == 10 and len(owners) > 1


def test_a_qdpx_project_file_is_imported_into_a_new_project(tmp_path, demo_path):
    import io

    from qda.qdpx import export_qdpx

    buffer = io.BytesIO()
    export_qdpx(qda.open_project(demo_path), buffer)
    at = start()
    at.text_input(key="new_path").input(str(tmp_path / "new"))
    at.button[1].click().run()
    at.file_uploader(key="up_qdpx").set_value(
        ("study.qdpx", buffer.getvalue(), "application/zip")
    ).run()
    group = at.selectbox(key="qdpx_group")
    assert group.value == "Stakeholder group" and "site" in group.options
    at.button(key="do_qdpx").click().run()
    assert not at.exception, at.exception
    assert "88 codings stored" in at.success[0].value
    imported = qda.open_project(tmp_path / "new")
    assert len(imported.participants) == 18 and len(imported.codings()) == 88
    assert {p.stakeholder_group for p in imported.participants} == {
        p.stakeholder_group for p in qda.open_project(demo_path).participants
    }


def test_every_page_of_an_empty_project_says_what_to_do_next(tmp_path, monkeypatch):
    qda.create_project(tmp_path / "empty").close()
    monkeypatch.setenv("QDA_PROJECT", str(tmp_path / "empty"))
    at = start()
    assert "This project is empty" in at.info[0].value
    expected = {
        "upload": "Drop the interview recordings here",
        "transcript": "upload recordings on the Upload page",
        "search": "Nothing to search yet",
        "codebook": "import a codebook file below",
        "coding": "Coding needs transcripts",
        "suggestions": "Suggestions need transcripts",
        "crosstab": "Nothing is coded yet",
    }
    for name, message in expected.items():
        open_page(at, name)
        assert message in texts(at), name


def test_transcripts_are_previewed_corrected_and_imported(tmp_path, monkeypatch):
    """Dropped files are shown as qda reads them; the participant, the interviewer and
    the exclusion can be changed there; nothing is written until Import."""
    data = REPO / "tests" / "data" / "transcripts"
    study = qda.create_project(tmp_path / "study")
    for pid, group in [("P04", "staff"), ("P05", "staff"), ("P18", "beneficiaries")]:
        study.save_participant(qda.Participant(pid, group))
    monkeypatch.setenv("QDA_PROJECT", str(study.root))
    at = start()
    files = [
        ("P04_tom.txt", (data / "otter_export.txt").read_bytes(), "text/plain"),
        ("interview 2.docx", (data / "teams.docx").read_bytes(), "application/octet-stream"),
        ("P18.docx", (data / "P18_placeholder.docx").read_bytes(), "application/octet-stream"),
        ("P05.docx", (REPO / "tests/bad_inputs/transcripts/P01_password.docx").read_bytes(), ""),
    ]
    at.file_uploader(key="up_transcripts").set_value(files).run()
    assert not at.exception, at.exception
    shown = "\n".join(t.value for t in at.text) + texts(at)
    assert "Read as Otter.ai export: 10 turns, 2 speakers" in shown
    assert "P05.docx: this Word file is protected by a password" in shown
    assert "Pick the participant this transcript belongs to." in shown  # "interview 2.docx"
    assert at.multiselect(key="tp_roles_0").value == ["Interviewer"]
    assert at.multiselect(key="tp_roles_1").value == ["Sara Holm"]  # asks the questions
    assert at.checkbox(key="tp_exclude_2").value is True  # the placeholder
    assert "P18.docx: no speaker turns found: read as paragraphs" in [w.value for w in at.warning]
    assert study.interviews == []  # nothing written yet
    at.selectbox(key="tp_pid_1").set_value("P05").run()
    at.multiselect(key="tp_roles_1").set_value(["Mette Larsen"]).run()
    at.button(key="do_transcripts").click().run()
    assert not at.exception, at.exception
    assert "3 interviews added; 1 excluded from analysis." in [s.value for s in at.success]
    roles = {s.speaker: s.role for s in study.segments("P05")}
    assert roles == {"Sara Holm": "participant", "Mette Larsen": "interviewer"}
    assert study.interview("P18").excluded_reason.startswith("placeholder: Removed")
    assert study.interview("P04").title == "Digital champion, Tom"


def test_an_interview_is_excluded_and_included_on_the_project_page(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    at = start()
    at.selectbox(key="ex_interview").set_value("P01").run()
    at.text_input(key="ex_reason").input("withdrew consent").run()
    at.button(key="do_exclude").click().run()
    p = qda.open_project(demo_copy)
    assert p.interview("P01").excluded_reason == "withdrew consent"
    at.button(key="do_include").click().run()
    assert not p.interview("P01").excluded


def test_the_study_s_interviewers_are_named_on_the_project_page(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    p = qda.open_project(demo_copy)
    p.rename_speaker(
        "P01", "Interviewer", "Claire Dubois", role=qda.SpeakerRole.PARTICIPANT, by="x"
    )
    at = start()
    assert at.text_input(key="interviewer_names").value == "Sara Holm"
    at.text_input(key="interviewer_names").input("Sara Holm, Claire Dubois").run()
    at.button(key="do_interviewer_names").click().run()
    assert not at.exception, at.exception
    assert p.interviewer_names == ["Sara Holm", "Claire Dubois"]
    assert {s.speaker: s.role for s in p.segments("P01")}["Claire Dubois"] == "interviewer"
    assert "roles set in 1 interviews" in at.success[0].value


def test_the_recording_of_an_imported_transcript_is_attached(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    monkeypatch.setenv("QDA_WORKER", "off")
    at = open_page(start(), "transcript")
    at.selectbox(key="transcript_interview").set_value("P04").run()
    recording = (REPO / "sample_transcripts" / "recordings" / "P15_lorraine.opus").read_bytes()
    at.file_uploader(key="attach_P04").set_value(("P04.opus", recording, "audio/ogg")).run()
    at.button(key="do_attach_P04").click().run()
    assert not at.exception, at.exception
    assert "P04.opus attached to P04." in [s.value for s in at.success]
    p = qda.open_project(demo_copy)
    assert p.media_path(p.interview("P04")).read_bytes() == recording


def test_a_refused_recording_leaves_no_new_participant_behind(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    monkeypatch.setenv("QDA_WORKER", "off")
    at = open_page(start(), "upload")
    at.file_uploader(key="up_audio").set_value([("X1.mp3", b"not audio" * 50, "audio/mpeg")]).run()
    at.selectbox(key="rec_participant_0").set_value("➕ new participant").run()
    at.text_input(key="rec_new_id_0").input("P99").run()
    at.text_input(key="rec_new_group_text_0").input("carers").run()
    at.button(key="start_transcription").click().run()
    assert not at.exception, at.exception
    assert "X1.mp3 was not added" in "\n".join(e.value for e in at.error)
    assert "P99" not in {p.id for p in qda.open_project(demo_copy).participants}


def test_a_qdc_codebook_is_imported_on_the_project_page(tmp_path, monkeypatch):
    import io

    from qda.codebook.formats import read_codebook, write_codebook

    with (REPO / "codebooks" / "digital_access.yaml").open("rb") as f:
        book = read_codebook(f, "digital_access.yaml")
    qdc = io.BytesIO()
    write_codebook(book, qdc, "x.qdc")
    study = qda.create_project(tmp_path / "study")
    study.save_participant(qda.Participant("P01", "staff"))
    monkeypatch.setenv("QDA_PROJECT", str(study.root))
    at = start()
    at.file_uploader(key="up_codebook").set_value(("book.qdc", qdc.getvalue(), "")).run()
    at.button(key="do_codebook").click().run()
    assert not at.exception, at.exception
    assert "26 codes imported." in [s.value for s in at.success]
    assert len(study.codes) == 26


def test_search_finds_words_in_every_transcript_and_shows_the_context(demo_path, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_path))
    at = open_page(start(), "search")
    assert "Type words, or pick a speaker, a group or a code." in texts(at)
    at.text_input(key="se_query").input("password").run()
    assert not at.exception, at.exception
    results = at.dataframe[0].value
    assert {"P01", "P03", "P04"} <= set(results.interview)
    assert all("password" in t.lower() for t in results.text)
    assert "In context: P01, turn 12" in [h.value for h in at.subheader]
    assert any("Then it asked for my password again" in t.value for t in at.text)
    at.selectbox(key="se_group").set_value("frontline staff").run()
    assert set(at.dataframe[0].value.group) == {"frontline staff"}


def test_undo_a_removed_coding_and_a_transcript_change(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    p = qda.open_project(demo_copy)
    before = len(p.codings(interview_id="P01"))
    at = open_page(start(), "coding")
    at.selectbox(key="coding_interview").set_value("P01").run()
    coded = p.segment(p.codings(interview_id="P01")[0].segment_id)
    at.selectbox(key="coding_turn").set_value(coded.index + 1).run()
    removal = next(b for b in at.button if b.key and b.key.startswith("remove_"))
    removal.click().run()
    assert len(p.codings(interview_id="P01")) == before - 1
    at.button(key="undo_remove").click().run()
    assert not at.exception, at.exception
    assert len(p.codings(interview_id="P01")) == before
    assert any(s.value.endswith(" is back.") for s in at.success)

    segment = p.segments("P04")[1]
    p.edit_segment(segment.id, "A wrong correction.", by="anna")
    at = open_page(start(), "transcript")
    at.selectbox(key="transcript_interview").set_value("P04").run()
    assert at.button(key="undo_change").label == "Undo the last change (edit by anna (1 segment))"
    at.button(key="undo_change").click().run()
    assert p.segment(segment.id).text.startswith("I volunteered after university")
    assert "Undone: edit by anna." in [s.value for s in at.success]


def test_transcribe_again_is_queued_from_the_transcripts_page(demo_copy, monkeypatch):
    from qda.jobs import attach_recording

    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    monkeypatch.setenv("QDA_WORKER", "off")
    p = qda.open_project(demo_copy)
    with (REPO / "sample_transcripts" / "recordings" / "P15_lorraine.opus").open("rb") as f:
        attach_recording(p, "P03", f, "P03.opus")
    coded = len(p.codings(interview_id="P03"))
    at = open_page(start(), "transcript")
    at.selectbox(key="transcript_interview").set_value("P03").run()
    at.selectbox(key="again_language_P03").set_value("en").run()
    at.button(key="do_again_P03").click().run()
    assert not at.exception, at.exception
    assert "Transcribing P03 again (job 1)." in [s.value for s in at.success]
    job = p.jobs()[0]
    assert job.options["language"] == "en" and len(job.options["carry"]) == coded
    assert p.segments("P03") == [] and p.interview("P03").status == "pending"


def test_coding_page_steps_to_the_next_and_previous_segment(demo_path, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_path))
    at = open_page(start(), "coding")
    at.selectbox(key="coding_interview").set_value("P04").run()
    assert at.selectbox(key="coding_turn").value == 1 and at.button(key="coding_prev").disabled
    at.button(key="coding_next").click().run()
    at.button(key="coding_next").click().run()
    assert at.selectbox(key="coding_turn").value == 3
    at.button(key="coding_prev").click().run()
    assert at.selectbox(key="coding_turn").value == 2
    at.selectbox(key="coding_filter").set_value("not yet coded").run()
    assert not at.exception, at.exception


def test_text_from_files_is_shown_literally_not_as_markdown(tmp_path, monkeypatch):
    from qda.ui.state import literal

    assert literal("![t](http://203.0.113.9/t.png) <img src=x> Anna") == (
        "!\\[t\\](http:\u2060//203.0.113.9/t.png) \\<img src=x\\> Anna"
    )
    study = qda.create_project(tmp_path / "study")
    study.save_participant(qda.Participant("P05", "staff"))
    monkeypatch.setenv("QDA_PROJECT", str(study.root))
    at = start()
    name = "P05 ![x](http://203.0.113.9/x.png).docx"
    data = (REPO / "tests/bad_inputs/transcripts/P01_password.docx").read_bytes()
    at.file_uploader(key="up_transcripts").set_value([(name, data, "")]).run()
    (shown,) = [e.value for e in at.error if "password" in e.value]
    assert "http://" not in shown and "![x]" not in shown
    assert shown.startswith(literal(name))


def test_memos_on_the_coding_codebook_and_transcripts_pages(demo_copy, monkeypatch):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    p = qda.open_project(demo_copy)
    at = open_page(start(), "coding")
    at.selectbox(key="coding_interview").set_value("P01").run()
    segment = p.segments("P01")[0]
    at.text_area(key=f"memo_text_segment_{segment.id}").input("Warm-up question: skip.")
    at.button(key=f"FormSubmitter:memo_segment_{segment.id}-Save memo").click().run()
    assert not at.exception, at.exception
    assert p.memo("segment", segment.id) == "Warm-up question: skip."
    at.text_area(key="memo_text_interview_P01").input("Recorded at home.")
    at.button(key="FormSubmitter:memo_interview_P01-Save memo").click().run()
    assert p.memo("interview", "P01") == "Recorded at home."

    at = open_page(start(), "transcript")
    at.selectbox(key="transcript_interview").set_value("P01").run()
    assert at.text_area(key="memo_text_interview_P01").value == "Recorded at home."

    at = open_page(start(), "codebook")
    code = p.code_paths()[at.selectbox(key="cb_code").value]
    at.text_area(key=f"memo_text_code_{code.id}").input("Too broad?")
    at.button(key=f"FormSubmitter:memo_code_{code.id}-Save memo").click().run()
    assert p.memo("code", code.id) == "Too broad?"


def test_a_file_dropped_in_the_wrong_place_says_what_it_is_and_where_it_goes(
    demo_copy, monkeypatch
):
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    word = (REPO / "tests" / "data" / "transcripts" / "teams.docx").read_bytes()
    at = open_page(start(), "upload")
    at.file_uploader(key="up_audio").set_value([("P07 Helen.docx", word, "")]).run()
    assert [e.value for e in at.error] == [
        "P07 Helen.docx is a Word document, not a recording: bring transcripts in under "
        "Import transcripts on the Project page."
    ]
    assert not [b for b in at.button if b.key == "start_transcription"]
    at = start()
    at.file_uploader(key="up_participants").set_value(("book.qdc", b"<CodeBook/>", "")).run()
    assert [e.value for e in at.error] == [
        "book.qdc is a REFI-QDA codebook, not a participants table: import a codebook on "
        "the Codebook page."
    ]


def test_a_change_the_project_refuses_is_a_message_not_an_exception(demo_copy, monkeypatch):
    from qda.errors import ProjectError
    from qda.store import Project

    def refuse(self, *args, **kwargs):
        raise ProjectError(f"the project folder {self.root} is read-only: nothing was changed")

    monkeypatch.setattr(Project, "set_memo", refuse)
    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    at = open_page(start(), "coding")
    at.selectbox(key="coding_interview").set_value("P01").run()
    segment = qda.open_project(demo_copy).segments("P01")[0]
    at.text_area(key=f"memo_text_segment_{segment.id}").input("A note.")
    at.button(key=f"FormSubmitter:memo_segment_{segment.id}-Save memo").click().run()
    assert not at.exception, at.exception
    assert any("is read-only: nothing was changed" in shown(e.value) for e in at.error)
