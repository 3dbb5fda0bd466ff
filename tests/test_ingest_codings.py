"""Codings CSV: interview, turn, code path, coder."""

from __future__ import annotations

import pytest

from qda.errors import InvalidInputs
from qda.ingest import import_codings_csv
from qda.models import CodingOrigin
from tests.conftest import as_file


def test_codings_are_applied_to_the_right_turns(small_project):
    text = "interview,turn,code,coder\nP01,2,Access barriers/Devices,anna\nP01,3,Access barriers,lars\n"
    assert import_codings_csv(small_project, as_file(text), "c.csv") == 2
    segments = small_project.segments("P01")
    by_segment = {c.segment_id: (c.code_id, c.coder, c.origin) for c in small_project.codings()}
    paths = small_project.code_paths()
    assert by_segment == {
        segments[1].id: (paths["Access barriers/Devices"].id, "anna", CodingOrigin.IMPORTED),
        segments[2].id: (paths["Access barriers"].id, "lars", CodingOrigin.IMPORTED),
    }
    import_codings_csv(small_project, as_file(text), "c.csv")
    assert len(small_project.codings()) == 2  # importing twice adds nothing


def test_bad_rows_are_named_and_nothing_is_applied(small_project):
    text = (
        "interview,turn,code,coder\n"
        "P01,2,Access barriers/Devices,anna\n"
        "P09,1,Access barriers,anna\n"
        "P01,7,Access barriers,anna\n"
        "P01,2,Devices,anna\n"
        "P01,2,Access barriers,\n"
    )
    with pytest.raises(InvalidInputs) as raised:
        import_codings_csv(small_project, as_file(text), "c.csv")
    message = str(raised.value)
    assert "c.csv, line 3, column 'interview': no interview 'P09'" in message
    assert (
        "c.csv, line 4, column 'turn': turn '7' is not a turn of P01 (it has turns 1–3)" in message
    )
    assert "c.csv, line 5, column 'code': no code 'Devices'" in message
    assert "c.csv, line 6, column 'coder': coder is empty" in message
    assert small_project.codings() == []


def test_missing_columns(small_project):
    with pytest.raises(InvalidInputs, match="missing column 'turn'"):
        import_codings_csv(small_project, as_file("interview,code,coder\n"), "c.csv")


def test_odd_turns_open_quotes_and_the_count_of_new_codings(small_project):
    project, interview, code = small_project, "P01", "Access barriers/Devices"
    bad = f"interview,turn,code,coder\n{interview},²,{code},ana\n{interview},1,{code},ana\n"
    with pytest.raises(InvalidInputs, match=r"c.csv, line 2, column 'turn': turn '²'"):
        import_codings_csv(project, as_file(bad), "c.csv")
    unclosed = f'interview,turn,code,coder\n{interview},1,"{code},ana\n{interview},2,{code},ana\n'
    with pytest.raises(InvalidInputs, match=r"u.csv, line 2: a quote"):
        import_codings_csv(project, as_file(unclosed), "u.csv")
    good = f"interview,turn,code,coder\n{interview},1,{code},ana\n{interview},2,{code},ana\n"
    assert import_codings_csv(project, as_file(good), "c.csv") == 2
    again = good + f"{interview},3,{code},ana\n{interview},3,{code},ana\n"
    assert import_codings_csv(project, as_file(again), "c.csv") == 1  # only turn 3 is new
