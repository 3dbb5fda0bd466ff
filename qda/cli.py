"""`qda` command line: each command parses its arguments and calls the library."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import BinaryIO

import click

from qda.errors import QdaError
from qda.store import current_user


def _errors_as_messages(command: Callable) -> Callable:
    """Show a qda error as one clear message and exit 1, never a traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except QdaError as e:
            click.secho(f"error: {e}", fg="red", err=True)
            sys.exit(1)

    return wrapper


TEXT_FORMATS = {"json", "txt", "srt", "vtt", "csv", "md", "yaml", "qdc"}


def _emit(write: Callable[[BinaryIO], None], fmt: str, output: Path | None) -> None:
    """Write a file, or (text formats only) standard output when there is no -o."""
    if output is None:
        if fmt not in TEXT_FORMATS:
            raise click.UsageError(f"{fmt.upper()} needs -o FILE")
        buffer = io.BytesIO()
        write(buffer)
        click.echo(buffer.getvalue().decode("utf-8"), nl=False)
        return
    buffer = io.BytesIO()
    write(buffer)  # a refused export leaves no empty or partial file behind
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(buffer.getvalue())
    click.echo(f"wrote {output}", err=True)


PROJECT = click.argument("project", type=click.Path(path_type=Path))


def _decoding_options(command: Callable) -> Callable:
    """The Whisper options `transcribe` and `retranscribe` share, handed to the command
    as one `request` (a TranscriptionRequest)."""

    @wraps(command)
    def wrapper(*args, engine, model, language, speakers, beam_size, no_vad,
                word_timestamps, prompt, **kwargs):  # fmt: skip
        from qda.jobs import TranscriptionRequest
        from qda.transcribe.voices import parse_speakers

        request = TranscriptionRequest(
            engine=engine,
            model=model,
            language=None if language == "auto" else language,
            speakers=parse_speakers(speakers),
            vad=not no_vad,
            beam_size=beam_size,
            word_timestamps=word_timestamps,
            initial_prompt=prompt,
        )
        return command(*args, request=request, **kwargs)

    options = [
        click.option("--engine", type=click.Choice(["faster-whisper", "openai-whisper"]),
                     default="faster-whisper", show_default=True),
        click.option("--model", default="base", show_default=True,
                     help="Model name (base, tiny.en, small, …) or path."),
        click.option("--language", default="auto", show_default=True,
                     help="auto, or a code: en, da, fr, …"),
        click.option("--speakers", default="auto", show_default=True,
                     help="auto: counted from the voices (one for a monologue, several "
                          "for a focus group); a number forces it; 1 = no labels."),
        click.option("--beam-size", default=5, show_default=True, help="1 = greedy decoding."),
        click.option("--no-vad", is_flag=True, help="Decode silence too (VAD is on by default)."),
        click.option("--word-timestamps", is_flag=True),
        click.option("--prompt", default=None, help="Names and jargon the interviews use."),
    ]  # fmt: skip
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


BY = click.option(
    "--by",
    default=current_user,
    show_default="$QDA_USER or login name",
    help="Who made the change.",
)


@click.group()
@click.version_option(package_name="qda")
def main() -> None:
    """qda: transcribe, code and compare interviews across stakeholder groups."""
    from qda.privacy import private_temp_dir

    private_temp_dir()


@main.command()
@PROJECT
@click.option("--name", default="", help="Name of the study.")
@_errors_as_messages
def init(project: Path, name: str) -> None:
    """Create a new, empty project in folder PROJECT."""
    from qda.store import create_project

    create_project(project, name=name or project.name)
    click.echo(f"created project {project}")


@main.command()
@PROJECT
@click.option("--run/--no-run", default=False, help="Start the app on the project afterwards.")
@click.option("--port", default=8501, show_default=True)
@_errors_as_messages
def demo(project: Path, run: bool, port: int) -> None:
    """Build the demo study in folder PROJECT (kept as it is if it already exists)."""
    from qda.demo import open_or_build_demo

    opened, built = open_or_build_demo(project)
    if not built:
        click.echo(f"{project} already holds a project: opening it unchanged")
    else:
        summary = opened.summary()
        click.echo(
            f"built the demo study in {project}: {summary.participants} participants, "
            f"{summary.interviews} interviews, {summary.codes} codes, {summary.codings} codings"
        )
    if run:
        _run_app(project, port)


@main.command()
@click.argument("project", type=click.Path(path_type=Path), required=False)
@click.option("--port", default=8501, show_default=True)
@click.option(
    "--max-upload-mb",
    type=click.IntRange(min=1),
    help="Largest file the app takes in, in MB [$QDA_MAX_UPLOAD_MB, else 2048].",
)
@click.option(
    "--max-audio-hours",
    type=click.FloatRange(min=0, min_open=True),
    help="Longest recording transcribed [$QDA_MAX_AUDIO_HOURS, else 4].",
)
@click.option(
    "--max-topic-segments",
    type=click.IntRange(min=1),
    help="Most segments one topic-model run goes over [$QDA_MAX_TOPIC_SEGMENTS, else 50000].",
)
@_errors_as_messages
def app(project: Path | None, port: int, **overrides) -> None:
    """Start the qda app in the browser (on PROJECT if given)."""
    if project is not None:
        from qda.store import open_project

        open_project(project)
    _run_app(project, port, **overrides)


