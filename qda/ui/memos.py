"""A memo box: the researcher's note on a segment, a code or an interview."""

from __future__ import annotations

import streamlit as st

from qda.ui.state import literal, user


def memo_box(project, kind: str, target, label: str) -> None:
    """Show and save the memo on one target; its earlier wordings are kept."""
    current = project.memo(kind, target)
    with st.form(f"memo_{kind}_{target}", border=False):
        text = st.text_area(label, current, key=f"memo_text_{kind}_{target}", height=90)
        if st.form_submit_button("Save memo"):
            project.set_memo(kind, target, text, by=user())
            st.toast("Memo saved." if text.strip() else "Memo cleared (its wording is kept).")
    history = project.memo_history(kind, target)
    if len(history) > 1 or (history and not current):
        st.caption(
            literal(
                "Earlier: "
                + " · ".join(
                    f"{m.at:%Y-%m-%d %H:%M} {m.by}: {m.text or '(cleared)'}"
                    for m in reversed(history[:-1] if current else history)
                )
            )
        )
