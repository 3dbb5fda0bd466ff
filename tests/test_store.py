"""The project store: round trips, transactions, migrations, concurrency."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import qda
from qda.cli import main
from qda.errors import InvalidInput, NotFound, ProjectError
from qda.models import (
    AttributeType,
    Code,
    CodingOrigin,
    Decision,
    InterviewStatus,
    Participant,
    SegmentDraft,
)
from qda.store import DB_FILE, LATEST, MIGRATIONS, make_engine, migrate, schema_version
from tests.conftest import REPO


def test_participants_round_trip_with_typed_attributes(project, tmp_path):
    project.define_attribute("age", AttributeType.NUMBER)
    project.define_attribute("joined", AttributeType.DATE)
    project.define_attribute("site", AttributeType.TEXT)
    project.save_participant(
        Participant("P01", "beneficiaries", "Ann", {"age": 71.0, "joined": dt.date(2026, 3, 2)})
    )
    project.save_participant(Participant("P02", "specialists", attributes={"site": "Aarhus"}))
    project.close()

    reopened = qda.open_project(tmp_path / "study")
    assert reopened.participants == [
        Participant("P01", "beneficiaries", "Ann", {"age": 71.0, "joined": dt.date(2026, 3, 2)}),
        Participant("P02", "specialists", "", {"site": "Aarhus"}),
    ]
    assert reopened.attribute_types == {
        "age": AttributeType.NUMBER,
        "joined": AttributeType.DATE,
        "site": AttributeType.TEXT,
    }
    assert reopened.name == "Test study"


def test_save_participant_updates_in_place(project):
    project.define_attribute("site", AttributeType.TEXT)
    project.save_participant(Participant("P01", "beneficiaries", attributes={"site": "Leeds"}))
    project.save_participant(Participant("P01", "frontline staff", "Ann"))
    (p,) = project.participants
    assert (p.stakeholder_group, p.pseudonym, p.attributes) == (
        "frontline staff",
        "Ann",
        {"site": "Leeds"},
    )


def test_attribute_values_must_match_their_type(project):
    project.define_attribute("age", AttributeType.NUMBER)
    with pytest.raises(InvalidInput, match="not a number"):
        project.save_participant(Participant("P01", "beneficiaries", attributes={"age": "old"}))
    with pytest.raises(InvalidInput, match="already a number attribute"):
        project.define_attribute("age", AttributeType.TEXT)
    assert project.participants == []


def test_participant_needs_a_group(project):
    with pytest.raises(InvalidInput, match="no stakeholder group"):
        project.save_participant(Participant("P01", " "))


def test_interview_segments_keep_original_text_when_edited(small_project):
    interview = small_project.interview("P01")
    assert interview.language == "en"
    assert interview.status is InterviewStatus.IMPORTED
    segments = small_project.segments("P01")
    assert [s.index for s in segments] == [0, 1, 2]
    assert [s.start for s in segments] == [0, 4, 9]

    edited = small_project.edit_segment(segments[1].id, "Only on my mobile phone.", by="anna")
    assert edited.text == "Only on my mobile phone."
    assert edited.original_text == "Only on my phone."
    assert edited.edited
    assert not small_project.segment(segments[0].id).edited


def test_second_interview_of_a_participant_gets_its_own_id(small_project):
    second = small_project.add_interview("P01", [SegmentDraft("Follow-up.")])
    assert second.id == "P01-2"
    assert [i.id for i in small_project.interviews] == ["P01", "P01-2"]


def test_interview_of_unknown_participant_is_refused(project):
    with pytest.raises(NotFound, match="no participant 'P99'"):
        project.add_interview("P99", [SegmentDraft("Hello")])
    assert project.interviews == []


def test_codes_tree_and_paths(small_project):
    paths = small_project.code_paths()
    assert list(paths) == ["Access barriers", "Access barriers/Devices"]
    child = paths["Access barriers/Devices"]
    assert child.parent_id == paths["Access barriers"].id
    assert child.definition == "No device."
    with pytest.raises(InvalidInput, match="already exists"):
        small_project.add_code("Devices", by="x", parent_id=child.parent_id)
    with pytest.raises(InvalidInput, match="contains '/'"):
        small_project.add_code("A/B", by="x")
    actions = [c.action for c in small_project.codebook_changes]
    assert actions == ["add", "add"]


def test_codings_are_idempotent_and_record_coder_origin_time(small_project):
    segment = small_project.segments("P01")[1]
    code = small_project.code_paths()["Access barriers/Devices"]
    first = small_project.apply_code(segment.id, code.id, coder="anna")
    again = small_project.apply_code(segment.id, code.id, coder="anna")
    other = small_project.apply_code(segment.id, code.id, coder="lars")
    part = small_project.apply_code(segment.id, code.id, coder="anna", span=(8, 16))
    assert first == again
    assert len(small_project.codings()) == 3
    assert first.origin is CodingOrigin.MANUAL and first.created_at is not None
    assert other.coder == "lars"
    assert part.span == (8, 16) and first.span is None
    assert len(small_project.codings(interview_id="P01", code_id=code.id)) == 3

    small_project.remove_coding(other.id)
    assert len(small_project.codings()) == 2
    with pytest.raises(NotFound):
        small_project.remove_coding(other.id)


def test_coding_span_must_lie_inside_the_segment(small_project):
    segment = small_project.segments("P01")[1]
    code = small_project.codes[0]
    with pytest.raises(InvalidInput, match="outside segment"):
        small_project.apply_code(segment.id, code.id, coder="anna", span=(5, 500))


def test_suggestion_decisions(small_project):
    segment = small_project.segments("P01")[1]
    theme, devices = small_project.codes
    small_project.decide_suggestion(segment.id, theme.id, Decision.REJECTED, by="anna")
    small_project.decide_suggestion(segment.id, devices.id, Decision.ACCEPTED, by="anna")
    decisions = {d.code_id: d.decision for d in small_project.suggestion_decisions()}
    assert decisions == {theme.id: Decision.REJECTED, devices.id: Decision.ACCEPTED}
    (coding,) = small_project.codings()
    assert (coding.code_id, coding.origin) == (devices.id, CodingOrigin.SUGGESTION)


def test_failed_transaction_changes_nothing(small_project):
    before = small_project.summary()
    with pytest.raises(NotFound), small_project.transaction():
        small_project.save_participant(Participant("P03", "specialists"))
        small_project.add_interview("P03", [SegmentDraft("Hello")])
        small_project.add_interview("P99", [SegmentDraft("Hello")])
    assert small_project.summary() == before
    assert [p.id for p in small_project.participants] == ["P01", "P02"]


def test_sqlite_file_uses_wal_and_foreign_keys(project, tmp_path):
    db = tmp_path / "study" / DB_FILE
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with project.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_schema_version_is_recorded(project):
    assert project.schema_version == LATEST == len(MIGRATIONS) + 1


def test_a_project_of_the_first_release_is_upgraded_with_its_data(tmp_path):
    """tests/data/demo_v1.sqlite is the demo study as qda 0.1 (schema 1) wrote it."""
    folder = tmp_path / "old"
    folder.mkdir()
    shutil.copy(REPO / "tests" / "data" / "demo_v1.sqlite", folder / DB_FILE)
    p = qda.open_project(folder)
    assert p.schema_version == LATEST
    s = p.summary()
    assert (s.participants, s.interviews, s.segments, s.codes, s.codings) == (17, 14, 266, 26, 88)
    assert p.interview("P01").media_file == ""
    assert p.segments("P01")[0].words == ()
    assert p.jobs() == []


def test_migrations_run_in_order_and_roll_back_on_failure(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    applied: list[int] = []

    def add_notes(conn):
        applied.append(3)
        conn.exec_driver_sql("ALTER TABLE participants ADD COLUMN notes TEXT")

    def broken(conn):
        applied.append(4)
        conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("migration bug")

    with engine.connect() as conn, conn.begin():
        assert migrate(conn) == LATEST
    with engine.connect() as conn, conn.begin():
        assert migrate(conn, [*MIGRATIONS, add_notes]) == LATEST + 1
    with pytest.raises(RuntimeError), engine.connect() as conn, conn.begin():
        migrate(conn, [*MIGRATIONS, add_notes, broken])
    with engine.connect() as conn:
        assert schema_version(conn) == LATEST + 1
        assert not sa.inspect(conn).has_table("half_done")
        columns = {c["name"] for c in sa.inspect(conn).get_columns("participants")}
    assert "notes" in columns
    assert applied == [3, 4]


def test_project_from_a_newer_qda_is_refused_unchanged(project, tmp_path):
    with project.transaction() as conn:
        conn.exec_driver_sql("UPDATE qda_meta SET value = '99' WHERE key = 'schema_version'")
    project.close()
    with pytest.raises(ProjectError, match="upgrade qda"):
        qda.open_project(tmp_path / "study")


def test_open_missing_or_foreign_file_says_what_is_wrong(tmp_path):
    with pytest.raises(ProjectError, match="no qda project"):
        qda.open_project(tmp_path / "nothing")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / DB_FILE).write_text("hello")
    with pytest.raises(ProjectError, match="not an SQLite database"):
        qda.open_project(tmp_path / "notes")
    with pytest.raises(ProjectError, match="already holds"):
        qda.create_project(tmp_path / "notes")


def test_in_memory_database_url(tmp_path):
    p = qda.open_project("sqlite://")
    p.save_participant(Participant("P01", "beneficiaries"))
    assert [x.id for x in p.participants] == ["P01"]


def test_two_writers_at_once_lose_nothing(small_project, tmp_path):
    """Two connections (as two app sessions would) code at the same time."""
    other = qda.open_project(tmp_path / "study")
    segments = small_project.segments("P01")
    code = small_project.codes[1]
    errors: list[Exception] = []

    def code_all(p, coder):
        try:
            for _ in range(20):
                for s in segments:
                    p.apply_code(s.id, code.id, coder=coder)
        except Exception as e:  # collected and asserted below
            errors.append(e)

    threads = [
        threading.Thread(target=code_all, args=(small_project, "anna")),
        threading.Thread(target=code_all, args=(other, "lars")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(small_project.codings()) == 2 * len(segments)


def test_save_code_keeps_id_on_rename(small_project):
    code = small_project.codes[1]
    renamed = small_project.save_code(
        Code(code.id, "Devices and data", code.parent_id, code.definition), by="anna"
    )
    assert renamed.id == code.id
    assert "Access barriers/Devices and data" in small_project.code_paths()


def test_a_code_cannot_become_its_own_ancestor(small_project):
    theme, child = small_project.codes
    with pytest.raises(InvalidInput, match="under itself or its own child"):
        small_project.save_code(Code(theme.id, theme.name, parent_id=child.id), by="anna")
    assert small_project.code(theme.id).parent_id is None


def test_an_interview_is_excluded_and_included_with_who_and_why(small_project):
    p = small_project
    assert p.exclude_interview("P01", "  withdrew\nconsent ", by="anna").excluded_reason == (
        "withdrew consent"
    )
    again = qda.open_project(p.root)
    interview = again.interview("P01")
    assert interview.excluded and interview.excluded_by == "anna"
    assert again.segments(analysed_only=True) == [] and len(again.segments()) == 3
    assert again.segment_frame().excluded.astype(bool).all()
    assert again.exclude_interview("P01", by="lars").excluded_reason == "excluded from analysis"
    assert not again.include_interview("P01", by="anna").excluded
    assert len(again.segments(analysed_only=True)) == 3


def test_the_study_s_interviewers_are_a_project_setting(project):
    assert project.interviewer_names == []
    assert project.set_interviewer_names(["Sara  Holm", "", "Claire", "Claire"]) == [
        "Sara Holm",
        "Claire",
    ]
    assert qda.open_project(project.root).interviewer_names == ["Sara Holm", "Claire"]


def test_memos_on_segments_codes_and_interviews_keep_every_wording(project):
    from qda.models import SegmentDraft

    project.save_participant(Participant("P01", "beneficiaries"))
    project.add_interview("P01", [SegmentDraft("I rang and rang.", "Ann")])
    segment = project.segments("P01")[0]
    code = project.add_code("Phone lines", by="anna")
    assert project.memo("segment", segment.id) == ""
    project.set_memo("segment", segment.id, "  Angry here: ask about the helpline.  ", by="anna")
    project.set_memo("segment", segment.id, "Angry: ask about the helpline in round 2.", by="lars")
    project.set_memo("code", code.id, "Merge with Waiting?", by="anna")
    project.set_memo("interview", "P01", "Recorded in a noisy café.", by="anna")
    assert project.memo("segment", segment.id) == "Angry: ask about the helpline in round 2."
    history = project.memo_history("segment", segment.id)
    assert [(m.text, m.by) for m in history] == [
        ("Angry here: ask about the helpline.", "anna"),
        ("Angry: ask about the helpline in round 2.", "lars"),
    ]
    project.set_memo("segment", segment.id, "Angry: ask about the helpline in round 2.", by="x")
    assert len(project.memo_history("segment", segment.id)) == 2  # the same text: not again
    assert {(m.kind, m.text) for m in project.memos()} == {
        ("segment", "Angry: ask about the helpline in round 2."),
        ("code", "Merge with Waiting?"),
        ("interview", "Recorded in a noisy café."),
    }
    project.set_memo("code", code.id, "", by="anna")  # cleared; its wording stays in history
    assert project.memo("code", code.id) == "" and len(project.memo_history("code", code.id)) == 2
    with pytest.raises(NotFound):
        project.set_memo("interview", "P99", "No such interview.", by="anna")
    with pytest.raises(InvalidInput, match="not a 'turn'"):
        project.set_memo("turn", segment.id, "?", by="anna")


def test_a_damaged_project_folder_gets_a_message_not_a_traceback(tmp_path):
    folder = tmp_path / "study"
    (folder / "project.sqlite").mkdir(parents=True)
    with pytest.raises(ProjectError, match="it is a folder, not a database file"):
        qda.open_project(folder)
    other = qda.create_project(tmp_path / "other")
    with other.transaction() as conn:
        conn.execute(sa.text("UPDATE qda_meta SET value = 'five' WHERE key = 'schema_version'"))
    other.close()
    with pytest.raises(ProjectError, match="schema version is 'five', not a number"):
        qda.open_project(tmp_path / "other")


def test_missing_tables_or_a_foreign_database_say_how_to_restore(tmp_path):
    project = qda.create_project(tmp_path / "study")
    project.close()
    with sqlite3.connect(tmp_path / "study" / DB_FILE) as conn:
        conn.execute("DROP TABLE memos")
    conn.close()
    with pytest.raises(ProjectError, match=r"damaged: the table\(s\) memos are missing") as e:
        qda.open_project(tmp_path / "study")
    assert "qda restore BACKUP FOLDER" in str(e.value)
    (tmp_path / "notes").mkdir()
    with sqlite3.connect(tmp_path / "notes" / DB_FILE) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.close()
    before = (tmp_path / "notes" / DB_FILE).read_bytes()
    with pytest.raises(ProjectError, match="a database of another program, not a qda project"):
        qda.open_project(tmp_path / "notes")
    assert (tmp_path / "notes" / DB_FILE).read_bytes() == before  # no qda tables added


def test_a_full_disk_rolls_the_change_back_with_a_message(tmp_path):
    """SQLite's page limit gives the error a full disk gives (SQLITE_FULL)."""
    project = qda.create_project(tmp_path / "study")
    project.save_participant(Participant("P01", "beneficiaries"))
    with project.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @sa.event.listens_for(project.engine, "connect")
    def _small(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 2}")

    project.engine.dispose()
    with pytest.raises(ProjectError, match=r"is full .*not saved and the project is as it was"):
        project.save_participants(
            [Participant(f"P{k:04d}", "staff " + "x" * 500) for k in range(2, 400)]
        )
    assert [p.id for p in project.participants] == ["P01"]