def _run_app(
    project: Path | None,
    port: int,
    max_upload_mb: int | None = None,
    max_audio_hours: float | None = None,
    max_topic_segments: int | None = None,
) -> None:
    import dataclasses

    from qda.limits import limits
    from qda.ui.settings import STREAMLIT_FLAGS

    _check_port(port)
    given = {"upload_mb": max_upload_mb, "audio_hours": max_audio_hours,
             "topic_segments": max_topic_segments}  # fmt: skip
    chosen = dataclasses.replace(limits(), **{k: v for k, v in given.items() if v is not None})
    script = Path(__file__).parent / "ui" / "app.py"
    env = {**os.environ, **chosen.as_env()}  # the worker the app starts inherits them
    if project is not None:
        env["QDA_PROJECT"] = str(project.resolve())
    click.echo(f"qda is running at http://localhost:{port}  (Ctrl+C to stop)")
    flags = [f for f in STREAMLIT_FLAGS if not f.startswith("--server.maxUploadSize=")]
    command = [sys.executable, "-m", "streamlit", "run", str(script), *flags]
    command += [f"--server.port={port}", f"--server.maxUploadSize={chosen.upload_mb}"]
    server = subprocess.Popen(command, env=env)
    sys.exit(_serve(server))


def _check_port(port: int) -> None:
    """Say at once that the port is taken, instead of Streamlit failing later."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise QdaError(
                f"port {port} is in use: is qda already running (http://localhost:{port})? "
                f"Start another with `qda app --port {port + 1}`"
            ) from None


def _serve(server: subprocess.Popen) -> int:
    """Wait for the app's server; stopping `qda app` (Ctrl+C, SIGTERM, a closed terminal)
    stops the server too, instead of leaving it running without its parent."""
    import signal

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        return 0


@main.command()
@PROJECT
@_errors_as_messages
def info(project: Path) -> None:
    """Show a project's participants per group and its interviews."""
    from qda.overview import groups_table, interviews_table
    from qda.store import open_project

    p = open_project(project)
    s = p.summary()
    click.echo(f"{s.name or project}  (schema v{p.schema_version})")
    click.echo(
        f"{s.participants} participants, {s.interviews} interviews, {s.segments} segments, "
        f"{s.codes} codes, {s.codings} codings\n"
    )
    click.echo(groups_table(p).to_string(index=False))
    click.echo()
    table = interviews_table(p)
    if not table.empty:
        table["excluded"] = [r[:37] + "…" if len(r) > 38 else r for r in table.excluded]
        click.echo(table.drop(columns=["source"]).to_string(index=False))
    from qda.models import clock
    from qda.transcribe.loops import find_loops

    for interview in p.interviews:
        for loop in find_loops(p.segments(interview.id)):
            click.secho(
                f"{interview.id}, turn {loop.turn} ({clock(loop.start)}): looks like a "
                f"repetition loop ({loop.reason}); listen to it and correct it",
                fg="yellow",
            )


@main.command("import-participants")
@PROJECT
@click.argument("csv_file", type=click.File("rb"))
@click.option(
    "--update",
    is_flag=True,
    help="Change participants already in the project where the file differs (without it, "
    "such a file is refused with a list of the changes).",
)
@_errors_as_messages
def import_participants_cmd(project: Path, csv_file, update: bool) -> None:
    """Add participants from a CSV file, or update them with --update."""
    from qda.ingest import import_participants, read_participants_csv
    from qda.store import open_project

    p = open_project(project)
    table = read_participants_csv(csv_file, Path(csv_file.name).name)
    for warning in table.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    n = import_participants(p, table, update=update)
    types = ", ".join(f"{k} ({v})" for k, v in table.attribute_types.items())
    click.echo(f"{n} participants imported; attributes: {types or 'none'}")


@main.command("import-transcripts")
@PROJECT
@click.argument("files", type=click.Path(exists=True, path_type=Path), nargs=-1, required=True)
@click.option(
    "--participants-csv",
    type=click.File("rb"),
    help="A participants CSV whose transcript_file column links files to participants.",
)
@click.option(
    "--participant", help="The participant of every file given (else from each file's name)."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show how each file would be read (format, turns, speakers and roles) and change nothing.",
)
@click.option(
    "--exclude-placeholders",
    is_flag=True,
    help="Exclude from analysis a file that is only a placeholder notice.",
)
@BY
@_errors_as_messages
def import_transcripts_cmd(
    project: Path,
    files: tuple[Path, ...],
    participants_csv,
    participant: str | None,
    dry_run: bool,
    exclude_placeholders: bool,
    by: str,
) -> None:
    """Add transcripts as interviews of their participants: Word (.docx), OpenDocument
    (.odt), text, Otter.ai, Zoom and Teams (.vtt, .docx), Rev, noScribe (.html), SRT.
    FILES may be folders: every transcript file in them is read."""
    from qda.ingest import import_transcripts, preview_transcripts, read_participants_csv
    from qda.store import open_project

    p = open_project(project)
    links = {}
    if participants_csv is not None:
        links = read_participants_csv(
            participants_csv, Path(participants_csv.name).name
        ).transcript_files
    paths = _transcript_paths(files)
    streams = [(f.name, f.open("rb")) for f in paths]
    chosen = {f.name: participant for f in paths} if participant else None
    try:
        if dry_run:
            for preview in preview_transcripts(p, streams, transcript_files=links):
                _print_preview(preview, participant)
            click.echo("nothing was changed (--dry-run)")
            return
        result = import_transcripts(
            p,
            streams,
            transcript_files=links,
            participants=chosen,
            exclude_placeholders=exclude_placeholders,
            by=by,
        )
    finally:
        for _, s in streams:
            s.close()
    for warning in result.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    for interview in result.added:
        note = " (excluded from analysis)" if interview.id in result.excluded else ""
        click.echo(
            f"added {interview.id} from {interview.source_name}{note}: "
            f"{result.readings[interview.source_name]}"
        )
    for name in result.skipped:
        click.echo(f"skipped {name}: already in the project")
    for interview_id, notice in result.placeholders.items():
        click.secho(
            f"{interview_id} looks like a placeholder, not an interview (“{notice}”): "
            f"leave it out of the analysis with `qda exclude {project} {interview_id} "
            '--reason "placeholder"`',
            fg="yellow",
        )


