"""Project persistence: one SQLite file per project (or any SQLAlchemy URL).

A project is a folder holding `project.sqlite` (and, later, the recordings it was
made from). Every write runs in one transaction (`BEGIN IMMEDIATE` on SQLite, so two
writers wait for each other instead of failing half-way); SQLite runs in WAL mode so
readers never block a writer. The schema carries a version number and is brought up
to date by the ordered migrations in `MIGRATIONS` when a project is opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from qda.errors import InvalidInput, NotFound, ProjectError
from qda.models import (
    AttributeType,
    AttributeValue,
    Code,
    CodebookChange,
    CodebookInfo,
    Coding,
    CodingOrigin,
    Decision,
    Interview,
    InterviewStatus,
    Job,
    JobStatus,
    Participant,
    ProjectSummary,
    Segment,
    SegmentDraft,
    SpeakerRole,
    SuggestionDecision,
)

DB_FILE = "project.sqlite"
WHOLE_SEGMENT = (0, -1)  # stored span of a coding that covers the whole segment

metadata = sa.MetaData()

meta_table = sa.Table(
    "qda_meta",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
participants_t = sa.Table(
    "participants",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("pseudonym", sa.String, nullable=False, default=""),
    sa.Column("stakeholder_group", sa.String, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)
attribute_defs_t = sa.Table(
    "attribute_defs",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)
participant_attributes_t = sa.Table(
    "participant_attributes",
    metadata,
    sa.Column(
        "participant_id",
        sa.String,
        sa.ForeignKey("participants.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", sa.String, sa.ForeignKey("attribute_defs.name"), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),  # canonical text: "71", "2026-03-02"
)
interviews_t = sa.Table(
    "interviews",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("participant_id", sa.String, sa.ForeignKey("participants.id"), nullable=False),
    sa.Column("title", sa.String, nullable=False, default=""),
    sa.Column("language", sa.String, nullable=False, default=""),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("source_name", sa.String, nullable=False, default=""),
    sa.Column("source_sha256", sa.String, nullable=False, default=""),
    sa.Column("duration_s", sa.Float),
    sa.Column("engine", sa.String, nullable=False, default=""),
    sa.Column("model", sa.String, nullable=False, default=""),
    sa.Column("engine_options", sa.Text, nullable=False, default="{}"),
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # v2: the recording, stored in the project folder (path relative to it)
    sa.Column("media_file", sa.String, nullable=False, server_default=""),
)
segments_t = sa.Table(
    "segments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "interview_id",
        sa.String,
        sa.ForeignKey("interviews.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("idx", sa.Integer, nullable=False),
    sa.Column("start_s", sa.Float),
    sa.Column("end_s", sa.Float),
    sa.Column("speaker", sa.String, nullable=False, default=""),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("original_text", sa.Text, nullable=False),
    sa.Column("edited_by", sa.String, nullable=False, default=""),
    sa.Column("edited_at", sa.DateTime),
    # v2: word timings as JSON [[start, end, word], …] when the engine gave them
    sa.Column("words", sa.Text, nullable=False, server_default="[]"),
    sa.UniqueConstraint("interview_id", "idx"),
)
codes_t = sa.Table(
    "codes",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("parent_id", sa.String, sa.ForeignKey("codes.id")),
    sa.Column("definition", sa.Text, nullable=False, default=""),
    sa.Column("include_text", sa.Text, nullable=False, default=""),
    sa.Column("exclude_text", sa.Text, nullable=False, default=""),
    sa.Column("examples", sa.Text, nullable=False, default="[]"),
    sa.Column("colour", sa.String, nullable=False, default=""),
    sa.Column("position", sa.Integer, nullable=False, default=0),
)
codings_t = sa.Table(
    "codings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "segment_id", sa.Integer, sa.ForeignKey("segments.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("code_id", sa.String, sa.ForeignKey("codes.id"), nullable=False),
    sa.Column("coder", sa.String, nullable=False),
    sa.Column("origin", sa.String, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("span_start", sa.Integer, nullable=False, default=WHOLE_SEGMENT[0]),
    sa.Column("span_end", sa.Integer, nullable=False, default=WHOLE_SEGMENT[1]),
    sa.UniqueConstraint("segment_id", "code_id", "coder", "span_start", "span_end"),
)
decisions_t = sa.Table(
    "suggestion_decisions",
    metadata,
    sa.Column(
        "segment_id",
        sa.Integer,
        sa.ForeignKey("segments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("code_id", sa.String, sa.ForeignKey("codes.id"), primary_key=True),
    sa.Column("decision", sa.String, nullable=False),
    sa.Column("decided_by", sa.String, nullable=False),
    sa.Column("decided_at", sa.DateTime, nullable=False),
)
# v2: the state of segments before each change (edit, merge, split, speaker), so that
# no correction ever loses the text or timing it replaced.
segment_history_t = sa.Table(
    "segment_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("interview_id", sa.String, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("by", sa.String, nullable=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("before", sa.Text, nullable=False),  # JSON list of the segment rows
)
codebook_changes_t = sa.Table(
    "codebook_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("by", sa.String, nullable=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)

# v2: background jobs (transcription), with their progress, so that a page reload or
# a restart finds them and a crashed job resumes where its stored segments end.
jobs_t = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column(
        "interview_id",
        sa.String,
        sa.ForeignKey("interviews.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("options", sa.Text, nullable=False),
    sa.Column("phase", sa.String, nullable=False, server_default=""),
    sa.Column("progress_s", sa.Float, nullable=False, server_default="0"),
    sa.Column("duration_s", sa.Float, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Column("worker", sa.String, nullable=False, server_default=""),
    sa.Column("created_by", sa.String, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("heartbeat_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
)

sa.Index("ix_segments_interview", segments_t.c.interview_id, segments_t.c.idx)
sa.Index("ix_codings_segment", codings_t.c.segment_id)
sa.Index("ix_codings_code", codings_t.c.code_id)


# --- migrations ---------------------------------------------------------------------

Migration = Callable[[Connection], None]


def _migrate_2_jobs(conn: Connection) -> None:
    """0.2: background jobs, recordings kept in the project, word timings."""
    jobs_t.create(conn)
    segment_history_t.create(conn)
    conn.exec_driver_sql("ALTER TABLE interviews ADD COLUMN media_file VARCHAR NOT NULL DEFAULT ''")
    conn.exec_driver_sql("ALTER TABLE segments ADD COLUMN words TEXT NOT NULL DEFAULT '[]'")


# Ordered upgrades: MIGRATIONS[i] brings schema version i + 1 to i + 2 (version 1 is the
# first release). A new project is created at the latest version directly from the
# table definitions above. Never edit a released migration; append a new one, and
# change the table definitions to match.
MIGRATIONS: list[Migration] = [_migrate_2_jobs]
LATEST = len(MIGRATIONS) + 1


def schema_version(conn: Connection) -> int:
    """The schema version a database is at (0 for an empty database)."""
    if not sa.inspect(conn).has_table(meta_table.name):
        return 0
    value = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).scalar_one_or_none()
    return int(value) if value is not None else 0


def migrate(conn: Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Create the schema, or upgrade an older one, inside the caller's transaction.

    Returns:
        The schema version reached.

    Raises:
        ProjectError: the database was written by a newer qda.
    """
    latest = len(migrations) + 1
    current = schema_version(conn)
    if current == 0:
        metadata.create_all(conn)
        _set_meta(conn, "schema_version", str(latest))
        return latest
    if current > latest:
        raise ProjectError(
            f"this project uses schema version {current}, but this qda only knows up to "
            f"{latest}: upgrade qda to open it (the project was not changed)"
        )
    for version in range(current, latest):
        migrations[version - 1](conn)
        _set_meta(conn, "schema_version", str(version + 1))
    return latest


