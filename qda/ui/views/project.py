"""Project page: open or create a project; see participants by group and interviews."""

from __future__ import annotations

import io
import re
from pathlib import Path

import streamlit as st

from qda.codebook import import_codebook
from qda.codebook.formats import READERS as CODEBOOK_READERS
from qda.codebook.formats import read_codebook
from qda.demo import open_or_build_demo
from qda.errors import QdaError
from qda.ingest import (
    TRANSCRIPT_EXTENSIONS,
    import_codings_csv,
    import_participants,
    import_transcripts,
    preview_transcripts,
    read_participants_csv,
)
from qda.ingest.participants import save_edited_participants
from qda.ingest.speakers import apply_interviewer_names
from qda.models import AttributeType, clock
from qda.overview import groups_table, interviews_table, participants_table
from qda.store import create_project, open_project
from qda.ui.files import keep_right_kind, wrong_kind
from qda.ui.state import (
    current_project,
    flash,
    literal,
    project_path,
    set_project_path,
    show_flash,
    user,
)


def choose_project() -> None:
    """Open, create, or build the demo project."""
    st.title("qda")
    st.write(
        "Transcribe, code and compare interviews across stakeholder groups — "
        "everything stays on this computer. Open a project folder, start a new one, "
        "or try the demo study."
    )
    open_col, new_col, demo_col = st.columns(3)
    with open_col, st.form("open_project"):
        st.subheader("Open a project")
        path = st.text_input("Project folder", key="open_path", placeholder="~/studies/my-study")
        if st.form_submit_button("Open", type="primary"):
            try:
                open_project(path).close()
                set_project_path(path)
                st.rerun()
            except QdaError as e:
                st.error(literal(str(e)))
    with new_col, st.form("new_project"):
        st.subheader("New project")
        path = st.text_input(
            "New project folder", key="new_path", placeholder="~/studies/new-study"
        )
        name = st.text_input("Name of the study", key="new_name")
        if st.form_submit_button("Create"):
            try:
                create_project(path, name=name).close()
                set_project_path(path)
                st.rerun()
            except QdaError as e:
                st.error(literal(str(e)))
    with demo_col, st.form("demo_project"):
        st.subheader("Demo study")
        st.caption(
            "14 interviews in English, Danish and French, a codebook and first codings. "
            "Built in the folder below, or opened if it is already there."
        )
        path = st.text_input("Folder for the demo", value="~/qda-demo", key="demo_path")
        if st.form_submit_button("Open the demo"):
            try:
                with st.spinner("Building the demo study…"):
                    open_or_build_demo(path)[0].close()
                set_project_path(path)
                st.rerun()
            except QdaError as e:
                st.error(literal(str(e)))


