"""Suggestion runs in the background, recorded in the project.

A topic-model run takes from seconds to a minute (the first UMAP run compiles). The
app starts it on a thread of its own and the page only reads the run's row: status,
phase, parameters (model, versions, seed) and, when done, the result. So the work goes
on while the researcher uses other pages, a reload shows where it is, and every
result stays with the settings that produced it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from concurrent.futures import Executor
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from qda.schema import _now, suggestion_runs_t
from qda.store import Project
from qda.suggest.themes import ThemeCandidate


@dataclass(frozen=True)
class SuggestionRun:
    id: int
    kind: str
    status: str  # queued, running, done, failed
    phase: str
    parameters: dict
    result: dict
    error: str
    created_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @property
    def outliers(self) -> list[int]:
        """The segments a topic run looked at and put in no topic."""
        return list(self.result.get("outliers", []))

    def candidates(self) -> list[ThemeCandidate]:
        return [
            ThemeCandidate(
                topic=c["topic"],
                size=c["size"],
                key_words=tuple(c["key_words"]),
                quotes=tuple(c["quotes"]),
                groups=dict(c["groups"]),
                segment_ids=tuple(c["segment_ids"]),
                nearest_code=c.get("nearest_code", ""),
                closeness=c.get("closeness", 0.0),
                new=c.get("new", 0),
                passages=tuple(c.get("passages", ())),
            )
            for c in self.result.get("candidates", [])
        ]


def _update(project: Project, run_id: int, **values) -> None:
    for key in ("parameters", "result"):
        if key in values:
            values[key] = json.dumps(values[key], ensure_ascii=False)
    with project.transaction() as conn:
        conn.execute(
            sa.update(suggestion_runs_t).where(suggestion_runs_t.c.id == run_id).values(**values)
        )


def mark_abandoned(project: Project) -> int:
    """Runs left queued or running by an app that stopped are marked failed (no thread
    of this process works on them). Returns how many."""
    stale = [
        r.id
        for kind in ("themes", "embed")
        for r in runs(project, kind)
        if r.status in ("queued", "running")
        and (str(project.engine.url), r.id) not in _STARTED_HERE
    ]
    for run_id in stale:
        _update(
            project,
            run_id,
            status="failed",
            phase="",
            error="the app stopped while this run was going; start it again",
            finished_at=_now(),
        )
    return len(stale)


def runs(project: Project, kind: str = "themes") -> list[SuggestionRun]:
    """Recorded runs of a kind, newest first."""
    with project.engine.connect() as conn:
        rows = conn.execute(
            sa.select(suggestion_runs_t)
            .where(suggestion_runs_t.c.kind == kind)
            .order_by(suggestion_runs_t.c.id.desc())
        ).all()
    return [
        SuggestionRun(
            r.id, r.kind, r.status, r.phase, json.loads(r.parameters), json.loads(r.result),
            r.error, r.created_by, r.created_at, r.finished_at,
        )
        for r in rows
    ]  # fmt: skip


def run_themes(
    project: Project,
    embedder,
    *,
    seed: int = 0,
    topics: int | None = None,
    by: str,
    run_id: int | None = None,
) -> SuggestionRun:
    """Run the topic model now, recording the run (and its failure, if it fails)."""
    from qda.suggest.themes import theme_candidates

    if run_id is None:
        run_id = queue_themes(project, embedder.name, seed=seed, topics=topics, by=by)
    _update(project, run_id, status="running", phase="embedding and clustering")
    started = time.perf_counter()
    try:
        found = theme_candidates(project, embedder, seed=seed, topics=topics)
    except Exception as e:  # recorded for the page; the run is marked failed
        _update(project, run_id, status="failed", error=str(e), finished_at=_now(), phase="")
        raise
    _update(
        project,
        run_id,
        status="done",
        phase="",
        parameters=found.parameters,
        result={
            "candidates": [asdict(c) for c in found.candidates],
            "seconds": round(time.perf_counter() - started, 2),
            "reclustered_only": found.reused,
            "outliers": list(found.outliers),
            "pool": len(found.pool),
        },
        finished_at=_now(),
    )
    return next(r for r in runs(project) if r.id == run_id)


def queue_themes(
    project: Project, model: str, *, seed: int, topics: int | None = None, by: str
) -> int:
    parameters = {"embedding_model": model, "seed": seed, "topics": topics or "auto"}
    return _queue(project, "themes", parameters, by=by)


def participant_texts(project: Project) -> list[str]:
    """The text of every participant segment: what suggestions embed."""
    from qda.models import SpeakerRole

    return [
        s.text
        for s in project.segments(analysed_only=True)
        if s.role is not SpeakerRole.INTERVIEWER and s.text.strip()
    ]


def run_embedding(project: Project, embedder, *, by: str, run_id: int | None = None, chunk=64):
    """Embed every participant segment not yet in the cache, `chunk` texts at a time,
    recording progress in the run (`result` holds done and total)."""
    from qda.suggest.embed import cached_embeddings, not_cached

    if run_id is None:
        run_id = queue_embedding(project, embedder.name, by=by)
    started = time.perf_counter()
    try:
        pending = not_cached(project, embedder.name, participant_texts(project))
        total = len(pending)
        for done in range(0, total, chunk):
            _update(
                project,
                run_id,
                status="running",
                phase=f"embedded {done} of {total} segments",
                result={"done": done, "total": total},
            )
            cached_embeddings(project, embedder, pending[done : done + chunk])
    except Exception as e:
        _update(project, run_id, status="failed", error=str(e), finished_at=_now(), phase="")
        raise
    seconds = time.perf_counter() - started
    _update(
        project,
        run_id,
        status="done",
        phase="",
        result={
            "done": total,
            "total": total,
            "seconds": round(seconds, 2),
            "per_second": round(total / seconds, 1) if total and seconds else None,
        },
        finished_at=_now(),
    )
    return next(r for r in runs(project, "embed") if r.id == run_id)


def queue_embedding(project: Project, model: str, *, by: str) -> int:
    return _queue(project, "embed", {"embedding_model": model}, by=by)


def _queue(project: Project, kind: str, parameters: dict, *, by: str) -> int:
    with project.transaction() as conn:
        result = conn.execute(
            sa.insert(suggestion_runs_t).values(
                kind=kind,
                status="queued",
                parameters=json.dumps(parameters),
                created_by=by,
                created_at=_now(),
            )
        )
        return result.inserted_primary_key[0]


_STARTED_HERE: set[tuple[str, int]] = set()  # (database, run id) started by this process


def _start(project: Project, run_id: int, executor: Executor, work) -> int:
    """Run `work` on `executor`; its failure is recorded in the run's row, not raised."""
    _STARTED_HERE.add((str(project.engine.url), run_id))

    def guarded() -> None:
        with contextlib.suppress(Exception):
            work()

    executor.submit(guarded)
    return run_id


def start_themes(
    project: Project,
    embedder,
    executor: Executor,
    *,
    seed: int = 0,
    topics: int | None = None,
    by: str,
) -> int:
    """Queue a topic-model run and start it on `executor`; returns the run id."""
    run_id = queue_themes(project, embedder.name, seed=seed, topics=topics, by=by)
    return _start(
        project,
        run_id,
        executor,
        lambda: run_themes(project, embedder, seed=seed, topics=topics, by=by, run_id=run_id),
    )


def start_embedding(project: Project, embedder, executor: Executor, *, by: str) -> int:
    """Queue an embedding run and start it on `executor`; returns the run id."""
    run_id = queue_embedding(project, embedder.name, by=by)
    return _start(
        project, run_id, executor, lambda: run_embedding(project, embedder, by=by, run_id=run_id)
    )