def _transcript_paths(given: tuple[Path, ...]) -> list[Path]:
    """The files given, with each folder replaced by the transcript files in it."""
    from qda.ingest import TRANSCRIPT_EXTENSIONS

    out: list[Path] = []
    for path in given:
        if not path.is_dir():
            out.append(path)
            continue
        found = sorted(
            f
            for f in path.iterdir()
            if f.is_file()
            and not f.name.startswith((".", "~$"))
            and f.suffix.lower().lstrip(".") in TRANSCRIPT_EXTENSIONS
        )
        if not found:
            raise click.UsageError(f"no transcript files in the folder {path}")
        out.extend(found)
    return out


def _print_preview(preview, participant: str | None) -> None:
    click.echo(f"{preview.name}:")
    problems = [] if participant and preview.transcript else preview.problems
    for problem in problems:
        click.secho(f"  cannot import: {problem}", fg="red")
    t = preview.transcript
    if t is None:
        return
    pid = participant or preview.participant
    click.echo(f"  participant: {pid or '?'}")
    click.echo(f"  read as: {t.format_label}, {len(t.segments)} turns")
    if preview.duplicate:
        click.echo(f"  already in the project as {preview.duplicate}: it would be skipped")
    for s in t.speakers:
        click.echo(f"  speaker {s.speaker!r}: {s.role}, {s.turns} turns ({s.reason})")
    if t.left_out:
        click.echo(f"  left out before the first turn: {' | '.join(t.left_out)[:200]}")
    for seg in t.segments[:3]:
        who = seg.speaker or "(no speaker)"
        click.echo(f"    {who}: {seg.text[:90]}")
    for warning in t.warnings:
        click.secho(f"  warning: {warning}", fg="yellow")
    if t.placeholder:
        click.secho(f"  looks like a placeholder: “{t.placeholder}”", fg="yellow")


@main.command("config")
@PROJECT
@click.option(
    "--interviewer",
    "interviewers",
    multiple=True,
    help="A name of the study's interviewers (repeatable): their turns in imported "
    "transcripts are interviewer turns. Replaces the list.",
)
@click.option("--clear-interviewers", is_flag=True, help="Forget the interviewers' names.")
@click.option(
    "--apply",
    is_flag=True,
    help="Also give the named interviewers their role in the interviews already imported.",
)
@click.option(
    "--embedding-model",
    type=click.Choice(["e5-small", "minilm", "minilm-static"]),
    help="The model of suggestions and topics (e5-small: English, Danish, French; "
    "minilm: English; minilm-static: English, a hundred times faster, for large studies, "
    "but its meaning alone ranks codes near chance: code fit leans on the words).",
)
@click.option(
    "--stop-word",
    "stop_words",
    multiple=True,
    help="A word to keep out of topic key words and names (repeatable; replaces the "
    "list). Stop words, fillers and the names of the study's people are left out anyway.",
)
@click.option("--clear-stop-words", is_flag=True, help="Forget the study's own stop words.")
@BY
@_errors_as_messages
def config_cmd(
    project: Path,
    interviewers: tuple[str, ...],
    clear_interviewers: bool,
    apply: bool,
    embedding_model: str | None,
    stop_words: tuple[str, ...],
    clear_stop_words: bool,
    by: str,
) -> None:
    """Show or change the project's settings."""
    from qda.ingest.speakers import apply_interviewer_names
    from qda.store import open_project

    p = open_project(project)
    if clear_interviewers:
        p.set_interviewer_names([])
    if interviewers:
        p.set_interviewer_names(interviewers)
    if embedding_model:
        p.set_embedding_model(embedding_model)
    if clear_stop_words:
        p.set_topic_stop_words([])
    if stop_words:
        p.set_topic_stop_words(stop_words)
    names = p.interviewer_names
    click.echo(f"interviewers: {', '.join(names) if names else '(none: found by role words)'}")
    click.echo(f"embedding model: {p.embedding_model}")
    words = p.topic_stop_words
    click.echo(f"topic stop words: {', '.join(words) if words else '(only the built-in ones)'}")
    if apply:
        changed = apply_interviewer_names(p, by=by)
        for interview_id, speakers in changed.items():
            click.echo(f"{interview_id}: roles set for {', '.join(speakers)}")
        click.echo(f"{len(changed)} interviews changed")


@main.command("exclude")
@PROJECT
@click.argument("interview")
@click.option("--reason", default="", help="Why (withdrawn consent, placeholder, pilot, …).")
@BY
@_errors_as_messages
def exclude_cmd(project: Path, interview: str, reason: str, by: str) -> None:
    """Leave an interview out of every count, base, suggestion and export (its
    transcript and codings are kept; `qda include` brings it back)."""
    from qda.store import open_project

    done = open_project(project).exclude_interview(interview, reason, by=by)
    click.echo(f"{done.id} excluded from analysis: {done.excluded_reason}")


@main.command("include")
@PROJECT
@click.argument("interview")
@BY
@_errors_as_messages
def include_cmd(project: Path, interview: str, by: str) -> None:
    """Bring an excluded interview back into the analysis."""
    from qda.store import open_project

    done = open_project(project).include_interview(interview, by=by)
    click.echo(f"{done.id} is part of the analysis again")


