"""Deleting interviews and participants, and moving an interview to another participant.

A mixin of `Project`. Deleting is for a wrong upload, a duplicate, or a participant
who asks to be erased: what goes is said first (`deletion_plan`), and then it really
goes. The segments, codings, suggestion decisions, jobs, correction history, cached
embedding vectors of the deleted text and topic runs that quoted it are removed in one
transaction; SQLite then zeroes the freed pages (`secure_delete`), the write-ahead log
is emptied and the file vacuumed, so the words are no longer in the database file;
the recordings are removed from `media/`. Backups made before keep what they hold.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from qda.errors import InvalidInput
from qda.schema import (
    codings_t,
    embedding_cache_t,
    interviews_t,
    jobs_t,
    memos_t,
    participants_t,
    segment_history_t,
    segments_t,
    suggestion_runs_t,
)


@dataclass(frozen=True)
class DeletionPlan:
    """What a deletion removes, said before it is done."""

    participants: list[str] = field(default_factory=list)
    interviews: list[str] = field(default_factory=list)
    segments: int = 0
    codings: int = 0
    recordings: list[str] = field(default_factory=list)  # media files, relative paths

    def describe(self) -> str:
        """One sentence a confirmation can show."""
        parts = []
        if self.participants:
            parts.append(f"participant {', '.join(self.participants)}")
        if self.interviews:
            word = "interview" if len(self.interviews) == 1 else "interviews"
            parts.append(f"{word} {', '.join(self.interviews)}")
        else:
            parts.append("no interview")
        what = " and ".join(parts)
        recordings = (
            f", {len(self.recordings)} recording file{'s' if len(self.recordings) != 1 else ''}"
            if self.recordings
            else ""
        )
        return (
            f"This deletes {what}: {self.segments} segments, {self.codings} codings"
            f"{recordings}, their correction history and cached vectors. It cannot be undone."
        )


class Deletions:
    """Deleting and relinking; needs `transaction()`, `interview()`, `participant()`,
    `interviews` and `root` of `Project`."""

    def deletion_plan(
        self, *, interview_id: str | None = None, participant_id: str | None = None
    ) -> DeletionPlan:
        """What deleting an interview, or a participant with all their interviews,
        would remove.

        Raises:
            NotFound: no such interview or participant (qda.errors).
        """
        if (interview_id is None) == (participant_id is None):
            raise ValueError("give an interview or a participant")
        if participant_id is not None:
            self.participant(participant_id)
            interviews = [i for i in self.interviews if i.participant_id == participant_id]
            people = [participant_id]
        else:
            interviews = [self.interview(interview_id)]
            people = []
        ids = [i.id for i in interviews]
        with self._read() as conn:
            segments = conn.execute(
                sa.select(sa.func.count()).where(segments_t.c.interview_id.in_(ids))
            ).scalar_one()
            codings = conn.execute(
                sa.select(sa.func.count())
                .select_from(codings_t.join(segments_t))
                .where(segments_t.c.interview_id.in_(ids))
            ).scalar_one()
        return DeletionPlan(
            people, ids, segments, codings, [i.media_file for i in interviews if i.media_file]
        )

    def delete(self, plan: DeletionPlan) -> DeletionPlan:
        """Delete what `plan` lists (made by `deletion_plan` just before), for good."""
        with self.transaction() as conn:
            self._delete_interviews(conn, plan.interviews)
            if plan.participants:
                conn.execute(
                    sa.delete(participants_t).where(participants_t.c.id.in_(plan.participants))
                )
        for media in plan.recordings:
            if self.root is not None:
                with contextlib.suppress(FileNotFoundError):
                    (self.root / media).unlink()
        self.erase_freed_space()
        return plan

    def _delete_interviews(self, conn: Connection, ids: list[str]) -> None:
        rows = list(
            conn.execute(
                sa.select(segments_t.c.id, segments_t.c.text, segments_t.c.original_text).where(
                    segments_t.c.interview_id.in_(ids)
                )
            )
        )
        gone_ids = {r.id for r in rows}
        texts = {t for r in rows for t in (r.text, r.original_text)}
        for (before,) in conn.execute(
            sa.select(segment_history_t.c.before).where(segment_history_t.c.interview_id.in_(ids))
        ):
            texts.update(x["text"] for x in json.loads(before))
        kept = {
            t
            for (t,) in conn.execute(
                sa.select(segments_t.c.text).where(segments_t.c.interview_id.not_in(ids))
            )
        }
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts - kept]
        for chunk in range(0, len(keys), 900):
            conn.execute(
                sa.delete(embedding_cache_t).where(
                    embedding_cache_t.c.text_sha.in_(keys[chunk : chunk + 900])
                )
            )
        for run_id, result in conn.execute(
            sa.select(suggestion_runs_t.c.id, suggestion_runs_t.c.result)
        ):
            candidates = json.loads(result or "{}").get("candidates", [])
            quoted = {
                i for c in candidates for i in [*c.get("segment_ids", []), *c.get("quotes", [])]
            }
            if quoted & gone_ids:
                conn.execute(sa.delete(suggestion_runs_t).where(suggestion_runs_t.c.id == run_id))
        conn.execute(
            sa.delete(memos_t).where((memos_t.c.kind == "interview") & memos_t.c.target.in_(ids))
        )
        segment_ids = [str(i) for i in gone_ids]
        for chunk in range(0, len(segment_ids), 900):
            conn.execute(
                sa.delete(memos_t).where(
                    (memos_t.c.kind == "segment")
                    & memos_t.c.target.in_(segment_ids[chunk : chunk + 900])
                )
            )
        conn.execute(sa.delete(segment_history_t).where(segment_history_t.c.interview_id.in_(ids)))
        conn.execute(sa.delete(jobs_t).where(jobs_t.c.interview_id.in_(ids)))
        conn.execute(sa.delete(segments_t).where(segments_t.c.interview_id.in_(ids)))
        conn.execute(sa.delete(interviews_t).where(interviews_t.c.id.in_(ids)))

    def erase_freed_space(self) -> None:
        """Overwrite what deleted rows left in the database file: empty the write-ahead
        log and rebuild the file (SQLite); other databases manage their own storage."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.execute("VACUUM")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def relink_interview(self, interview_id: str, participant_id: str) -> str:
        """Move an interview (a recording uploaded under the wrong participant) to
        another participant, with its segments, codings, jobs and history. It takes
        the id the new participant's next interview would have ("P07", "P07-2").

        Returns:
            The interview's new id.
        """
        interview = self.interview(interview_id)
        self.participant(participant_id)
        if interview.participant_id == participant_id:
            raise InvalidInput(f"interview {interview_id} is already {participant_id}'s")
        with self.transaction() as conn:
            from qda.store import next_interview_id

            new_id = next_interview_id(participant_id, {i.id for i in self.interviews})
            if conn.dialect.name == "sqlite":  # children follow within the transaction
                conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            conn.execute(
                sa.update(interviews_t)
                .where(interviews_t.c.id == interview_id)
                .values(id=new_id, participant_id=participant_id)
            )
            for table in (segments_t, jobs_t, segment_history_t):
                conn.execute(
                    sa.update(table)
                    .where(table.c.interview_id == interview_id)
                    .values(interview_id=new_id)
                )
        return new_id