def add_data(project) -> None:
    """Uploaders for participants, transcripts, codebook and codings files."""
    st.caption(
        "Start with the participants (a CSV with participant_id, stakeholder_group and any "
        "other columns), then their transcripts, a codebook and any existing codings. "
        "A file with a problem changes nothing; the message says where the problem is."
    )
    participants_col, transcripts_col = st.columns(2)
    with participants_col:
        csv_file = st.file_uploader("Participants (CSV)", key="up_participants")
        if csv_file and (problem := wrong_kind(csv_file.name, ["csv", "txt"],
                                               "a participants table")):  # fmt: skip
            st.error(literal(problem))
        elif csv_file:
            update = st.checkbox(
                "Change participants already here",
                key="up_participants_update",
                help="Without it, a file that would change the group, pseudonym or an "
                "attribute of a participant already in the project is refused, with a "
                "list of the changes.",
            )
            if st.button("Import participants", key="do_participants"):
                try:
                    table = read_participants_csv(csv_file, csv_file.name)
                    n = import_participants(project, table, update=update)
                    flash(" ".join([f"{n} participants imported.", *table.warnings]))
                except QdaError as e:
                    st.error(literal(str(e)))
    with transcripts_col:
        st.caption(
            "Transcripts made elsewhere go in under **Import transcripts** below: Word, "
            "text, Otter.ai, Zoom, Teams, Rev, noScribe, WebVTT and SRT files."
        )
    codebook_col, codings_col = st.columns(2)
    with codebook_col:
        codebook_file = st.file_uploader(
            "Codebook (YAML, REFI-QDA .qdc, CSV, or the codebook of a .qdpx)", key="up_codebook"
        )
        if codebook_file and (problem := wrong_kind(codebook_file.name, CODEBOOK_READERS,
                                                    "a codebook")):  # fmt: skip
            st.error(literal(problem))
        elif codebook_file and st.button("Import codebook", key="do_codebook"):
            try:
                codebook = read_codebook(codebook_file, codebook_file.name)
                n = import_codebook(project, codebook, by=user(), source=codebook_file.name)
                flash(f"{n} codes imported.")
            except QdaError as e:
                st.error(literal(str(e)))
    with codings_col:
        codings_file = st.file_uploader("Codings (CSV)", key="up_codings")
        if codings_file and (problem := wrong_kind(codings_file.name, ["csv"],
                                                   "a codings table")):  # fmt: skip
            st.error(literal(problem))
        elif codings_file and st.button("Import codings", key="do_codings"):
            try:
                n = import_codings_csv(project, codings_file, codings_file.name)
                flash(f"{n} new codings applied (codings already here are not added again).")
            except QdaError as e:
                st.error(literal(str(e)))
    import_qdpx_file(project)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def import_transcript_files(project) -> None:
    """Transcripts made elsewhere: each file shown as qda reads it (participant, format,
    speakers and their roles, first turns) and corrected before anything is written."""
    files = st.file_uploader(
        "Transcripts: Word (.docx, .odt), text, Otter.ai, Zoom or Teams (.vtt, .docx), Rev, "
        "noScribe (.html), SRT",
        accept_multiple_files=True,
        key="up_transcripts",
    )
    interviewer_names(project)
    files, refused = keep_right_kind(
        files or [], (*TRANSCRIPT_EXTENSIONS, "doc", "pdf", "rtf", "pages"), "a transcript"
    )  # an old Word file, a PDF: the reader says how to save it as one it reads
    for problem in refused:
        st.error(literal(problem))
    if not files:
        return
    previews = preview_transcripts(project, [(f.name, io.BytesIO(f.getvalue())) for f in files])
    people = [p.id for p in project.participants]
    chosen: dict[str, str] = {}
    roles: dict[str, list[str]] = {}
    exclude: dict[str, str] = {}
    ready = []
    for n, preview in enumerate(previews):
        t = preview.transcript
        with st.container(border=True):
            st.text(preview.name)
            if t is None:
                for problem in preview.problems:
                    st.error(literal(problem))
                continue
            if preview.duplicate:
                st.info(
                    literal(f"Already in the project as {preview.duplicate}: it will be skipped.")
                )
                continue
            left, right = st.columns([1, 2])
            pid = left.selectbox(
                "Participant",
                people,
                index=people.index(preview.participant) if preview.participant in people else None,
                placeholder="Pick the participant",
                key=f"tp_pid_{n}",
            )
            unit = "turn" if t.found_turns else "paragraph"
            right.caption(
                literal(
                    f"Read as {t.format_label}: {plural(len(t.segments), unit)}, "
                    f"{plural(len(t.speakers), 'speaker')}"
                )
            )
            speakers = [s.speaker for s in t.speakers]
            asking = right.multiselect(
                "Interviewer",
                speakers,
                default=[s.speaker for s in t.speakers if s.role == "interviewer"],
                key=f"tp_roles_{n}",
                help="Their turns are left out of counts when only participant speech counts.",
            ) if speakers else []  # fmt: skip
            if t.speakers:
                st.dataframe(
                    [{"speaker": s.speaker, "role": "interviewer" if s.speaker in asking
                      else "participant", "turns": s.turns, "why": s.reason}
                     for s in t.speakers],
                    hide_index=True,
                    width="stretch",
                )  # fmt: skip
            st.dataframe(
                [{"speaker": s.speaker, "start": clock(s.start), "text": s.text[:300]}
                 for s in t.segments[:3]],
                hide_index=True,
                width="stretch",
            )  # fmt: skip
            if t.left_out:
                st.text("Left out (header, notes): " + " | ".join(t.left_out)[:300])
            for warning in t.warnings:
                st.warning(literal(warning))
            if st.checkbox(
                "Exclude from analysis (withdrawn consent, placeholder, pilot)",
                value=bool(t.placeholder),
                key=f"tp_exclude_{n}",
                help="Kept in the project but left out of every count, base, suggestion "
                "and export.",
            ):
                exclude[preview.name] = st.text_input(
                    "Reason",
                    value=f"placeholder: {t.placeholder.rstrip('. ')}" if t.placeholder else "",
                    key=f"tp_reason_{n}",
                )
            if pid is None:
                st.error("Pick the participant this transcript belongs to.")
                continue
            chosen[preview.name] = pid
            if speakers:
                roles[preview.name] = asking
            ready.append(preview.name)
    if not ready:
        return
    if st.button(f"Import {len(ready)} transcript{'s' if len(ready) != 1 else ''}",
                 key="do_transcripts", type="primary"):  # fmt: skip
        streams = [(f.name, io.BytesIO(f.getvalue())) for f in files if f.name in ready]
        try:
            result = import_transcripts(
                project, streams, participants=chosen, interviewers=roles, exclude=exclude,
                by=user(),
            )  # fmt: skip
            excluded = f"; {len(result.excluded)} excluded from analysis" if result.excluded else ""
            flash(f"{len(result.added)} interviews added{excluded}.")
        except QdaError as e:
            st.error(literal(str(e)))


