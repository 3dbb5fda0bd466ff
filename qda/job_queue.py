"""The job queue of a project (background transcription), kept in its database.

A mixin of `Project`: queue, claim (a job whose worker died is claimed again and
resumes), progress with heartbeat, finish, cancel.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlalchemy as sa

from qda.errors import InvalidInput, NotFound
from qda.models import Job, JobStatus
from qda.schema import _now, jobs_t


class JobQueue:
    """Jobs; needs `transaction()`, `_read()` and `interview()` of `Project`."""

    # --- jobs

    def queue_job(
        self,
        kind: str,
        interview_id: str,
        options: dict[str, object],
        *,
        by: str,
        duration_s: float = 0.0,
    ) -> Job:
        """Queue a background job; it waits for a worker to claim it."""
        with self.transaction() as conn:
            self.interview(interview_id)
            active = conn.execute(
                sa.select(jobs_t.c.id).where(
                    (jobs_t.c.interview_id == interview_id)
                    & jobs_t.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
                )
            ).first()
            if active:
                raise InvalidInput(f"interview {interview_id} already has a job queued or running")
            result = conn.execute(
                sa.insert(jobs_t).values(
                    kind=kind,
                    interview_id=interview_id,
                    status=JobStatus.QUEUED,
                    options=json.dumps(options, ensure_ascii=False),
                    duration_s=duration_s,
                    created_by=by,
                    created_at=_now(),
                )
            )
            job_id = result.inserted_primary_key[0]
        return self.job(job_id)

    def job(self, job_id: int) -> Job:
        with self._read() as conn:
            row = conn.execute(sa.select(jobs_t).where(jobs_t.c.id == job_id)).one_or_none()
        if row is None:
            raise NotFound(f"no job {job_id} in this project")
        return _job(row)

    def jobs(self, *, interview_id: str | None = None, active: bool = False) -> list[Job]:
        """Jobs, newest last; `active`: only queued and running ones."""
        query = sa.select(jobs_t).order_by(jobs_t.c.id)
        if interview_id is not None:
            query = query.where(jobs_t.c.interview_id == interview_id)
        if active:
            query = query.where(jobs_t.c.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        with self._read() as conn:
            return [_job(r) for r in conn.execute(query)]

    def claim_job(self, worker: str, *, is_abandoned: Callable[[Job], bool]) -> Job | None:
        """Give the oldest queued job, or a running job whose worker is gone (it then
        resumes), to `worker`. Two workers never get the same job."""
        with self.transaction() as conn:
            rows = conn.execute(
                sa.select(jobs_t)
                .where(jobs_t.c.status.in_([JobStatus.RUNNING, JobStatus.QUEUED]))
                .order_by(jobs_t.c.id)
            )
            for row in rows.all():
                job = _job(row)
                if job.status is JobStatus.RUNNING and not is_abandoned(job):
                    continue
                now = _now()
                conn.execute(
                    sa.update(jobs_t)
                    .where(jobs_t.c.id == job.id)
                    .values(
                        status=JobStatus.RUNNING,
                        worker=worker,
                        started_at=job.started_at or now,
                        heartbeat_at=now,
                    )
                )
                return self.job(job.id)
        return None

    def update_job(self, job_id: int, **fields: object) -> Job:
        """Record progress (`progress_s`, `phase`, `duration_s`, `options`); also a
        heartbeat that tells other workers this job is alive."""
        allowed = {"progress_s", "phase", "duration_s", "options"}
        if set(fields) - allowed:
            raise ValueError(f"cannot update {', '.join(sorted(set(fields) - allowed))}")
        if "options" in fields:
            fields["options"] = json.dumps(fields["options"], ensure_ascii=False)
        with self.transaction() as conn:
            conn.execute(
                sa.update(jobs_t).where(jobs_t.c.id == job_id).values(heartbeat_at=_now(), **fields)
            )
        return self.job(job_id)

    def transcription_speed(self, engine: str, model: str) -> float | None:
        """Seconds of work per second of audio of this project's recent transcriptions
        with `engine` and `model` (median of the last five), or None."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(jobs_t)
                .where(jobs_t.c.status == JobStatus.DONE)
                .order_by(jobs_t.c.id.desc())
                .limit(50)
            ).all()
        factors = []
        for r in rows:
            options = json.loads(r.options or "{}")
            if (options.get("engine"), options.get("model")) != (engine, model):
                continue
            if r.started_at and r.finished_at and r.duration_s:
                factors.append((r.finished_at - r.started_at).total_seconds() / r.duration_s)
        factors = sorted(factors[:5])
        return factors[len(factors) // 2] if factors else None

    def finish_job(self, job_id: int, status: JobStatus, error: str = "") -> Job:
        with self.transaction() as conn:
            conn.execute(
                sa.update(jobs_t)
                .where(jobs_t.c.id == job_id)
                .values(status=status, error=error, finished_at=_now(), heartbeat_at=_now())
            )
        return self.job(job_id)

    def cancel_job(self, job_id: int) -> Job:
        """Stop a queued or running job; what it stored so far is kept."""
        with self.transaction() as conn:
            job = self.job(job_id)
            if not job.status.active:
                raise InvalidInput(f"job {job_id} is {job.status}, not queued or running")
            conn.execute(
                sa.update(jobs_t)
                .where(jobs_t.c.id == job_id)
                .values(status=JobStatus.CANCELLED, finished_at=_now())
            )
        return self.job(job_id)


def _job(r: sa.Row) -> Job:
    return Job(
        id=r.id,
        kind=r.kind,
        interview_id=r.interview_id,
        status=JobStatus(r.status),
        options=json.loads(r.options),
        progress_s=r.progress_s,
        duration_s=r.duration_s,
        phase=r.phase,
        error=r.error,
        worker=r.worker,
        created_by=r.created_by,
        created_at=r.created_at,
        started_at=r.started_at,
        heartbeat_at=r.heartbeat_at,
        finished_at=r.finished_at,
    )
