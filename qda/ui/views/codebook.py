"""Codebook page: the tree with counts; edit, move, merge, split, delete; import and export."""

from __future__ import annotations

import io

import streamlit as st

from qda.codebook import import_codebook
from qda.codebook.diff import apply_merge, merge_summary, plan_merge
from qda.codebook.formats import READERS, WRITERS, read_codebook, write_codebook
from qda.codebook.operations import (
    codebook_of,
    delete_code,
    edit_code,
    merge_codes,
    merge_record,
    move_code,
    rename_code,
    split_code,
    undo_merge,
)
from qda.errors import QdaError
from qda.overview import codebook_table
from qda.ui.files import wrong_kind
from qda.ui.memos import memo_box
from qda.ui.state import WRAP_ROW, flash, literal, page, rows_height, user

TOP = "(top level)"


def tree(table) -> None:
    shown = table.assign(
        code=[
            ("\u2003" * d) + p.rsplit("/", 1)[-1]
            for p, d in zip(table.code, table.depth, strict=True)
        ]
    )
    st.dataframe(
        shown[["code", "codings", "segments", "definition"]],
        hide_index=True,
        width="stretch",
        height=rows_height(len(shown), 900),
        row_height=WRAP_ROW,
        column_config={
            "codings": st.column_config.NumberColumn(help="Codings of this code itself"),
            "segments": st.column_config.NumberColumn(
                help="Segments coded with it or any code under it, each once"
            ),
        },
    )


MERGED = "cb_last_merge"  # the MergeRecord of the last merge, for its undo
MOVED = "cb_last_move"  # (code id, its parent before the move), for its undo


def _path_of(project, code_id: str) -> str:
    return next(path for path, c in project.code_paths().items() if c.id == code_id)


def edit(project, table) -> None:
    paths = list(table.code)
    if (follow := st.session_state.pop("cb_code_next", None)) in paths:
        st.session_state["cb_code"] = follow  # the code just moved, under its new path
    path = st.selectbox("Code", paths, key="cb_code")
    code = project.code_paths()[path]
    with st.form("cb_edit"):
        name = st.text_input("Name", code.name, key=f"cb_name_{code.id}")
        definition = st.text_area("Definition", code.definition, key=f"cb_definition_{code.id}")
        c1, c2 = st.columns(2)
        include = c1.text_area("When to use", code.include, key=f"cb_include_{code.id}")
        exclude = c2.text_area("When not to use", code.exclude, key=f"cb_exclude_{code.id}")
        examples = st.text_area(
            "Examples (one per line)", "\n".join(code.examples), key=f"cb_examples_{code.id}"
        )
        colour = st.color_picker("Colour", code.colour or "#888888", key=f"cb_colour_{code.id}")
        codable = st.checkbox(
            "Codable (untick for a heading that only groups its codes)",
            code.codable,
            key=f"cb_codable_{code.id}",
        )
        if st.form_submit_button("Save code", type="primary"):
            try:
                with project.transaction():
                    if name.strip() != code.name:
                        rename_code(project, code.id, name, by=user())
                    edit_code(
                        project,
                        code.id,
                        definition=definition.strip(),
                        include=include.strip(),
                        exclude=exclude.strip(),
                        examples=[e.strip() for e in examples.splitlines() if e.strip()],
                        colour=colour.upper() if code.colour or colour != "#888888" else "",
                        codable=codable,
                        by=user(),
                    )
                flash(f"Saved {name.strip()}.")
            except QdaError as e:
                st.error(literal(str(e)))
    with st.expander("Memo on this code" + (" ✎" if project.memo("code", code.id) else "")):
        memo_box(project, "code", code.id, "Memo (your thinking about this code)")
    others = [p for p in paths if p != path and not p.startswith(path + "/")]
    c1, c2 = st.columns(2)
    with c1, st.form("cb_move", border=True):
        parent = st.selectbox(
            "Move under", [TOP, *others], index=None, placeholder="Choose where", key="cb_move_to"
        )
        if st.form_submit_button("Move") and parent is not None:
            target = None if parent == TOP else project.code_paths()[parent].id
            try:
                move_code(project, code.id, target, by=user())
                st.session_state[MOVED] = (code.id, code.parent_id)
                st.session_state["cb_code_next"] = _path_of(project, code.id)
                flash(f"Moved {code.name} under {parent}.")
            except QdaError as e:
                st.error(literal(str(e)))
    moved_last = st.session_state.get(MOVED)
    if moved_last and moved_last[0] == code.id and c1.button("Undo the move", key="cb_undo_move"):
        st.session_state.pop(MOVED)
        move_code(project, code.id, moved_last[1], by=user())
        st.session_state["cb_code_next"] = _path_of(project, code.id)
        flash(f"{code.name} is back where it was.")
    with c2, st.form("cb_merge", border=True):
        into = st.selectbox(
            "Merge into", others, index=None, placeholder="Choose a code", key="cb_merge_into"
        )
        sure = st.checkbox(
            "Yes: its codings move to that code and this code is gone (until you undo it)",
            key="cb_merge_sure",
        )
        if st.form_submit_button("Merge") and into:
            if not sure:
                st.error(literal(f"Tick the box to merge {code.name} into {into}."))
            else:
                try:
                    target = project.code_paths()[into].id
                    record = merge_record(project, code.id, target)
                    moved = merge_codes(project, code.id, target, by=user())
                    st.session_state[MERGED] = record
                    flash(f"Merged {code.name} into {into}: {moved} codings moved.")
                except QdaError as e:
                    st.error(literal(str(e)))
    c3, c4 = st.columns(2)
    with c3, st.form("cb_split", border=True):
        names = st.text_input("Split into (names, comma-separated)", key="cb_split_names")
        st.caption("The new codes go under this one; its codings stay on it until you recode them.")
        if st.form_submit_button("Split"):
            try:
                split_code(project, code.id, names.split(","), by=user())
                flash(f"Split {code.name}.")
            except QdaError as e:
                st.error(literal(str(e)))
    with c4, st.form("cb_delete", border=True):
        move_to = st.selectbox("Move its codings to", ["(nowhere)", *others], key="cb_delete_to")
        drop = st.checkbox("Delete its codings too", key="cb_delete_drop")
        if st.form_submit_button("Delete code"):
            try:
                delete_code(
                    project,
                    code.id,
                    move_codings_to=None
                    if move_to == "(nowhere)"
                    else project.code_paths()[move_to].id,
                    drop_codings=drop,
                    by=user(),
                )
                flash(f"Deleted {code.name}.")
            except QdaError as e:
                st.error(literal(str(e)))