def _set_meta(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(
        sa.update(meta_table).where(meta_table.c.key == key).values(value=value)
    ).rowcount
    if not updated:
        conn.execute(sa.insert(meta_table).values(key=key, value=value))


# --- engine ---------------------------------------------------------------------------


def current_user() -> str:
    """Who is working: $QDA_USER, else the login name. Recorded with every change."""
    return os.environ.get("QDA_USER") or getpass.getuser()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def make_engine(url: str) -> Engine:
    """An engine for a project database. SQLite gets WAL, foreign keys, and writers
    that queue (`BEGIN IMMEDIATE`, 30 s busy timeout) instead of failing."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        **({"poolclass": StaticPool} if memory else {}),
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun below, explicitly
        cursor = dbapi_conn.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("qda_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


# --- the project ---------------------------------------------------------------------


class Project:
    """One study: its participants, interviews, codebook and codings.

    Open one with `qda.open_project(path)`; the CLI and the UI both go through this
    class, never through SQL of their own.
    """

    def __init__(self, engine: Engine, root: Path | None = None) -> None:
        self.engine = engine
        self.root = root
        self._local = threading.local()
        with self.transaction() as conn:
            migrate(conn)
            if _get_meta(conn, "project_id") is None:
                _set_meta(conn, "project_id", str(uuid.uuid4()))
                _set_meta(conn, "created_at", _now().isoformat())
                _set_meta(conn, "name", root.name if root else "")

    def __repr__(self) -> str:
        return f"Project({self.root or self.engine.url!s})"

    def close(self) -> None:
        self.engine.dispose()

    # --- transactions

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction; nested calls join the outer one (all or nothing)."""
        active: Connection | None = getattr(self._local, "conn", None)
        if active is not None:
            yield active
            return
        with self.engine.connect().execution_options(qda_write=True) as conn, conn.begin():
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        active: Connection | None = getattr(self._local, "conn", None)
        if active is not None:
            yield active
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # --- project metadata

    @property
    def id(self) -> str:
        with self._read() as conn:
            return _get_meta(conn, "project_id") or ""

    @property
    def name(self) -> str:
        with self._read() as conn:
            return _get_meta(conn, "name") or ""

    def rename(self, name: str) -> None:
        with self.transaction() as conn:
            _set_meta(conn, "name", name.strip())

    @property
    def schema_version(self) -> int:
        with self._read() as conn:
            return schema_version(conn)

    def summary(self) -> ProjectSummary:
        with self._read() as conn:

            def count(table: sa.Table) -> int:
                return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

            by_status = {
                InterviewStatus(status): n
                for status, n in conn.execute(
                    sa.select(interviews_t.c.status, sa.func.count()).group_by(
                        interviews_t.c.status
                    )
                )
            }
            return ProjectSummary(
                name=_get_meta(conn, "name") or "",
                participants=count(participants_t),
                interviews=count(interviews_t),
                segments=count(segments_t),
                codes=count(codes_t),
                codings=count(codings_t),
                interviews_by_status=by_status,
            )

    # --- participants

    @property
    def attribute_types(self) -> dict[str, AttributeType]:
        """Free attribute names and their types, in the order they were defined."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(attribute_defs_t.c.name, attribute_defs_t.c.type).order_by(
                    attribute_defs_t.c.position
                )
            )
            return {name: AttributeType(kind) for name, kind in rows}

    @property
    def participants(self) -> list[Participant]:
        """All participants, in the order they were added."""
        with self._read() as conn:
            types = {
                n: AttributeType(t)
                for n, t in conn.execute(
                    sa.select(attribute_defs_t.c.name, attribute_defs_t.c.type)
                )
            }
            values: dict[str, dict[str, AttributeValue]] = {}
            for pid, name, value in conn.execute(sa.select(participant_attributes_t)):
                values.setdefault(pid, {})[name] = _decode_attribute(value, types[name])
            rows = conn.execute(sa.select(participants_t).order_by(participants_t.c.position))
            return [
                Participant(
                    id=r.id,
                    stakeholder_group=r.stakeholder_group,
                    pseudonym=r.pseudonym,
                    attributes=values.get(r.id, {}),
                )
                for r in rows
            ]

    def participant(self, participant_id: str) -> Participant:
        for p in self.participants:
            if p.id == participant_id:
                return p
        raise NotFound(f"no participant '{participant_id}' in this project")

    def define_attribute(self, name: str, kind: AttributeType) -> None:
        """Declare a free attribute; re-declaring with another type is refused."""
        with self.transaction() as conn:
            existing = conn.execute(
                sa.select(attribute_defs_t.c.type).where(attribute_defs_t.c.name == name)
            ).scalar_one_or_none()
            if existing is None:
                position = conn.execute(
                    sa.select(sa.func.count()).select_from(attribute_defs_t)
                ).scalar_one()
                conn.execute(
                    sa.insert(attribute_defs_t).values(name=name, type=kind, position=position)
                )
            elif existing != kind:
                raise InvalidInput(
                    f"attribute '{name}' is already a {existing} attribute in this project, "
                    f"not {kind}",
                    column=name,
                )

    def save_participant(self, participant: Participant) -> None:
        """Add a participant, or update the one with the same id (see `save_participants`)."""
        self.save_participants([participant])

    def save_participants(
        self, participants: Sequence[Participant], *, clear_missing: bool = False
    ) -> None:
        """Add participants, or update those with the same id, in one transaction.

        Every attribute used must be declared with `define_attribute` first (typed).
        Attributes a participant does not mention are left as they are, or removed
        with `clear_missing` (a table edited whole, where an empty cell means unknown).
        """
        for participant in participants:
            if not participant.id.strip():
                raise InvalidInput("participant id is empty", column="participant_id")
            if not participant.stakeholder_group.strip():
                raise InvalidInput(
                    f"participant '{participant.id}' has no stakeholder group",
                    column="stakeholder_group",
                )
        with self.transaction() as conn:
            types = self.attribute_types
            existing = set(conn.execute(sa.select(participants_t.c.id)).scalars())
            position = len(existing)
            inserts, updates, values = [], [], []
            for p in participants:
                fields = {"pseudonym": p.pseudonym, "stakeholder_group": p.stakeholder_group}
                if p.id in existing:
                    updates.append({"pid": p.id, **fields})
                else:
                    inserts.append({"id": p.id, "position": position, **fields})
                    existing.add(p.id)
                    position += 1
                for name, value in p.attributes.items():
                    if name not in types:
                        raise InvalidInput(f"attribute '{name}' is not defined", column=name)
                    values.append(
                        {
                            "participant_id": p.id,
                            "name": name,
                            "value": _encode_attribute(value, types[name], name),
                        }
                    )
            if inserts:
                conn.execute(sa.insert(participants_t), inserts)
            if updates:
                conn.execute(
                    sa.update(participants_t).where(participants_t.c.id == sa.bindparam("pid")),
                    updates,
                )
            if clear_missing:
                conn.execute(
                    sa.delete(participant_attributes_t).where(
                        participant_attributes_t.c.participant_id == sa.bindparam("pid")
                    ),
                    [{"pid": p.id} for p in participants],
                )
            if values:
                conn.execute(
                    sa.delete(participant_attributes_t).where(
                        (participant_attributes_t.c.participant_id == sa.bindparam("pid"))
                        & (participant_attributes_t.c.name == sa.bindparam("aname"))
                    ),
                    [{"pid": v["participant_id"], "aname": v["name"]} for v in values],
                )
                conn.execute(sa.insert(participant_attributes_t), values)

    # --- interviews and segments

    @property
    def interviews(self) -> list[Interview]:
        with self._read() as conn:
            rows = conn.execute(sa.select(interviews_t).order_by(interviews_t.c.id))
            return [_interview(r) for r in rows]

    def interview(self, interview_id: str) -> Interview:
        with self._read() as conn:
            row = conn.execute(
                sa.select(interviews_t).where(interviews_t.c.id == interview_id)
            ).one_or_none()
        if row is None:
            raise NotFound(f"no interview '{interview_id}' in this project")
        return _interview(row)

    def add_interview(
        self,
        participant_id: str,
        segments: Sequence[SegmentDraft] = (),
        *,
        interview_id: str | None = None,
        title: str = "",
        language: str = "",
        status: InterviewStatus = InterviewStatus.IMPORTED,
        source_name: str = "",
        source_sha256: str = "",
        duration_s: float | None = None,
        media_file: str = "",
    ) -> Interview:
        """Add an interview of a participant, with its segments if it has any yet.

        The id defaults to the participant id ("P01"), then "P01-2", "P01-3" for
        further interviews of the same participant.
        """
        with self.transaction() as conn:
            if not conn.execute(
                sa.select(participants_t.c.id).where(participants_t.c.id == participant_id)
            ).scalar_one_or_none():
                raise NotFound(
                    f"no participant '{participant_id}': add the participant before their interview"
                )
            taken = set(conn.execute(sa.select(interviews_t.c.id)).scalars())
            if interview_id is None:
                interview_id, n = participant_id, 1
                while interview_id in taken:
                    n += 1
                    interview_id = f"{participant_id}-{n}"
            elif interview_id in taken:
                raise InvalidInput(f"interview '{interview_id}' already exists")
            conn.execute(
                sa.insert(interviews_t).values(
                    id=interview_id,
                    participant_id=participant_id,
                    title=title,
                    language=language,
                    status=status,
                    source_name=source_name,
                    source_sha256=source_sha256,
                    duration_s=duration_s,
                    engine="",
                    model="",
                    engine_options="{}",
                    error="",
                    created_at=_now(),
                    media_file=media_file,
                )
            )
            self._insert_segments(conn, interview_id, segments)
        return self.interview(interview_id)

    def _insert_segments(
        self, conn: Connection, interview_id: str, segments: Sequence[SegmentDraft]
    ) -> None:
        first = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(segments_t.c.idx) + 1, 0)).where(
                segments_t.c.interview_id == interview_id
            )
        ).scalar_one()
        if segments:
            conn.execute(
                sa.insert(segments_t),
                [
                    {
                        "interview_id": interview_id,
                        "idx": i,
                        "start_s": s.start,
                        "end_s": s.end,
                        "speaker": s.speaker,
                        "role": s.role,
                        "text": s.text,
                        "original_text": s.text,
                        "edited_by": "",
                        "edited_at": None,
                        "words": json.dumps([list(w) for w in s.words]),
                    }
                    for i, s in enumerate(segments, start=first)
                ],
            )

    def append_segments(self, interview_id: str, segments: Sequence[SegmentDraft]) -> None:
        """Add segments after the last one of an interview (as a transcription goes)."""
        with self.transaction() as conn:
            self.interview(interview_id)
            self._insert_segments(conn, interview_id, segments)

    def update_interview(self, interview_id: str, **fields: object) -> Interview:
        """Change stored facts of an interview (status, language, engine, error, …)."""
        allowed = {
            "title", "language", "status", "duration_s", "engine", "model",
            "engine_options", "error", "media_file", "source_name", "source_sha256",
        }  # fmt: skip
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update {', '.join(sorted(unknown))}")
        if "engine_options" in fields:
            fields["engine_options"] = json.dumps(fields["engine_options"], ensure_ascii=False)
        with self.transaction() as conn:
            self.interview(interview_id)
            conn.execute(
                sa.update(interviews_t).where(interviews_t.c.id == interview_id).values(**fields)
            )
        return self.interview(interview_id)

    def media_path(self, interview: Interview) -> Path | None:
        """The stored recording of an interview, if there is one."""
        if not interview.media_file or self.root is None:
            return None
        return self.root / interview.media_file

    def segments(self, interview_id: str | None = None) -> list[Segment]:
        """Segments of one interview in order, or of all interviews."""
        query = sa.select(segments_t).order_by(segments_t.c.interview_id, segments_t.c.idx)
        if interview_id is not None:
            query = query.where(segments_t.c.interview_id == interview_id)
        with self._read() as conn:
            return [_segment(r) for r in conn.execute(query)]

    def segment(self, segment_id: int) -> Segment:
        with self._read() as conn:
            row = conn.execute(
                sa.select(segments_t).where(segments_t.c.id == segment_id)
            ).one_or_none()
        if row is None:
            raise NotFound(f"no segment {segment_id} in this project")
        return _segment(row)

    def _remember(self, conn: Connection, interview_id: str, rows, action: str, by: str) -> None:
        """Keep the state of segments before a change (segment_history)."""
        before = [
            {
                "id": r.id, "idx": r.idx, "start": r.start_s, "end": r.end_s,
                "speaker": r.speaker, "role": r.role, "text": r.text,
                "original_text": r.original_text,
            }
            for r in rows
        ]  # fmt: skip
        conn.execute(
            sa.insert(segment_history_t).values(
                interview_id=interview_id,
                at=_now(),
                by=by,
                action=action,
                before=json.dumps(before, ensure_ascii=False),
            )
        )

    def _segment_rows(self, conn: Connection, interview_id: str, ids=None) -> list[sa.Row]:
        query = (
            sa.select(segments_t)
            .where(segments_t.c.interview_id == interview_id)
            .order_by(segments_t.c.idx)
        )
        if ids is not None:
            query = query.where(segments_t.c.id.in_(list(ids)))
        return list(conn.execute(query))

    def segment_history(self, interview_id: str) -> list[dict[str, object]]:
        """Every change to an interview's segments, oldest first, with the state before."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(segment_history_t)
                .where(segment_history_t.c.interview_id == interview_id)
                .order_by(segment_history_t.c.id)
            )
            return [
                {"at": r.at, "by": r.by, "action": r.action, "before": json.loads(r.before)}
                for r in rows
            ]

    def edit_segment(self, segment_id: int, text: str, *, by: str) -> Segment:
        """Correct a segment's text; the original ASR or imported text is kept."""
        with self.transaction() as conn:
            segment = self.segment(segment_id)
            if text == segment.text:
                return segment
            self._remember(
                conn,
                segment.interview_id,
                self._segment_rows(conn, segment.interview_id, [segment_id]),
                "edit",
                by,
            )
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.id == segment_id)
                .values(text=text, edited_by=by, edited_at=_now())
            )
        return self.segment(segment_id)

    def set_speaker(
        self, segment_id: int, speaker: str, role: SpeakerRole | None = None, *, by: str
    ) -> Segment:
        """Give one segment another speaker (and role: interviewer if the name is used
        by the interviewer's other segments, else as given or participant)."""
        with self.transaction() as conn:
            segment = self.segment(segment_id)
            if role is None:
                same = [s for s in self.segments(segment.interview_id) if s.speaker == speaker]
                role = same[0].role if same else SpeakerRole.PARTICIPANT
            self._remember(
                conn,
                segment.interview_id,
                self._segment_rows(conn, segment.interview_id, [segment_id]),
                "speaker",
                by,
            )
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.id == segment_id)
                .values(speaker=speaker.strip(), role=role, edited_by=by, edited_at=_now())
            )
        return self.segment(segment_id)

    def rename_speaker(
        self,
        interview_id: str,
        old: str,
        new: str,
        *,
        role: SpeakerRole | None = None,
        by: str,
    ) -> int:
        """Rename a speaker in every segment of an interview (optionally setting the
        role). Returns how many segments changed."""
        if not new.strip():
            raise InvalidInput("a speaker needs a name")
        with self.transaction() as conn:
            rows = [r for r in self._segment_rows(conn, interview_id) if r.speaker == old]
            if not rows:
                raise NotFound(f"no speaker '{old}' in interview {interview_id}")
            self._remember(conn, interview_id, rows, "rename speaker", by)
            values = {"speaker": new.strip(), "edited_by": by, "edited_at": _now()}
            if role is not None:
                values["role"] = role
            conn.execute(
                sa.update(segments_t)
                .where((segments_t.c.interview_id == interview_id) & (segments_t.c.speaker == old))
                .values(**values)
            )
            return len(rows)

    def swap_speakers(self, interview_id: str, *, by: str) -> None:
        """Swap the two speakers of an interview (names and roles), in one action:
        for when the interviewer was guessed wrong."""
        with self.transaction() as conn:
            rows = self._segment_rows(conn, interview_id)
            speakers = list(dict.fromkeys(r.speaker for r in rows if r.speaker))
            if len(speakers) != 2:
                raise InvalidInput(
                    f"interview {interview_id} has {len(speakers)} speakers; swapping needs two"
                )
            a, b = speakers
            role = {r.speaker: r.role for r in rows}
            self._remember(conn, interview_id, rows, "swap speakers", by)
            for r in rows:
                if r.speaker in (a, b):
                    other = b if r.speaker == a else a
                    conn.execute(
                        sa.update(segments_t)
                        .where(segments_t.c.id == r.id)
                        .values(speaker=other, role=role[other], edited_by=by, edited_at=_now())
                    )

    def merge_segments(self, first_id: int, *, by: str) -> Segment:
        """Join a segment with the next one (text, original text, times, words);
        codings of both stay on the merged segment."""
        with self.transaction() as conn:
            first = self.segment(first_id)
            rows = self._segment_rows(conn, first.interview_id)
            position = next(i for i, r in enumerate(rows) if r.id == first_id)
            if position + 1 >= len(rows):
                raise InvalidInput("the last segment has no next segment to merge with")
            a, b = rows[position], rows[position + 1]
            self._remember(conn, first.interview_id, [a, b], "merge", by)
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.id == a.id)
                .values(
                    text=f"{a.text} {b.text}".strip(),
                    original_text=f"{a.original_text} {b.original_text}".strip(),
                    end_s=b.end_s if b.end_s is not None else a.end_s,
                    words=json.dumps(json.loads(a.words) + json.loads(b.words)),
                    edited_by=by,
                    edited_at=_now(),
                )
            )
            existing = {
                (c.code_id, c.coder)
                for c in conn.execute(sa.select(codings_t).where(codings_t.c.segment_id == a.id))
            }
            for c in list(conn.execute(sa.select(codings_t).where(codings_t.c.segment_id == b.id))):
                if (c.code_id, c.coder) in existing:
                    conn.execute(sa.delete(codings_t).where(codings_t.c.id == c.id))
                else:
                    conn.execute(
                        sa.update(codings_t)
                        .where(codings_t.c.id == c.id)
                        .values(
                            segment_id=a.id,
                            span_start=WHOLE_SEGMENT[0],
                            span_end=WHOLE_SEGMENT[1],
                        )
                    )
            conn.execute(
                sa.update(decisions_t)
                .where(decisions_t.c.segment_id == b.id)
                .where(
                    ~decisions_t.c.code_id.in_(
                        sa.select(decisions_t.c.code_id).where(decisions_t.c.segment_id == a.id)
                    )
                )
                .values(segment_id=a.id)
            )
            conn.execute(sa.delete(segments_t).where(segments_t.c.id == b.id))
            self._reindex(conn, first.interview_id)
        return self.segment(first_id)

    def split_segment(self, segment_id: int, at: int, *, by: str) -> tuple[Segment, Segment]:
        """Cut a segment in two at character `at` of its text. Times are divided by the
        word timings when known, else in proportion to the text; codings stay on both
        parts. The original text is cut at the same place when the text is unedited,
        else kept whole on the first part (and in the segment history)."""
        with self.transaction() as conn:
            segment = self.segment(segment_id)
            text = segment.text
            if not 0 < at < len(text) or not text[:at].strip() or not text[at:].strip():
                raise InvalidInput(
                    f"cannot split the segment at character {at}: both parts need text"
                )
            rows = self._segment_rows(conn, segment.interview_id)
            self._remember(
                conn, segment.interview_id, [r for r in rows if r.id == segment_id], "split", by
            )
            head, tail = text[:at].strip(), text[at:].strip()
            if segment.original_text == text:
                original_head, original_tail = head, tail
            else:
                original_head, original_tail = segment.original_text, ""
            cut = _split_time(segment, at)
            words_head = [w for w in segment.words if cut is None or w[1] <= cut]
            words_tail = [w for w in segment.words if cut is not None and w[1] > cut]
            # make room: shift later segments one place
            conn.execute(
                sa.update(segments_t)
                .where(
                    (segments_t.c.interview_id == segment.interview_id)
                    & (segments_t.c.idx > segment.index)
                )
                .values(idx=-segments_t.c.idx - 1)
            )
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.interview_id == segment.interview_id)
                .where(segments_t.c.idx < 0)
                .values(idx=-segments_t.c.idx)
            )
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.id == segment_id)
                .values(
                    text=head,
                    original_text=original_head,
                    end_s=cut,
                    words=json.dumps([list(w) for w in words_head]),
                    edited_by=by,
                    edited_at=_now(),
                )
            )
            result = conn.execute(
                sa.insert(segments_t).values(
                    interview_id=segment.interview_id,
                    idx=segment.index + 1,
                    start_s=cut,
                    end_s=segment.end,
                    speaker=segment.speaker,
                    role=segment.role,
                    text=tail,
                    original_text=original_tail,
                    edited_by=by,
                    edited_at=_now(),
                    words=json.dumps([list(w) for w in words_tail]),
                )
            )
            new_id = result.inserted_primary_key[0]
            for c in list(
                conn.execute(sa.select(codings_t).where(codings_t.c.segment_id == segment_id))
            ):
                conn.execute(
                    sa.update(codings_t)
                    .where(codings_t.c.id == c.id)
                    .values(span_start=WHOLE_SEGMENT[0], span_end=WHOLE_SEGMENT[1])
                )
                conn.execute(
                    sa.insert(codings_t).values(
                        segment_id=new_id,
                        code_id=c.code_id,
                        coder=c.coder,
                        origin=c.origin,
                        created_at=c.created_at,
                        span_start=WHOLE_SEGMENT[0],
                        span_end=WHOLE_SEGMENT[1],
                    )
                )
        return self.segment(segment_id), self.segment(new_id)

    def _reindex(self, conn: Connection, interview_id: str) -> None:
        """Number an interview's segments 0, 1, 2, … again (after a merge)."""
        rows = self._segment_rows(conn, interview_id)
        for new, r in enumerate(rows):
            if r.idx != new:
                conn.execute(
                    sa.update(segments_t).where(segments_t.c.id == r.id).values(idx=-new - 1)
                )
        conn.execute(
            sa.update(segments_t)
            .where((segments_t.c.interview_id == interview_id) & (segments_t.c.idx < 0))
            .values(idx=-segments_t.c.idx - 1)
        )

    def replace_transcript(
        self, interview_id: str, segments: Sequence[SegmentDraft], *, by: str
    ) -> None:
        """Put new segments in place of an interview's (a finished transcription).
        Refused when the interview has codings; the old segments go to the history."""
        with self.transaction() as conn:
            if self.codings(interview_id=interview_id):
                raise InvalidInput(
                    f"interview {interview_id} has codings; its transcript cannot be replaced"
                )
            rows = self._segment_rows(conn, interview_id)
            if rows:
                self._remember(conn, interview_id, rows, "replace transcript", by)
            conn.execute(sa.delete(segments_t).where(segments_t.c.interview_id == interview_id))
            self._insert_segments(conn, interview_id, segments)

    # --- codebook

    @property
    def codes(self) -> list[Code]:
        """All codes, parents before their children, siblings in their order."""
        with self._read() as conn:
            rows = list(conn.execute(sa.select(codes_t).order_by(codes_t.c.position)))
        children: dict[str | None, list[Code]] = {}
        for r in rows:
            children.setdefault(r.parent_id, []).append(_code(r))
        ordered: list[Code] = []

        def walk(parent: str | None) -> None:
            for code in children.get(parent, []):
                ordered.append(code)
                walk(code.id)

        walk(None)
        return ordered

    def code(self, code_id: str) -> Code:
        with self._read() as conn:
            row = conn.execute(sa.select(codes_t).where(codes_t.c.id == code_id)).one_or_none()
        if row is None:
            raise NotFound(f"no code with id {code_id} in this codebook")
        return _code(row)

    def code_paths(self) -> dict[str, Code]:
        """Codes by path ("Theme/Code"), the way files and the CLI name them."""
        by_id = {c.id: c for c in self.codes}

        def path(code: Code) -> str:
            return (
                code.name
                if code.parent_id is None
                else f"{path(by_id[code.parent_id])}/{code.name}"
            )

        return {path(c): c for c in by_id.values()}

    def save_code(self, code: Code, *, by: str, action: str | None = None) -> Code:
        """Add a code or update the one with the same id, and log the change."""
        name = code.name.strip()
        if not name:
            raise InvalidInput("a code needs a name", column="name")
        if "/" in name:
            raise InvalidInput(f"code name '{name}' contains '/', which separates paths")
        with self.transaction() as conn:
            ancestor = code.parent_id
            while ancestor is not None:
                if ancestor == code.id:
                    raise InvalidInput(f"'{name}' cannot be placed under itself or its own child")
                ancestor = self.code(ancestor).parent_id
            siblings = conn.execute(
                sa.select(codes_t.c.id).where(
                    (codes_t.c.name == name)
                    & (
                        codes_t.c.parent_id.is_(None)
                        if code.parent_id is None
                        else codes_t.c.parent_id == code.parent_id
                    )
                    & (codes_t.c.id != code.id)
                )
            ).first()
            if siblings:
                raise InvalidInput(f"a code named '{name}' already exists at that place")
            values = {
                "name": name,
                "parent_id": code.parent_id,
                "definition": code.definition,
                "include_text": code.include,
                "exclude_text": code.exclude,
                "examples": json.dumps(list(code.examples), ensure_ascii=False),
                "colour": code.colour,
                "position": code.position,
            }
            exists = conn.execute(
                sa.select(codes_t.c.id).where(codes_t.c.id == code.id)
            ).scalar_one_or_none()
            if exists:
                conn.execute(sa.update(codes_t).where(codes_t.c.id == code.id).values(**values))
            else:
                conn.execute(sa.insert(codes_t).values(id=code.id, **values))
            self.log_codebook_change(action or ("edit" if exists else "add"), name, by=by)
        return self.code(code.id)

    def add_code(self, name: str, *, by: str, parent_id: str | None = None, **fields) -> Code:
        """Add a new code with a fresh GUID at the end of its siblings."""
        position = sum(1 for c in self.codes if c.parent_id == parent_id)
        code = Code(
            id=str(uuid.uuid4()), name=name, parent_id=parent_id, position=position, **fields
        )
        return self.save_code(code, by=by)

    @property
    def codebook_info(self) -> CodebookInfo:
        with self._read() as conn:
            raw = _get_meta(conn, "codebook_info")
        if not raw:
            return CodebookInfo()
        data = json.loads(raw)
        return CodebookInfo(
            title=data.get("title", ""),
            version=data.get("version", ""),
            language=data.get("language", ""),
            authors=tuple(data.get("authors", ())),
        )

    def set_codebook_info(self, info: CodebookInfo) -> None:
        with self.transaction() as conn:
            _set_meta(
                conn,
                "codebook_info",
                json.dumps(
                    {
                        "title": info.title,
                        "version": info.version,
                        "language": info.language,
                        "authors": list(info.authors),
                    },
                    ensure_ascii=False,
                ),
            )

    def log_codebook_change(self, action: str, detail: str, *, by: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                sa.insert(codebook_changes_t).values(at=_now(), by=by, action=action, detail=detail)
            )

    @property
    def codebook_changes(self) -> list[CodebookChange]:
        with self._read() as conn:
            rows = conn.execute(sa.select(codebook_changes_t).order_by(codebook_changes_t.c.id))
            return [
                CodebookChange(at=r.at, by=r.by, action=r.action, detail=r.detail) for r in rows
            ]

    # --- codings

    def apply_code(
        self,
        segment_id: int,
        code_id: str,
        *,
        coder: str,
        origin: CodingOrigin = CodingOrigin.MANUAL,
        span: tuple[int, int] | None = None,
    ) -> Coding:
        """Apply a code to a segment (or a span of it). Applying it again is a no-op
        that returns the existing coding, so a double click never double-counts."""
        if not coder.strip():
            raise InvalidInput("a coding needs a coder name")
        with self.transaction() as conn:
            segment = self.segment(segment_id)
            self.code(code_id)
            if span is not None:
                start, end = span
                if not 0 <= start < end <= len(segment.text):
                    raise InvalidInput(
                        f"span {start}–{end} is outside segment {segment_id} "
                        f"({len(segment.text)} characters)"
                    )
            stored = span or WHOLE_SEGMENT
            key = (
                (codings_t.c.segment_id == segment_id)
                & (codings_t.c.code_id == code_id)
                & (codings_t.c.coder == coder)
                & (codings_t.c.span_start == stored[0])
                & (codings_t.c.span_end == stored[1])
            )
            row = conn.execute(sa.select(codings_t).where(key)).one_or_none()
            if row is None:
                conn.execute(
                    sa.insert(codings_t).values(
                        segment_id=segment_id,
                        code_id=code_id,
                        coder=coder,
                        origin=origin,
                        created_at=_now(),
                        span_start=stored[0],
                        span_end=stored[1],
                    )
                )
                row = conn.execute(sa.select(codings_t).where(key)).one()
        return _coding(row)

    def remove_coding(self, coding_id: int) -> None:
        with self.transaction() as conn:
            if not conn.execute(sa.delete(codings_t).where(codings_t.c.id == coding_id)).rowcount:
                raise NotFound(f"no coding {coding_id} in this project")

    def codings(
        self, *, interview_id: str | None = None, code_id: str | None = None
    ) -> list[Coding]:
        query = sa.select(codings_t).order_by(codings_t.c.id)
        if interview_id is not None:
            query = query.join(segments_t, segments_t.c.id == codings_t.c.segment_id).where(
                segments_t.c.interview_id == interview_id
            )
        if code_id is not None:
            query = query.where(codings_t.c.code_id == code_id)
        with self._read() as conn:
            return [_coding(r) for r in conn.execute(query)]

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

    # --- suggestion decisions

    def decide_suggestion(
        self, segment_id: int, code_id: str, decision: Decision, *, by: str
    ) -> SuggestionDecision:
        """Record accept/reject of a suggested code; the latest decision counts."""
        with self.transaction() as conn:
            self.segment(segment_id)
            self.code(code_id)
            key = (decisions_t.c.segment_id == segment_id) & (decisions_t.c.code_id == code_id)
            conn.execute(sa.delete(decisions_t).where(key))
            conn.execute(
                sa.insert(decisions_t).values(
                    segment_id=segment_id,
                    code_id=code_id,
                    decision=decision,
                    decided_by=by,
                    decided_at=_now(),
                )
            )
            if decision is Decision.ACCEPTED:
                self.apply_code(segment_id, code_id, coder=by, origin=CodingOrigin.SUGGESTION)
        return SuggestionDecision(segment_id, code_id, decision, by)

    def suggestion_decisions(self) -> list[SuggestionDecision]:
        with self._read() as conn:
            return [
                SuggestionDecision(
                    r.segment_id, r.code_id, Decision(r.decision), r.decided_by, r.decided_at
                )
                for r in conn.execute(sa.select(decisions_t))
            ]