def interviewer_names(project) -> None:
    """The study's interviewers by name: found first when roles are set on import."""
    left, right = st.columns([3, 1])
    names = left.text_input(
        "Interviewers of this study (names as the transcripts write them, comma-separated)",
        value=", ".join(project.interviewer_names),
        key="interviewer_names",
        help="Their turns are interviewer turns in every transcript imported from now on.",
    )
    if right.button(
        "Save and apply",
        key="do_interviewer_names",
        help="Also set their role in the interviews already imported.",
    ):
        project.set_interviewer_names(names.split(","))
        changed = apply_interviewer_names(project, by=user())
        flash(f"Interviewers saved; roles set in {len(changed)} interviews.")


def exclude_interviews(project, interviews) -> None:
    """Leave an interview out of the analysis, or bring it back."""
    st.caption(
        "An excluded interview (withdrawn consent, a placeholder, a pilot) keeps its "
        "transcript and codings but is left out of every count, base, suggestion and export."
    )
    left, right = st.columns([1, 2])
    chosen = left.selectbox("Interview", list(interviews.interview), key="ex_interview")
    interview = project.interview(chosen)
    if interview.excluded:
        right.text(f"Excluded: {interview.excluded_reason} (by {interview.excluded_by})")
        if right.button("Include in the analysis again", key="do_include"):
            project.include_interview(chosen, by=user())
            flash(f"{chosen} is part of the analysis again.")
        return
    reason = right.text_input(
        "Reason", key="ex_reason", placeholder="withdrawn consent, placeholder, pilot…"
    )
    if right.button("Exclude from analysis", key="do_exclude"):
        project.exclude_interview(chosen, reason, by=user())
        flash(f"{chosen} is excluded from analysis.")


def delete_or_move(project, interviews, participants) -> None:
    """Delete an interview or a participant for good, or move an interview to another
    participant; a deletion says what goes and asks to be confirmed."""
    what = st.radio(
        "What",
        ["Delete an interview", "Delete a participant", "Move an interview"],
        horizontal=True,
        key="del_what",
        label_visibility="collapsed",
    )
    if what == "Move an interview":
        left, right = st.columns(2)
        chosen = left.selectbox("Interview", list(interviews.interview), key="mv_interview")
        target = right.selectbox(
            "To participant", list(participants.participant), key="mv_participant"
        )
        if chosen is not None and st.button("Move", key="do_move"):
            try:
                new_id = project.relink_interview(chosen, target)
                flash(f"{chosen} is now interview {new_id} of {target}.")
            except QdaError as e:
                st.error(literal(str(e)))
        return
    if what == "Delete an interview":
        chosen = st.selectbox("Interview", list(interviews.interview), key="del_interview")
        if chosen is None:
            return
        plan = project.deletion_plan(interview_id=chosen)
    else:
        chosen = st.selectbox("Participant", list(participants.participant), key="del_participant")
        plan = project.deletion_plan(participant_id=chosen)
    st.warning(
        literal(plan.describe()) + " To keep the interview but leave it out of the "
        "analysis, exclude it instead."
    )
    sure = st.checkbox(literal(f"Yes, delete {chosen} for good"), key=f"del_sure_{chosen}")
    if st.button("Delete", key="do_delete", disabled=not sure, type="primary"):
        project.delete(plan)
        flash(f"{chosen} deleted.")


