"""Cross-tab page: themes × stakeholder group (or any attribute), quotes behind a cell,
co-occurrence, and downloads for reports."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from qda.analysis import TOTAL, Filters, Measure, cooccurrence, crosstab, quotes
from qda.export import TABLE_WRITERS, build_report, write_table
from qda.models import AttributeType
from qda.ui.state import WRAP_ROW, file_stem, literal, page, rows_height

MEASURES = {
    Measure.PARTICIPANTS: "participants mentioning (n and %)",
    Measure.SEGMENTS: "coded segments (n and %)",
    Measure.WORDS: "words coded",
}


def controls(project) -> tuple[str, Measure, Filters]:
    attributes = ["stakeholder_group"] + [
        name for name, kind in project.attribute_types.items() if kind is not AttributeType.DATE
    ]
    c1, c2 = st.columns(2)
    by = c1.selectbox("Columns", attributes, key="ct_by")
    measure = c2.radio(
        "Count", list(MEASURES), format_func=MEASURES.get, key="ct_measure", horizontal=True
    )
    with st.expander("Filters"):
        speech = st.checkbox(
            "Only participant speech (leave interviewer turns out)", True, key="ct_speech"
        )
        f1, f2, f3 = st.columns(3)
        languages = f1.multiselect(
            "Languages",
            sorted({i.language for i in project.interviews if i.language}),
            key="ct_languages",
        )
        coders = f2.multiselect(
            "Coders", sorted({c.coder for c in project.codings()}), key="ct_coders"
        )
        interviews = f3.multiselect(
            "Interviews", [i.id for i in project.interviews if not i.excluded], key="ct_interviews"
        )
        counted = st.radio(
            "Interviews counted",
            list(COUNTED),
            format_func=COUNTED.get,
            key="ct_counted",
            horizontal=True,
            help="While coding is partial, an interview nobody has coded yet would read as "
            "mentioning nothing: by default only coded interviews count.",
        )
    filters = Filters(
        speech, tuple(languages), tuple(coders), tuple(interviews), coded_only=counted
    )
    return by, Measure(measure), filters


COUNTED = {
    None: "coded interviews, while coding is partial",
    True: "only coded interviews",
    False: "every interview (uncoded ones as mentioning nothing)",
}


def shown(table) -> pd.DataFrame:
    """Counts with percentages, and indented code names, for the screen."""
    values = table.counts.astype(str)
    if table.percents is not None:
        values = values + " (" + table.percents.map(lambda v: f"{v:.0f}") + "%)"
    for column in table.not_coded_columns:  # nobody was asked yet: not a zero
        if column in values.columns:
            values[column] = "–"
    values.columns = [table.header(c) for c in values.columns]
    values.index = [("\u2003" * table.depth[p]) + p.rsplit("/", 1)[-1] for p in values.index]
    return values


def heat(table):
    """The table coloured by percentage (or count, for words)."""
    basis = table.percents if table.percents is not None else table.counts
    return shown(table).style.background_gradient(
        cmap="YlOrRd",
        gmap=basis.to_numpy(dtype=float),
        axis=None,
        vmin=0,
        vmax=100 if table.percents is not None else None,
    )


project = page("Cross-tab & export")
if not project.codings():
    st.info("Nothing is coded yet: code interviews first (or import codings on the Project page).")
    st.stop()
by, measure, filters = controls(project)
table = crosstab(project, by=by, measure=measure, filters=filters)
st.caption(literal(table.definition))
labels = list(table.counts.index)
event = st.dataframe(
    heat(table),
    key="ct_table",
    on_select="rerun",
    selection_mode="single-cell",
    height=min(38 + 35 * len(labels), 900),
    width="stretch",
    hide_index=False,
)
cells = event.selection.get("cells", []) if event else []
columns = list(table.counts.columns)
header_of = dict(zip(shown(table).columns, columns, strict=True))
if cells:  # a clicked cell chooses the quotes below
    row, column_label = cells[0]
    st.session_state["ct_code"] = labels[row]
    st.session_state["ct_value"] = header_of.get(column_label, TOTAL)
st.subheader("Quotes behind a cell")
st.caption("Select a cell in the table, or choose a code and a column here.")
q1, q2 = st.columns(2)
code = q1.selectbox("Code", labels, key="ct_code")
value = q2.selectbox(by, columns, key="ct_value")
found = quotes(
    project, table.code_ids[code], by=by, value=None if value == TOTAL else value, filters=filters
)
st.dataframe(
    found[["text", *(c for c in found.columns if c not in ("text", "segment")), "segment"]],
    hide_index=True,
    width="stretch",
    height=rows_height(len(found), 640),
    row_height=WRAP_ROW,
    column_config={
        "text": st.column_config.TextColumn("quote (what was coded)", width="large"),
        "segment": st.column_config.TextColumn("whole turn", width="medium"),
    },
)

st.subheader("Download")
st.caption("Each file says what the numbers mean, the filters and the codebook version.")


def exporter(fmt: str):
    """Build the file only when its button is clicked (the DOCX draws a heatmap)."""

    def make() -> bytes:
        buffer = io.BytesIO()
        write_table(build_report(project, table), fmt, buffer)
        return buffer.getvalue()

    return make


buttons = st.columns(len(TABLE_WRITERS))
for col, (fmt, (_, mime)) in zip(buttons, TABLE_WRITERS.items(), strict=True):
    col.download_button(
        f".{fmt}",
        exporter(fmt),
        file_name=f"crosstab-{file_stem(by)}.{fmt}",
        mime=mime,
        key=f"ct_download_{fmt}",
    )

with st.expander("Code co-occurrence"):
    window = st.number_input(
        "Within how many neighbouring segments (0 = the same segment)", 0, 10, 0, key="ct_window"
    )
    matrix = cooccurrence(project, window=int(window), filters=filters)
    used = matrix.index[(matrix.to_numpy().diagonal() > 0)]
    st.dataframe(
        matrix.loc[used, used].style.background_gradient(cmap="Blues", axis=None), width="stretch"
    )
