"""Search page: find segments across every transcript and read them in context."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from qda.models import clock
from qda.search import context, search
from qda.ui.state import literal, page

project = page("Search")
if not project.segment_counts():
    st.info("Nothing to search yet: import transcripts or transcribe recordings first.")
    st.stop()
c1, c2, c3, c4 = st.columns([3, 1, 1, 2])
query = c1.text_input(
    "Words", key="se_query", placeholder='e.g. password   or   "paper letter"',
    help="Every word must be in the segment, in any case and with or without accents; "
    "a phrase in quotes matches as written.",
)  # fmt: skip
speakers = sorted({s.speaker for s in project.segments() if s.speaker})
speaker = c2.selectbox(
    "Speaker", ["participant", "interviewer", *speakers], index=None, key="se_speaker"
)
group = c3.selectbox(
    "Group", sorted({p.stakeholder_group for p in project.participants}), index=None,
    key="se_group",
)  # fmt: skip
code = c4.selectbox("Code", list(project.code_paths()), index=None, key="se_code")
if not (query.strip() or speaker or group or code):
    st.caption("Type words, or pick a speaker, a group or a code.")
    st.stop()
hits = search(project, query, speaker=speaker, group=group, code=code, limit=500)
st.caption(f"{len(hits)} segments{' (the first 500)' if len(hits) == 500 else ''}")
if not hits:
    st.stop()
table = pd.DataFrame(
    {
        "interview": [h.interview_id for h in hits],
        "turn": [h.turn for h in hits],
        "time": [clock(h.start) for h in hits],
        "participant": [h.participant for h in hits],
        "group": [h.group for h in hits],
        "speaker": [h.speaker for h in hits],
        "text": [h.text for h in hits],
        "codes": ["; ".join(h.codes) for h in hits],
    }
)
event = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="se_results",
    column_config={"text": st.column_config.TextColumn("text", width="large")},
)
rows = event.selection.get("rows", []) if event else []
chosen = hits[rows[0]] if rows else hits[0]
st.subheader(literal(f"In context: {chosen.interview_id}, turn {chosen.turn}"))
for is_hit, turn in context(project, chosen.segment_id, around=3):
    with st.container(border=is_hit):
        st.caption(
            literal(f"turn {turn.index + 1} · {clock(turn.start)} · {turn.speaker or 'no speaker'}")
        )
        st.text(turn.text)
