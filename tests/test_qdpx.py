"""REFI-QDA project exchange (.qdpx): export valid against Project.xsd, lossless round
trip, every real example file imported with its counts, unsafe zips refused."""

from __future__ import annotations

import io
import zipfile
from collections import Counter

import pytest
from click.testing import CliRunner
from lxml import etree

import qda
from qda.cli import main
from qda.errors import InvalidInput
from qda.models import SegmentDraft, SpeakerRole
from qda.qdpx import export_qdpx, import_qdpx, split_text
from tests.conftest import REPO

SHARED = REPO.parent / "shared" / "refi-qda"  # the official schema and real files (../shared)
NS = {"p": "urn:QDA-XML:project:1.0"}


@pytest.fixture(scope="module")
def project_schema():
    path = SHARED / "xsd" / "Project.xsd"
    if not path.exists():
        pytest.fail(
            f"the REFI-QDA schemas are expected in {path.parent} (../shared beside the repository)"
        )
    return etree.XMLSchema(etree.parse(str(path)))


def exported(project) -> bytes:
    buffer = io.BytesIO()
    export_qdpx(project, buffer)
    return buffer.getvalue()


def qde(data: bytes) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return etree.fromstring(z.read("project.qde"))


def snapshot(project) -> dict:
    """Everything the round trip must keep, in comparable form."""
    segments = {s.id: s for s in project.segments()}
    return {
        "participants": [
            (p.id, p.stakeholder_group, p.pseudonym, sorted(p.attributes.items()))
            for p in project.participants
        ],
        "attribute_types": project.attribute_types,
        "interviews": [
            (i.id, i.participant_id, i.title, i.language, i.status, i.source_name)
            for i in project.interviews
        ],
        "segments": [
            (s.interview_id, s.index, s.text, s.original_text, s.speaker, s.role, s.start, s.end)
            for s in segments.values()
        ],
        "codes": [
            (c.id, c.name, c.parent_id, c.definition, c.include, c.exclude, c.examples, c.colour)
            for c in project.codes
        ],
        "codings": sorted(
            (
                segments[c.segment_id].interview_id,
                segments[c.segment_id].index,
                c.code_id,
                c.coder,
                c.origin,
                c.span,
                c.created_at.replace(microsecond=0),
            )
            for c in project.codings()
        ),
    }


def test_demo_export_validates_and_is_deterministic(demo_copy, project_schema):
    project = qda.open_project(demo_copy)
    data = exported(project)
    root = qde(data)
    assert project_schema.validate(root), project_schema.error_log
    assert data == exported(project)  # same project, same bytes
    assert len(root.findall(".//p:Case", NS)) == 18
    assert len(root.findall(".//p:TextSource", NS)) == 14
    assert len(root.findall(".//p:Coding", NS)) == 88
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.iterfind(".//p:Variable", NS)}
    assert variables["Stakeholder group"] == "Text"
    assert set(variables) - {"Stakeholder group", "Pseudonym"}  # the study's own attributes
    case = root.find(".//p:Case[@name='P01']", NS)
    assert case.find("p:SourceRef", NS) is not None
    group = case.find("p:VariableValue/p:TextValue", NS).text
    assert group == project.participant("P01").stakeholder_group
    # a selection's span is the coded text in the source file
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        source = root.find(".//p:TextSource", NS)
        text = z.read(f"sources/{source.get('guid')}.txt").decode("utf-8")
    selection = source.find("p:PlainTextSelection", NS)
    start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
    assert text[start:end] in {s.text for s in project.segments()}
    users = {u.get("name") for u in root.iterfind(".//p:User", NS)}
    assert users == {c.coder for c in project.codings()}


def test_round_trip_keeps_everything(demo_copy, tmp_path):
    project = qda.open_project(demo_copy)
    project.include_interview("P18", by="anna")  # excluded interviews are left out
    # a corrected segment and a coding of part of a segment must survive too
    first = project.segments("P01")[1]
    project.edit_segment(first.id, first.text + " (corrected)", by="anna")
    code = project.codes[-1]
    project.apply_code(first.id, code.id, coder="anna", span=(0, 5))
    back = qda.create_project(tmp_path / "back")
    report = import_qdpx(back, io.BytesIO(exported(project)), "demo.qdpx", by="anna")
    assert report.codings_read == report.codings_stored == 89
    assert not report.dropped, report.dropped
    assert snapshot(back) == snapshot(project)


