"""Streamlit entry point: page config and navigation, no logic.

Run with `qda app [PROJECT]` (or `streamlit run app.py` from the repository).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from qda.errors import QdaError
from qda.privacy import private_temp_dir
from qda.ui.state import keep_worker_running, literal

PAGES = Path(__file__).parent / "views"


def main() -> None:
    # The favicon is an emoji (drawn locally): a `:material/…:` favicon is fetched
    # from Google's servers, and nothing may leave the machine.
    st.set_page_config(page_title="qda", page_icon="💬", layout="wide")
    pages = [
        st.Page(PAGES / "project.py", title="Project", icon=":material/folder_open:", default=True),
        st.Page(PAGES / "upload.py", title="Upload", icon=":material/upload:"),
        st.Page(PAGES / "transcript.py", title="Transcripts", icon=":material/subtitles:"),
        st.Page(PAGES / "search.py", title="Search", icon=":material/search:"),
        st.Page(PAGES / "codebook.py", title="Codebook", icon=":material/account_tree:"),
        st.Page(PAGES / "coding.py", title="Coding", icon=":material/label:"),
        st.Page(PAGES / "suggestions.py", title="Suggestions", icon=":material/lightbulb:"),
        st.Page(PAGES / "crosstab.py", title="Cross-tab & export", icon=":material/table_chart:"),
    ]
    page = st.navigation(pages)
    private_temp_dir()
    keep_worker_running()
    try:
        page.run()
    except QdaError as e:  # a change the project refused (a read-only or full disk, …)
        st.error(literal(str(e)))


if __name__ == "__main__":
    main()