# --- row conversion ------------------------------------------------------------------


def _split_time(segment: Segment, at: int) -> float | None:
    """Where in time a segment's text is cut at character `at`."""
    if segment.start is None or segment.end is None:
        return None
    if segment.words:
        consumed = 0
        for _start, end, word in segment.words:
            consumed += len(word)
            if consumed >= at:
                return end
    share = at / max(len(segment.text), 1)
    return round(segment.start + share * (segment.end - segment.start), 2)


def _get_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == key)
    ).scalar_one_or_none()


def _encode_attribute(value: AttributeValue, kind: AttributeType, name: str) -> str:
    ok = {
        AttributeType.TEXT: isinstance(value, str),
        AttributeType.NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        AttributeType.DATE: isinstance(value, dt.date),
    }[kind]
    if not ok:
        raise InvalidInput(f"'{value}' is not a {kind} value", column=name)
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(float(value)) if kind is AttributeType.NUMBER else str(value)


def _decode_attribute(value: str, kind: AttributeType) -> AttributeValue:
    if kind is AttributeType.NUMBER:
        return float(value)
    if kind is AttributeType.DATE:
        return dt.date.fromisoformat(value)
    return value


def _interview(r: sa.Row) -> Interview:
    return Interview(
        id=r.id,
        participant_id=r.participant_id,
        title=r.title,
        language=r.language,
        status=InterviewStatus(r.status),
        source_name=r.source_name,
        source_sha256=r.source_sha256,
        duration_s=r.duration_s,
        engine=r.engine,
        model=r.model,
        engine_options=json.loads(r.engine_options),
        error=r.error,
        created_at=r.created_at,
        media_file=r.media_file,
    )


