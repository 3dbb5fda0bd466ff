"""Recordings into a project, and the background worker that transcribes them.

A recording is checked, copied into the project folder (`media/`) and becomes an
interview with status `pending`; `queue_transcription` adds a job. A worker process
(`qda worker PROJECT`, started by the app when there is work) claims jobs one at a
time, stores each segment as it is decoded together with the job's progress, and at
the end labels speakers and joins cut sentences in one transaction. A worker killed
half-way leaves its job `running` with a dead owner; the next worker takes it over
and continues from the end of the last stored segment, so the transcript has no gap
and no duplicate.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from qda.audio import Audio, load_audio, sha256_of
from qda.errors import InvalidInput, ProjectError, QdaError
from qda.limits import ENV, limits
from qda.media import staged_media
from qda.models import (
    Coding,
    CodingOrigin,
    Interview,
    InterviewStatus,
    Job,
    JobStatus,
    SegmentDraft,
    SpeakerRole,
)
from qda.schema import _now
from qda.store import Project, open_project

TRANSCRIBE = "transcribe"
LOCK_FILE = ".qda-worker.lock"
STALE_AFTER_S = 120.0  # a running job whose heartbeat is older has lost its worker


@dataclass(frozen=True)
class TranscriptionRequest:
    """What to run for one interview (stored with its job, then with the transcript)."""

    engine: str = "faster-whisper"
    model: str = "base"
    language: str | None = None  # None: detect
    speakers: int | str = "auto"  # "auto": counted from the voices; 0 or 1: no labels
    vad: bool = True
    beam_size: int = 5
    word_timestamps: bool = False
    initial_prompt: str | None = None
    condition_on_previous_text: bool = False
    batch_size: int = 8

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> TranscriptionRequest:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def decoding_options(self, language: str | None = None):
        from qda.transcribe.types import TranscriptionOptions

        return TranscriptionOptions(
            language=language or self.language,
            beam_size=self.beam_size,
            vad=self.vad,
            condition_on_previous_text=self.condition_on_previous_text,
            word_timestamps=self.word_timestamps,
            initial_prompt=self.initial_prompt,
            batch_size=self.batch_size,
        )


def _safe_name(name: str) -> str:
    stem = re.sub(r"[^\w.\-]+", "_", Path(name).name, flags=re.UNICODE).strip("._")
    return stem[:80] or "recording"


def _read_recording(
    project: Project, stream: BinaryIO, name: str, max_seconds: float | None
) -> tuple[str, Audio]:
    """Check a recording before it is kept: its hash and its decoded audio; the stream
    is back at its start, to be copied."""
    digest = _checked_recording(project, stream, name)
    audio = load_audio(stream, name, max_seconds=max_seconds)
    stream.seek(0)
    return digest, audio


def _media_name(digest: str, name: str) -> str:
    """The file name a recording is kept under in media/ (its hash finds it again)."""
    return f"{digest[:16]}_{_safe_name(name)}"


def _checked_recording(project: Project, stream: BinaryIO, name: str) -> str:
    """The recording's SHA-256 once its size is within the limit and it is not in the
    project yet (as an interview's source or beside an imported transcript)."""
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if size > (allowed := limits().upload_bytes):
        raise InvalidInput(
            f"the file is {size / 1e6:,.0f} MB; the limit is {allowed / 1e6:,.0f} MB "
            f"(compress it, or raise the limit: {ENV['upload_mb']})",
            source=name,
        )
    digest = sha256_of(stream)
    for interview in project.interviews:
        kept = Path(interview.media_file).name
        if interview.source_sha256 == digest or kept.startswith(f"{digest[:16]}_"):
            raise InvalidInput(
                f"this recording is already in the project as interview {interview.id}",
                source=name,
            )
    return digest


def attach_recording(
    project: Project,
    interview_id: str,
    stream: BinaryIO,
    name: str,
    *,
    max_seconds: float | None = None,
) -> Interview:
    """Keep the recording of a transcript made elsewhere with its interview, so that
    the transcript can be checked against the audio (each turn plays from its time).

    Raises:
        UnsupportedAudio: the file is not usable audio (nothing is stored).
        InvalidInput: the interview has a recording already, or this one is in the
            project.
    """
    if project.root is None:
        raise ProjectError("recordings can only be added to a project folder")
    interview = project.interview(interview_id)
    if interview.media_file:
        raise InvalidInput(f"interview {interview_id} has a recording already", source=name)
    digest, audio = _read_recording(project, stream, name, max_seconds)
    with staged_media(project.root) as media, project.transaction():
        return project.update_interview(
            interview_id,
            media_file=media.add(_media_name(digest, name), stream),
            duration_s=max(interview.duration_s or 0.0, audio.duration),
        )


def add_recording(
    project: Project,
    participant_id: str,
    stream: BinaryIO,
    name: str,
    *,
    language: str | None = None,
    title: str = "",
    max_seconds: float | None = None,
) -> Interview:
    """Check a recording, keep a copy in the project, and add it as a pending interview.

    Raises:
        UnsupportedAudio: the file is not usable audio (nothing is stored).
        InvalidInput: the same recording is already in the project.
    """
    if project.root is None:
        raise ProjectError("recordings can only be added to a project folder")
    participant = project.participant(participant_id)
    if not language:
        # the participants file often says which language they were interviewed in
        known = participant.attributes.get("language")
        language = known if isinstance(known, str) and re.fullmatch(r"[a-z]{2,3}", known) else None
    digest, audio = _read_recording(project, stream, name, max_seconds)
    with staged_media(project.root) as media, project.transaction():
        return project.add_interview(
            participant_id,
            title=title,
            language=language or "",
            status=InterviewStatus.PENDING,
            source_name=Path(name).name,
            source_sha256=digest,
            duration_s=audio.duration,
            media_file=media.add(_media_name(digest, name), stream),
        )


def queue_transcription(
    project: Project, interview_id: str, request: TranscriptionRequest, *, by: str
) -> Job:
    """Queue the transcription of an interview's recording."""
    interview = project.interview(interview_id)
    if project.media_path(interview) is None:
        raise InvalidInput(f"interview {interview_id} has no recording to transcribe")
    if project.codings(interview_id=interview_id):
        raise InvalidInput(
            f"interview {interview_id} is already coded: transcribing it again would "
            "replace the segments its codings are on"
        )
    if interview.language and not request.language:
        request = TranscriptionRequest.from_dict(
            {**request.as_dict(), "language": interview.language}
        )
    job = project.queue_job(
        TRANSCRIBE, interview_id, request.as_dict(), by=by, duration_s=interview.duration_s or 0.0
    )
    project.update_interview(interview_id, status=InterviewStatus.PENDING, error="")
    return job


def retranscribe(
    project: Project, interview_id: str, request: TranscriptionRequest, *, by: str
) -> Job:
    """Transcribe an interview's recording again with other settings (language, model,
    number of speakers). The transcript it replaces goes to the segment history; its
    codings are carried over to the new segments whose text is unchanged, and listed
    when they cannot be; a failed or cancelled run puts the old transcript back."""
    interview = project.interview(interview_id)
    if project.media_path(interview) is None:
        raise InvalidInput(f"interview {interview_id} has no recording to transcribe again")
    paths = {c.id: path for path, c in project.code_paths().items()}
    with project.transaction():
        segments = project.segments(interview_id)
        texts = {s.id: s.text for s in segments}
        previous = [
            {"text": s.text, "original": s.original_text, "speaker": s.speaker,
             "role": s.role, "start": s.start, "end": s.end}
            for s in segments
        ]  # fmt: skip
        carry = [
            {"text": texts[c.segment_id], "code_id": c.code_id, "code": paths[c.code_id],
             "coder": c.coder, "origin": c.origin, "span": c.span,
             "created_at": c.created_at.isoformat() if c.created_at else None}
            for c in project.codings(interview_id=interview_id)
        ]  # fmt: skip
        project.replace_transcript(interview_id, [], by=by, keep_codings=True)
        if request.language:
            project.update_interview(interview_id, language=request.language)
        options = {**request.as_dict(), "previous": previous, "carry": carry}
        job = project.queue_job(
            TRANSCRIBE, interview_id, options, by=by, duration_s=interview.duration_s or 0.0
        )
        project.update_interview(interview_id, status=InterviewStatus.PENDING, error="")
    return job


def _carry_codings(project: Project, interview_id: str, carry: list[dict]) -> list[str]:
    """Apply the codings of a replaced transcript to the new segments with the same
    text; returns those that found no such segment ("code: text")."""
    import datetime as dt

    by_text: dict[str, list[int]] = {}
    for s in project.segments(interview_id):
        by_text.setdefault(" ".join(s.text.split()), []).append(s.id)
    codes = {c.id for c in project.codes}
    left: list[str] = []
    for c in carry:
        found = by_text.get(" ".join(c["text"].split()))
        if not found or c["code_id"] not in codes:
            left.append(f"{c['code']}: {c['text'][:80]}")
            continue
        project.restore_coding(
            Coding(0, found[0], c["code_id"], c["coder"], CodingOrigin(c["origin"]),
                   dt.datetime.fromisoformat(c["created_at"]) if c["created_at"] else None,
                   tuple(c["span"]) if c["span"] else None)
        )  # fmt: skip
    return left


def _put_back(project: Project, job: Job) -> None:
    """A failed or cancelled transcription of an interview that had a transcript: the
    previous segments and their codings come back."""
    previous = job.options.get("previous")
    if not previous:
        return
    with project.transaction():
        drafts = [
            SegmentDraft(x["text"], x["speaker"], SpeakerRole(x["role"]), x["start"], x["end"])
            for x in previous
        ]
        project.replace_transcript(job.interview_id, drafts, by="qda", keep_codings=True)
        _carry_codings(project, job.interview_id, job.options.get("carry", []))


# --- the worker -------------------------------------------------------------------------


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _is_abandoned(job: Job) -> bool:
    host, _, pid = job.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return int(pid) != os.getpid() and _stale(job)
    return _stale(job)


def _stale(job: Job) -> bool:
    if job.heartbeat_at is None:
        return True
    age = _now() - job.heartbeat_at
    return age.total_seconds() > STALE_AFTER_S


class JobCancelled(Exception):
    """The researcher cancelled the job while it ran."""


class Worker:
    """Runs the project's queued jobs one at a time."""

    def __init__(self, project: Project, *, threads: int = 0, log: Callable[[str], None] = print):
        self.project = project
        self.name = worker_id()
        self.threads = threads or (os.cpu_count() or 1)
        self.log = log
        self._transcribers: dict[tuple[str, str], object] = {}

    def transcriber(self, engine: str, model: str):
        from qda.transcribe import load_transcriber

        key = (engine, model)
        if key not in self._transcribers:
            self._transcribers[key] = load_transcriber(engine, model, threads=self.threads)
        return self._transcribers[key]

    def run(self, *, idle_timeout: float = 30.0, poll: float = 1.0) -> int:
        """Claim and run jobs until none has come for `idle_timeout` seconds.

        Returns:
            The number of jobs run.
        """
        done = 0
        idle_since = time.monotonic()
        while True:
            job = self.project.claim_job(self.name, is_abandoned=_is_abandoned)
            if job is None:
                if time.monotonic() - idle_since >= idle_timeout:
                    return done
                time.sleep(poll)
                continue
            self.run_job(job)
            done += 1
            idle_since = time.monotonic()

    def run_job(self, job: Job) -> None:
        self.log(f"job {job.id}: {job.kind} {job.interview_id}")
        try:
            if job.kind != TRANSCRIBE:
                raise QdaError(f"unknown job kind '{job.kind}'")
            self._transcribe(job)
        except JobCancelled:
            self.project.update_interview(job.interview_id, status=InterviewStatus.PENDING)
            self.log(f"job {job.id}: cancelled")
            if job.options.get("previous"):
                _put_back(self.project, job)
                self.project.update_interview(job.interview_id, status=InterviewStatus.TRANSCRIBED)
        except Exception as e:
            message = str(e) if isinstance(e, QdaError) else f"{type(e).__name__}: {e}"
            self.log(f"job {job.id}: failed: {message}\n{traceback.format_exc()}")
            self.project.finish_job(job.id, JobStatus.FAILED, message)
            if job.options.get("previous"):
                message += ": the previous transcript was put back"
            self.project.update_interview(
                job.interview_id, status=InterviewStatus.FAILED, error=message
            )
            _put_back(self.project, job)

    def _check_cancelled(self, job_id: int) -> None:
        if self.project.job(job_id).status is JobStatus.CANCELLED:
            raise JobCancelled

    def _transcribe(self, job: Job) -> None:
        from qda.transcribe.pipeline import channel_plan, decode

        project = self.project
        request = TranscriptionRequest.from_dict(job.options)
        interview = project.update_interview(job.interview_id, status=InterviewStatus.TRANSCRIBING)
        path = project.media_path(interview)
        if path is None or not path.exists():
            raise QdaError(f"the recording of {interview.id} is missing from the project folder")
        project.update_job(job.id, phase="reading the recording")
        with path.open("rb") as f:
            # its length was checked when it was added: a limit lowered since does not apply
            audio = load_audio(f, interview.source_name, max_seconds=float("inf"))
        plan = channel_plan(audio, request.speakers)
        total = audio.duration * len(plan)
        project.update_job(job.id, duration_s=total, phase="loading the model")
        transcriber = self.transcriber(request.engine, request.model)
        stored = project.segments(interview.id)
        language = interview.language or request.language
        timed = False
        for number, (speaker, samples) in enumerate(plan):
            mine = [s for s in stored if s.speaker == speaker]
            start_at = max((s.end or 0.0 for s in mine), default=0.0)
            offset = number * audio.duration
            if start_at >= audio.duration - 0.5:
                continue
            if start_at:
                self.log(f"job {job.id}: resuming at {start_at:.1f} s")
            label = f" (channel {number + 1} of {len(plan)})" if len(plan) > 1 else ""
            timing = {}
            if not timed:  # the speed is measured from here, in this run
                timed = True
                timing = {
                    "decoding_started_at": _now().isoformat(),
                    "decoding_from": offset + start_at,
                    "expected_factor": project.transcription_speed(request.engine, request.model),
                }
            job = project.update_job(
                job.id,
                phase=f"transcribing{label}",
                progress_s=offset + start_at,
                **({"options": {**job.options, **timing}} if timing else {}),
            )
            detected, segments = decode(
                transcriber,
                samples,
                request.decoding_options(language),
                start_at=start_at,
                speaker=speaker,
            )
            if not language:
                language = detected
                project.update_interview(interview.id, language=language)
            for segment in segments:
                self._check_cancelled(job.id)
                with project.transaction():
                    project.append_segments(
                        interview.id,
                        [
                            SegmentDraft(
                                text=segment.text,
                                speaker=segment.speaker,
                                role=SpeakerRole.OTHER,
                                start=segment.start,
                                end=segment.end,
                                words=tuple((w.start, w.end, w.text) for w in segment.words),
                            )
                        ],
                    )
                    project.update_job(job.id, progress_s=offset + segment.end)
        self._check_cancelled(job.id)
        missing: list[tuple[float, float]] = []
        if request.vad:  # speech the voice detection dropped: decoded again without it
            project.update_job(job.id, phase="checking for skipped speech", progress_s=total)
            missing = self._recover(job, interview, plan, transcriber, request, language)
        project.update_job(job.id, phase="labelling speakers", progress_s=total)
        self._finish(job, interview, audio, request, transcriber, language or "", missing)

    def _recover(self, job, interview, plan, transcriber, request, language) -> list:
        from qda.transcribe.gaps import recover
        from qda.transcribe.types import TranscribedSegment, Word

        project = self.project
        missing: list[tuple[float, float]] = []
        for speaker, samples in plan:
            stored = [
                TranscribedSegment(s.start or 0.0, s.end or 0.0, s.text,
                                   tuple(Word(*w) for w in s.words), s.speaker)
                for s in project.segments(interview.id)
                if s.speaker == speaker
            ]  # fmt: skip
            gaps = recover(
                transcriber, samples, request.decoding_options(language), stored, speaker=speaker
            )
            with project.transaction():
                project.append_segments(
                    interview.id,
                    [
                        SegmentDraft(s.text, s.speaker, SpeakerRole.OTHER, s.start, s.end,
                                     tuple((w.start, w.end, w.text) for w in s.words))
                        for s in gaps.recovered
                    ],
                )  # fmt: skip
            if gaps.recovered:
                self.log(f"job {job.id}: {len(gaps.recovered)} segments of skipped speech")
            missing += gaps.missing
        return missing

    def _finish(
        self, job, interview, audio: Audio, request, transcriber, language: str, missing=()
    ) -> None:
        from qda.transcribe.pipeline import INTERVIEWER, label_and_merge
        from qda.transcribe.types import TranscribedSegment, Word

        project = self.project
        participant = project.participant(interview.participant_id)
        stored = [
            TranscribedSegment(
                s.start or 0.0,
                s.end or 0.0,
                s.text,
                tuple(Word(*w) for w in s.words),
                s.speaker,
            )
            for s in sorted(project.segments(interview.id), key=lambda s: s.start or 0.0)
        ]
        labelled, method = label_and_merge(
            audio, stored, request.speakers, participant=participant.label
        )
        drafts = [
            SegmentDraft(
                text=s.text,
                speaker=s.speaker,
                role=SpeakerRole.INTERVIEWER
                if s.speaker == INTERVIEWER
                else SpeakerRole.PARTICIPANT,
                start=s.start,
                end=s.end,
                words=tuple((w.start, w.end, w.text) for w in s.words),
            )
            for s in labelled
        ]
        info = transcriber.info
        with project.transaction():
            self._check_cancelled(job.id)
            project.replace_transcript(interview.id, drafts, by=f"{info.engine} {info.model}")
            not_carried = _carry_codings(project, interview.id, job.options.get("carry", []))
            project.update_interview(
                interview.id,
                status=InterviewStatus.TRANSCRIBED,
                language=language,
                engine=str(info.engine),
                model=info.model,
                engine_options={
                    **request.decoding_options(language).as_dict(),
                    "speakers": request.speakers,
                    "speaker_labels": method,
                    "engine_version": info.version,
                    "device": info.device,
                    "compute_type": info.compute_type,
                    **({"codings_not_carried": not_carried} if not_carried else {}),
                    **({"untranscribed": [list(m) for m in missing]} if missing else {}),
                },
                error="",
            )
            project.finish_job(job.id, JobStatus.DONE)
        self.log(f"job {job.id}: done, {len(drafts)} segments")


# --- starting a worker from the app ------------------------------------------------------


@contextlib.contextmanager
def worker_lock(root: Path):
    """Held by the one worker of a project folder; raises BlockingIOError if taken."""
    with (root / LOCK_FILE).open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def worker_running(root: Path) -> bool:
    try:
        with worker_lock(root):
            return False
    except BlockingIOError:
        return True


def ensure_worker(project: Project) -> bool:
    """Start a worker process for the project if jobs wait and none runs.

    Returns:
        Whether a worker was started.
    """
    root = project.root
    if os.environ.get("QDA_WORKER") == "off":  # workers are run by hand (`qda worker`)
        return False
    if root is None or not project.jobs(active=True) or worker_running(root):
        return False
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    with (logs / "worker.log").open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "qda.cli", "worker", str(root)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return True


def run_worker(path: str | Path, *, idle_timeout: float = 30.0, log=print) -> int:
    """The body of `qda worker`: run the project's jobs, holding its worker lock."""
    project = open_project(path)
    assert project.root is not None
    try:
        with worker_lock(project.root):
            return Worker(project, log=log).run(idle_timeout=idle_timeout)
    except BlockingIOError:
        log(f"another worker is already running for {project.root}")
        return 0
