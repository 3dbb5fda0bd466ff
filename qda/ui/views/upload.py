"""Upload page: recordings in, each linked to a participant; transcription jobs with progress."""

from __future__ import annotations

import streamlit as st

from qda.audio import AUDIO_EXTENSIONS
from qda.errors import QdaError
from qda.ingest import match_participant
from qda.ingest.participants import save_edited_participants
from qda.jobs import TranscriptionRequest, add_recording, ensure_worker, queue_transcription
from qda.limits import limits
from qda.models import JobStatus
from qda.transcribe.weights import BUNDLED_MODELS
from qda.ui.files import keep_right_kind
from qda.ui.state import flash, literal, page, speakers_choice, user

NEW = "➕ new participant"
LANGUAGES = {"auto": "detect", "en": "English", "da": "Danish", "fr": "French", "de": "German",
             "sv": "Swedish", "no": "Norwegian", "nl": "Dutch", "es": "Spanish", "it": "Italian",
             "pl": "Polish", "ar": "Arabic"}  # fmt: skip


def recording_rows(project, files) -> list[dict]:
    """One row of choices per uploaded file: participant (new or existing) and language."""
    people = project.participants
    ids = [p.id for p in people]
    groups = sorted({p.stakeholder_group for p in people})
    rows = []
    for n, f in enumerate(files):
        try:
            guess = match_participant(f.name, people, {})
        except QdaError:
            guess = None
        cols = st.columns([3, 2, 2, 2])
        cols[0].markdown(f"**{f.name}**  \n{f.size / 1e6:.1f} MB")
        choice = cols[1].selectbox(
            "Participant",
            [*ids, NEW],
            index=ids.index(guess) if guess in ids else len(ids),
            key=f"rec_participant_{n}",
        )
        new = {}
        if choice == NEW:
            new["participant_id"] = cols[1].text_input("New id", key=f"rec_new_id_{n}")
            new["stakeholder_group"] = cols[2].selectbox(
                "Stakeholder group",
                groups,
                index=None,
                accept_new_options=True,
                key=f"rec_new_group_{n}",
            ) or cols[2].text_input("… or a new group", key=f"rec_new_group_text_{n}")
        known = next((p.attributes.get("language") for p in people if p.id == choice), None)
        codes = list(LANGUAGES)
        language = cols[3].selectbox(
            "Language",
            codes,
            index=codes.index(known) if known in codes else 0,
            format_func=lambda c: f"{LANGUAGES[c]} ({c})" if c != "auto" else "detect (auto)",
            key=f"rec_language_{n}",
            help="Set it when you know it: detection can be wrong on short or noisy recordings.",
        )
        rows.append({"file": f, "participant": choice, "new": new, "language": language})
    return rows


def settings() -> TranscriptionRequest:
    with st.expander("Transcription settings"):
        c1, c2, c3 = st.columns(3)
        engine = c1.selectbox("Engine", ["faster-whisper", "openai-whisper"], key="tr_engine")
        model = c2.selectbox(
            "Model",
            [*BUNDLED_MODELS, "small", "medium", "large-v3"],
            key="tr_model",
            accept_new_options=True,
            help="base and tiny.en (English only) come with qda; others are downloaded "
            "by the engine when this computer is online, or type a model folder path.",
        )
        speakers = speakers_choice(c3, "tr_speakers")
        c4, c5 = st.columns(2)
        vad = c4.checkbox("Skip silence (VAD)", True, key="tr_vad")
        words = c5.checkbox("Word timestamps", False, key="tr_words")
        prompt = st.text_input(
            "Names and jargon (optional)",
            key="tr_prompt",
            placeholder="e.g. MitID, Universal Credit, France Services",
        )
    return TranscriptionRequest(
        engine=engine,
        model=model,
        speakers=speakers,
        vad=vad,
        word_timestamps=words,
        initial_prompt=prompt or None,
    )