@main.command("delete")
@PROJECT
@click.option("--interview", "interview_id", help="The interview to delete.")
@click.option(
    "--participant", "participant_id", help="The participant to delete, with their interviews."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_errors_as_messages
def delete_cmd(
    project: Path, interview_id: str | None, participant_id: str | None, yes: bool
) -> None:
    """Delete an interview, or a participant with their interviews, for good: segments,
    codings, recordings, history and cached vectors (a withdrawn consent, a wrong
    upload). Excluding (`qda exclude`) keeps them instead."""
    from qda.store import open_project

    if (interview_id is None) == (participant_id is None):
        raise click.UsageError("say what to delete: --interview ID or --participant ID")
    p = open_project(project)
    plan = p.deletion_plan(interview_id=interview_id, participant_id=participant_id)
    click.echo(plan.describe())
    if not yes and not click.confirm("Delete?", default=False):
        click.echo("nothing was deleted")
        return
    p.delete(plan)
    click.echo(f"deleted {', '.join([*plan.participants, *plan.interviews]) or 'nothing'}")


@main.command("relink")
@PROJECT
@click.argument("interview")
@click.argument("participant")
@_errors_as_messages
def relink_cmd(project: Path, interview: str, participant: str) -> None:
    """Move INTERVIEW (a recording uploaded under the wrong participant) to PARTICIPANT,
    with its transcript, codings and history."""
    from qda.store import open_project

    new_id = open_project(project).relink_interview(interview, participant)
    click.echo(f"{interview} is now interview {new_id} of {participant}")


@main.command("attach-recording")
@PROJECT
@click.argument("interview")
@click.argument("recording", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_errors_as_messages
def attach_recording_cmd(project: Path, interview: str, recording: Path) -> None:
    """Keep the RECORDING of an imported transcript with its INTERVIEW, to check the
    transcript against the audio on the Transcripts page."""
    from qda.jobs import attach_recording
    from qda.store import open_project

    with recording.open("rb") as f:
        done = attach_recording(open_project(project), interview, f, recording.name)
    click.echo(f"{done.id}: {recording.name} kept with the transcript ({done.duration_s:.0f} s)")


@main.command("import-codebook")
@PROJECT
@click.argument("codebook_file", type=click.File("rb"))
@BY
@_errors_as_messages
def import_codebook_cmd(project: Path, codebook_file, by: str) -> None:
    """Add or update codes from a codebook file (.yaml, .qdc, .csv, .qdpx)."""
    from qda.codebook import import_codebook
    from qda.codebook.formats import read_codebook
    from qda.store import open_project

    p = open_project(project)
    name = Path(codebook_file.name).name
    codebook = read_codebook(codebook_file, name)
    for line in codebook.report.lines()[1:]:
        click.echo(line)
    n = import_codebook(p, codebook, by=by, source=name)
    click.echo(f"{n} codes imported from {name}")


@main.command("backup")
@PROJECT
@click.argument("output", required=False, type=click.Path(dir_okay=False, path_type=Path))
@_errors_as_messages
def backup_cmd(project: Path, output: Path | None) -> None:
    """Back the project up into one zip (safe while the app is running)."""
    from qda.backup import backup_project

    summary = backup_project(project, output)
    click.echo(f"wrote {summary.path} ({summary.files} files, {summary.bytes / 1e6:.1f} MB)")


@main.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@PROJECT
@_errors_as_messages
def restore_cmd(backup: Path, project: Path) -> None:
    """Bring a backup back as the project in a new folder PROJECT."""
    from qda.backup import restore_project

    click.echo(f"restored {restore_project(backup, project)}")


@main.command("export-qdpx")
@PROJECT
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@_errors_as_messages
def export_qdpx_cmd(project: Path, output: Path) -> None:
    """Write the whole project as a REFI-QDA project file (.qdpx) for NVivo, ATLAS.ti,
    MAXQDA, QualCoder and others."""
    from qda.qdpx import export_qdpx
    from qda.store import open_project

    p = open_project(project)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with partial.open("wb") as f:
        summary = export_qdpx(p, f)
    partial.replace(output)
    left_out = (
        f"; {summary.excluded} interviews excluded from analysis left out"
        if summary.excluded
        else ""
    )
    click.echo(
        f"wrote {output}: {summary.cases} cases, {summary.sources} text sources "
        f"({summary.audio_sources} with their recording), {summary.codes} codes, "
        f"{summary.selections} selections, {summary.codings} codings{left_out}"
    )


@main.command("import-qdpx")
@click.argument("qdpx_file", type=click.File("rb"))
@PROJECT
@click.option(
    "--group",
    "group_variable",
    help="The case variable that holds the stakeholder group (default: one whose name "
    "says group, stakeholder or role).",
)
@BY
@_errors_as_messages
def import_qdpx_cmd(qdpx_file, project: Path, group_variable: str | None, by: str) -> None:
    """Bring a REFI-QDA project (.qdpx, or a .qde) into PROJECT (created if needed)."""
    from qda.qdpx import import_qdpx
    from qda.store import open_project

    p = open_project(project, create=True)
    name = Path(qdpx_file.name).name
    report = import_qdpx(p, qdpx_file, name, group_variable=group_variable, by=by)
    for line in report.lines():
        click.echo(line)


@main.group()
def codebook() -> None:
    """Codebook files: convert, validate, compare; export from and merge into a project."""


@codebook.command("convert")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@_errors_as_messages
def codebook_convert(source: Path, target: Path) -> None:
    """Convert SOURCE to TARGET; formats from the extensions (.yaml, .qdc, .csv; SOURCE
    may also be a .qdpx or .qde project)."""
    from qda.codebook.formats import read_codebook, write_codebook

    with source.open("rb") as f:
        book = read_codebook(f, source.name)
    for line in book.report.lines()[1:]:
        click.echo(line, err=True)
    _emit(lambda out: write_codebook(book, out, target.name), "", target)


@codebook.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_errors_as_messages
def codebook_validate(file: Path) -> None:
    """Check a codebook file; exit 1 with the place of the problem when it is invalid."""
    from qda.codebook.formats import read_codebook

    with file.open("rb") as f:
        book = read_codebook(f, file.name)
    themes = sum(1 for _, n in book.walk() if n.children)
    click.echo(f"{file.name}: valid, {len(book.walk())} codes ({themes} themes)")
    for line in book.report.lines()[1:]:
        click.echo(f"  {line}")


@codebook.command("diff")
@click.argument("a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_errors_as_messages
def codebook_diff(a: Path, b: Path) -> None:
    """What changed from codebook A to codebook B (codes matched by GUID)."""
    from qda.codebook.diff import diff_codebooks
    from qda.codebook.formats import read_codebook

    with a.open("rb") as fa, b.open("rb") as fb:
        changes = diff_codebooks(read_codebook(fa, a.name), read_codebook(fb, b.name))
    for change in changes:
        click.echo(str(change))
    click.echo(f"{len(changes)} differences")


@codebook.command("export")
@PROJECT
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@_errors_as_messages
def codebook_export(project: Path, target: Path) -> None:
    """Write the project's codebook to TARGET (.yaml, .qdc or .csv)."""
    from qda.codebook.formats import write_codebook
    from qda.codebook.operations import codebook_of
    from qda.store import open_project

    book = codebook_of(open_project(project))
    _emit(lambda out: write_codebook(book, out, target.name), "", target)


@codebook.command("merge")
@PROJECT
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--take", "take", multiple=True, help="Key of a change to take (see the list).")
@click.option("--take-all", is_flag=True, help="Take every change from the file.")
@BY
@_errors_as_messages
def codebook_merge(
    project: Path, file: Path, take: tuple[str, ...], take_all: bool, by: str
) -> None:
    """Merge a colleague's codebook FILE into the project: new codes are added;
    each change to an existing code is applied only if you take it."""
    from qda.codebook.diff import apply_merge, merge_summary, plan_merge
    from qda.codebook.formats import read_codebook
    from qda.store import open_project

    p = open_project(project)
    with file.open("rb") as f:
        theirs = read_codebook(f, file.name)
    _, decisions = plan_merge(p, theirs)
    chosen = {d.key for d in decisions} if take_all else set(take)
    for d in decisions:
        mark = "take" if d.key in chosen else "keep ours"
        click.echo(f"[{mark}] {d}   (--take {d.key})")
    added, taken = apply_merge(p, theirs, take=chosen, by=by, source=file.name)
    click.echo(merge_summary(added, taken, len(decisions), file.name))


@main.command("import-codings")
@PROJECT
@click.argument("csv_file", type=click.File("rb"))
@_errors_as_messages
def import_codings_cmd(project: Path, csv_file) -> None:
    """Apply codings from a CSV file (interview, turn, code, coder)."""
    from qda.ingest import import_codings_csv
    from qda.store import open_project

    n = import_codings_csv(open_project(project), csv_file, Path(csv_file.name).name)
    click.echo(f"{n} new codings applied (codings the project holds already are not added again)")


@main.command()
@click.argument(
    "audio", type=click.Path(exists=True, dir_okay=False, path_type=Path), nargs=-1, required=True
)
@_decoding_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "txt", "srt", "vtt", "docx"]),
    default="txt",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File (one input) or folder.")
@click.option("--project", type=click.Path(path_type=Path), help="Queue into this project instead.")
@click.option("--participant", help="With --project: the participant (else from the file name).")
@click.option(
    "--wait/--no-wait", default=True, help="With --project: transcribe now, showing progress."
)
@BY
@_errors_as_messages
def transcribe(audio, request, fmt, output, project, participant, wait, by) -> None:
    """Transcribe recordings (without a project: write transcripts; with --project:
    add them as interviews and transcribe them in the project)."""
    if project is not None:
        _transcribe_into_project(project, audio, request, participant, wait, by)
        return
    from qda.audio import load_audio
    from qda.export import write_transcript
    from qda.transcribe import load_transcriber
    from qda.transcribe.pipeline import transcribe_audio

    if output is not None and len(audio) > 1 and output.suffix:
        raise click.UsageError("with several recordings, -o must be a folder")
    if output is None and fmt not in TEXT_FORMATS:  # say so before transcribing, not after
        raise click.UsageError(f"{fmt.upper()} needs -o FILE")
    transcriber = load_transcriber(request.engine, request.model)
    for path in audio:
        recording = load_audio(path)
        click.echo(f"{path.name}: {recording.duration:.1f} s", err=True)
        result = transcribe_audio(
            recording,
            transcriber,
            request.decoding_options(),
            speakers=request.speakers,
            on_segment=lambda s: click.echo(f"  [{s.end:7.1f} s] {s.text}", err=True),
        )
        if result.untranscribed:
            ranges = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in result.untranscribed)
            click.secho(
                f"{path.name}: loud stretches with no text, even without voice detection "
                f"(listen to them): {ranges}",
                fg="yellow",
                err=True,
            )
        target = output
        if output is not None and (len(audio) > 1 or output.is_dir() or not output.suffix):
            target = output / f"{path.stem}.{fmt}"
        _emit(lambda out, r=result: write_transcript(r, fmt, out), fmt, target)