def test_an_excluded_interview_is_left_out_of_the_file(demo_copy, tmp_path):
    project = qda.open_project(demo_copy)
    project.exclude_interview("P01", "withdrew consent", by="anna")
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(exported(project))).read("project.qde"))
    sources = {s.get("name") for s in root.iterfind(".//p:TextSource", NS)}
    assert len(sources) == 13 and not any("P01" in name or "P18" in name for name in sources)
    assert len(root.findall(".//p:Coding", NS)) == 88 - len(project.codings(interview_id="P01"))
    back = qda.create_project(tmp_path / "back")
    import_qdpx(back, io.BytesIO(exported(project)), "demo.qdpx", by="anna")
    assert "Market Street" not in " ".join(s.text for s in back.segments())  # P01's words
    result = CliRunner().invoke(main, ["export-qdpx", str(demo_copy), str(tmp_path / "x.qdpx")])
    assert "2 interviews excluded from analysis left out" in result.output


def test_recording_becomes_an_audio_source_in_step_with_the_text(project, project_schema, tmp_path):
    from qda.jobs import add_recording
    from qda.models import Participant
    from tests.conftest import RECORDINGS

    project.save_participant(Participant("P15", "beneficiaries"))
    path = next(RECORDINGS.glob("*.opus"))
    with path.open("rb") as f:
        interview = add_recording(project, "P15", f, path.name)
    project.append_segments(
        interview.id,
        [
            SegmentDraft("Did the code arrive?", "Interviewer", SpeakerRole.INTERVIEWER, 0.0, 2.5),
            SegmentDraft("No, it never did.", "P15", SpeakerRole.PARTICIPANT, 3.1, 5.0),
        ],
    )
    data = exported(project)
    root = qde(data)
    assert project_schema.validate(root), project_schema.error_log
    audio = root.find(".//p:AudioSource", NS)
    points = audio.findall("p:Transcript/p:SyncPoint", NS)
    assert [int(p.get("timeStamp")) for p in points] == [0, 3100]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.read(audio.get("path").replace("internal://", "sources/")) == path.read_bytes()
        text = z.read(f"sources/{root.find('.//p:TextSource', NS).get('guid')}.txt").decode()
    assert text[int(points[1].get("position")) :].startswith("[00:00:03] P15: No, it never did.")
    back = qda.create_project(tmp_path / "back")
    import_qdpx(back, io.BytesIO(data), "x.qdpx", by="anna")
    (again,) = back.interviews
    assert back.media_path(again).read_bytes() == path.read_bytes()
    assert [s.start for s in back.segments()] == [0.0, 3.1]


def test_a_foreign_transcript_with_sync_points_gets_times(project):
    xml = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="x">
  <Sources><AudioSource guid="11111111-1111-1111-1111-111111111111" name="rec">
    <Transcript guid="22222222-2222-2222-2222-222222222222">
      <PlainTextContent>Interviewer: Hello there?

