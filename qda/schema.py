"""The database schema of a project, its migrations, and the engine set-up.

Table definitions describe the latest schema; a new project is created from them.
`MIGRATIONS` upgrades projects written by earlier releases, one version at a time.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from qda.errors import ProjectError

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
    # v5: left out of every count, base, suggestion and export (withdrawn consent, a
    # placeholder, a pilot), with why, by whom and when; "" = part of the analysis
    sa.Column("excluded_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("excluded_by", sa.String, nullable=False, server_default=""),
    sa.Column("excluded_at", sa.DateTime),
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
    # v6: False for a code that only heads others (REFI-QDA isCodable="false")
    sa.Column("codable", sa.Boolean, nullable=False, server_default=sa.true()),
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

# v3: embedding vectors, keyed by model and text, so only new or edited text is embedded
embedding_cache_t = sa.Table(
    "embedding_cache",
    metadata,
    sa.Column("model", sa.String, primary_key=True),
    sa.Column("text_sha", sa.String, primary_key=True),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, normalised
)

# v4: suggestion runs (topic models, refine hints): what was run, with which model,
# versions, parameters and seed, its progress, and its result
suggestion_runs_t = sa.Table(
    "suggestion_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("phase", sa.String, nullable=False, server_default=""),
    sa.Column("parameters", sa.Text, nullable=False, server_default="{}"),
    sa.Column("result", sa.Text, nullable=False, server_default="{}"),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Column("created_by", sa.String, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
)

# v6: memos: a researcher's notes on a segment, a code or an interview. Every save is a
# new row (the latest is the memo), so no earlier wording is lost.
memos_t = sa.Table(
    "memos",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String, nullable=False),  # "segment", "code" or "interview"
    sa.Column("target", sa.String, nullable=False),  # segment id, code id or interview id
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("by", sa.String, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)
sa.Index("ix_memos_target", memos_t.c.kind, memos_t.c.target)
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


def _migrate_3_embeddings(conn: Connection) -> None:
    """0.3: the embedding cache."""
    embedding_cache_t.create(conn)


def _migrate_4_suggestion_runs(conn: Connection) -> None:
    """0.4: recorded suggestion runs."""
    suggestion_runs_t.create(conn)


def _migrate_5_excluded(conn: Connection) -> None:
    """0.5: interviews excluded from analysis."""
    conn.exec_driver_sql(
        "ALTER TABLE interviews ADD COLUMN excluded_reason TEXT NOT NULL DEFAULT ''"
    )
    conn.exec_driver_sql(
        "ALTER TABLE interviews ADD COLUMN excluded_by VARCHAR NOT NULL DEFAULT ''"
    )
    conn.exec_driver_sql("ALTER TABLE interviews ADD COLUMN excluded_at DATETIME")


def _migrate_6_memos(conn: Connection) -> None:
    """0.6: memos on segments, codes and interviews; codes that are not codable."""
    memos_t.create(conn)
    conn.exec_driver_sql("ALTER TABLE codes ADD COLUMN codable BOOLEAN NOT NULL DEFAULT 1")


# Ordered upgrades: MIGRATIONS[i] brings schema version i + 1 to i + 2 (version 1 is the
# first release). A new project is created at the latest version directly from the
# table definitions above. Never edit a released migration; append a new one, and
# change the table definitions to match.
MIGRATIONS: list[Migration] = [
    _migrate_2_jobs,
    _migrate_3_embeddings,
    _migrate_4_suggestion_runs,
    _migrate_5_excluded,
    _migrate_6_memos,
]
LATEST = len(MIGRATIONS) + 1


def schema_version(conn: Connection) -> int:
    """The schema version a database is at (0 for an empty database)."""
    if not sa.inspect(conn).has_table(meta_table.name):
        return 0
    value = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).scalar_one_or_none()
    if value is None:
        return 0
    if not str(value).strip().isdigit():
        raise ProjectError(
            f"the project's schema version is {value!r:.20}, not a number: this database "
            "was changed by something other than qda; restore it from a backup"
        )
    return int(value)


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


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for a project database. SQLite gets WAL, foreign keys, and writers
    that queue (`BEGIN IMMEDIATE`, 30 s busy timeout) instead of failing. A read-only
    SQLite engine opens the file as it is (`immutable`) and never writes."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    if read_only:
        engine = sa.create_engine(
            f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&immutable=1&uri=true",
            connect_args={"check_same_thread": False},
        )
        sa.event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
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
        cursor.execute("PRAGMA secure_delete=ON")  # deleted text is overwritten, not left
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("qda_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _get_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == key)
    ).scalar_one_or_none()
