"""Backups of a project folder, safe to take while the app is running.

`backup_project` copies the database with SQLite's online backup API (a consistent
snapshot even while other connections write; WAL content included) and adds the
recordings, into one zip with a manifest. `restore_project` unpacks a backup into a
new folder, checks the database's integrity, and never overwrites a project.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import qda
from qda.errors import InvalidInput, ProjectError
from qda.schema import DB_FILE

MANIFEST = "qda-backup.json"


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    files: int
    bytes: int


def backup_project(folder: Path, target: Path | None = None) -> BackupSummary:
    """Write a backup of the project in `folder` to `target` (default:
    `folder/backups/<name>-<UTC time>.zip`)."""
    folder = Path(folder).expanduser()
    database = folder / DB_FILE
    if not database.exists():
        raise ProjectError(f"{folder} holds no qda project ({DB_FILE} is missing)")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    target = Path(target) if target else folder / "backups" / f"{folder.name}-{stamp}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    files = 0
    # the snapshot is a full copy of the database: it stays beside the backup it goes into
    with tempfile.TemporaryDirectory(prefix=".snapshot-", dir=target.parent) as scratch:
        copy = Path(scratch) / DB_FILE
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
        dest = sqlite3.connect(copy)
        try:
            source.backup(dest)  # a consistent snapshot, pages copied under SQLite's locks
            version = dest.execute("SELECT value FROM qda_meta WHERE key='schema_version'")
            schema = (version.fetchone() or [None])[0]
        finally:
            dest.close()
            source.close()
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(copy, DB_FILE)
            files += 1
            media = folder / "media"
            if media.is_dir():
                for path in sorted(media.rglob("*")):
                    if path.is_file() and not path.name.endswith(".partial"):
                        archive.write(path, path.relative_to(folder).as_posix(), zipfile.ZIP_STORED)
                        files += 1
            archive.writestr(
                MANIFEST,
                json.dumps(
                    {
                        "qda": qda.__version__,
                        "schema_version": schema,
                        "project": folder.name,
                        "created": stamp,
                        "files": files,
                    },
                    indent=1,
                ),
            )
    partial.replace(target)
    return BackupSummary(target, files, target.stat().st_size)


def _check_database(path: Path) -> str:
    """What is wrong with a backed-up database ("" when it is a sound qda project)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as e:
        return f"not a database ({e})"
    if result != "ok":
        return f"damaged: {result}"
    if "qda_meta" not in tables:
        return "not a qda project (a database of another program)"
    return ""


def restore_project(backup: Path, folder: Path) -> Path:
    """Unpack `backup` into the new folder `folder` (refused if it holds a project)."""
    backup, folder = Path(backup).expanduser(), Path(folder).expanduser()
    if (folder / DB_FILE).exists():
        raise ProjectError(
            f"{folder} already holds a project: restore into a new folder (nothing is overwritten)"
        )
    try:
        archive = zipfile.ZipFile(backup)
    except (zipfile.BadZipFile, FileNotFoundError) as e:
        raise InvalidInput(f"not a qda backup ({e})", source=str(backup)) from None
    with archive:
        names = archive.namelist()
        if DB_FILE not in names or MANIFEST not in names:
            raise InvalidInput(f"not a qda backup: no {DB_FILE} or {MANIFEST}", source=str(backup))
        for name in names:
            path = PurePosixPath(name)
            if path.is_absolute() or ".." in path.parts:
                raise InvalidInput(
                    f"refused: '{name}' would land outside the folder", source=str(backup)
                )
        staging = folder.with_name(folder.name + ".restoring")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        try:
            try:
                archive.extractall(staging)
            except (zipfile.BadZipFile, zlib.error, EOFError) as e:
                raise InvalidInput(
                    f"the backup is damaged ({e}): nothing was restored; use another copy",
                    source=str(backup),
                ) from None
            result = _check_database(staging / DB_FILE)
            if result:
                raise InvalidInput(
                    f"the backed-up database is {result}: nothing was restored; use another copy",
                    source=str(backup),
                )
            (staging / MANIFEST).unlink()
            folder.parent.mkdir(parents=True, exist_ok=True)
            if folder.exists():
                for item in staging.iterdir():
                    item.rename(folder / item.name)
                staging.rmdir()
            else:
                staging.rename(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    qda.open_project(folder).close()  # opens (and upgrades, if older) like any project
    return folder
