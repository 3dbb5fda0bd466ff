"""Project persistence: one SQLite file per project (or any SQLAlchemy URL).

A project is a folder holding `project.sqlite` and `media/` (the recordings). The
schema and migrations are in `qda.schema`; transcript corrections and the job queue
are mixins (`qda.transcript_edits`, `qda.job_queue`). Every write runs in one
transaction (`BEGIN IMMEDIATE` on SQLite, so two writers wait for each other instead
of failing half-way); SQLite runs in WAL mode so readers never block a writer. The
schema carries a version number and is brought up to date when a project is opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from qda.deletions import Deletions
from qda.errors import InvalidInput, NotFound, ProjectError
from qda.job_queue import JobQueue
from qda.media import INCOMING, MEDIA_DIR, recover_media
from qda.models import (
    AttributeType,
    AttributeValue,
    Code,
    CodebookChange,
    CodebookInfo,
    CodeSetRecord,
    Coding,
    CodingOrigin,
    Decision,
    Interview,
    InterviewStatus,
    Memo,
    Participant,
    ProjectSummary,
    Segment,
    SegmentDraft,
    SpeakerRole,
    SuggestionDecision,
)
from qda.schema import (  # noqa: F401 (re-exported: the store's public names)
    DB_FILE,
    LATEST,
    MIGRATIONS,
    WHOLE_SEGMENT,
    _get_meta,
    _now,
    _set_meta,
    attribute_defs_t,
    codebook_changes_t,
    codes_t,
    codings_t,
    current_user,
    decisions_t,
    interviews_t,
    make_engine,
    memos_t,
    meta_table,
    metadata,
    migrate,
    participant_attributes_t,
    participants_t,
    schema_version,
    segment_history_t,
    segments_t,
)
from qda.transcript_edits import TranscriptEdits

# --- the project ---------------------------------------------------------------------


class Project(TranscriptEdits, JobQueue, Deletions):
    """One study: its participants, interviews, codebook and codings.

    Open one with `qda.open_project(path)`; the CLI and the UI both go through this
    class, never through SQL of their own.
    """

    def __init__(self, engine: Engine, root: Path | None = None, *, read_only: bool = False):
        self.engine = engine
        self.root = root
        self.read_only = read_only
        self.read_only_reason = (
            f"the project folder {root} is read-only: nothing was changed. Copy the folder "
            "somewhere you can write, or ask for write access"
        )
        self._local = threading.local()
        if read_only:
            with self._read() as conn:
                if schema_version(conn) != len(MIGRATIONS) + 1:
                    raise ProjectError(
                        f"the project folder {root} is read-only and its project needs an "
                        "upgrade to open in this qda: copy the folder somewhere you can write"
                    )
            return
        with self._read() as conn:  # most opens change nothing: no write, even on a full disk
            tables = set(sa.inspect(conn).get_table_names())
            if tables and meta_table.name not in tables:
                raise ProjectError(
                    f"{engine.url.database or root} holds a database of another program, not a qda "
                    "project: nothing was changed"
                )
            if (
                schema_version(conn) == len(MIGRATIONS) + 1
                and _get_meta(conn, "project_id") is not None
            ):
                return
        with self.transaction() as conn:
            migrate(conn)
            if _get_meta(conn, "project_id") is None:
                _set_meta(conn, "project_id", str(uuid.uuid4()))
                _set_meta(conn, "created_at", _now().isoformat())
                _set_meta(conn, "name", root.name if root else "")

    def __repr__(self) -> str:
        return f"Project({self.root or self.engine.url!s})"

    def check_tables(self) -> None:
        """Refuse a database that misses tables qda made (changed by another program).

        Raises:
            ProjectError: naming the missing tables and how to restore a backup.
        """
        with self._read() as conn:
            there = set(sa.inspect(conn).get_table_names())
        missing = sorted(set(metadata.tables) - there)
        if missing:
            raise ProjectError(
                f"the project database in {self.root or self.engine.url} is damaged: the "
                f"table(s) {', '.join(missing)} are missing; {RESTORE_HINT}"
            )

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
        if self.read_only:
            raise ProjectError(self.read_only_reason)
        with (
            _plain_errors(self),
            self.engine.connect().execution_options(qda_write=True) as conn,
            conn.begin(),
        ):
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
        with _plain_errors(self), self.engine.connect() as conn, conn.begin():
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

    def revision(self) -> str:
        """A cheap fingerprint of what analyses read: it changes whenever a segment, a
        code, a coding, a suggestion decision or an exclusion changes (so a page can keep
        a result until then). Read in one transaction: a consistent snapshot."""
        with self._read() as conn:

            def stats(column: sa.Column, *more) -> tuple:
                query = sa.select(sa.func.count(), sa.func.max(column), *more)
                return tuple(conn.execute(query).one())

            state = (
                stats(codings_t.c.id, sa.func.sum(codings_t.c.span_end - codings_t.c.span_start)),
                stats(decisions_t.c.decided_at),
                stats(segments_t.c.id, sa.func.max(segments_t.c.edited_at)),
                stats(segment_history_t.c.id),
                stats(codebook_changes_t.c.id),
                [
                    tuple(r)
                    for r in conn.execute(
                        sa.select(interviews_t.c.id, interviews_t.c.excluded_reason).order_by(
                            interviews_t.c.id
                        )
                    )
                ],
            )
        return hashlib.sha256(repr(state).encode()).hexdigest()[:16]

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
                interview_id = next_interview_id(participant_id, taken)
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

    def exclude_interview(self, interview_id: str, reason: str = "", *, by: str) -> Interview:
        """Leave an interview out of every count, base, suggestion and export (withdrawn
        consent, a placeholder, a pilot). Its transcript and codings are kept, so
        `include_interview` brings it back as it was."""
        reason = " ".join(reason.split()) or "excluded from analysis"
        with self.transaction() as conn:
            self.interview(interview_id)
            conn.execute(
                sa.update(interviews_t)
                .where(interviews_t.c.id == interview_id)
                .values(excluded_reason=reason, excluded_by=by, excluded_at=_now())
            )
        return self.interview(interview_id)

    def include_interview(self, interview_id: str, *, by: str) -> Interview:
        """Bring an excluded interview back into the analysis."""
        with self.transaction() as conn:
            self.interview(interview_id)
            conn.execute(
                sa.update(interviews_t)
                .where(interviews_t.c.id == interview_id)
                .values(excluded_reason="", excluded_by="", excluded_at=None)
            )
        return self.interview(interview_id)

    @property
    def interviewer_names(self) -> list[str]:
        """The study's interviewers, by name: found first when a transcript's speaker
        roles are set on import."""
        with self._read() as conn:
            return json.loads(_get_meta(conn, "interviewers") or "[]")

    def set_interviewer_names(self, names: Sequence[str]) -> list[str]:
        cleaned = list(dict.fromkeys(" ".join(n.split()) for n in names if n.strip()))
        with self.transaction() as conn:
            _set_meta(conn, "interviewers", json.dumps(cleaned, ensure_ascii=False))
        return cleaned

    @property
    def topic_stop_words(self) -> list[str]:
        """The study's own words to keep out of topic key words and names (besides the
        built-in stop words, fillers and the names of people in the study)."""
        with self._read() as conn:
            return json.loads(_get_meta(conn, "topic_stop_words") or "[]")

    def set_topic_stop_words(self, words: Sequence[str]) -> list[str]:
        cleaned = list(dict.fromkeys(w.strip().lower() for w in words if w.strip()))
        with self.transaction() as conn:
            _set_meta(conn, "topic_stop_words", json.dumps(cleaned, ensure_ascii=False))
        return cleaned

    @property
    def embedding_model(self) -> str:
        """The embedding model of this study's suggestions and topics (the page and the
        CLI start with it; a large study may choose the fast static model once)."""
        from qda.suggest.embed import DEFAULT_EMBEDDER

        with self._read() as conn:
            return _get_meta(conn, "embedding_model") or DEFAULT_EMBEDDER

    def set_embedding_model(self, name: str) -> str:
        from qda.suggest.embed import EMBEDDERS

        if name not in EMBEDDERS:
            raise InvalidInput(f"unknown embedding model '{name}' (known: {', '.join(EMBEDDERS)})")
        with self.transaction() as conn:
            _set_meta(conn, "embedding_model", name)
        return name

    def media_path(self, interview: Interview) -> Path | None:
        """The stored recording of an interview, if there is one."""
        if not interview.media_file or self.root is None:
            return None
        return self.root / interview.media_file

    def segments(
        self, interview_id: str | None = None, *, analysed_only: bool = False
    ) -> list[Segment]:
        """Segments of one interview in order, or of all interviews.

        Args:
            analysed_only: leave out the segments of excluded interviews (what
                suggestions and analyses go over).
        """
        query = sa.select(segments_t).order_by(segments_t.c.interview_id, segments_t.c.idx)
        if interview_id is not None:
            query = query.where(segments_t.c.interview_id == interview_id)
        if analysed_only:
            query = query.where(
                segments_t.c.interview_id.in_(
                    sa.select(interviews_t.c.id).where(interviews_t.c.excluded_reason == "")
                )
            )
        with self._read() as conn:
            return [_segment(r) for r in conn.execute(query)]

    def segment_counts(self) -> dict[str, int]:
        """Segments per interview (interviews without segments are left out)."""
        query = sa.select(segments_t.c.interview_id, sa.func.count()).group_by(
            segments_t.c.interview_id
        )
        with self._read() as conn:
            return dict(conn.execute(query).all())

    def segment_frame(self):
        """All segments as one pandas table, without their text (for analysis of large
        studies: no row objects). `words` counts the words of each segment's text;
        `excluded` says the interview is left out of the analysis."""
        text = sa.func.trim(sa.func.replace(segments_t.c.text, "\n", " "))
        words = sa.case(
            (text == "", 0),
            else_=sa.func.length(text) - sa.func.length(sa.func.replace(text, " ", "")) + 1,
        )
        query = sa.select(
            segments_t.c.id.label("segment_id"),
            segments_t.c.interview_id.label("interview"),
            segments_t.c.idx.label("index"),
            segments_t.c.role,
            segments_t.c.start_s.label("start"),
            segments_t.c.speaker,
            words.label("words"),
            interviews_t.c.participant_id.label("participant"),
            interviews_t.c.language,
            (interviews_t.c.excluded_reason != "").label("excluded"),
        ).join(interviews_t, interviews_t.c.id == segments_t.c.interview_id)
        return _frame(self, query, list(query.selected_columns.keys()))

    def segment_texts(self, segment_ids) -> dict[int, str]:
        """The text of the given segments."""
        ids = [int(i) for i in segment_ids]
        out: dict[int, str] = {}
        with self._read() as conn:
            for chunk in range(0, len(ids), 900):
                query = sa.select(segments_t.c.id, segments_t.c.text).where(
                    segments_t.c.id.in_(ids[chunk : chunk + 900])
                )
                out.update(dict(conn.execute(query).all()))
        return out

    def coding_frame(self):
        """All codings as one pandas table: segment_id, code_id, coder, and the coded
        span (span_start, span_end; 0, -1 for the whole segment)."""
        columns = ["segment_id", "code_id", "coder", "span_start", "span_end"]
        query = sa.select(*(codings_t.c[name] for name in columns))
        return _frame(self, query, columns)

    def segment(self, segment_id: int) -> Segment:
        with self._read() as conn:
            row = conn.execute(
                sa.select(segments_t).where(segments_t.c.id == segment_id)
            ).one_or_none()
        if row is None:
            raise NotFound(f"no segment {segment_id} in this project")
        return _segment(row)

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
            values = _code_row(code)
            exists = conn.execute(
                sa.select(codes_t.c.id).where(codes_t.c.id == code.id)
            ).scalar_one_or_none()
            if exists:
                conn.execute(sa.update(codes_t).where(codes_t.c.id == code.id).values(**values))
            else:
                conn.execute(sa.insert(codes_t).values(id=code.id, **values))
            self.log_codebook_change(action or ("edit" if exists else "add"), name, by=by)
        return self.code(code.id)

    def save_codes(self, codes: Sequence[Code], *, by: str, action: str) -> int:
        """Add or update many codes in one transaction (a codebook import): the same
        checks as `save_code`, made once over the codebook as it will be, and one
        changelog entry a code. Returns how many codes were saved.

        Raises:
            InvalidInput: a code without a name, with '/' in it, under itself, or beside
                a sibling of the same name; nothing is saved.
        """
        with self.transaction() as conn:
            final = {
                r.id: (r.name, r.parent_id)
                for r in conn.execute(sa.select(codes_t.c.id, codes_t.c.name, codes_t.c.parent_id))
            }
            existing = set(final)
            for code in codes:
                name = code.name.strip()
                if not name:
                    raise InvalidInput("a code needs a name", column="name")
                if "/" in name:
                    raise InvalidInput(f"code name '{name}' contains '/', which separates paths")
                final[code.id] = (name, code.parent_id)
            places: dict[tuple[str | None, str], str] = {}
            for code_id, (name, parent_id) in final.items():
                other = places.setdefault((parent_id, name), code_id)
                if other != code_id:
                    raise InvalidInput(f"a code named '{name}' already exists at that place")
            for code in codes:
                ancestor, steps = code.parent_id, 0
                while ancestor is not None and steps <= len(final):
                    if ancestor == code.id:
                        raise InvalidInput(
                            f"'{code.name}' cannot be placed under itself or its own child"
                        )
                    ancestor, steps = final.get(ancestor, ("", None))[1], steps + 1
            rows = [{"id": code.id, **_code_row(code)} for code in codes]
            new = [r for r in rows if r["id"] not in existing]
            changed = [{**r, "code_id": r["id"]} for r in rows if r["id"] in existing]
            if new:
                conn.execute(sa.insert(codes_t), new)
            if changed:
                columns = {k: sa.bindparam(k) for k in rows[0] if k != "id"}
                conn.execute(
                    sa.update(codes_t)
                    .where(codes_t.c.id == sa.bindparam("code_id"))
                    .values(**columns),
                    changed,
                )
            if rows:
                now = _now()
                conn.execute(
                    sa.insert(codebook_changes_t),
                    [{"at": now, "by": by, "action": action, "detail": r["name"]} for r in rows],
                )
        return len(rows)

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

    @property
    def codebook_sets(self) -> list[CodeSetRecord]:
        """Code groups (REFI-QDA sets): (name, id, description, member code ids)."""
        with self._read() as conn:
            raw = _get_meta(conn, "codebook_sets")
        return [CodeSetRecord(**s) for s in json.loads(raw)] if raw else []

    def set_codebook_sets(self, sets: Sequence[CodeSetRecord]) -> None:
        known = {c.id for c in self.codes}
        with self.transaction() as conn:
            _set_meta(
                conn,
                "codebook_sets",
                json.dumps(
                    [
                        {
                            "name": s.name,
                            "id": s.id,
                            "description": s.description,
                            "members": [m for m in s.members if m in known],
                        }
                        for s in sets
                    ],
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
            code = self.code(code_id)
            if not code.codable:
                raise InvalidInput(
                    f"'{code.name}' is not codable (it heads other codes): apply one of its "
                    "codes, or make it codable on the Codebook page"
                )
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

    def add_codings(self, codings: Sequence[tuple[int, str, str]], *, origin: CodingOrigin) -> int:
        """Apply many (segment id, code id, coder) codings to whole segments in one
        transaction; those already there are not added again. The caller has checked
        that segments and codes exist and that the codes are codable.

        Returns:
            How many codings were new.
        """
        with self.transaction() as conn:
            there = {
                (r.segment_id, r.code_id, r.coder)
                for r in conn.execute(
                    sa.select(codings_t.c.segment_id, codings_t.c.code_id, codings_t.c.coder).where(
                        (codings_t.c.span_start == WHOLE_SEGMENT[0])
                        & (codings_t.c.span_end == WHOLE_SEGMENT[1])
                    )
                )
            }
            now = _now()
            new = []
            for key in codings:
                if key in there:
                    continue
                there.add(key)
                segment_id, code_id, coder = key
                new.append(
                    {
                        "segment_id": segment_id,
                        "code_id": code_id,
                        "coder": coder,
                        "origin": origin,
                        "created_at": now,
                        "span_start": WHOLE_SEGMENT[0],
                        "span_end": WHOLE_SEGMENT[1],
                    }
                )
            if new:
                conn.execute(sa.insert(codings_t), new)
        return len(new)

    def remove_coding(self, coding_id: int) -> Coding:
        """Remove a coding; returns it, so that `restore_coding` can put it back."""
        with self.transaction() as conn:
            row = conn.execute(
                sa.select(codings_t).where(codings_t.c.id == coding_id)
            ).one_or_none()
            if row is None:
                raise NotFound(f"no coding {coding_id} in this project")
            conn.execute(sa.delete(codings_t).where(codings_t.c.id == coding_id))
        return _coding(row)

    def restore_coding(self, coding: Coding) -> Coding:
        """Put back a removed coding as it was (coder, origin, span, time)."""
        with self.transaction() as conn:
            self.segment(coding.segment_id)
            self.code(coding.code_id)
            start, end = coding.span or WHOLE_SEGMENT
            values = {
                "segment_id": coding.segment_id,
                "code_id": coding.code_id,
                "coder": coding.coder,
                "origin": coding.origin,
                "created_at": coding.created_at or _now(),
                "span_start": start,
                "span_end": end,
            }
            conn.execute(
                sa.insert(codings_t).values(**values).prefix_with("OR IGNORE", dialect="sqlite")
            )
        return next(
            c for c in self.codings() if (c.segment_id, c.code_id, c.coder, c.span) ==
            (coding.segment_id, coding.code_id, coding.coder, coding.span)
        )  # fmt: skip

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

    # --- memos

    MEMO_KINDS = ("segment", "code", "interview")

    def memo(self, kind: str, target: str | int) -> str:
        """The memo on a segment, a code or an interview ("" when none)."""
        history = self.memo_history(kind, target)
        return history[-1].text if history else ""

    def memo_history(self, kind: str, target: str | int) -> list[Memo]:
        """Every saved wording of a memo, oldest first."""
        if kind not in self.MEMO_KINDS:
            raise InvalidInput(f"a memo is on a {', a '.join(self.MEMO_KINDS)}, not a '{kind}'")
        with self._read() as conn:
            rows = conn.execute(
                sa.select(memos_t)
                .where((memos_t.c.kind == kind) & (memos_t.c.target == str(target)))
                .order_by(memos_t.c.id)
            )
            return [Memo(r.kind, r.target, r.text, r.by, r.at) for r in rows]

    def memos(self, kind: str | None = None) -> list[Memo]:
        """The current memo of every target that has one (of one kind, or all)."""
        with self._read() as conn:
            query = sa.select(memos_t).order_by(memos_t.c.id)
            if kind is not None:
                query = query.where(memos_t.c.kind == kind)
            latest = {(r.kind, r.target): r for r in conn.execute(query)}
        return [Memo(r.kind, r.target, r.text, r.by, r.at) for r in latest.values() if r.text]

    def set_memo(self, kind: str, target: str | int, text: str, *, by: str) -> Memo:
        """Save a memo (an empty text clears it; earlier wordings stay in its history)."""
        if kind not in self.MEMO_KINDS:
            raise InvalidInput(f"a memo is on a {', a '.join(self.MEMO_KINDS)}, not a '{kind}'")
        text = text.strip()
        with self.transaction() as conn:
            if kind == "segment":
                self.segment(int(target))
            elif kind == "code":
                self.code(str(target))
            else:
                self.interview(str(target))
            history = self.memo_history(kind, target)
            if (history and history[-1].text == text) or not (history or text):
                return history[-1] if history else Memo(kind, str(target), "", by)
            memo = Memo(kind, str(target), text, by, _now())
            conn.execute(
                sa.insert(memos_t).values(
                    kind=kind, target=memo.target, text=text, by=by, at=memo.at
                )
            )
        return memo

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

    def undo_decision(self, segment_id: int, code_id: str, *, by: str) -> None:
        """Take back an accept or reject: the decision goes, and an accepted
        suggestion's coding (coded by `by` from the suggestion) goes with it."""
        with self.transaction() as conn:
            key = (decisions_t.c.segment_id == segment_id) & (decisions_t.c.code_id == code_id)
            row = conn.execute(sa.select(decisions_t).where(key)).one_or_none()
            if row is None:
                raise NotFound(f"no decision on code {code_id} for segment {segment_id}")
            conn.execute(sa.delete(decisions_t).where(key))
            if row.decision == Decision.ACCEPTED:
                conn.execute(
                    sa.delete(codings_t).where(
                        (codings_t.c.segment_id == segment_id)
                        & (codings_t.c.code_id == code_id)
                        & (codings_t.c.coder == by)
                        & (codings_t.c.origin == CodingOrigin.SUGGESTION)
                    )
                )

    def suggestion_decisions(self) -> list[SuggestionDecision]:
        with self._read() as conn:
            return [
                SuggestionDecision(
                    r.segment_id, r.code_id, Decision(r.decision), r.decided_by, r.decided_at
                )
                for r in conn.execute(sa.select(decisions_t))
            ]


