"""Backups taken while the project is being written to, and restored."""

from __future__ import annotations

import threading
import zipfile

import pytest
from click.testing import CliRunner

import qda
from qda.backup import backup_project, restore_project
from qda.cli import main
from qda.errors import InvalidInput, ProjectError


def test_backup_while_writing_then_restore(demo_copy, tmp_path):
    project = qda.open_project(demo_copy)
    segments = [s.id for s in project.segments()]
    code = project.codes[-1].id
    stop = threading.Event()

    def write() -> None:  # another session coding all the while
        writer = qda.open_project(demo_copy)
        for n, segment_id in enumerate(segments):
            if stop.is_set():
                break
            writer.apply_code(segment_id, code, coder=f"writer{n % 3}")

    thread = threading.Thread(target=write)
    thread.start()
    summaries = [backup_project(demo_copy, tmp_path / f"b{k}.zip") for k in range(3)]
    stop.set()
    thread.join()
    counts = []
    for k, summary in enumerate(summaries):
        restored = restore_project(summary.path, tmp_path / f"r{k}")
        copy = qda.open_project(restored)
        counts.append(len(copy.codings()))
        assert len(copy.participants) == 18 and len(copy.segments()) == len(segments)
    assert counts == sorted(counts) and counts[0] >= 88  # each a consistent snapshot
    assert len(project.codings()) >= counts[-1]


def test_restore_never_overwrites_and_refuses_what_is_not_a_backup(demo_copy, tmp_path):
    summary = backup_project(demo_copy)
    assert summary.path.parent == demo_copy / "backups"
    with pytest.raises(ProjectError, match="already holds a project"):
        restore_project(summary.path, demo_copy)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("notes.txt", "hello")
    with pytest.raises(InvalidInput, match="not a qda backup"):
        restore_project(bad, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_cli_backup_and_restore(demo_copy, tmp_path):
    result = CliRunner().invoke(main, ["backup", str(demo_copy), str(tmp_path / "b.zip")])
    assert result.exit_code == 0 and "wrote" in result.output, result.output
    result = CliRunner().invoke(main, ["restore", str(tmp_path / "b.zip"), str(tmp_path / "back")])
    assert result.exit_code == 0, result.output
    assert len(qda.open_project(tmp_path / "back").codings()) == 88


def test_a_garbage_backup_is_refused_and_restores_nothing(tmp_path):
    import sqlite3

    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip at all")
    not_sqlite = tmp_path / "not_sqlite.zip"
    with zipfile.ZipFile(not_sqlite, "w") as z:
        z.writestr("qda-backup.json", "{}")
        z.writestr("project.sqlite", "SQLite format 3\x00" + "x" * 200)
    sqlite3.connect(tmp_path / "other.sqlite").execute("CREATE TABLE t (x)").connection.commit()
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("qda-backup.json", "{}")
        z.write(tmp_path / "other.sqlite", "project.sqlite")
    damaged = tmp_path / "damaged.zip"
    data = bytearray(foreign.read_bytes())
    start = data.find(b"SQLite format 3")
    data[start + 100 : start + 300] = b"\xff" * 200  # the member's CRC no longer matches
    damaged.write_bytes(bytes(data))
    for backup, says in [
        (garbage, "not a qda backup"),
        (not_sqlite, "the backed-up database is not a database"),
        (foreign, "not a qda project (a database of another program)"),
        (damaged, "the backup is damaged (Bad CRC-32"),
    ]:
        result = CliRunner().invoke(main, ["restore", str(backup), str(tmp_path / backup.stem)])
        assert result.exit_code == 1 and says in result.output, result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / backup.stem).exists()
        assert not (tmp_path / f"{backup.stem}.restoring").exists()
