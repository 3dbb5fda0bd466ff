"""Codebook files: REFI-QDA .qdc (strict out, lenient in), CSV, YAML; round trips."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from lxml import etree

from qda.codebook import Codebook, CodeNode, CodeSet
from qda.codebook.formats import read_codebook, write_codebook
from qda.codebook.qdc import normalise_colour, parse_description, read_qdc
from qda.errors import InvalidInput, InvalidInputs
from qda.models import CodebookInfo
from tests.conftest import REPO, as_file

SHARED = REPO.parent / "shared" / "refi-qda"  # the official schemas and real files, beside the repo


class _Schema:
    """Codebook.xsd, loaded on first use (with a clear failure when ../shared is absent)."""

    _schema = None

    def validate(self, document) -> bool:
        if self._schema is None:
            path = SHARED / "xsd" / "Codebook.xsd"
            if not path.exists():
                pytest.fail(
                    f"the REFI-QDA schemas are expected in {path.parent} (../shared beside the repository)"
                )
            type(self)._schema = etree.XMLSchema(etree.parse(str(path)))
        return self._schema.validate(document)

    @property
    def error_log(self):
        return self._schema.error_log if self._schema is not None else ""


CODEBOOK_XSD = _Schema()

FULL = Codebook(
    info=CodebookInfo(title="Every field", version="2.1", language="da", authors=("A", "B")),
    codes=(
        CodeNode(
            "Theme",
            "0b6b3f0e-4b53-4c0e-9a53-2f9b0a1c7e11",
            "A theme.\n\nWith two paragraphs.",
            "When it is about the theme",
            "When it is not",
            ("first quote", 'a "quoted" one'),
            "#A1B2C3",
            (
                CodeNode(
                    "Code",
                    "1c6b3f0e-4b53-4c0e-9a53-2f9b0a1c7e12",
                    "A code: with a colon.",
                    examples=("værdifællesskaber",),
                    children=(
                        CodeNode(
                            "Sub-code",
                            "2d6b3f0e-4b53-4c0e-9a53-2f9b0a1c7e13",
                            "Third level.",
                            colour="#00FF00",
                        ),
                    ),
                ),
                CodeNode("Other", "3e6b3f0e-4b53-4c0e-9a53-2f9b0a1c7e14"),
            ),
        ),
        CodeNode(
            "Second theme", "4f6b3f0e-4b53-4c0e-9a53-2f9b0a1c7e15", "Top level.", colour="#123456"
        ),
    ),
    sets=(
        CodeSet(
            "Group",
            "5a6b3f0e-4b53-4c0e-9a53-2f9b0a1c7e16",
            "A set",
            ("3e6b3f0e-4b53-4c0e-9a53-2f9b0a1c7e14", "4f6b3f0e-4b53-4c0e-9a53-2f9b0a1c7e15"),
        ),
    ),
)


def written(book: Codebook, fmt: str) -> bytes:
    buffer = io.BytesIO()
    write_codebook(book, buffer, fmt)
    return buffer.getvalue()


def test_qdc_export_is_valid_and_deterministic():
    data = written(FULL, "qdc")
    assert CODEBOOK_XSD.validate(etree.fromstring(data)), CODEBOOK_XSD.error_log
    assert data == written(FULL, "qdc")
    root = etree.fromstring(data)
    assert root.nsmap[None] == "urn:QDA-XML:codebook:1.0"
    assert b"<Sets>" in data and b"<Sets/>" not in data
    no_sets = written(Codebook(codes=FULL.codes), "qdc")
    assert b"Sets" not in no_sets and CODEBOOK_XSD.validate(etree.fromstring(no_sets))


def test_codes_without_guids_get_stable_ones_in_qdc():
    book = Codebook(codes=(CodeNode("A", "not-a-guid", children=(CodeNode("B"),)),))
    first, second = written(book, "qdc"), written(book, "qdc")
    assert first == second and CODEBOOK_XSD.validate(etree.fromstring(first))


@pytest.mark.parametrize("fmt", ["yaml", "qdc", "csv"])
def test_round_trips_keep_every_field_the_format_holds(fmt):
    back = read_codebook(io.BytesIO(written(FULL, fmt)), f"x.{fmt}")
    assert (
        back.codes == FULL.codes
    )  # names, ids, definitions, include/exclude, examples, colours, 3 levels
    if fmt in ("yaml", "qdc"):
        assert back.sets == FULL.sets
    if fmt == "yaml":
        assert back.info == FULL.info


def test_yaml_to_qdc_to_yaml_and_yaml_to_csv_to_yaml():
    yaml_bytes = written(FULL, "yaml")
    via_qdc = read_codebook(
        io.BytesIO(written(read_codebook(io.BytesIO(yaml_bytes), "a.yaml"), "qdc")), "b.qdc"
    )
    via_csv = read_codebook(
        io.BytesIO(written(read_codebook(io.BytesIO(yaml_bytes), "a.yaml"), "csv")), "b.csv"
    )
    assert via_qdc.codes == FULL.codes == via_csv.codes


def test_description_text_reads_back_and_plain_text_stays_a_definition():
    assert parse_description("Just a note from NVivo.")["definition"] == "Just a note from NVivo."
    fields = parse_description(
        'Def.\n\nWhen to use: x\n\nWhen not to use: y\n\nExamples:\n- "q1"\n- "q2"'
    )
    assert fields == {
        "definition": "Def.",
        "include": "x",
        "exclude": "y",
        "examples": ("q1", "q2"),
    }


@pytest.mark.parametrize(
    ("name", "codes", "trees"),
    [
        ("qc__demo__qc1.3.2.qdpx", 262, 3),
        ("qc__nvivo_project__NVivoMac15.qdpx", 262, 3),
        ("refi-tools__valid-document__f4-2025.2.9.qde", 1, 1),
        ("requal-test__ATLAS.ti-Win-23.4.0__codebook-snippet.qdc", 1, 1),
        ("taguette1.5.2__SERDIF_usability_codebook.qdc", 22, 22),
        ("taguette1.5.2__mannheimer_BSR_sample_codebook.qdc", 6, 6),
    ],
)
def test_real_files_from_other_tools_import(name, codes, trees):
    with (SHARED / "examples" / name).open("rb") as f:
        book = read_codebook(f, name)
    assert (len(book.walk()), len(book.codes)) == (codes, trees)
    assert book.report.kept == codes
    again = read_codebook(io.BytesIO(written(book, "qdc")), "again.qdc")
    assert again.codes == book.codes


def test_atlas_code_group_and_colour_and_description():
    with (SHARED / "examples" / "requal-test__ATLAS.ti-Win-23.4.0__codebook-snippet.qdc").open(
        "rb"
    ) as f:
        book = read_qdc(f)
    (code,) = book.codes
    assert (code.name, code.colour, code.definition) == ("code1", "#46AA00", "description")
    assert book.sets[0].name == "code group 1" and book.sets[0].members == (code.id,)


def test_lenient_reading_reports_what_it_fixed_and_dropped():
    qdc = b"""<?xml version="1.0"?>