def _transcribe_into_project(project_path, audio, request, participant, wait, by) -> None:
    from qda.ingest import match_participant
    from qda.jobs import add_recording, queue_transcription, run_worker
    from qda.store import open_project

    project = open_project(project_path)
    people = project.participants
    for path in audio:
        pid = participant or match_participant(path.name, people, {})
        with path.open("rb") as f:
            interview = add_recording(project, pid, f, path.name, language=request.language)
        job = queue_transcription(project, interview.id, request, by=by)
        click.echo(
            f"queued job {job.id}: {interview.id} ({path.name}, {interview.duration_s:.0f} s)"
        )
    if wait:
        run_worker(project_path, idle_timeout=0, log=lambda m: click.echo(m, err=True))
        _print_jobs(project)


PROGRESS_FROM = 100  # items: a step shorter than this is not worth a progress line


def _progress_line(what: str, done: int, total: int) -> None:
    """Progress of a long step on standard error: one line rewritten in a terminal, a
    line a step in a log."""
    if total < PROGRESS_FROM:
        return
    line = f"{what}: {done} of {total}"
    if sys.stderr.isatty():
        click.echo(f"\r{line}", err=True, nl=done >= total)
    else:
        click.echo(line, err=True)


@main.command("retranscribe")
@PROJECT
@click.argument("interview")
@_decoding_options
@click.option("--wait/--no-wait", default=True, help="Transcribe now, showing progress.")
@BY
@_errors_as_messages
def retranscribe_cmd(project, interview, request, wait, by) -> None:
    """Transcribe an interview's recording again with other settings (a wrong language,
    another model or number of speakers). The old transcript goes to the history; codings
    on unchanged text are carried over and the others listed."""
    from qda.jobs import retranscribe, run_worker
    from qda.store import open_project

    p = open_project(project)
    job = retranscribe(p, interview, request, by=by)
    click.echo(f"queued job {job.id}: {interview} again with {request.engine} {request.model}")
    if not wait:
        return
    run_worker(project, idle_timeout=0, log=lambda m: click.echo(m, err=True))
    _print_jobs(p)
    done = p.interview(interview)
    for line in done.engine_options.get("codings_not_carried", []):
        click.secho(f"not carried over (the text changed): {line}", fg="yellow")


