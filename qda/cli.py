"""`qda` command line: each command parses its arguments and calls the library."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path

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


PROJECT = click.argument("project", type=click.Path(path_type=Path))
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
@_errors_as_messages
def app(project: Path | None, port: int) -> None:
    """Start the qda app in the browser (on PROJECT if given)."""
    if project is not None:
        from qda.store import open_project

        open_project(project)
    _run_app(project, port)


def _run_app(project: Path | None, port: int) -> None:
    from qda.ui.settings import STREAMLIT_FLAGS

    script = Path(__file__).parent / "ui" / "app.py"
    env = dict(os.environ)
    if project is not None:
        env["QDA_PROJECT"] = str(project.resolve())
    click.echo(f"qda is running at http://localhost:{port}  (Ctrl+C to stop)")
    command = [sys.executable, "-m", "streamlit", "run", str(script), *STREAMLIT_FLAGS]
    command += [f"--server.port={port}"]
    try:
        sys.exit(subprocess.call(command, env=env))
    except KeyboardInterrupt:
        sys.exit(0)


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
        click.echo(table.drop(columns=["source"]).to_string(index=False))


@main.command("import-participants")
@PROJECT
@click.argument("csv_file", type=click.File("rb"))
@_errors_as_messages
def import_participants_cmd(project: Path, csv_file) -> None:
    """Add or update participants from a CSV file."""
    from qda.ingest import import_participants, read_participants_csv
    from qda.store import open_project

    p = open_project(project)
    table = read_participants_csv(csv_file, Path(csv_file.name).name)
    for warning in table.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    n = import_participants(p, table)
    types = ", ".join(f"{k} ({v})" for k, v in table.attribute_types.items())
    click.echo(f"{n} participants imported; attributes: {types or 'none'}")


@main.command("import-transcripts")
@PROJECT
@click.argument(
    "files", type=click.Path(exists=True, dir_okay=False, path_type=Path), nargs=-1, required=True
)
@click.option(
    "--participants-csv",
    type=click.File("rb"),
    help="A participants CSV whose transcript_file column links files to participants.",
)
@_errors_as_messages
def import_transcripts_cmd(project: Path, files: tuple[Path, ...], participants_csv) -> None:
    """Add transcripts (.txt, .vtt, .srt) as interviews of their participants."""
    from qda.ingest import import_transcripts, read_participants_csv
    from qda.store import open_project

    p = open_project(project)
    links = {}
    if participants_csv is not None:
        links = read_participants_csv(
            participants_csv, Path(participants_csv.name).name
        ).transcript_files
    streams = [(f.name, f.open("rb")) for f in files]
    try:
        result = import_transcripts(p, streams, transcript_files=links)
    finally:
        for _, s in streams:
            s.close()
    for warning in result.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    for interview in result.added:
        click.echo(f"added {interview.id} from {interview.source_name}")
    for name in result.skipped:
        click.echo(f"skipped {name}: already in the project")


@main.command("import-codebook")
@PROJECT
@click.argument("codebook_file", type=click.File("rb"))
@BY
@_errors_as_messages
def import_codebook_cmd(project: Path, codebook_file, by: str) -> None:
    """Add or update codes from a YAML codebook file."""
    from qda.codebook import import_codebook
    from qda.codebook.yaml_format import read_codebook_yaml
    from qda.store import open_project

    p = open_project(project)
    name = Path(codebook_file.name).name
    n = import_codebook(p, read_codebook_yaml(codebook_file, name), by=by, source=name)
    click.echo(f"{n} codes imported from {name}")


@main.command("import-codings")
@PROJECT
@click.argument("csv_file", type=click.File("rb"))
@_errors_as_messages
def import_codings_cmd(project: Path, csv_file) -> None:
    """Apply codings from a CSV file (interview, turn, code, coder)."""
    from qda.ingest import import_codings_csv
    from qda.store import open_project

    n = import_codings_csv(open_project(project), csv_file, Path(csv_file.name).name)
    click.echo(f"{n} codings applied")


if __name__ == "__main__":
    main()
