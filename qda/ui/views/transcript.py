"""Transcript page: read and correct a transcript against its recording."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from qda.audio import AUDIO_EXTENSIONS
from qda.errors import QdaError
from qda.export import TRANSCRIPT_WRITERS, transcript_of_interview, write_transcript
from qda.jobs import TranscriptionRequest, attach_recording, ensure_worker, retranscribe
from qda.models import SpeakerRole, clock
from qda.transcribe.loops import find_loops
from qda.ui.files import wrong_kind
from qda.ui.memos import memo_box
from qda.ui.state import (
    WRAP_ROW,
    file_stem,
    flash,
    literal,
    page,
    rows_height,
    speakers_choice,
    user,
)

PLAY_FROM = "play_from"  # interview id -> (start in seconds, play at once)
READ, CORRECT = "Read and listen", "Correct"
TURNS_PER_PAGE = 50
# the player stays at the top of the window while the transcript scrolls under it
PLAYER_CSS = (
    '<style>div:has(> [class*="st-key-qda_player"]){position:sticky;top:3.75rem;z-index:990;'
    "background:var(--st-background-color,#fff);padding:.4rem 0;"
    "box-shadow:0 -3.75rem 0 0 var(--st-background-color,#fff),"
    "0 6px 6px -6px rgba(0,0,0,.25)}</style>"
)


def fresh_table(interview_id: str) -> None:
    """Forget the table's own record of cells typed in (already saved), so that it shows
    a change made another way (speakers, one segment, merge, split, undo) as it is."""
    st.session_state.pop(f"segments_{interview_id}", None)


def play_from(interview_id: str, start: float | None) -> None:
    """Play the recording from `start` at once (one click on a turn)."""
    _, clicks = st.session_state.get(PLAY_FROM, {}).get(interview_id, (0.0, 0))
    st.session_state.setdefault(PLAY_FROM, {})[interview_id] = (start or 0.0, clicks + 1)


def player(media, interview) -> None:
    """The recording, kept in view; each ▶ click starts it anew (a new player element
    plays by itself from its start time)."""
    start, clicks = st.session_state.get(PLAY_FROM, {}).get(interview.id, (0.0, 0))
    st.html(PLAYER_CSS)
    with st.container(key=f"qda_player_{interview.id}_{clicks}"):
        st.audio(str(media), start_time=int(start), autoplay=clicks > 0)
        if clicks:
            st.caption(f"playing from {clock(start)}")


def reading_view(interview, segments, playable: bool) -> None:
    """The transcript as text to read, whole turns wrapping, a ▶ on each to hear it."""
    pages = max(1, -(-len(segments) // TURNS_PER_PAGE))
    if pages > 1:
        ranges = [
            f"turns {n * TURNS_PER_PAGE + 1}–{min((n + 1) * TURNS_PER_PAGE, len(segments))}"
            for n in range(pages)
        ]
        shown = st.selectbox("Show", range(pages), format_func=ranges.__getitem__,
                             key=f"read_page_{interview.id}")  # fmt: skip
    else:
        shown = 0
    for s in segments[shown * TURNS_PER_PAGE : (shown + 1) * TURNS_PER_PAGE]:
        if playable:
            button, text = st.columns([1, 14], gap="small")
            button.button(
                "▶",
                key=f"play_{s.id}",
                on_click=play_from,
                args=(interview.id, s.start),
                help=f"Play from {clock(s.start)}",
                disabled=s.start is None,
            )
        else:
            text = st.container()
        edited = " · corrected" if s.edited else ""
        text.caption(literal(f"{s.index + 1} · {clock(s.start)} · {s.speaker or 'no speaker'}"
                             f"{edited}"))  # fmt: skip
        text.text(s.text)


def segment_table(segments) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "#": [s.index + 1 for s in segments],
            "play": [False] * len(segments),
            "time": [clock(s.start) for s in segments],
            "speaker": [s.speaker for s in segments],
            "text": [s.text for s in segments],
            "original": [s.original_text if s.edited else "" for s in segments],
        }
    )


def attach_recording_form(project, interview) -> None:
    """A transcript made elsewhere: keep its recording with it, to check it by ear."""
    with st.expander("Attach the recording of this transcript"):
        st.caption(
            "The transcript was imported without its audio. Keep the recording with it to "
            "play each turn from its time while you correct it."
        )
        recording = st.file_uploader(
            "Recording", key=f"attach_{interview.id}", label_visibility="collapsed"
        )
        if recording is not None and (problem := wrong_kind(recording.name, AUDIO_EXTENSIONS,
                                                            "a recording")):  # fmt: skip
            st.error(literal(problem))
        elif recording is not None and st.button("Attach", key=f"do_attach_{interview.id}"):
            try:
                attach_recording(project, interview.id, recording, recording.name)
                flash(f"{recording.name} attached to {interview.id}.")
            except QdaError as e:
                st.error(literal(str(e)))


def transcribe_again(project, interview) -> None:
    """Another language, model or number of speakers for a recorded interview."""
    with st.expander("Transcribe again with other settings"):
        st.caption(
            "The transcript is replaced when the new one is done; the old one stays in the "
            "history, and codings on text that comes out the same are carried over (the "
            "others are listed). If the run fails, the old transcript is put back."
        )
        c1, c2, c3 = st.columns(3)
        language = c1.selectbox(
            "Language", ["auto", "en", "da", "fr", "de", "sv", "nb"],
            index=0, key=f"again_language_{interview.id}",
        )  # fmt: skip
        model = c2.selectbox("Model", ["base", "small", "tiny"], key=f"again_model_{interview.id}")
        speakers = speakers_choice(c3, f"again_speakers_{interview.id}")
        if st.button("Transcribe again", key=f"do_again_{interview.id}"):
            request = TranscriptionRequest(
                model=model,
                language=None if language == "auto" else language,
                speakers=speakers,
            )
            try:
                job = retranscribe(project, interview.id, request, by=user())
                ensure_worker(project)
                flash(f"Transcribing {interview.id} again (job {job.id}).")
            except QdaError as e:
                st.error(literal(str(e)))


def save_edits(project, segments, edited: pd.DataFrame) -> int:
    """Store the texts and speakers changed in the table; returns how many changed."""
    changed = 0
    with project.transaction():
        for segment, row in zip(segments, edited.itertuples(index=False), strict=True):
            if row.text != segment.text:
                if not str(row.text).strip():
                    raise QdaError(f"segment {segment.index + 1} would have no text")
                project.edit_segment(segment.id, str(row.text), by=user())
                changed += 1
            if (row.speaker or "") != segment.speaker:
                project.set_speaker(segment.id, str(row.speaker or ""), by=user())
                changed += 1
    return changed


def speaker_tools(project, interview, segments) -> None:
    speakers = list(dict.fromkeys(s.speaker for s in segments if s.speaker))
    interviewer = next((s.speaker for s in segments if s.role is SpeakerRole.INTERVIEWER), None)
    cols = st.columns([3, 3, 2])
    with cols[0]:
        st.caption(
            "Speakers: "
            + ", ".join(
                f"**{literal(s)}**" + (" (interviewer)" if s == interviewer else "")
                for s in speakers
            )
        )
        if len(speakers) == 2 and st.button(
            "Swap speakers",
            key="swap_speakers",
            help="When the interviewer's and the participant's turns are the wrong way round.",
        ):
            project.swap_speakers(interview.id, by=user())
            fresh_table(interview.id)
            flash("Speakers swapped.")
    with cols[1], st.form("rename_speaker", border=False):
        old = st.selectbox("Rename speaker", speakers, key="rename_old")
        new = st.text_input("New name", key="rename_new")
        is_interviewer = st.checkbox("This is the interviewer", key="rename_is_interviewer")
        if st.form_submit_button("Rename") and old:
            try:
                role = SpeakerRole.INTERVIEWER if is_interviewer else SpeakerRole.PARTICIPANT
                n = project.rename_speaker(interview.id, old, new, role=role, by=user())
                fresh_table(interview.id)
                flash(f"Renamed {old} to {new.strip()} in {n} segments.")
            except QdaError as e:
                st.error(literal(str(e)))
    with cols[2]:
        fmt = st.selectbox("Export", list(TRANSCRIPT_WRITERS), key="export_format")
        buffer = io.BytesIO()
        write_transcript(transcript_of_interview(project, interview), fmt, buffer)
        st.download_button(
            "Download",
            buffer.getvalue(),
            file_name=f"{file_stem(interview.id)}.{fmt}",
            mime=TRANSCRIPT_WRITERS[fmt][1],
            key="download_transcript",
        )


def correct_one(project, segments) -> None:
    """One segment at a time, in a text box: for long turns, and for keyboard users."""
    with st.expander("Correct one segment in a text box"):
        n = st.number_input("Segment #", 1, len(segments), 1, key="correct_n")
        segment = segments[int(n) - 1]
        with st.form(f"correct_{segment.id}", border=False):
            st.caption(
                literal(f"{segment.speaker or 'Segment'} · original: {segment.original_text}")
            )
            text = st.text_area("Text", segment.text, key=f"correct_text_{segment.id}")
            if st.form_submit_button("Save this segment"):
                if text.strip() == segment.text:
                    flash("Nothing to save.")
                try:
                    project.edit_segment(segment.id, text.strip(), by=user())
                    fresh_table(segment.interview_id)
                    flash(f"Segment {int(n)} corrected; the original text is kept.")
                except QdaError as e:
                    st.error(literal(str(e)))


def merge_split(project, segments) -> None:
    with st.expander("Merge or split segments"):
        c1, c2 = st.columns(2)
        with c1:
            n = st.number_input("Merge segment #", 1, max(len(segments) - 1, 1), 1, key="merge_n")
            first, second = segments[int(n) - 1], segments[min(int(n), len(segments) - 1)]
            speaker = None
            if first.speaker != second.speaker:
                speaker = st.radio(
                    "The merged turn is spoken by",
                    [first.speaker, second.speaker],
                    format_func=literal,
                    key=f"merge_speaker_{first.id}",
                    horizontal=True,
                    help="The two turns have different speakers.",
                )
            if st.button("Merge with the next one", key="merge_go"):
                try:
                    project.merge_segments(first.id, by=user(), speaker=speaker)
                    fresh_table(first.interview_id)
                    flash(f"Segments {int(n)} and {int(n) + 1} merged.")
                except QdaError as e:
                    st.error(literal(str(e)))
        with c2, st.form("split", border=False):
            n = st.number_input("Split segment #", 1, len(segments), 1, key="split_n")
            words = st.text_input(
                "before the words", key="split_words", placeholder="e.g. And then"
            )
            if st.form_submit_button("Split"):
                segment = segments[int(n) - 1]
                at = segment.text.find(words.strip()) if words.strip() else -1
                if at <= 0:
                    st.error(
                        literal(f"'{words}' is not inside segment {int(n)} (after its first word)")
                    )
                else:
                    try:
                        project.split_segment(segment.id, at, by=user())
                        fresh_table(segment.interview_id)
                        flash(f"Segment {int(n)} split in two.")
                    except QdaError as e:
                        st.error(literal(str(e)))


project = page("Transcripts")
counts = project.segment_counts()
interviews = [i for i in project.interviews if counts.get(i.id) or i.status == "transcribing"]
if not interviews:
    st.info("No transcripts yet: upload recordings on the Upload page, or import transcripts.")
    st.stop()
people = {p.id: p for p in project.participants}
labels = {}
for i in interviews:
    who = people[i.participant_id]
    excluded = " · excluded from analysis" if i.excluded else ""
    labels[i.id] = f"{i.id} · {who.label} · {who.stakeholder_group}{excluded}"
chosen = st.selectbox("Interview", list(labels), format_func=labels.get, key="transcript_interview")
interview = project.interview(chosen)
segments = project.segments(interview.id)
engine = f" · {interview.engine} {interview.model}" if interview.engine else ""
st.caption(
    literal(
        f"{interview.status} · language {interview.language or 'unknown'}{engine} · "
        f"{len(segments)} segments · source {interview.source_name}"
    )
)
if interview.excluded:
    st.info(
        f"Excluded from analysis ({literal(interview.excluded_reason)}): it counts nowhere. "
        "Include it again on the Project page."
    )
media = project.media_path(interview)
if media is not None and media.exists():
    player(media, interview)
elif not interview.media_file:
    attach_recording_form(project, interview)
if media is not None and media.exists() and interview.status != "transcribing":
    transcribe_again(project, interview)
if gaps := interview.engine_options.get("untranscribed"):
    st.warning(
        "Loud stretches with no text even after decoding them again without voice "
        "detection (listen to them: speech may be missing): "
        + ", ".join(f"{clock(a)}–{clock(b)}" for a, b in gaps)
    )
if interview.engine_options.get("codings_not_carried"):
    st.warning(
        "Codings not carried over when this interview was transcribed again (their text "
        "changed): " + literal("; ".join(interview.engine_options["codings_not_carried"]))
    )
if loops := find_loops(segments):
    st.warning(
        "These turns look like a repetition loop of the transcription (one phrase written "
        "again and again): listen to them and correct them. "
        + "; ".join(f"turn {x.turn} ({clock(x.start)}, {x.reason})" for x in loops)
    )
with st.expander(
    "Memo on this interview" + (" ✎" if project.memo("interview", interview.id) else "")
):
    memo_box(project, "interview", interview.id, "Memo on this interview")
speaker_tools(project, interview, segments)
if (last := project.last_change(interview.id)) and st.button(
    literal(f"Undo the last change ({last})"), key="undo_change"
):
    try:
        undone = project.undo_last_change(interview.id, by=user())
        fresh_table(interview.id)
        flash(f"Undone: {undone}.")
    except QdaError as e:
        st.error(literal(str(e)))

playable = media is not None and media.exists()
view = st.segmented_control(
    "View", [READ, CORRECT], default=READ, key="transcript_view", label_visibility="collapsed"
)
if view != CORRECT:
    reading_view(interview, segments, playable)
    correct_one(project, segments)
    merge_split(project, segments)
    st.stop()

st.caption(
    "Type in a cell to correct it: each correction is saved when you leave the cell "
    "(Enter or Tab), with the original kept; “Undo the last change” takes one back."
    + (" Tick ▶ to play a turn." if playable else "")
)
editor_key = f"segments_{interview.id}"
table = segment_table(segments)
speaker_options = sorted({s.speaker for s in segments if s.speaker})
edited = st.data_editor(
    table,
    key=editor_key,
    hide_index=True,
    width="stretch",
    height=rows_height(len(table), 760),
    row_height=WRAP_ROW,
    disabled=["#", "time", "original"],
    # ▶ only where there is a recording to play
    column_order=["#", *(["play"] if playable else []), "time", "speaker", "text"]
    + (["original"] if any(s.edited for s in segments) else []),
    column_config={
        "#": st.column_config.NumberColumn(width="small"),
        "play": st.column_config.CheckboxColumn("▶", width="small", help="Play from here"),
        "time": st.column_config.TextColumn(width="small"),
        "speaker": st.column_config.SelectboxColumn(options=speaker_options, width="small"),
        "text": st.column_config.TextColumn(width="large"),
        "original": st.column_config.TextColumn("original (ASR)", width="medium"),
    },
)
# every correction is stored at once: nothing typed is lost when the page is left
try:
    saved = save_edits(project, segments, edited)
except QdaError as e:
    st.error(literal(f"{e}. Type the text back, or discard the changes not saved."))
    if st.button("Discard the changes not saved", key="discard_edits"):
        fresh_table(interview.id)
        st.rerun()
    saved = 0
if saved:
    st.toast(f"{saved} correction{'s' if saved != 1 else ''} saved; the original text is kept.")
ticked = edited.index[edited["play"]].tolist()
if ticked and playable:
    play_from(interview.id, segments[ticked[-1]].start)
    fresh_table(interview.id)  # the tick goes, so any row can be clicked next
    st.rerun()
correct_one(project, segments)
merge_split(project, segments)