def add(project, table) -> None:
    with st.form("cb_add", clear_on_submit=True):
        c1, c2 = st.columns(2)
        name = c1.text_input("New code", key="cb_new_name")
        parent = c2.selectbox("Under", [TOP, *table.code], key="cb_new_parent")
        definition = st.text_input("Definition", key="cb_new_definition")
        if st.form_submit_button("Add code"):
            try:
                parent_id = None if parent == TOP else project.code_paths()[parent].id
                project.add_code(
                    name, parent_id=parent_id, definition=definition.strip(), by=user()
                )
                flash(f"Added {name.strip()}.")
            except QdaError as e:
                st.error(literal(str(e)))


def import_file(project) -> None:
    f = st.file_uploader(
        "Codebook file (.yaml, .qdc, .csv, or the codebook of a .qdpx/.qde project)",
        key="cb_upload",
    )
    if not f:
        return
    if problem := wrong_kind(f.name, READERS, "a codebook"):
        st.error(literal(problem))
        return
    try:
        theirs = read_codebook(f, f.name)
    except QdaError as e:
        st.error(literal(str(e)))
        return
    st.markdown("**Import report**")
    st.text("\n".join(theirs.report.lines()))
    if not project.codes:
        if st.button(f"Import {len(theirs.walk())} codes", type="primary", key="cb_do_import"):
            n = import_codebook(project, theirs, by=user(), source=f.name)
            flash(f"{n} codes imported from {f.name}.")
        return
    additions, decisions = plan_merge(project, theirs)
    st.markdown(
        f"**Compared with this project's codebook**: {len(additions)} new codes, "
        f"{len(decisions)} changes to decide (tick the ones to take; the others keep ours)."
    )
    for a in additions:
        st.markdown(literal(f"➕ {a}"))
    take = {d.key for d in decisions if st.checkbox(literal(f"take: {d}"), key=f"cb_take_{d.key}")}
    if st.button("Merge into this codebook", type="primary", key="cb_do_merge"):
        added, taken = apply_merge(project, theirs, take=take, by=user(), source=f.name)
        flash(merge_summary(added, taken, len(decisions), f.name))


project = page("Codebook")
if (merged := st.session_state.get(MERGED)) and st.button(
    literal(f"Undo the merge of {merged.source.name} into {merged.target.name}"),
    key="cb_undo_merge",
):
    st.session_state.pop(MERGED)
    try:
        back = undo_merge(project, merged, by=user())
        st.session_state["cb_code_next"] = _path_of(project, back.id)
        flash(f"{back.name} is back, with its codings.")
    except QdaError as e:
        st.error(literal(str(e)))
table = codebook_table(project)
info = project.codebook_info
if table.empty:
    st.info(
        "This project has no codes yet: import a codebook file below (qda ships four "
        "in `codebooks/`), or add codes one by one."
    )
else:
    st.caption(
        literal(
            " · ".join(
                x
                for x in (info.title or "Codebook", info.version and f"version {info.version}")
                if x
            )
            + f" · {len(table)} codes"
        )
    )
    left, right = st.columns([3, 2])
    with left:
        tree(table)
    with right:
        edit(project, table)
with st.expander("Add a code"):
    add(project, table)
with st.expander("Import or merge a codebook file", expanded=table.empty):
    import_file(project)
if not table.empty:
    st.subheader("Export")
    cols = st.columns(len(WRITERS))
    book = codebook_of(project)
    for col, (fmt, (_, mime)) in zip(cols, WRITERS.items(), strict=True):
        buffer = io.BytesIO()
        write_codebook(book, buffer, fmt)
        col.download_button(
            f"Download .{fmt}",
            buffer.getvalue(),
            file_name=f"codebook.{fmt}",
            mime=mime,
            key=f"cb_export_{fmt}",
        )
    with st.expander("Change log"):
        st.dataframe(
            [
                {"at": c.at, "by": c.by, "action": c.action, "detail": c.detail}
                for c in reversed(project.codebook_changes)
            ],
            hide_index=True,
            width="stretch",
        )