Anna: Hello, I am fine.</PlainTextContent>
      <SyncPoint guid="33333333-3333-3333-3333-333333333333" timeStamp="0" position="0"/>
      <SyncPoint guid="44444444-4444-4444-4444-444444444444" timeStamp="4500" position="27"/>
    </Transcript></AudioSource></Sources></Project>"""
    report = import_qdpx(project, io.BytesIO(xml.encode()), "x.qde", by="anna")
    assert any("recording is not in the file" in d for d in report.dropped)
    s = project.segments()
    assert [(x.speaker, x.role, x.start, x.text) for x in s] == [
        ("Interviewer", SpeakerRole.INTERVIEWER, 0.0, "Hello there?"),
        ("Anna", SpeakerRole.PARTICIPANT, 4.5, "Hello, I am fine."),
    ]


def test_qc_demo_imports_with_its_counts(project):
    path = SHARED / "examples" / "qc__demo__qc1.3.2.qdpx"
    report = import_qdpx(project, path.open("rb"), path.name, by="anna")
    assert (report.codes, report.selections, report.codings_read) == (262, 158, 205)
    assert report.codings_stored == 205 == len(project.codings())
    assert len(project.codes) == 262 and report.interviews == 2
    assert {i.id for i in project.interviews} == {"board_2017", "admin-1"}
    assert {c.coder for c in project.codings()} == {"cp"}
    # every selection inside one turn is stored with exactly the text it selected
    archive = zipfile.ZipFile(path)
    root = etree.fromstring(archive.read("project.qde"))
    text = archive.read("sources/board_2017.txt").decode("utf-8")
    pieces = split_text(text)
    segments = project.segments("board_2017")
    assert [s.text for s in segments] == [text[a:b] for a, b, _, _ in pieces]
    stored = Counter(
        (c.segment_id, c.span, c.code_id) for c in project.codings(interview_id="board_2017")
    )
    inside = 0
    for sel in root.iterfind(".//p:PlainTextSelection", NS):
        start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
        k = next((k for k, (a, b, _, _) in enumerate(pieces) if a <= start and end <= b), None)
        if k is None:
            continue
        inside += 1
        a, b = pieces[k][:2]
        span = None if (start, end) == (a, b) else (start - a, end - a)
        for coding in sel.findall("p:Coding", NS):
            code = coding.find("p:CodeRef", NS).get("targetGUID").lower()
            assert stored[(segments[k].id, span, code)] == 1
    assert inside > 100


def test_every_example_file_imports(tmp_path):
    expected = {  # file: (codes, interviews, codings)
        "qc__demo__qc1.3.2.qdpx": (262, 2, 205),
        "qc__nvivo_project__NVivoMac15.qdpx": (262, 0, 0),  # NVivo wrote its sources empty
        "refi-tools__valid-document__f4-2025.2.9.qde": (1, 0, 0),  # the XML without sources
    }
    for name, (codes, interviews, codings) in expected.items():
        project = qda.create_project(tmp_path / name)
        report = import_qdpx(project, (SHARED / "examples" / name).open("rb"), name, by="anna")
        assert (len(project.codes), len(project.interviews), len(project.codings())) == (
            codes, interviews, codings,
        ), (name, report.lines())  # fmt: skip
        if interviews == 0:
            assert report.dropped  # each source left out is named, with the reason
    f4 = [d for d in report.dropped if "not in the file" in d]
    assert len(f4) == 4 and "Interview 60mins" in " ".join(f4)


def _zip(members: dict[str, bytes], compress=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compress) as z:
        for name, data in members.items():
            z.writestr(name, data)
    buffer.seek(0)
    return buffer


MINIMAL = b'<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>'


@pytest.mark.parametrize(
    "members, message",
    [
        ({"project.qde": MINIMAL, "../../evil.txt": b"x"}, "outside the project folder"),
        ({"project.qde": MINIMAL, "/etc/evil.txt": b"x"}, "outside the project folder"),
        ({"project.qde": MINIMAL, "sources/bomb.txt": b"\0" * 50_000_000}, "zip bomb"),
        ({"sources/a.txt": b"text"}, "holds no project.qde"),
        (
            {"project.qde": b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Project name="x">&a;</Project>'},
            "DTD or entities",
        ),
    ],
)
def test_unsafe_or_broken_files_are_refused_and_change_nothing(small_project, members, message):
    before = snapshot(small_project)
    with pytest.raises(InvalidInput, match=message):
        import_qdpx(small_project, _zip(members), "bad.qdpx", by="anna")
    assert snapshot(small_project) == before


def test_a_failing_import_leaves_the_project_as_it_was(small_project, demo_copy):
    data = exported(qda.open_project(demo_copy))
    small_project.define_attribute("site", qda.models.AttributeType.DATE)
    before = snapshot(small_project)
    with pytest.raises(InvalidInput, match="Leeds"):  # the demo's site is text: nothing written
        import_qdpx(small_project, io.BytesIO(data), "demo.qdpx", by="anna")
    assert snapshot(small_project) == before


def test_split_text_turns_and_paragraphs():
    text = "[00:00:05] Interviewer: How are you?\n\nAnna: Fine,\nthanks.\n"
    pieces = split_text(text)
    assert [(text[a:b], who, t) for a, b, who, t in pieces] == [
        ("How are you?", "Interviewer", 5.0),
        ("Fine,\nthanks.", "Anna", None),
    ]
    prose = "First paragraph.\n\nSecond one,\nstill second.\n\n\nThird."
    assert [prose[a:b] for a, b, _, _ in split_text(prose)] == [
        "First paragraph.",
        "Second one,\nstill second.",
        "Third.",
    ]


def test_cli_export_and_import(demo_copy, tmp_path):
    out = tmp_path / "study.qdpx"
    result = CliRunner().invoke(main, ["export-qdpx", str(demo_copy), str(out)])
    assert result.exit_code == 0, result.output
    assert "18 cases, 14 text sources" in result.output and "88 codings" in result.output
    result = CliRunner().invoke(main, ["import-qdpx", str(out), str(tmp_path / "copy")])
    assert result.exit_code == 0, result.output
    assert "88 codings stored" in result.output
    assert "variable 'Stakeholder group'" in result.output
    result = CliRunner().invoke(
        main, ["import-qdpx", str(out), str(tmp_path / "c2"), "--group", "nope"]
    )
    assert result.exit_code == 1 and "no case variable 'nope'" in result.output