@main.command()
@PROJECT
@click.option(
    "--idle-timeout", default=30.0, show_default=True, help="Seconds to wait for new jobs."
)
@_errors_as_messages
def worker(project: Path, idle_timeout: float) -> None:
    """Run the project's queued jobs (the app starts this by itself)."""
    from qda.jobs import run_worker

    n = run_worker(project, idle_timeout=idle_timeout, log=lambda m: click.echo(m, err=True))
    click.echo(f"{n} jobs run")


def _print_jobs(project) -> None:
    for job in project.jobs():
        left = f", about {job.seconds_left():.0f} s left" if job.seconds_left() is not None else ""
        error = f": {job.error}" if job.error else ""
        click.echo(
            f"job {job.id}  {job.interview_id:8} {job.status:9} {job.fraction:6.0%}  "
            f"{job.phase}{left}{error}"
        )


@main.command()
@PROJECT
@_errors_as_messages
def jobs(project: Path) -> None:
    """Show the project's transcription jobs and their progress."""
    from qda.store import open_project

    _print_jobs(open_project(project))


@main.command("export-transcript")
@PROJECT
@click.argument("interview")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "txt", "srt", "vtt", "docx"]),
    default="txt",
    show_default=True,
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="File (standard output if absent)."
)
@_errors_as_messages
def export_transcript(project: Path, interview: str, fmt: str, output: Path | None) -> None:
    """Write an interview's (corrected) transcript."""
    from qda.export import transcript_of_interview, write_transcript
    from qda.store import open_project

    p = open_project(project)
    transcript = transcript_of_interview(p, p.interview(interview))
    _emit(lambda out: write_transcript(transcript, fmt, out), fmt, output)


@main.command()
@PROJECT
@click.option(
    "--by",
    "by_attribute",
    default="stakeholder_group",
    show_default=True,
    help="Participant attribute for the columns.",
)
@click.option(
    "--count",
    "measure",
    type=click.Choice(["participants", "segments", "words"]),
    default="participants",
    show_default=True,
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "md", "docx", "png"]),
    default="csv",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File (CSV to standard output if absent).",
)
@click.option("--all-speech", is_flag=True, help="Count interviewer turns too.")
@click.option(
    "--language", "languages", multiple=True, help="Only interviews in this language (repeatable)."
)
@click.option("--coder", "coders", multiple=True, help="Only this coder's codings (repeatable).")
@click.option(
    "--interviews",
    "counted",
    type=click.Choice(["auto", "coded", "all"]),
    default="auto",
    show_default=True,
    help="Which interviews count: only coded ones, all (uncoded ones as mentioning "
    "nothing), or auto: only coded ones while coding is partial.",
)
@_errors_as_messages
def crosstab(
    project, by_attribute, measure, fmt, output, all_speech, languages, coders, counted
) -> None:
    """Themes × stakeholder group (or another attribute), with what the numbers mean."""
    from qda.analysis import Filters
    from qda.analysis import crosstab as make_crosstab
    from qda.export import build_report, write_table
    from qda.store import open_project

    p = open_project(project)
    if by_attribute != "stakeholder_group" and by_attribute not in p.attribute_types:
        known = ", ".join(["stakeholder_group", *p.attribute_types])
        raise click.UsageError(f"no participant attribute '{by_attribute}' (known: {known})")
    filters = Filters(
        participant_speech_only=not all_speech,
        languages=languages,
        coders=coders,
        coded_only={"auto": None, "coded": True, "all": False}[counted],
    )
    table = make_crosstab(p, by=by_attribute, measure=measure, filters=filters)
    report = build_report(p, table)
    _emit(lambda out: write_table(report, fmt, out), fmt, output)