<CodeBook xmlns="urn:QDA-XML:codebook:0:4"><Codes>
 <Code name="Nodes" guid="{AAAAAAAA-0000-0000-0000-000000000001}" isCodable="false">
  <Code name="A" guid="x1" isCodable="true" color="#abc"/>
  <Code name="B/C" isCodable="true" color="rgb(255, 0, 16)"/>
  <Code guid="BBBBBBBB-0000-0000-0000-000000000002" isCodable="true"/>
 </Code></Codes><Sets/></CodeBook>"""
    book = read_qdc(io.BytesIO(qdc), "nvivo.qdc")
    assert [c.name for c in book.codes] == ["A", "B-C"]
    assert [c.colour for c in book.codes] == ["#AABBCC", "#FF0010"]
    text = "\n".join(book.report.lines())
    assert "non-codable root 'Nodes'" in text
    assert "'A': id 'x1' is not a GUID" in text
    assert "'/' replaced" in text
    assert "dropped: a code without a name" in text


def test_colour_notations():
    assert [normalise_colour(c) for c in ("#a1b2c3", "A1B2C3", "#abc", "#A1B2C3FF", "rgb(1,2,3)", "16711680", "red")] == [
        "#A1B2C3", "#A1B2C3", "#AABBCC", "#A1B2C3", "#010203", "#FF0000", None,
    ]  # fmt: skip


def test_hostile_xml_is_refused():
    laughs = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code name="&lol3;" guid="AAAAAAAA-0000-0000-0000-000000000001" isCodable="true"/></Codes></CodeBook>"""
    xxe = b"""<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code name="&x;" guid="AAAAAAAA-0000-0000-0000-000000000001" isCodable="true"/></Codes></CodeBook>"""
    for name, data in [("laughs.qdc", laughs), ("xxe.qdc", xxe)]:
        with pytest.raises(InvalidInput) as raised:
            read_qdc(io.BytesIO(data), name)
        assert str(raised.value).startswith(f"{name}: refused: the file declares a DTD or entities")


def test_broken_xml_and_wrong_root():
    with pytest.raises(InvalidInput, match=r"bad\.qdc, line 1: not well-formed XML"):
        read_qdc(io.BytesIO(b"<CodeBook><Codes>"), "bad.qdc")
    with pytest.raises(InvalidInput, match="the root element is <html>"):
        read_qdc(io.BytesIO(b"<html/>"), "page.qdc")


def test_csv_errors_name_the_row_and_missing_themes_are_added():
    text = "path,definition,colour\nA/B,x,\nA//C,y,\nD,z,red\nD,w,\n"
    with pytest.raises(InvalidInputs) as raised:
        read_codebook(as_file(text), "c.csv")
    message = str(raised.value)
    assert "c.csv, line 3, column 'path': path is empty or has an empty part" in message
    assert "c.csv, line 4, column 'colour': colour 'red' is not #RRGGBB" in message
    book = read_codebook(as_file("path,definition\nTheme/Code,x\n"), "c.csv")
    assert [p for p, _ in book.walk()] == ["Theme", "Theme/Code"]
    assert "added the theme 'Theme'" in book.report.fixed[0]