# --- row conversion ------------------------------------------------------------------


def next_interview_id(participant_id: str, taken: set[str]) -> str:
    """A participant's next interview id: "P01", then "P01-2", "P01-3"…"""
    interview_id, n = participant_id, 1
    while interview_id in taken:
        n += 1
        interview_id = f"{participant_id}-{n}"
    return interview_id


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
        excluded_reason=r.excluded_reason,
        excluded_by=r.excluded_by,
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


def _code_row(code: Code) -> dict[str, object]:
    """The column values of a code (all but its id)."""
    return {
        "name": code.name.strip(),
        "parent_id": code.parent_id,
        "definition": code.definition,
        "include_text": code.include,
        "exclude_text": code.exclude,
        "examples": json.dumps(list(code.examples), ensure_ascii=False),
        "colour": code.colour,
        "position": code.position,
        "codable": code.codable,
    }


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
        codable=bool(r.codable),
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

RESTORE_HINT = (
    "restore the last good copy with `qda restore BACKUP FOLDER` (backups are kept in the "
    "project's backups/ folder and wherever `qda backup` wrote them)"
)


@contextlib.contextmanager
def _plain_errors(project: Project) -> Iterator[None]:
    """What the database says when the disk is full, the folder cannot be written or
    the file is damaged, as a message that says what to do (the change was rolled back)."""
    try:
        yield
    except sa.exc.DatabaseError as e:
        text = str(e.orig or e).lower()
        where = project.root or project.engine.url
        if "disk is full" in text or "disk i/o error" in text:
            raise ProjectError(
                f"the disk holding {where} is full (or failing): this change was not saved "
                "and the project is as it was; free some space and try again"
            ) from None
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            raise ProjectError(
                f"the project folder {where} cannot be written (read-only, or its permissions): "
                "this change was not saved; copy the folder somewhere you can write"
            ) from None
        if (
            "no such table" in text
            or "no such column" in text
            or "malformed" in text
            or ("not a database" in text)
        ):
            raise ProjectError(
                f"the project database in {where} is damaged ({e.orig}): {RESTORE_HINT}"
            ) from None
        raise


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
    elif not db.is_file():
        raise ProjectError(
            f"{db} is not a qda project: it is a folder, not a database file; {RESTORE_HINT}"
        )
    else:
        with db.open("rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise ProjectError(
                    f"{db} is not a qda project (not an SQLite database): if it was one, it "
                    f"is damaged; {RESTORE_HINT}"
                )
        _refuse_foreign_database(db)
    read_only = db.exists() and not (os.access(root, os.W_OK) and os.access(db, os.W_OK))
    try:
        try:
            project = Project(
                make_engine(f"sqlite:///{db}", read_only=read_only), root, read_only=read_only
            )
        except ProjectError as e:
            if read_only or "is full" not in str(e):
                raise
            read_only = True  # a full disk: the project can still be read
            project = Project(make_engine(f"sqlite:///{db}", read_only=True), root, read_only=True)
            project.read_only_reason = str(e)
        project.check_tables()
    except sa.exc.DatabaseError as e:
        raise ProjectError(
            f"{db} could not be opened as a qda project ({e.orig}): {RESTORE_HINT}"
        ) from e
    if read_only:
        return project
    if (root / MEDIA_DIR / INCOMING).is_dir():  # an import of recordings was cut short
        recover_media(root, {i.media_file for i in project.interviews if i.media_file})
    return project


def _refuse_foreign_database(db: Path) -> None:
    """Refuse, without touching it, an SQLite file of another program."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
    except sqlite3.OperationalError:  # cannot be read this way (a read-only WAL): see below
        return
    except sqlite3.DatabaseError as e:
        raise ProjectError(
            f"{db} could not be opened as a qda project ({e}): {RESTORE_HINT}"
        ) from None
    if tables and meta_table.name not in tables:
        raise ProjectError(
            f"{db} holds a database of another program, not a qda project: nothing was changed"
        )


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


def _frame(project: Project, query: sa.Select, columns: list[str]):
    """A query's rows as a pandas DataFrame, read through the driver's own cursor
    (several times faster than row objects for the 100,000s of codings of a study)."""
    import pandas as pd

    with project._read() as conn:
        compiled = query.compile(dialect=conn.dialect)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(
                str(compiled),
                (compiled.positiontup and [compiled.params[k] for k in compiled.positiontup]) or (),
            )
            rows = cursor.fetchall()
        finally:
            cursor.close()
    return pd.DataFrame.from_records(rows, columns=columns)