@main.command("memo")
@PROJECT
@click.option("--segment", "segment_id", type=int, help="A segment, by its id.")
@click.option("--code", "code_path", help="A code, by its path (Theme/Code).")
@click.option("--interview", "interview_id", help="An interview, by its id.")
@click.option("--set", "text", help="The memo's new text ('' clears it; earlier ones are kept).")
@click.option("--history", is_flag=True, help="Every saved wording, oldest first.")
@BY
@_errors_as_messages
def memo_cmd(project, segment_id, code_path, interview_id, text, history, by) -> None:
    """Show or write the memo on a segment, a code or an interview; with none of
    them, list every memo of the project."""
    from qda.store import open_project

    p = open_project(project)
    chosen = [(k, v) for k, v in (("segment", segment_id), ("code", code_path),
                                  ("interview", interview_id)) if v is not None]  # fmt: skip
    if len(chosen) > 1:
        raise click.UsageError("say one of --segment, --code, --interview")
    if not chosen:
        if text is not None:
            raise click.UsageError("--set needs --segment, --code or --interview")
        names = {c.id: path for path, c in p.code_paths().items()}
        for m in p.memos():
            where = names.get(m.target, m.target) if m.kind == "code" else m.target
            click.echo(f"{m.kind} {where} ({m.by}, {m.at:%Y-%m-%d %H:%M}): {m.text}")
        return
    kind, target = chosen[0]
    if kind == "code":
        paths = p.code_paths()
        if target not in paths:
            raise click.BadParameter(f"no code '{target}' in this project", param_hint="--code")
        target = paths[target].id
    if text is not None:
        p.set_memo(kind, target, text, by=by)
    if history:
        for m in p.memo_history(kind, target):
            click.echo(f"{m.at:%Y-%m-%d %H:%M} {m.by}: {m.text or '(cleared)'}")
    else:
        click.echo(p.memo(kind, target) or "(no memo)")


@main.command("search")
@PROJECT
@click.argument("query", required=False, default="")
@click.option("--speaker", help="A speaker's label, or the role: interviewer / participant.")
@click.option("--group", help="Only participants of this stakeholder group.")
@click.option("--code", "code_name", help="Only segments coded with this code (path or name).")
@click.option("--context", "around", default=0, show_default=True, help="Turns shown around.")
@click.option("--limit", default=100, show_default=True)
@_errors_as_messages
def search_cmd(project, query, speaker, group, code_name, around, limit) -> None:
    """Find segments in every transcript: words (any case and accent; "a phrase" as
    written), speaker, group, code."""
    from qda.models import clock
    from qda.search import context, search
    from qda.store import open_project

    p = open_project(project)
    hits = search(p, query, speaker=speaker, group=group, code=code_name, limit=limit)
    for h in hits:
        where = f"turn {h.turn}" + (f", {clock(h.start)}" if h.start is not None else "")
        note = " (excluded from analysis)" if h.excluded else ""
        click.echo(f"{h.interview_id} {where} · {h.participant} ({h.group}){note}")
        turns = context(p, h.segment_id, around) if around else [(True, p.segment(h.segment_id))]
        for is_hit, t in turns:
            mark = ">" if is_hit and around else " "
            click.echo(f" {mark} {t.speaker or '(no speaker)'}: {t.text}")
        if h.codes:
            click.echo(f"   codes: {'; '.join(h.codes)}")
        click.echo()
    click.echo(
        f"{len(hits)} segments found{' (limit reached)' if len(hits) == limit else ''}", err=True
    )


@main.command()
@PROJECT
@click.option("--code", "code_name", required=True, help="Code path (Theme/Code) or name.")
@click.option("--group", "value", help="Only this column value (a stakeholder group, by default).")
@click.option("--by", "by_attribute", default="stakeholder_group", show_default=True)
@_errors_as_messages
def quotes(project, code_name, value, by_attribute) -> None:
    """The quotes behind a cell of the cross-tab."""
    from qda.analysis import quotes as find_quotes
    from qda.store import open_project

    p = open_project(project)
    paths = p.code_paths()
    matches = [c for path, c in paths.items() if path == code_name] or [
        c for path, c in paths.items() if path.rsplit("/", 1)[-1] == code_name
    ]
    if len(matches) != 1:
        found = "no code" if not matches else "several codes"
        raise click.UsageError(f"{found} named '{code_name}': give its path (Theme/Code)")
    rows = find_quotes(p, matches[0].id, by=by_attribute, value=value)
    for r in rows.itertuples(index=False):
        where = r.time or f"turn {r.turn}"
        part = " (the coded part of the turn)" if r.text != r.segment else ""
        click.echo(f"{r.participant} ({getattr(r, by_attribute)}), {r.interview} {where}{part}:")
        click.echo(f"  “{r.text}”\n")
    click.echo(f"{len(rows)} quotes", err=True)