def start(project, rows, request: TranscriptionRequest) -> None:
    """Add and queue each recording; a bad file is reported and the others go on."""
    queued, problems = [], []
    for row in rows:
        f = row["file"]
        try:
            pid = row["participant"]
            language = None if row["language"] == "auto" else row["language"]
            with project.transaction():  # a refused recording leaves no new participant
                if pid == NEW:
                    new = row["new"]
                    pid = (new.get("participant_id") or "").strip()
                    save_edited_participants(project, [new], source=f"new participant for {f.name}")
                f.seek(0)
                interview = add_recording(project, pid, f, f.name, language=language)
            job = queue_transcription(
                project,
                interview.id,
                TranscriptionRequest.from_dict({**request.as_dict(), "language": language}),
                by=user(),
            )
            queued.append(f"{interview.id} (job {job.id})")
        except QdaError as e:
            problems.append(f"{f.name} was not added: {e}")
    ensure_worker(project)
    message = f"Transcribing {', '.join(queued)}. Progress is shown below." if queued else ""
    flash(message, problems=problems)


def job_list(project) -> None:
    jobs = project.jobs()
    if not jobs:
        st.caption("No transcriptions yet.")
        return
    if any(j.status.active for j in jobs):
        ensure_worker(project)  # a worker that crashed or was stopped is started again
    for job in reversed(jobs[-20:]):
        interview = project.interview(job.interview_id)
        cols = st.columns([2, 5, 1])
        cols[0].markdown(f"**{literal(job.interview_id)}** · {literal(interview.source_name)}")
        seconds = job.seconds_left()
        left = f" · about {seconds:.0f} s left" if seconds is not None else ""
        if seconds is None and job.phase.startswith("transcribing"):
            left = " · measuring the speed"
        if job.status is JobStatus.RUNNING:
            cols[1].progress(job.fraction, text=f"{job.phase} · {job.fraction:.0%}{left}")
        elif job.status is JobStatus.QUEUED:
            cols[1].progress(0.0, text="queued")
        elif job.status is JobStatus.DONE:
            cols[1].progress(1.0, text="done")
        else:
            cols[1].error(
                literal(f"{job.status}: {job.error or 'stopped'}"), icon=":material/error:"
            )
        if job.status.active and cols[2].button("Cancel", key=f"cancel_{job.id}"):
            project.cancel_job(job.id)
            st.rerun()
        if job.status in (JobStatus.FAILED, JobStatus.CANCELLED) and cols[2].button(
            "Retry", key=f"retry_{job.id}", help="Continues from what was already transcribed."
        ):
            try:
                queue_transcription(
                    project,
                    job.interview_id,
                    TranscriptionRequest.from_dict(job.options),
                    by=user(),
                )
                ensure_worker(project)
                st.rerun()
            except QdaError as e:
                st.error(literal(str(e)))


project = page("Upload recordings")
st.write(
    "Drop the interview recordings here (wav, mp3, m4a, ogg/opus, flac, webm, or video "
    "such as mp4 and mov). Each becomes an interview of a participant and is transcribed "
    "on this computer. You can leave this page while it works."
)
allowed = limits()
st.caption(
    f"Up to {allowed.upload_mb:,} MB and {allowed.audio_hours:g} hours per recording "
    f"(raise the limits with `qda app --max-upload-mb N --max-audio-hours H`)."
)
files = st.file_uploader("Recordings", accept_multiple_files=True, key="up_audio")
files, refused = keep_right_kind(files or [], AUDIO_EXTENSIONS, "a recording")
for problem in refused:
    st.error(literal(problem))
if files:
    rows = recording_rows(project, files)
    request = settings()
    if st.button("Add and transcribe", type="primary", key="start_transcription"):
        with st.spinner("Checking the recordings…"):
            start(project, rows, request)
st.header("Transcriptions")
# refresh every 2 s while something is queued or running, not otherwise
running = bool(project.jobs(active=True))
st.fragment(job_list, run_every=2.0 if running else None)(project)