def import_qdpx_file(project) -> None:
    """A whole project from NVivo, ATLAS.ti, MAXQDA, QualCoder or f4 (REFI-QDA)."""
    from qda.qdpx import case_variables, import_qdpx

    qdpx = st.file_uploader(
        "A project from NVivo, ATLAS.ti, MAXQDA, QualCoder or f4 (REFI-QDA .qdpx or .qde)",
        key="up_qdpx",
    )
    if not qdpx:
        return
    if problem := wrong_kind(qdpx.name, ["qdpx", "qde"], "a REFI-QDA project"):
        st.error(literal(problem))
        return
    try:
        names = case_variables(qdpx, qdpx.name)
    except QdaError as e:
        st.error(literal(str(e)))
        return
    guess = next(
        (n for n in names if any(w in n.lower() for w in ("stakeholder", "group", "role"))), None
    )
    choice = st.selectbox(
        "Case variable that holds the stakeholder group",
        ["(none)", *names],
        index=names.index(guess) + 1 if guess else 0,
        key="qdpx_group",
        help="Each case becomes a participant; this variable becomes their stakeholder group.",
    )
    if st.button("Import project file", key="do_qdpx"):
        qdpx.seek(0)
        try:
            report = import_qdpx(
                project,
                qdpx,
                qdpx.name,
                group_variable="" if choice == "(none)" else choice,
                by=user(),
            )
            flash(" · ".join(report.lines()))
        except QdaError as e:
            st.error(literal(str(e)))


def export_qdpx_button(project) -> None:
    from qda.qdpx import export_qdpx

    def make() -> bytes:
        buffer = io.BytesIO()
        export_qdpx(project, buffer)
        return buffer.getvalue()

    st.caption(
        "The whole project as a REFI-QDA file: participants as cases with their group and "
        "attributes, transcripts (and recordings, in step with the text), the codebook and "
        "every coding with its coder."
    )
    stem = re.sub(r"[^\w.-]+", "-", project.name).strip("-") or "project"
    st.download_button(
        "Download .qdpx",
        make,
        file_name=f"{stem}.qdpx",
        mime="application/zip",
        key="dl_qdpx",
    )


def edit_participants(project, participants) -> None:
    """A table of all participants to correct in place, then the form to add one."""
    types = project.attribute_types
    column_kinds = {
        AttributeType.NUMBER: st.column_config.NumberColumn,
        AttributeType.DATE: st.column_config.DateColumn,
        AttributeType.TEXT: st.column_config.TextColumn,
    }
    config = {name: column_kinds[kind](name) for name, kind in types.items()}
    config["participant"] = st.column_config.TextColumn("participant", disabled=True)
    config["stakeholder_group"] = st.column_config.TextColumn("stakeholder_group", required=True)
    st.caption("Correct groups, pseudonyms and attributes in the table, then save.")
    edited = st.data_editor(
        participants.drop(columns=["interviews", "excluded"]),
        key="participants_editor",
        hide_index=True,
        width="stretch",
        column_config=config,
    )
    if st.button("Save participants", key="save_participants"):
        records = edited.rename(columns={"participant": "participant_id"}).to_dict("records")
        try:
            n = save_edited_participants(project, records)
            flash(f"{n} participants saved.")
        except QdaError as e:
            st.error(literal(str(e)))
    add_participant(project, participants)