def test_csv_cells_cannot_run_as_formulas():
    book = Codebook(codes=(CodeNode("=HYPERLINK(1)", definition="+cmd", examples=("-x", "@y")),))
    data = written(book, "csv").decode()
    assert "'=HYPERLINK(1)" in data and "'+cmd" in data
    assert read_codebook(io.BytesIO(data.encode()), "c.csv").codes[0].name == "=HYPERLINK(1)"


def test_unknown_extension():
    with pytest.raises(InvalidInput, match=r"unknown codebook format '\.docx'"):
        read_codebook(io.BytesIO(b""), "codes.docx")


SHIPPED = sorted((REPO / "codebooks").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_codebooks_are_valid(path: Path):
    import jsonschema

    schema = json.loads((REPO / "codebooks" / "codebook.schema.json").read_text())
    data = yaml.safe_load(path.read_text())
    for entry in data.get("changelog", []):
        entry["at"] = str(entry["at"])
    jsonschema.validate(data, schema)
    with path.open("rb") as f:
        book = read_codebook(f, path.name)
    assert len(book.codes) >= 5 and all(c.children for c in book.codes)
    assert all(n.definition for _, n in book.walk())
    assert CODEBOOK_XSD.validate(etree.fromstring(written(book, "qdc")))


def test_at_least_three_codebooks_ship():
    names = {p.stem for p in SHIPPED}
    assert {"service_experience", "codesign_workshop", "value_communities"} <= names


QDC_NOT_CODABLE = b"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="MAXQDA">
  <Codes>
    <Code guid="11111111-1111-4111-8111-111111111111" name="Barriers" isCodable="false">
      <Code guid="22222222-2222-4222-8222-222222222222" name="Login" isCodable="true"/>
    </Code>
    <Code guid="33333333-3333-4333-8333-333333333333" name="Support" isCodable="true"/>
  </Codes>
</CodeBook>"""


def test_a_code_marked_not_codable_stays_not_codable(project):
    import qda
    from qda.codebook import import_codebook
    from qda.codebook.operations import codebook_of
    from qda.models import Participant, SegmentDraft

    book = read_codebook(io.BytesIO(QDC_NOT_CODABLE), "maxqda.qdc")
    assert [(n.name, n.codable) for n in book.codes] == [("Barriers", False), ("Support", True)]
    import_codebook(project, book, by="anna")
    paths = project.code_paths()
    assert not paths["Barriers"].codable and paths["Barriers/Login"].codable
    project.save_participant(Participant("P01", "staff"))
    project.add_interview("P01", [SegmentDraft("I could not log in.", "Ann")])
    segment = project.segments("P01")[0]
    with pytest.raises(InvalidInput, match="'Barriers' is not codable"):
        project.apply_code(segment.id, paths["Barriers"].id, coder="anna")
    project.apply_code(segment.id, paths["Barriers/Login"].id, coder="anna")
    # written back out, in every format that can say so
    for fmt in ("qdc", "yaml"):
        out = io.BytesIO()
        write_codebook(codebook_of(project), out, fmt)
        again = read_codebook(io.BytesIO(out.getvalue()), f"book.{fmt}")
        assert [(n.name, n.codable) for n in again.codes] == [
            ("Barriers", False),
            ("Support", True),
        ], fmt
    assert qda.open_project(project.root).code_paths()["Barriers"].codable is False


def test_codable_in_yaml_must_be_true_or_false():
    with pytest.raises(InvalidInput, match="'codable' of 'Barriers' must be true or false") as e:
        read_codebook(io.BytesIO(b"codes:\n  - name: Barriers\n    codable: maybe\n"), "b.yaml")
    assert e.value.line == 2


def test_csv_refuses_one_id_on_two_rows_and_paths_deeper_than_a_codebook():
    same = "path,id\nA,x-1\nB,X-1\n"
    with pytest.raises(InvalidInputs, match=r"c.csv, line 3, column 'id': id X-1 is also the id"):
        read_codebook(as_file(same), "c.csv")
    deep = "path\n" + "/".join(f"L{k}" for k in range(30)) + "\n"
    with pytest.raises(InvalidInputs, match="line 2, column 'path': the path is 30 levels deep"):
        read_codebook(as_file(deep), "c.csv")


def test_csv_reading_keeps_file_order_and_is_linear():
    rows = ["path,definition"] + [f"T{t}/C{c},d" for t in range(60) for c in range(100)]
    book = read_codebook(as_file("\n".join(rows) + "\n"), "big.csv")
    paths = [p for p, _ in book.walk()]
    assert len(paths) == 6060 and paths[:3] == ["T0", "T0/C0", "T0/C1"]
    assert paths[-1] == "T59/C99" and len(book.report.fixed) == 60


def test_qdc_nested_deeper_than_a_codebook_is_refused():
    inner = "".join(f'<Code guid="" name="L{k}" isCodable="true">' for k in range(300))
    xml = (
        '<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        + inner
        + "</Code>" * 300
        + "</Codes></CodeBook>"
    )
    with pytest.raises(InvalidInput, match="nested deeper than a codebook can be"):
        read_qdc(io.BytesIO(xml.encode()), "deep.qdc")
