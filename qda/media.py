"""Recordings kept in a project folder, copied in so that a crash leaves no trace.

A recording comes in with database rows that point at it (an interview's
`media_file`). The copy and the rows must appear together or not at all, even when the
process is killed between the two. So copies are written into a staging folder of their
own, `media/.incoming/<id>/`, held by a lock while the import runs; the rows are
committed; only then are the files moved into `media/`. When a process dies on the way,
the next `open_project` finds its staging folder unlocked and finishes the job: a file
whose rows were committed is moved into place, a file whose rows were rolled back is
removed (it was only ever a copy of the researcher's own file).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

MEDIA_DIR = "media"
INCOMING = ".incoming"
_LOCK = ".lock"


class MediaStaging:
    """Copies of recordings waiting for their rows' transaction to commit."""

    def __init__(self, root: Path | None) -> None:
        self.media = (root or Path(".")) / MEDIA_DIR  # no folder (a database URL): add refuses
        self.root = root
        self.folder = self.media / INCOMING / uuid.uuid4().hex
        self.names: list[str] = []
        self._lock: int | None = None

    def add(self, name: str, source: BinaryIO) -> str:
        """Copy `source` in as media/`name` (once committed); returns the relative path
        to store in the database."""
        if self.root is None:
            raise ValueError("recordings can only be kept in a project folder")
        if self._lock is None:
            self.folder.mkdir(parents=True)
            self._lock = os.open(self.folder / _LOCK, os.O_CREAT | os.O_WRONLY, 0o600)
            fcntl.flock(self._lock, fcntl.LOCK_EX)
        with (self.folder / name).open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        self.names.append(name)
        return f"{MEDIA_DIR}/{name}"

    def publish(self) -> None:
        """After the commit: move every copy into media/."""
        for name in self.names:
            os.replace(self.folder / name, self.media / name)
        self._close()

    def discard(self) -> None:
        """After a rollback: remove every copy."""
        self._close()

    def _close(self) -> None:
        if self._lock is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            os.close(self._lock)
            self._lock = None
            with contextlib.suppress(OSError):  # empty unless another import is running
                self.folder.parent.rmdir()


@contextlib.contextmanager
def staged_media(root: Path | None) -> Iterator[MediaStaging]:
    """`with staged_media(root) as media, project.transaction(): media.add(...)`: the
    files are published only if the block (and so the transaction) ends without error."""
    staging = MediaStaging(root)
    try:
        yield staging
    except BaseException:
        staging.discard()
        raise
    staging.publish()


def recover_media(root: Path, referenced: set[str]) -> list[str]:
    """Finish the staging folders of processes that died: publish the files the
    database refers to (`referenced`: media paths of interviews), remove the others.
    Folders still locked by a live import are left alone. Returns what was done."""
    done: list[str] = []
    incoming = root / MEDIA_DIR / INCOMING
    for folder in sorted(p for p in incoming.iterdir() if p.is_dir()):
        lock = folder / _LOCK
        try:
            fd = os.open(lock, os.O_CREAT | os.O_WRONLY, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a live import holds it
        for path in sorted(folder.iterdir()):
            if path.name == _LOCK:
                continue
            relative = f"{MEDIA_DIR}/{path.name}"
            if relative in referenced and not (root / relative).exists():
                os.replace(path, root / relative)
                done.append(f"recovered {relative}")
            else:
                path.unlink()
                done.append(f"removed an unfinished copy {path.name}")
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)
    with contextlib.suppress(OSError):
        incoming.rmdir()
    return done
