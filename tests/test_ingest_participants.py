"""Participants CSV: typed attributes, encodings, and errors that name the place."""

from __future__ import annotations

import datetime as dt

import pytest

from qda.errors import InvalidInput, InvalidInputs
from qda.ingest import import_participants, read_participants_csv
from qda.ingest.participants import save_edited_participants
from qda.models import AttributeType
from tests.conftest import as_file

GOOD = """participant_id,pseudonym,stakeholder_group,site,age,interview_date,score:text
P01,Maureen,beneficiaries,Leeds,71,2026-03-02,12
P02,Dev,beneficiaries,Leeds,29,2026-03-03,7
P03,Aisha,frontline staff,Leeds,,2026-03-05,
"""


def test_columns_become_typed_attributes(project):
    table = read_participants_csv(as_file(GOOD), "p.csv")
    assert table.attribute_types == {
        "site": AttributeType.TEXT,
        "age": AttributeType.NUMBER,
        "interview_date": AttributeType.DATE,
        "score": AttributeType.TEXT,  # the header fixed the type
    }
    assert import_participants(project, table) == 3
    p1, _, p3 = project.participants
    assert p1.pseudonym == "Maureen" and p1.stakeholder_group == "beneficiaries"
    assert p1.attributes == {
        "site": "Leeds",
        "age": 71.0,
        "interview_date": dt.date(2026, 3, 2),
        "score": "12",
    }
    assert "age" not in p3.attributes  # empty cell = unknown


def test_semicolons_bom_and_decimal_commas(project):
    data = "\ufeffparticipant_id;stakeholder_group;hours\nP01;specialists;3,5\n".encode()
    table = read_participants_csv(as_file(data.decode()), "excel.csv")
    import_participants(project, table)
    assert project.participants[0].attributes == {"hours": 3.5}


def test_latin1_file_is_read_with_a_warning(project):
    text = "participant_id,stakeholder_group,site\nP17,allied organisations,Lille\nP18,x,Køge\n"
    table = read_participants_csv(as_file(text, "latin-1"), "latin.csv")
    assert table.participants[1].attributes["site"] == "Køge"
    assert "not UTF-8" in table.warnings[0] and "line 3" in table.warnings[0]


def test_transcript_file_column_links_files(project):
    text = "participant_id,stakeholder_group,transcript_file\nP01,a,interview one.txt\n"
    table = read_participants_csv(as_file(text), "p.csv")
    assert table.transcript_files == {"interview one.txt": "P01"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,stakeholder_group\nP01,a\n", "p.csv, line 1: missing column 'participant_id'"),
        (
            "participant_id,stakeholder_group\nP01,a\nP02,b\nP01,c\n",
            "p.csv, line 4, column 'participant_id': participant_id 'P01' also appears on line 2",
        ),
        (
            "participant_id,stakeholder_group\nP01,\n",
            "p.csv, line 2, column 'stakeholder_group': participant 'P01' has no stakeholder group",
        ),
        (
            "participant_id,stakeholder_group,age:number\nP01,a,seventy\n",
            "p.csv, line 2, column 'age': 'seventy' is not a number",
        ),
        (
            "participant_id,stakeholder_group,born:date\nP01,a,02/03/1955\n",
            "p.csv, line 2, column 'born': '02/03/1955' is not a date in the form YYYY-MM-DD",
        ),
        ("participant_id,stakeholder_group\nP01,a,extra\n", "p.csv, line 2: 3 cells"),
        ("participant_id,stakeholder_group,age:years\n", "unknown attribute type 'years'"),
        ("", "p.csv: the file is empty"),
        ("participant_id,stakeholder_group\n", "no participant rows"),
    ],
)
def test_bad_files_name_line_and_column_and_change_nothing(project, text, expected):
    with pytest.raises(InvalidInputs) as raised:
        table = read_participants_csv(as_file(text), "p.csv")
        import_participants(project, table)
    assert expected in str(raised.value)
    assert "nothing was changed" in str(raised.value)
    assert project.participants == []


def test_all_problems_are_reported_at_once():
    text = "participant_id,stakeholder_group,age:number\nP01,,70\n,a,1\nP03,a,x\n"
    with pytest.raises(InvalidInputs) as raised:
        read_participants_csv(as_file(text), "p.csv")
    assert [e.line for e in raised.value.errors] == [2, 3, 4]


def test_reimport_updates_and_keeps_types(project):
    import_participants(project, read_participants_csv(as_file(GOOD), "p.csv"))
    update = "participant_id,stakeholder_group,age\nP03,specialists,\n"
    was = project.participants[2].stakeholder_group
    before = project.participants
    with pytest.raises(InvalidInput) as refused:
        import_participants(project, read_participants_csv(as_file(update), "p2.csv"))
    assert f"P03: stakeholder group {was} → specialists" in str(refused.value)
    assert "--update" in str(refused.value) and project.participants == before
    import_participants(project, read_participants_csv(as_file(update), "p2.csv"), update=True)
    assert project.attribute_types["age"] is AttributeType.NUMBER
    assert project.participants[2].stakeholder_group == "specialists"
    assert len(project.participants) == 3


