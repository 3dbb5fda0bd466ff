"""Coding page: read an interview's segments and apply or remove codes."""

from __future__ import annotations

import streamlit as st

from qda.coding import code_part, coded_segments
from qda.errors import QdaError
from qda.ui.memos import memo_box
from qda.ui.state import WRAP_ROW, flash, literal, page, rows_height, user

ALL, UNCODED = "all segments", "not yet coded"
REMOVED = "coding_last_removed"  # the coding removed last, for its undo

project = page("Coding")
counts = project.segment_counts()
interviews = [i for i in project.interviews if counts.get(i.id)]
paths = project.code_paths()
if not interviews or not paths:
    st.info("Coding needs transcripts (Upload or Project page) and a codebook (Codebook page).")
    st.stop()
people = {p.id: p for p in project.participants}
c1, c2 = st.columns([2, 2])
interview_id = c1.selectbox(
    "Interview",
    [i.id for i in interviews],
    format_func=lambda i: (
        f"{i} · {people[project.interview(i).participant_id].label}"
        + (" · excluded from analysis" if project.interview(i).excluded else "")
    ),
    key="coding_interview",
)
show = c2.selectbox("Show", [ALL, UNCODED, *paths], key="coding_filter")
table = coded_segments(project, interview_id)
speech = table[table.role != "interviewer"]
st.caption(
    f"{len(table)} segments, {int((speech.codes.str.len() > 0).sum())} of {len(speech)} "
    "participant segments coded"
)
if show == UNCODED:
    table = table[table.codes.str.len() == 0]
elif show != ALL:
    table = table[
        table.codes.apply(
            lambda codes: any(
                c.split(" (part)")[0] == show or c.startswith(show + "/") for c in codes
            )
        )
    ]
event = st.dataframe(
    table.drop(columns=["segment_id", "role"]).assign(codes=table.codes.apply(", ".join)),
    key=f"coding_table_{interview_id}",
    on_select="rerun",
    selection_mode="single-row",
    hide_index=True,
    width="stretch",
    height=rows_height(len(table), 560),
    row_height=WRAP_ROW,
    column_config={"text": st.column_config.TextColumn(width="large")},
)
rows = event.selection.get("rows", []) if event else []
choices = table.turn.tolist()
picked = (interview_id, choices[rows[0]]) if rows and rows[0] < len(choices) else None
if picked and st.session_state.get("coding_picked") != picked:  # a row newly selected
    st.session_state["coding_picked"] = picked
    st.session_state["coding_turn"] = picked[1]
if not choices:
    st.info("No segment matches this filter.")
    st.stop()
if st.session_state.get("coding_turn") not in choices:
    st.session_state["coding_turn"] = choices[0]


def step(delta: int) -> None:
    """The previous or next segment of those shown."""
    at = choices.index(st.session_state["coding_turn"]) + delta
    st.session_state["coding_turn"] = choices[max(0, min(len(choices) - 1, at))]


position = choices.index(st.session_state["coding_turn"])
back, pick, forward = st.columns([2, 6, 2], vertical_alignment="bottom")
back.button(
    "◀ Previous",
    key="coding_prev",
    on_click=step,
    args=(-1,),
    disabled=position == 0,
    shortcut="Alt+Up",
    help="The previous segment (Alt+↑)",
)
turn = pick.selectbox("Segment (select a row above, or pick its turn)", choices, key="coding_turn")
forward.button(
    "Next ▶",
    key="coding_next",
    on_click=step,
    args=(1,),
    disabled=position == len(choices) - 1,
    shortcut="Alt+Down",
    help="The next segment (Alt+↓)",
)
segment = table[table.turn == turn].iloc[0]
st.markdown(f"**{literal(segment.speaker or 'Segment')}** {segment.time}")
st.text(segment.text)

current = [
    c for c in project.codings(interview_id=interview_id) if c.segment_id == int(segment.segment_id)
]
names = {v.id: k for k, v in paths.items()}
for coding in current:
    a, b = st.columns([6, 1])
    part = f" — “{segment.text[coding.span[0] : coding.span[1]]}”" if coding.span else ""
    a.markdown(literal(f"• {names[coding.code_id]}{part} ({coding.coder}, {coding.origin})"))
    if b.button("Remove", key=f"remove_{coding.id}"):
        st.session_state[REMOVED] = project.remove_coding(coding.id)
        flash(f"Removed {names[coding.code_id]}.")
removed = st.session_state.get(REMOVED)
if (
    removed is not None
    and removed.code_id in names
    and st.button(literal(f"Undo: put {names[removed.code_id]} back"), key="undo_remove")
):
    st.session_state.pop(REMOVED)
    try:
        project.restore_coding(removed)
        flash(f"{names[removed.code_id]} is back.")
    except QdaError as e:
        st.error(literal(str(e)))

with st.form(f"apply_{segment.segment_id}", clear_on_submit=True):
    chosen = st.multiselect(
        "Apply codes",
        [p for p, code in paths.items() if code.codable],
        key=f"apply_codes_{segment.segment_id}",
        help="Codes marked not codable (headings for their codes) are not offered.",
    )
    part = st.text_input(
        "Only this part of the text (optional: paste the words)",
        key=f"apply_part_{segment.segment_id}",
    )
    if st.form_submit_button("Apply", type="primary") and chosen:
        try:
            with project.transaction():
                for path in chosen:
                    if part.strip():
                        code_part(
                            project, int(segment.segment_id), paths[path].id, part, coder=user()
                        )
                    else:
                        project.apply_code(int(segment.segment_id), paths[path].id, coder=user())
            flash(f"Applied {', '.join(chosen)} to turn {turn}.")
        except QdaError as e:
            st.error(literal(str(e)))

segment_memo = project.memo("segment", int(segment.segment_id))
with st.expander(
    "Memo on this segment" + (" ✎" if segment_memo else ""), expanded=bool(segment_memo)
):
    memo_box(project, "segment", int(segment.segment_id), "Memo on this segment")
with st.expander(
    "Memo on this interview" + (" ✎" if project.memo("interview", interview_id) else "")
):
    memo_box(project, "interview", interview_id, "Memo on this interview")