def _segment(r: sa.Row) -> Segment:
    return Segment(
        id=r.id,
        interview_id=r.interview_id,
        index=r.idx,
        text=r.text,
        original_text=r.original_text,
        speaker=r.speaker,
        role=SpeakerRole(r.role),
        start=r.start_s,
        end=r.end_s,
        words=tuple(tuple(w) for w in json.loads(r.words)),
    )


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


def _code(r: sa.Row) -> Code:
    return Code(
        id=r.id,
        name=r.name,
        parent_id=r.parent_id,
        definition=r.definition,
        include=r.include_text,
        exclude=r.exclude_text,
        examples=tuple(json.loads(r.examples)),
        colour=r.colour,
        position=r.position,
    )


def _coding(r: sa.Row) -> Coding:
    span = None if (r.span_start, r.span_end) == WHOLE_SEGMENT else (r.span_start, r.span_end)
    return Coding(
        id=r.id,
        segment_id=r.segment_id,
        code_id=r.code_id,
        coder=r.coder,
        origin=CodingOrigin(r.origin),
        created_at=r.created_at,
        span=span,
    )


# --- opening --------------------------------------------------------------------------


def open_project(path: str | Path, *, create: bool = False) -> Project:
    """Open the project in folder `path` (or at an SQLAlchemy database URL).

    Args:
        path: a project folder (holding `project.sqlite`), a `.sqlite` file, or a URL
            such as `postgresql://host/db` for a team server.
        create: make the folder and an empty project if there is none yet.

    Raises:
        ProjectError: nothing is there and `create` is False, or the file is not a
            qda project.
    """
    if isinstance(path, str) and "://" in path:
        return Project(make_engine(path))
    if not str(path).strip():
        raise ProjectError("no project folder given: enter the folder of the project")
    path = Path(path).expanduser()
    db = path if path.suffix in (".sqlite", ".db") else path / DB_FILE
    root = db.parent
    if not db.exists():
        if not create:
            raise ProjectError(
                f"no qda project at {path}: create one with `qda init {path}` "
                "or open an existing project folder"
            )
        root.mkdir(parents=True, exist_ok=True)
    else:
        with db.open("rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise ProjectError(f"{db} is not a qda project (not an SQLite database)")
    try:
        return Project(make_engine(f"sqlite:///{db}"), root)
    except sa.exc.DatabaseError as e:
        raise ProjectError(f"{db} could not be opened as a qda project: {e.orig}") from e


def create_project(path: str | Path, name: str = "") -> Project:
    """Create a new, empty project folder (refuses to reuse one that holds a project)."""
    if not str(path).strip():
        raise ProjectError("no project folder given: enter a folder for the new project")
    path = Path(path).expanduser()
    if (path / DB_FILE).exists():
        raise ProjectError(f"{path} already holds a qda project; open it instead")
    project = open_project(path, create=True)
    if name:
        project.rename(name)
    return project