def test_type_conflict_with_the_project_is_refused_whole(project):
    import_participants(project, read_participants_csv(as_file(GOOD), "p.csv"))
    before = project.participants
    clash = "participant_id,stakeholder_group,age\nP09,a,very old\n"
    with pytest.raises(InvalidInput) as raised:
        import_participants(project, read_participants_csv(as_file(clash), "clash.csv"))
    assert str(raised.value).startswith("clash.csv, line 1, column 'age': attribute 'age' is")
    assert project.participants == before


def test_many_rows(project):
    rows = "".join(f"P{i:05d},group {i % 4},{i % 90}\n" for i in range(5000))
    table = read_participants_csv(
        as_file("participant_id,stakeholder_group,age\n" + rows), "big.csv"
    )
    assert import_participants(project, table) == 5000
    assert len(project.participants) == 5000


def test_table_edits_are_checked_by_row_and_clear_emptied_cells(project):
    import_participants(project, read_participants_csv(as_file(GOOD), "p.csv"))
    records = [
        {
            "participant_id": p.id,
            "pseudonym": p.pseudonym,
            "stakeholder_group": p.stakeholder_group,
            **p.attributes,
        }
        for p in project.participants
    ]
    records[0]["age"] = float("nan")  # emptied in the table
    records[1]["stakeholder_group"] = "specialists"
    assert save_edited_participants(project, records) == 3
    p1, p2, _ = project.participants
    assert "age" not in p1.attributes and p1.attributes["site"] == "Leeds"
    assert p2.stakeholder_group == "specialists"
    assert p2.attributes["interview_date"] == dt.date(2026, 3, 3)

    records[2]["stakeholder_group"] = None
    records[1]["age"] = "old"
    with pytest.raises(InvalidInputs) as raised:
        save_edited_participants(project, records)
    message = str(raised.value)
    assert "participants table, row 2, column 'age': 'old' is not a number" in message
    assert "participants table, row 3, column 'stakeholder_group'" in message
    assert project.participants[2].stakeholder_group == "frontline staff"


def test_a_word_file_sent_as_participants_is_called_a_word_file(project):
    import io

    from docx import Document

    from qda.ingest import read_participants_csv

    buffer = io.BytesIO()
    Document().save(buffer)
    buffer.seek(0)
    with pytest.raises(InvalidInput, match=r"people\.csv: this is a Word document, not a CSV file"):
        read_participants_csv(buffer, "people.csv")


def test_identifiers_made_of_digits_stay_text_and_huge_numbers_are_refused(project):
    text = (
        "participant_id,stakeholder_group,phone,case_no,cpr,age,big:number\n"
        "P01,a,+4520123456,004520123456,1234567890123456789,41,1\n"
        "P02,b,+4531313131,000123,9999999999999999999,7," + "9" * 400 + "\n"
    )
    with pytest.raises(InvalidInputs, match=r"line 3, column 'big': '9999.* has more digits"):
        read_participants_csv(as_file(text), "ids.csv")
    table = read_participants_csv(as_file(text.replace("9" * 400, "2")), "ids.csv")
    types = table.attribute_types
    assert types["phone"] is types["case_no"] is types["cpr"] is AttributeType.TEXT
    assert types["age"] is AttributeType.NUMBER
    first = table.participants[0].attributes
    assert first["case_no"] == "004520123456" and first["cpr"] == "1234567890123456789"


def test_huge_cells_open_quotes_and_control_characters(project):
    huge = "participant_id,stakeholder_group,note\nP01,a," + "x" * 200_000 + "\n"
    with pytest.raises(InvalidInputs, match=r"huge.csv, line 2: cell 3 is 200,000 characters"):
        read_participants_csv(as_file(huge), "huge.csv")
    rows = "".join(f"P{k:02d},a,fine\n" for k in range(3, 40))
    unclosed = 'participant_id,stakeholder_group,note\nP01,a,ok\nP02,a,"never closed\n' + rows
    with pytest.raises(InvalidInputs, match=r"open.csv, line 3: a quote \(\"\) opened"):
        read_participants_csv(as_file(unclosed), "open.csv")
    dirty = "participant_id,stakeholder_group,note\nP01,a,ok\nP02,b\x00\x1b[31m,x\x07y\n"
    table = read_participants_csv(as_file(dirty), "dirty.csv")
    assert table.participants[1].stakeholder_group == "b[31m"
    assert table.participants[1].attributes["note"] == "xy"
    assert any("removed 3 control character(s)" in w and "line 3" in w for w in table.warnings)
