"""Crash safety: processes killed (SIGKILL, no clean-up) in the middle of an import, an
import with recordings and a topic-model run; the project afterwards is as it was
before, opens, passes SQLite's integrity check and takes the same work again.
(Transcription killed half-way is in tests/test_jobs.py.)"""

from __future__ import annotations

import fcntl
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import qda
from qda.media import INCOMING, MEDIA_DIR
from tests.conftest import RECORDINGS, REPO
from tests.test_bad_inputs import _participants, snapshot

pytestmark = pytest.mark.slow


def writing(db: Path) -> bool:
    """Whether some process is inside a write transaction on the database now."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as e:
        assert "locked" in str(e)
        return True
    finally:
        conn.close()


def kill_while_writing(command: list[str], db: Path, *, held: float = 0.3) -> None:
    """Start `command`; once it has held the write lock for `held` seconds on end (its
    long transaction, not a short one while opening the project), SIGKILL it there."""
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ
    )
    deadline = time.monotonic() + 120
    since = None
    while since is None or time.monotonic() - since < held:
        assert process.poll() is None, process.stdout.read().decode()
        assert time.monotonic() < deadline, "the import never wrote for long"
        since = (since or time.monotonic()) if writing(db) else None
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()
    return result


def test_an_import_killed_half_way_leaves_the_project_as_before(demo_copy, tmp_path):
    csv = tmp_path / "many.csv"
    _participants(csv, 100_000)
    db = demo_copy / "project.sqlite"
    before = snapshot(demo_copy)
    command = [sys.executable, "-m", "qda.cli", "import-participants", str(demo_copy), str(csv)]
    kill_while_writing(command, db)
    qda.open_project(demo_copy).close()
    assert integrity(db) == "ok"
    assert snapshot(demo_copy) == before
    # and the same import, run again, goes through
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    assert "100000 participants imported" in done.stdout
    assert len(qda.open_project(demo_copy).participants) == 18 + 100_000


def test_an_import_with_recordings_killed_half_way_leaves_no_file_behind(tmp_path):
    """A .qdpx with many recordings: killed while it writes, the database is as before
    and no copied recording is left in the project folder."""
    from qda.jobs import add_recording
    from qda.models import Participant, SegmentDraft, SpeakerRole
    from qda.qdpx import export_qdpx

    source = qda.create_project(tmp_path / "source")
    data = (RECORDINGS / "P15_lorraine.opus").read_bytes()
    for n in range(40):
        pid = f"P{n:02d}"
        source.save_participant(Participant(pid, "beneficiaries"))
        # each recording differs by a few bytes at its end (Ogg ignores them)
        interview = add_recording(source, pid, io.BytesIO(data + bytes([n])), f"{pid}.opus")
        source.append_segments(
            interview.id,
            [
                SegmentDraft(f"Turn {i} of {pid}.", "A", SpeakerRole.PARTICIPANT, i, i + 1)
                for i in range(200)
            ],
        )
    qdpx = tmp_path / "many.qdpx"
    with qdpx.open("wb") as f:
        export_qdpx(source, f)
    target = qda.create_project(tmp_path / "target")
    target.close()
    db = tmp_path / "target" / "project.sqlite"
    before = snapshot(tmp_path / "target")
    command = [sys.executable, "-m", "qda.cli", "import-qdpx", str(qdpx), str(tmp_path / "target")]
    kill_while_writing(command, db, held=0.2)
    staged = list((tmp_path / "target" / MEDIA_DIR / INCOMING).rglob("*.opus"))
    assert staged, "the import was killed before it copied any recording"
    qda.open_project(tmp_path / "target").close()  # finishes what the dead import left
    assert integrity(db) == "ok"
    assert snapshot(tmp_path / "target") == before
    assert not (tmp_path / "target" / MEDIA_DIR / INCOMING).exists()
    subprocess.run(command, cwd=REPO, capture_output=True, check=True)
    imported = qda.open_project(tmp_path / "target")
    assert len(imported.interviews) == 40
    assert all(imported.media_path(i).read_bytes()[:4] == b"OggS" for i in imported.interviews)


def test_recordings_of_a_committed_import_are_published_on_the_next_open(tmp_path):
    """Killed after the commit and before the move: the file is in the staging folder,
    its row in the database. Opening the project finishes the move; an uncommitted copy
    is removed; a folder a live import still holds is left alone."""
    project = qda.create_project(tmp_path / "p")
    project.save_participant(qda.Participant("P01", "beneficiaries"))
    project.add_interview("P01", media_file=f"{MEDIA_DIR}/committed.opus")
    project.close()
    incoming = tmp_path / "p" / MEDIA_DIR / INCOMING
    dead, live = incoming / "dead", incoming / "live"
    for folder in (dead, live):
        folder.mkdir(parents=True)
        (folder / ".lock").touch()
    (dead / "committed.opus").write_bytes(b"OggS committed")
    (dead / "rolled-back.opus").write_bytes(b"OggS rolled back")
    (live / "in-progress.opus").write_bytes(b"OggS still copying")
    with (live / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reopened = qda.open_project(tmp_path / "p")
        assert reopened.media_path(reopened.interviews[0]).read_bytes() == b"OggS committed"
        assert sorted(p.name for p in (tmp_path / "p" / MEDIA_DIR).iterdir()) == [
            INCOMING,
            "committed.opus",
        ]
        assert not dead.exists() and (live / "in-progress.opus").exists()


def test_a_topic_run_killed_half_way_is_marked_failed_and_runs_again(demo_copy):
    script = textwrap.dedent(
        f"""
        import qda
        from qda.suggest.embed import load_embedder
        from qda.suggest.runs import run_themes
        run_themes(qda.open_project({str(demo_copy)!r}), load_embedder("minilm"), by="anna")
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=os.environ)
    from qda.suggest.runs import mark_abandoned, run_themes, runs

    before = qda.open_project(demo_copy)
    codings, codes = before.codings(), before.codes
    deadline = time.monotonic() + 180
    while not (runs(before) and runs(before)[0].status == "running"):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    assert process.poll() is None and runs(before)[0].status == "running"
    process.send_signal(signal.SIGKILL)
    process.wait()
    before.close()

    project = qda.open_project(demo_copy)
    assert integrity(demo_copy / "project.sqlite") == "ok"
    assert mark_abandoned(project) == 1
    (killed,) = runs(project)
    assert killed.status == "failed" and "start it again" in killed.error
    assert killed.result == {}
    assert project.codings() == codings and project.codes == codes  # nothing else changed
    from qda.suggest.embed import load_embedder

    again = run_themes(project, load_embedder("minilm"), by="anna")
    assert again.status == "done" and again.candidates()
