"""Session state and shared resources of the app, in one place.

The open project is cached per path with `st.cache_resource` (one `Project` per
database, shared by all sessions; it holds no state of its own besides its engine).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import streamlit as st

from qda.errors import QdaError
from qda.store import Project, current_user, open_project
from qda.text import markdown_literal

PROJECT_PATH = "project_path"
WRAP_ROW = 80  # px: a table row this tall wraps its text over three lines (Streamlit)


def rows_height(n: int, most: int, row: int = WRAP_ROW) -> int:
    """The height of a table of `n` wrapping rows, up to `most` pixels."""
    return min(38 + row * max(n, 1), most)


USER = "user"


def file_stem(text: str) -> str:
    """A name from the project (an interview id, an attribute) made safe as the stem of
    a downloaded file's name."""
    return re.sub(r"[^\w-]+", "_", text).strip("_")[:60] or "qda"


def literal(text: object) -> str:
    """Text from a file or a person (a speaker, a segment, a code name, a file name, a
    reason) made safe for Streamlit's Markdown: no link, image, HTML, LaTeX or icon in
    it can render, load or be clicked. Every page passes such text through it."""
    return markdown_literal(text, one_line=False)


@st.cache_resource(show_spinner=False)
def _open(path: str) -> Project:
    return open_project(path)


def project_path() -> str | None:
    """The folder of the open project: chosen in the app, else $QDA_PROJECT."""
    st.session_state.setdefault(PROJECT_PATH, os.environ.get("QDA_PROJECT") or None)
    return st.session_state[PROJECT_PATH]


def set_project_path(path: str | None) -> None:
    """Make the project in folder `path` the open one (None: no project open)."""
    st.session_state[PROJECT_PATH] = str(Path(path).expanduser().resolve()) if path else None


def current_project() -> Project | None:
    """The open project, or None (with the reason shown) if none can be opened."""
    path = project_path()
    if not path:
        return None
    try:
        return _open(path)
    except QdaError as e:
        st.error(literal(str(e)))
        return None


def user() -> str:
    """The name recorded as coder / editor for this session."""
    st.session_state.setdefault(USER, current_user())
    return st.session_state[USER]


FLASH = "flash"


def flash(message: str, *, problems: list[str] | None = None) -> None:
    """Show `message` (and any problems) on the next run, then rerun so that every
    table on the page reflects the change just made."""
    st.session_state[FLASH] = (message, problems or [])
    st.rerun()


def show_flash() -> None:
    """Show (once) the message left by `flash`."""
    message, problems = st.session_state.pop(FLASH, ("", []))
    if message:
        st.success(literal(message))
    for problem in problems:
        st.error(literal(problem))


def keep_worker_running() -> None:
    """Start the project's worker if transcriptions wait and none runs (after a
    crash or a restart the job then resumes where it stopped)."""
    from qda.jobs import ensure_worker

    project = current_project()
    if project is not None:
        ensure_worker(project)


@st.cache_resource(show_spinner="Loading the embedding model…")
def embedder(name: str):
    """One embedding model per name, shared by all sessions (never mutated)."""
    from qda.suggest.embed import load_embedder

    return load_embedder(name)


@st.cache_resource
def background() -> ThreadPoolExecutor:
    """One thread for suggestion runs, shared by all sessions: the work goes on when the
    page is left or reloaded."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="qda-suggest")


def page(title: str) -> Project:
    """Start a page that needs an open project: its title, the message left by the last
    action, or a pointer to the Project page (and nothing more) when none is open."""
    st.title(title)
    project = current_project()
    if project is None:
        st.info("Open or create a project on the Project page first.")
        st.stop()
    show_flash()
    return project


SPEAKER_CHOICES: list[int | str] = ["auto", 1, 2, 3, 4, 5, 6, 7, 8]


def speakers_choice(where, key: str) -> int | str:
    """A select box: how many speakers: auto (counted from the voices) or a number."""
    return where.selectbox(
        "Speakers",
        SPEAKER_CHOICES,
        key=key,
        format_func=lambda n: {"auto": "auto (counted)", 1: "1 (no labels)"}.get(n, str(n)),
        help="auto counts the voices: one for a monologue, two for an interview, "
        "more for a focus group. A number forces it.",
    )