def _read_only_mount(folder: Path):
    """`folder` as a read-only file system (a tmpfs remounted read-only), or None where
    this machine cannot mount one (not root)."""
    import os
    import subprocess

    if os.geteuid() != 0:
        return None
    folder.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "none", str(folder)]).returncode:
        return None
    return folder


def test_a_read_only_project_folder_can_be_read_and_refuses_changes(tmp_path):
    import subprocess

    source = qda.create_project(tmp_path / "study", name="Pilot")
    source.save_participant(Participant("P01", "beneficiaries"))
    source.close()
    mount = _read_only_mount(tmp_path / "ro")
    if mount is None:
        pytest.skip("needs root to mount a read-only file system")
    try:
        shutil.copytree(tmp_path / "study", mount / "study")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        result = CliRunner().invoke(main, ["info", str(mount / "study")])
        assert result.exit_code == 0 and "Pilot" in result.output, result.output
        project = qda.open_project(mount / "study")
        assert [p.id for p in project.participants] == ["P01"]
        with pytest.raises(ProjectError, match="is read-only: nothing was changed"):
            project.save_participant(Participant("P02", "staff"))
        project.close()
        result = CliRunner().invoke(main, ["memo", str(mount / "study"), "--interview", "P01",
                                           "--set", "x"])  # fmt: skip
        assert result.exit_code == 1 and "read-only" in result.output, result.output
    finally:
        subprocess.run(["umount", "-l", str(mount)])  # lazily: a pooled connection may hold it
