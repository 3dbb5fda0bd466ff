"""Cross-tab exports open in the libraries that read them, and say what they hold."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from qda.analysis import Measure, crosstab
from qda.cells import safe_cell
from qda.cli import main
from qda.export import TABLE_WRITERS, build_report, write_table


@pytest.fixture(scope="module")
def report(demo_path):
    import qda

    project = qda.open_project(demo_path)
    return build_report(project, crosstab(project))


def written(report, fmt: str) -> bytes:
    buffer = io.BytesIO()
    write_table(report, fmt, buffer)
    return buffer.getvalue()


def test_csv_reads_back_with_counts_percentages_and_the_definition(report):
    rows = list(csv.reader(io.StringIO(written(report, "csv").decode())))
    assert rows[0][:3] == ["code", "allied organisations", "allied organisations %"]
    access = next(r for r in rows if r[0] == "Access barriers")
    beneficiaries = rows[0].index("beneficiaries")
    assert access[beneficiaries : beneficiaries + 2] == ["4", "100.0"]
    # 6 of the demo's 14 interviews are coded: only those count, and the file says so
    about = next(r[0] for r in rows if r and r[0].startswith("Each cell"))
    assert "percentage of the column's participants with a coded interview" in about
    assert "Only coded interviews count: 8 interviews not coded yet (P04, P06, P07" in about
    assert "Not coded yet: allied organisations." in about


def test_csv_cells_cannot_run_as_formulas():
    assert [safe_cell(v) for v in ["=1+1", "+A1", "-2", "@SUM(A1)", "plain", 3]] == [
        "'=1+1", "'+A1", "'-2", "'@SUM(A1)", "plain", 3,
    ]  # fmt: skip


def test_xlsx_has_the_table_quotes_and_what_the_numbers_mean(report):
    book = load_workbook(io.BytesIO(written(report, "xlsx")))
    assert book.sheetnames == ["Cross-tab", "Quotes", "About"]
    sheet = book["Cross-tab"]
    assert sheet["A2"].value == "Access barriers" and sheet["A2"].font.bold
    header = [c.value for c in sheet[1]]
    column = header.index("beneficiaries (n=4)") + 1
    assert sheet.cell(2, column).value == 4 and sheet.cell(2, column + 1).value == 1.0
    assert sheet.cell(2, column + 1).number_format == "0.0%"
    assert sheet.conditional_formatting  # the colour scale
    quotes = list(book["Quotes"].values)
    assert quotes[0][:3] == ("theme", "stakeholder_group", "participant")
    assert len(quotes) > 10
    about = dict(book["About"].values)
    assert "participants with a coded interview" in about["What the numbers mean"]
    assert header[1] == "allied organisations (not coded yet)"
    assert about["Codebook"] == "Digital access to public services, version 1.0"
    assert about["Filters"] == "participant speech only"


def test_markdown_docx_and_png(report):
    md = written(report, "md").decode()
    assert "| **Access barriers** | 0 (0.0%) | 4 (100.0%) |" in md
    doc = Document(io.BytesIO(written(report, "docx")))
    assert doc.tables[0].rows[0].cells[2].text == "beneficiaries (n=4)"
    assert len(doc.inline_shapes) == 1  # the heatmap
    paragraphs = [p.text for p in doc.paragraphs]
    assert "Exemplar quotes" in paragraphs
    assert any(p.startswith("“") and "—" in p for p in paragraphs)
    image = Image.open(io.BytesIO(written(report, "png")))
    assert image.format == "PNG" and image.width > 500


def test_words_have_no_percentages(demo_path):
    import qda

    project = qda.open_project(demo_path)
    words = build_report(project, crosstab(project, measure=Measure.WORDS))
    rows = list(csv.reader(io.StringIO(written(words, "csv").decode())))
    assert rows[0][:3] == ["code", "allied organisations", "beneficiaries"]
    assert set(TABLE_WRITERS) == {"csv", "xlsx", "md", "docx", "png"}


def test_cli_crosstab_and_quotes(demo_path, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["crosstab", str(demo_path), "--count", "segments"])
    assert result.exit_code == 0 and result.output.startswith("code,allied organisations,")
    out = tmp_path / "t.xlsx"
    assert (
        runner.invoke(
            main, ["crosstab", str(demo_path), "--by", "site", "--format", "xlsx", "-o", str(out)]
        ).exit_code
        == 0
    )
    assert load_workbook(out)["Cross-tab"]["B1"].value == "Aarhus (n=1)"  # P09 coded
    result = runner.invoke(main, ["crosstab", str(demo_path), "--by", "shoe_size"])
    assert result.exit_code == 2 and "no participant attribute 'shoe_size'" in result.output
    result = runner.invoke(
        main, ["quotes", str(demo_path), "--code", "Staff workload", "--group", "frontline staff"]
    )
    assert result.exit_code == 0 and result.output.count("Aisha (frontline staff), P03") == 3


def test_word_reports_are_on_a4_unless_the_locale_prints_on_letter(report, monkeypatch):
    from docx.shared import Cm, Inches

    monkeypatch.setenv("LC_PAPER", "en_GB.UTF-8")
    section = Document(io.BytesIO(written(report, "docx"))).sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01)  # stored in twips
    assert abs(section.page_height - Cm(29.7)) < Cm(0.01)
    monkeypatch.setenv("LC_PAPER", "en_US.UTF-8")
    section = Document(io.BytesIO(written(report, "docx"))).sections[0]
    assert abs(section.page_width - Inches(8.5)) < Cm(0.01)


@pytest.mark.parametrize("fmt", ["md", "docx", "xlsx", "csv", "png"])
def test_a_project_without_codes_has_nothing_to_tabulate(tmp_path, fmt):
    import qda

    qda.create_project(tmp_path / "empty").close()
    out = tmp_path / f"t.{fmt}"
    result = CliRunner().invoke(main, ["crosstab", str(tmp_path / "empty"), "--format", fmt,
                                       "-o", str(out)])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "nothing to tabulate: the project has no codes yet" in result.output
    assert not out.exists()
