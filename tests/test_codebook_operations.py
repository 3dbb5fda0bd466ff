"""Codebook operations on a project, diff and merge by GUID, and the codebook CLI."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner

from qda.cli import main
from qda.codebook import Codebook, CodeNode, import_codebook
from qda.codebook.diff import ChangeKind, apply_merge, diff_codebooks, plan_merge
from qda.codebook.formats import read_codebook, write_codebook
from qda.codebook.operations import (
    codebook_of,
    delete_code,
    edit_code,
    merge_codes,
    move_code,
    rename_code,
    split_code,
)
from qda.errors import InvalidInput
from qda.models import Participant, SegmentDraft
from tests.conftest import REPO

A, B, C, D = (f"{n}0000000-0000-4000-8000-000000000000" for n in "abcd")


@pytest.fixture
def coded(project):
    project.save_participant(Participant("P01", "beneficiaries"))
    project.add_interview("P01", [SegmentDraft(f"Turn {i}.", "Ann") for i in range(4)])
    book = Codebook(
        codes=(
            CodeNode(
                "Access", A, "Getting in.", children=(CodeNode("Devices", B), CodeNode("Data", C))
            ),
            CodeNode("Contact", D),
        )
    )
    import_codebook(project, book, by="anna")
    s = project.segments("P01")
    for seg, code in [(s[0], B), (s[1], B), (s[1], C), (s[2], C), (s[3], D)]:
        project.apply_code(seg.id, code, coder="anna")
    return project


def counts(project) -> dict[str, int]:
    out: dict[str, int] = {}
    names = {c.id: c.name for c in project.codes}
    for c in project.codings():
        out[names[c.code_id]] = out.get(names[c.code_id], 0) + 1
    return out


def test_rename_edit_move_are_logged(coded):
    rename_code(coded, B, "Devices and phones", by="lars")
    edit_code(coded, B, definition="No device.", examples=["My phone broke."], by="lars")
    move_code(coded, B, D, by="lars")
    paths = coded.code_paths()
    assert paths["Contact/Devices and phones"].id == B
    assert paths["Contact/Devices and phones"].examples == ("My phone broke.",)
    log = [(c.action, c.by) for c in coded.codebook_changes]
    assert ("rename", "lars") in log and ("move", "lars") in log and ("edit", "lars") in log


def test_merge_moves_codings_without_double_counting(coded):
    assert merge_codes(coded, C, B, by="anna") == 1  # segment 1 had both: one coding kept
    assert counts(coded) == {"Devices": 3, "Contact": 1}
    assert "Access/Data" not in coded.code_paths()
    with pytest.raises(InvalidInput, match="inside"):
        merge_codes(coded, A, B, by="anna")


def test_a_merge_is_undone_with_its_codings_decisions_and_children(coded):
    from qda.codebook.operations import merge_record, undo_merge
    from qda.models import Decision

    s = coded.segments("P01")
    coded.decide_suggestion(s[0].id, C, Decision.REJECTED, by="anna")
    before = sorted((c.segment_id, c.code_id, c.span) for c in coded.codings())
    child = coded.add_code("Mobile data", by="anna", parent_id=C)
    record = merge_record(coded, C, B)
    merge_codes(coded, C, B, by="anna")
    assert coded.code(child.id).parent_id == B
    back = undo_merge(coded, record, by="anna")
    assert (back.id, back.name, back.parent_id) == (C, "Data", A)
    assert sorted((c.segment_id, c.code_id, c.span) for c in coded.codings()) == before
    assert coded.code(child.id).parent_id == C
    assert [(d.segment_id, d.code_id) for d in coded.suggestion_decisions()] == [(s[0].id, C)]
    assert ("undo merge", "anna") in [(c.action, c.by) for c in coded.codebook_changes]
    with pytest.raises(InvalidInput, match="already"):
        undo_merge(coded, record, by="anna")


def test_split_reassigns_chosen_codings(coded):
    codings = [c for c in coded.codings() if c.code_id == B]
    new = split_code(coded, B, ["Phones", "Laptops"], assign={codings[0].id: "Phones"}, by="anna")
    assert [n.name for n in new] == ["Phones", "Laptops"]
    assert counts(coded) == {"Phones": 1, "Devices": 1, "Data": 2, "Contact": 1}
    with pytest.raises(InvalidInput, match="at least two"):
        split_code(coded, D, ["Only one"], by="anna")


def test_delete_refuses_to_drop_codings_silently(coded):
    with pytest.raises(InvalidInput, match="'Access' has 4 codings"):
        delete_code(coded, A, by="anna")
    assert len(coded.codings()) == 5
    delete_code(coded, A, move_codings_to=D, by="anna")
    assert counts(coded) == {"Contact": 4}  # segment 1's two codings become one
    assert list(coded.code_paths()) == ["Contact"]
    delete_code(coded, D, drop_codings=True, by="anna")
    assert coded.codings() == [] and coded.codes == []
    assert coded.codebook_changes[-1].detail == "Contact (4 codings deleted)"


def test_diff_by_guid():
    before = Codebook(
        codes=(
            CodeNode("Access", A, "x", children=(CodeNode("Devices", B),)),
            CodeNode("Contact", D),
        )
    )
    after = Codebook(
        codes=(
            CodeNode("Access", A, "y"),
            CodeNode("Contact", D, children=(CodeNode("Devices and phones", B, colour="#FF0000"),)),
            CodeNode("New", C),
        )
    )
    changes = {(c.kind, c.code_id, c.field) for c in diff_codebooks(before, after)}
    assert changes == {
        (ChangeKind.CHANGED, A, "definition"),
        (ChangeKind.RENAMED, B, ""),
        (ChangeKind.MOVED, B, ""),
        (ChangeKind.CHANGED, B, "colour"),
        (ChangeKind.ADDED, C, ""),
    }
    assert {str(c) for c in diff_codebooks(after, before)} >= {"removed New"}


def test_merge_adds_new_codes_and_applies_only_what_is_taken(coded):
    theirs = codebook_of(coded)
    access = theirs.codes[0]
    theirs = Codebook(
        codes=(
            CodeNode(access.name, A, "Getting in, their wording.", children=(
                CodeNode("Devices (renamed)", B), access.children[1],
                CodeNode("Language", "e0000000-0000-4000-8000-000000000000"))),
            theirs.codes[1],
        )
    )  # fmt: skip
    additions, decisions = plan_merge(coded, theirs)
    assert [a.path for a in additions] == ["Access/Language"]
    assert {d.kind for d in decisions} == {ChangeKind.CHANGED, ChangeKind.RENAMED}
    rename = next(d for d in decisions if d.kind is ChangeKind.RENAMED)
    added, taken = apply_merge(coded, theirs, take={rename.key}, by="lars", source="lars.yaml")
    assert (added, taken) == (1, 1)
    paths = coded.code_paths()
    assert "Access/Devices (renamed)" in paths and "Access/Language" in paths
    assert paths["Access"].definition == "Getting in."  # not taken: ours kept
    assert len(coded.codings()) == 5
    with pytest.raises(InvalidInput, match="no such change"):
        apply_merge(coded, theirs, take={"made-up"}, by="lars")


def test_project_codebook_exports_with_its_sets(coded):
    from qda.codebook import CodeSet

    import_codebook(
        coded,
        Codebook(codes=codebook_of(coded).codes, sets=(CodeSet("Group", "", "", (B, D)),)),
        by="anna",
    )
    buffer = io.BytesIO()
    write_codebook(codebook_of(coded), buffer, "qdc")
    back = read_codebook(io.BytesIO(buffer.getvalue()), "x.qdc")
    assert back.sets[0].members == (B, D)


def test_codebook_cli(tmp_path):
    runner = CliRunner()
    source = REPO / "codebooks" / "digital_access.yaml"
    qdc, csv, back = tmp_path / "a.qdc", tmp_path / "a.csv", tmp_path / "back.yaml"
    assert runner.invoke(main, ["codebook", "convert", str(source), str(qdc)]).exit_code == 0
    assert runner.invoke(main, ["codebook", "convert", str(qdc), str(csv)]).exit_code == 0
    assert runner.invoke(main, ["codebook", "convert", str(csv), str(back)]).exit_code == 0
    with source.open("rb") as f, back.open("rb") as g:
        assert read_codebook(f, "a.yaml").codes == read_codebook(g, "b.yaml").codes
    result = runner.invoke(main, ["codebook", "validate", str(qdc)])
    assert result.exit_code == 0 and "valid, 26 codes (6 themes)" in result.output

    bad = tmp_path / "bad.yaml"
    bad.write_text("codes:\n  - name: A\n    colour: blue\n")
    result = runner.invoke(main, ["codebook", "validate", str(bad)])
    assert (
        result.exit_code == 1
        and "bad.yaml, line 2: colour 'blue' of 'A' is not of the form #RRGGBB" in result.output
    )

    changed = tmp_path / "changed.yaml"
    changed.write_text(
        source.read_text().replace("name: Financial hardship", "name: Money problems")
    )
    result = runner.invoke(main, ["codebook", "diff", str(source), str(changed)])
    assert (
        "renamed Financial hardship → Money problems" in result.output
        and "1 differences" in result.output
    )

    study = tmp_path / "study"
    runner.invoke(main, ["init", str(study)])
    assert (
        "26 codes imported" in runner.invoke(main, ["import-codebook", str(study), str(qdc)]).output
    )
    result = runner.invoke(main, ["codebook", "merge", str(study), str(changed)])
    assert "[keep ours] renamed Financial hardship → Money problems" in result.output
    result = runner.invoke(main, ["codebook", "merge", str(study), str(changed), "--take-all"])
    assert "From changed.yaml: no new codes; 1 of 1 change taken." in result.output
    out = tmp_path / "export.yaml"
    assert runner.invoke(main, ["codebook", "export", str(study), str(out)]).exit_code == 0
    assert "Money problems" in out.read_text()