def add_participant(project, participants) -> None:
    """A form to add one participant by hand."""
    with st.form("add_participant", clear_on_submit=True):
        st.markdown("**Add a participant**")
        id_col, name_col, group_col, new_group_col = st.columns(4)
        pid = id_col.text_input("Participant id", key="new_participant_id", placeholder="P18")
        pseudonym = name_col.text_input("Pseudonym", key="new_participant_pseudonym")
        picked = group_col.selectbox(
            "Stakeholder group",
            sorted(set(participants.stakeholder_group)),
            index=None,
            placeholder="Pick a group",
            key="new_participant_group",
        )
        new_group = new_group_col.text_input(
            "… or a new group", key="new_participant_new_group", placeholder="e.g. carers"
        )
        if st.form_submit_button("Add participant"):
            group = new_group.strip() or picked
            record = {"participant_id": pid, "pseudonym": pseudonym, "stakeholder_group": group}
            if pid.strip() in set(participants.participant):
                st.error(
                    literal(f"participant '{pid.strip()}' already exists: edit it in the table")
                )
            else:
                try:
                    save_edited_participants(project, [record], source="new participant")
                    flash(f"Participant {pid.strip()} added.")
                except QdaError as e:
                    st.error(literal(str(e)))


def show_project(project) -> None:
    show_flash()
    summary = project.summary()
    st.title(literal(summary.name or Path(project_path() or "").name))
    st.caption(literal(f"Project folder: {project_path()}"))
    cols = st.columns(5)
    cols[0].metric("Participants", summary.participants)
    cols[1].metric("Interviews", summary.interviews)
    cols[2].metric("Turns", summary.segments)
    cols[3].metric("Codes", summary.codes)
    cols[4].metric("Codings", summary.codings)

    if summary.participants == 0:
        st.info(
            "This project is empty. Add participants first (one by one or from a CSV "
            "file), then their transcripts."
        )
        add_participant(project, participants_table(project))
        with st.container(border=True):
            add_data(project)
        return

    st.header("Participants by stakeholder group")
    groups = groups_table(project)
    participants = participants_table(project)
    tabs = st.tabs(
        [
            literal(f"{g} ({n})")
            for g, n in zip(groups.stakeholder_group, groups.participants, strict=True)
        ]
    )
    for tab, group in zip(tabs, groups.stakeholder_group, strict=True):
        with tab:
            members = participants[participants.stakeholder_group == group]
            st.dataframe(
                members.drop(columns="stakeholder_group").dropna(axis="columns", how="all"),
                hide_index=True,
                width="stretch",
            )

    st.header("Interviews")
    interviews = interviews_table(project)
    if interviews.empty:
        st.info("No interviews yet: import transcripts below.")
    else:
        st.dataframe(
            interviews, hide_index=True, width="stretch", height=min(38 + 35 * len(interviews), 600)
        )
    waiting = participants[(participants.interviews == 0) & (participants.excluded == 0)]
    if not waiting.empty:
        st.caption(
            literal(
                f"No interview yet for {len(waiting)} participant(s): "
                + ", ".join(
                    f"{r.participant} ({r.pseudonym})" if r.pseudonym else r.participant
                    for r in waiting.itertuples()
                )
            )
        )

    # open while the study is being set up (no interview yet), so the next one can be added
    with st.expander("Edit or add participants", expanded=interviews.empty):
        edit_participants(project, participants)

    # open while participants wait for their transcripts
    with st.expander("Import transcripts", expanded=interviews.empty):
        import_transcript_files(project)

    if not interviews.empty:
        with st.expander("Exclude an interview from analysis, or include it again"):
            exclude_interviews(project, interviews)

    with st.expander("Delete an interview or a participant, or move an interview"):
        delete_or_move(project, interviews, participants)

    with st.expander("Add data: participants, codebook, codings, projects"):
        add_data(project)

    with st.expander("Export for NVivo, ATLAS.ti, MAXQDA, QualCoder (.qdpx)"):
        export_qdpx_button(project)


project = current_project()
if project is None:
    choose_project()
else:
    with st.sidebar:
        st.caption(f"Coding as **{literal(user())}**")
        if st.button("Close project", key="close_project"):
            set_project_path(None)
            st.rerun()
    show_project(project)