@main.command()
@PROJECT
@click.option(
    "--codes",
    "codes_mode",
    is_flag=True,
    help="Which existing codes fit the segments not yet coded.",
)
@click.option(
    "--themes", "themes_mode", is_flag=True, help="New-theme candidates: topics no code covers."
)
@click.option("--refine", "refine_mode", is_flag=True, help="Codes to merge or split.")
@click.option("--seed", default=0, show_default=True, help="Random seed of the topic model.")
@click.option(
    "--topics",
    type=click.IntRange(min=2),
    help="With --themes: this many topics instead of the number the clustering finds.",
)
@click.option("--interview", help="Only this interview.")
@click.option(
    "--model",
    type=click.Choice(["e5-small", "minilm", "minilm-static"]),
    help="Embedding model: e5-small (English, Danish, French), minilm (English), "
    "minilm-static (English, fastest, but its meaning alone ranks codes near chance: "
    "code fit then leans on the words). Default: the project's (qda config "
    "--embedding-model), else e5-small.",
)
@click.option("--top", default=3, show_default=True)
@click.option(
    "--order",
    type=click.Choice(["best", "uncertain", "transcript"]),
    default="transcript",
    show_default=True,
    help="--codes: segments whose best code fits best first, the least sure first (the "
    "decisions that teach the scorer most), or interview by interview.",
)
@click.option(
    "--min-chance",
    type=click.FloatRange(0, 1),
    help="--codes: show a segment's suggestions only when the chance that its first code "
    "is right is at least this (default: the threshold measured on the project's coding; "
    "0 shows every segment).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv"]), default="csv", show_default=True
)
@_errors_as_messages
def suggest(
    project,
    codes_mode,
    themes_mode,
    refine_mode,
    seed,
    topics,
    interview,
    model,
    top,
    order,
    min_chance,
    fmt,
) -> None:
    """Suggestions: codes that fit uncoded segments (--codes), new themes (--themes), or
    codes to merge or split (--refine)."""
    import csv as csv_module
    import json

    from qda.cells import safe_cell
    from qda.store import open_project
    from qda.suggest.codefit import fit_codes, suggest_codes, suggestion_queue
    from qda.suggest.embed import load_embedder

    if sum((codes_mode, themes_mode, refine_mode)) != 1:
        raise click.UsageError("say what to suggest: --codes, --themes or --refine")
    p = open_project(project)
    model = model or p.embedding_model
    if refine_mode:
        from qda.suggest.refine import refine_hints

        merges, splits = refine_hints(p, load_embedder(model), seed=seed)
        data = {
            "merge": [
                {"codes": [m.code_a, m.code_b], "closeness": round(m.ratio, 4)} for m in merges
            ],
            "split": [
                {
                    "code": s.code,
                    "silhouette": round(s.silhouette, 4),
                    "groups": [[p.segment(i).text for i in g[:2]] for g in s.groups],
                }
                for s in splits
            ],
        }
        if fmt == "json":
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            writer = csv_module.writer(sys.stdout)
            writer.writerow(["hint", "codes", "score"])
            for m in data["merge"]:
                writer.writerow(["merge", " + ".join(m["codes"]), m["closeness"]])
            for s in data["split"]:
                writer.writerow(["split", s["code"], s["silhouette"]])
        return
    if themes_mode:
        from qda.suggest.runs import run_themes
        from qda.suggest.themes import check_topic_size

        check_topic_size(p)  # a run over the limit is refused before the model loads
        recorded = run_themes(p, load_embedder(model), seed=seed, topics=topics, by=current_user())
        run = recorded
        people = {x.id: x for x in p.participants}

        def quote(segment_id: int, passage: str = "") -> str:
            segment = p.segment(segment_id)
            who = people[p.interview(segment.interview_id).participant_id].label
            return f"{who}: {passage or segment.text}"

        rows = [
            {
                "topic": c.topic,
                "segments": c.size,
                "suggested_name": c.suggested_name,
                "key_words": ", ".join(c.key_words),
                "groups": "; ".join(f"{g}: {n}" for g, n in c.groups.items()),
                "close_to": f"{c.nearest_code}, {c.closeness:.2f}" if c.nearest_code else "",
                "quotes": [quote(i, x) for i, x in zip(c.quotes, c.passages[:3], strict=False)]
                or [quote(i) for i in c.quotes],
                "segment_ids": list(c.segment_ids),
                "passages": list(c.passages),
            }
            for c in run.candidates()
        ]
        if fmt == "json":
            click.echo(
                json.dumps(
                    {
                        "run": run.id,
                        "parameters": run.parameters,
                        "themes": rows,
                        "outliers": run.outliers,
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            writer = csv_module.DictWriter(
                sys.stdout, fieldnames=list(rows[0]) if rows else ["topic"]
            )
            writer.writeheader()
            writer.writerows(
                {
                    k: safe_cell(v)
                    for k, v in {
                        **r,
                        "quotes": " | ".join(r["quotes"]),
                        "segment_ids": " ".join(map(str, r["segment_ids"])),
                        "passages": " | ".join(r["passages"]),
                    }.items()
                }
                for r in rows
            )
        return
    embedder = load_embedder(model)
    fitted = fit_codes(p, embedder, progress=_progress_line)
    calibration = fitted.calibration
    click.echo(
        f"{calibration.describe()}"
        + (f"; showing chances of at least {min_chance:.2f}" if min_chance is not None else ""),
        err=True,
    )
    found = suggest_codes(
        p, embedder, top=top, interview_id=interview, min_chance=min_chance,
        fitted=fitted, progress=_progress_line,
    )  # fmt: skip
    rows = []
    for segment_id, options in suggestion_queue(found, order=order):
        segment = p.segment(segment_id)
        rows += [
            {
                "segment_id": segment_id,
                "interview": segment.interview_id,
                "turn": segment.index + 1,
                "code": s.code_path,
                "score": round(s.score, 4),
                "chance": round(s.chance, 3),
                "passage": s.passage,
                "text": segment.text,
                "nearest_coded_example": s.reasons[0].text if s.reasons else "",
            }
            for s in options
        ]
    if fmt == "json":
        data = {
            "model": model,
            "threshold": round(calibration.threshold, 3),
            "precision_at_threshold": round(calibration.precision, 3),
            "suggestions": rows,
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    writer = csv_module.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["segment_id"])
    writer.writeheader()
    writer.writerows({k: safe_cell(v) for k, v in r.items()} for r in rows)


if __name__ == "__main__":
    main()
