"""Cross-tab exports: CSV, XLSX, Markdown, DOCX report, PNG heatmap.

Each writer takes a `Crosstab`, its quotes and a binary stream. Every export says
what the numbers mean, which codebook version and which filters were used.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import pandas as pd

from qda.analysis import TOTAL, Crosstab, quotes, scope
from qda.cells import safe_cell
from qda.errors import InvalidInput
from qda.export.paper import new_document
from qda.store import Project
from qda.text import markdown_literal, without_controls


@dataclass(frozen=True)
class Report:
    """A cross-tab with what a report needs around it."""

    crosstab: Crosstab
    title: str
    codebook: str  # "title, version"
    quotes: pd.DataFrame  # columns: code, column value, participant, interview, time, text


def build_report(project: Project, table: Crosstab, *, per_cell: int = 2) -> Report:
    """Collect up to `per_cell` exemplar quotes for each theme and column value."""
    info = project.codebook_info
    rows = []
    themes = [path for path, depth in table.depth.items() if depth == 0]
    within = scope(project, table.by, table.filters)
    for path in themes:
        code_id = table.code_ids[path]
        found = quotes(project, code_id, by=table.by, within=within)
        for value, group in found.groupby(table.by, sort=True):
            for record in group.head(per_cell).to_dict("records"):
                rows.append(
                    {
                        "code": path,
                        "value": value,
                        **{k: v for k, v in record.items() if k != table.by},
                    }
                )
    return Report(
        crosstab=table,
        title=project.name or "qda project",
        codebook=", ".join(
            x for x in (info.title, info.version and f"version {info.version}") if x
        ),
        quotes=pd.DataFrame(
            rows, columns=["code", "value", "participant", "interview", "time", "turn", "text"]
        ),
    )


def _combined(table: Crosstab) -> pd.DataFrame:
    """Counts with percentages beside them: "3 (60.0%)"."""
    if table.percents is None:
        return table.counts.astype(str)
    return table.counts.astype(str) + " (" + table.percents.map(lambda v: f"{v:.1f}") + "%)"


def _header(table: Crosstab, column: str) -> str:
    return table.header(column)


def write_csv(report: Report, out: BinaryIO) -> None:
    t = report.crosstab
    buffer = io.StringIO(newline="")
    w = csv.writer(buffer)
    columns = list(t.counts.columns)
    percent = t.percents is not None
    head = ["code"] + [c for col in columns for c in ([col, f"{col} %"] if percent else [col])]
    w.writerow([safe_cell(h) for h in head])
    for path in t.counts.index:
        row = [path]
        for col in columns:
            row.append(int(t.counts.loc[path, col]))
            if percent:
                row.append(float(t.percents.loc[path, col]))
        w.writerow([safe_cell(v) for v in row])
    w.writerow([])
    w.writerow(
        [
            "base (n)",
            *[int(t.bases[c]) for c in columns for _ in (range(2) if percent else range(1))],
        ]
    )
    w.writerow([safe_cell(t.definition)])
    out.write(buffer.getvalue().encode("utf-8"))


def write_markdown(report: Report, out: BinaryIO) -> None:
    """A Markdown table; every name and value is escaped, so that it shows as written
    (a `|` cannot split a cell, a link or an image in a code name stays text)."""
    t = report.crosstab
    shown = _combined(t)
    md = markdown_literal
    columns = [md(_header(t, c)) for c in shown.columns]
    lines = [f"# {md(report.title)}: themes × {md(t.by)}", ""]
    lines.append("| code | " + " | ".join(columns) + " |")
    lines.append("|---|" + "---:|" * len(columns))
    for path in shown.index:
        name = ("&nbsp;" * 4 * t.depth.get(path, 0)) + md(path.rsplit("/", 1)[-1])
        if t.depth.get(path, 0) == 0:
            name = f"**{name}**"
        lines.append(f"| {name} | " + " | ".join(md(v) for v in shown.loc[path]) + " |")
    lines += ["", f"*{md(t.definition)}*", ""]
    if report.codebook:
        lines.append(f"Codebook: {md(report.codebook)}.")
    out.write(("\n".join(lines) + "\n").encode("utf-8"))


def heatmap_png(report: Report, out: BinaryIO, *, dpi: int = 150) -> None:
    """The table as a heatmap (percentages, or counts for words)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = report.crosstab
    values = (t.percents if t.percents is not None else t.counts).drop(
        columns=[TOTAL], errors="ignore"
    )
    labels = [("  " * t.depth.get(p, 0)) + p.rsplit("/", 1)[-1] for p in values.index]
    height = max(2.5, 0.32 * len(values) + 1.5)
    width = max(5.0, 1.3 * len(values.columns) + 3.5)
    fig, ax = plt.subplots(figsize=(width, height))
    image = ax.imshow(values.to_numpy(dtype=float), cmap="YlOrRd", aspect="auto", vmin=0)
    ax.set_xticks(
        range(len(values.columns)), [_header(t, c) for c in values.columns], rotation=30, ha="right"
    )
    ax.set_yticks(range(len(labels)), labels)
    for tick, path in zip(ax.get_yticklabels(), values.index, strict=True):
        if t.depth.get(path, 0) == 0:
            tick.set_fontweight("bold")
    for i in range(len(values.index)):
        for j in range(len(values.columns)):
            v = values.iat[i, j]
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8)
    unit = (
        "% of participants"
        if t.measure.value == "participants"
        else ("% of segments" if t.measure.value == "segments" else "words")
    )
    fig.colorbar(image, ax=ax, label=unit)
    ax.set_title(f"{report.title}: themes × {t.by}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=dpi)
    plt.close(fig)


def write_xlsx(report: Report, out: BinaryIO) -> None:
    from openpyxl import Workbook
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    t = report.crosstab
    wb = Workbook()
    ws = wb.active
    ws.title = "Cross-tab"
    columns = list(t.counts.columns)
    percent = t.percents is not None
    ws.append(
        _xml_safe(
            [
                "code",
                *[c for col in columns for c in ([_header(t, col), "%"] if percent else [col])],
            ]
        )
    )
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for path in t.counts.index:
        row: list[object] = [("    " * t.depth.get(path, 0)) + path.rsplit("/", 1)[-1]]
        for col in columns:
            row.append(int(t.counts.loc[path, col]))
            if percent:
                row.append(float(t.percents.loc[path, col]) / 100)
        ws.append(_xml_safe(row))
        if t.depth.get(path, 0) == 0:
            ws.cell(ws.max_row, 1).font = Font(bold=True)
    last = ws.max_row
    if percent:
        for j in range(len(columns)):
            letter = get_column_letter(3 + 2 * j)
            for r in range(2, last + 1):
                ws[f"{letter}{r}"].number_format = "0.0%"
            ws.conditional_formatting.add(
                f"{letter}2:{letter}{last}",
                ColorScaleRule(
                    start_type="num",
                    start_value=0,
                    start_color="FFFFFF",
                    end_type="num",
                    end_value=1,
                    end_color="F8696B",
                ),
            )
    else:
        end = get_column_letter(1 + len(columns))
        ws.conditional_formatting.add(
            f"B2:{end}{last}",
            ColorScaleRule(
                start_type="min", start_color="FFFFFF", end_type="max", end_color="F8696B"
            ),
        )
    ws.column_dimensions["A"].width = 42
    ws.freeze_panes = "B2"

    q = wb.create_sheet("Quotes")
    q.append(["theme", t.by, "participant", "interview", "time", "turn", "quote"])
    for cell in q[1]:
        cell.font = Font(bold=True)
    for r in report.quotes.itertuples(index=False):
        q.append(_xml_safe([r.code, r.value, r.participant, r.interview, r.time, r.turn, r.text]))
    q.column_dimensions["G"].width = 100
    for row in q.iter_rows(min_row=2, min_col=7, max_col=7):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

    about = wb.create_sheet("About")
    for line in [
        ("What the numbers mean", t.definition),
        ("Columns", f"values of the participant attribute '{t.by}', and the total"),
        ("Base (n)", ", ".join(f"{c}: {t.bases[c]}" for c in columns)),
        ("Filters", t.filters.describe()),
        ("Codebook", report.codebook or "(untitled)"),
        ("Project", report.title),
        ("Made with", "qda"),
    ]:
        about.append(_xml_safe(list(line)))
        about.cell(about.max_row, 1).font = Font(bold=True)
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 110
    for sheet in wb.worksheets:
        _text_not_formulas(sheet)
    wb.save(out)


def _xml_safe(values: list[object]) -> list[object]:
    """Cells without the control characters that XLSX and DOCX (XML) cannot hold."""
    return [without_controls(v) if isinstance(v, str) else v for v in values]


def _text_not_formulas(sheet) -> None:
    """openpyxl stores any text starting with "=" as a formula, which Excel would run
    (a quote or a group name such as `=HYPERLINK(…)`); keep every such cell text."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def write_docx(report: Report, out: BinaryIO) -> None:
    """A short report: the table, the heatmap, two exemplar quotes per theme and group."""
    from docx.shared import Inches, Pt

    t = report.crosstab
    x = without_controls
    doc = new_document()
    doc.add_heading(x(f"{report.title}: themes × {t.by}"), level=1)
    doc.add_paragraph(x(t.definition))
    shown = _combined(t)
    table = doc.add_table(rows=1, cols=len(shown.columns) + 1)
    table.style = "Light Grid Accent 1"
    table.rows[0].cells[0].text = "code"
    for j, col in enumerate(shown.columns, start=1):
        table.rows[0].cells[j].text = x(_header(t, col))
    for path in shown.index:
        cells = table.add_row().cells
        cells[0].text = x(("   " * t.depth.get(path, 0)) + path.rsplit("/", 1)[-1])
        if t.depth.get(path, 0) == 0:
            cells[0].paragraphs[0].runs[0].bold = True
        for j, value in enumerate(shown.loc[path], start=1):
            cells[j].text = x(value)
    image = io.BytesIO()
    heatmap_png(report, image)
    image.seek(0)
    doc.add_paragraph()
    doc.add_picture(image, width=Inches(6))
    doc.add_heading("Exemplar quotes", level=2)
    for theme, group in report.quotes.groupby("code", sort=False):
        doc.add_heading(x(theme), level=3)
        for value, rows in group.groupby("value", sort=True):
            doc.add_paragraph(x(str(value)), style="Heading 4")
            for r in rows.itertuples(index=False):
                p = doc.add_paragraph(style="Quote")
                p.add_run(x(f"“{r.text}”")).font.size = Pt(10)
                p.add_run(x(f" — {r.participant}, {r.interview} {r.time}".rstrip())).italic = True
    meta = doc.add_paragraph()
    meta.add_run(
        x(f"Codebook: {report.codebook or '(untitled)'}. Filters: {t.filters.describe()}.")
    ).font.size = Pt(8)
    doc.save(out)


TABLE_WRITERS: dict[str, tuple[Callable[[Report, BinaryIO], None], str]] = {
    "csv": (write_csv, "text/csv"),
    "xlsx": (write_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "md": (write_markdown, "text/markdown"),
    "docx": (write_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "png": (heatmap_png, "image/png"),
}


def write_table(report: Report, fmt: str, out: BinaryIO) -> None:
    if fmt not in TABLE_WRITERS:
        raise ValueError(f"unknown format '{fmt}' (known: {', '.join(TABLE_WRITERS)})")
    counts = report.crosstab.counts
    if counts.empty or not len(counts.columns):
        raise InvalidInput(
            "nothing to tabulate: the project has no codes yet (import a codebook and code "
            "some interviews)"
            if counts.index.empty
            else f"nothing to tabulate: no participant has a value for '{report.crosstab.by}'"
        )
    TABLE_WRITERS[fmt][0](report, out)
