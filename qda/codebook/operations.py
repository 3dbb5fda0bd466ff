"""Codebook operations on a project: each one transactional, each one in the change log.

add, rename, edit, move, merge, split, delete. Merging moves the merged code's codings
to the target without counting a segment twice; splitting reassigns codings as the
researcher chooses; deleting a code that has codings is refused unless the researcher
says where they go (or that they are to be dropped).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace

import sqlalchemy as sa

from qda.codebook import Codebook, CodeNode, CodeSet
from qda.errors import InvalidInput
from qda.models import Code
from qda.schema import codes_t, codings_t, decisions_t, segments_t
from qda.store import Project


def codebook_of(project: Project) -> Codebook:
    """The project's codebook as a file-side `Codebook` (for export and diff)."""
    codes = project.codes
    children: dict[str | None, list[Code]] = {}
    for c in codes:
        children.setdefault(c.parent_id, []).append(c)

    def node(code: Code) -> CodeNode:
        return CodeNode(
            name=code.name,
            id=code.id,
            definition=code.definition,
            include=code.include,
            exclude=code.exclude,
            examples=code.examples,
            colour=code.colour,
            children=tuple(node(c) for c in children.get(code.id, [])),
            codable=code.codable,
        )

    return Codebook(
        info=project.codebook_info,
        codes=tuple(node(c) for c in children.get(None, [])),
        changelog=tuple(project.codebook_changes),
        sets=tuple(
            CodeSet(s.name, s.id, s.description, tuple(s.members)) for s in project.codebook_sets
        ),
    )


def _descendants(project: Project, code_id: str) -> set[str]:
    found: set[str] = set()
    frontier = [code_id]
    codes = project.codes
    while frontier:
        current = frontier.pop()
        for c in codes:
            if c.parent_id == current and c.id not in found:
                found.add(c.id)
                frontier.append(c.id)
    return found


def rename_code(project: Project, code_id: str, name: str, *, by: str) -> Code:
    code = project.code(code_id)
    renamed = project.save_code(replace(code, name=name), by=by, action="rename")
    project.log_codebook_change("rename", f"{code.name} → {renamed.name}", by=by)
    return renamed


def edit_code(project: Project, code_id: str, *, by: str, **fields: object) -> Code:
    """Change a code's definition, include, exclude, examples, colour or codable."""
    allowed = {"definition", "include", "exclude", "examples", "colour", "codable"}
    if set(fields) - allowed:
        raise InvalidInput(f"cannot edit {', '.join(sorted(set(fields) - allowed))}")
    if "examples" in fields:
        fields["examples"] = tuple(fields["examples"])
    return project.save_code(replace(project.code(code_id), **fields), by=by, action="edit")


def move_code(project: Project, code_id: str, new_parent: str | None, *, by: str) -> Code:
    """Put a code (with its children) under another parent, or at the top level."""
    with project.transaction():
        code = project.code(code_id)
        position = sum(1 for c in project.codes if c.parent_id == new_parent and c.id != code_id)
        moved = project.save_code(
            replace(code, parent_id=new_parent, position=position), by=by, action="move"
        )
        where = project.code(new_parent).name if new_parent else "the top level"
        project.log_codebook_change("move", f"{code.name} → under {where}", by=by)
    return moved


@dataclass(frozen=True)
class MergeRecord:
    """What a merge changed, so that `undo_merge` can put it back as it was."""

    source: Code
    target: Code
    codings: tuple[dict, ...]  # the source's coding rows before the merge
    decisions: tuple[dict, ...]  # the source's suggestion decisions
    children: tuple[str, ...]  # ids of the codes that were directly under the source


def merge_record(project: Project, source_id: str, target_id: str) -> MergeRecord:
    """The state a merge of `source_id` into `target_id` will change (take it first)."""
    with project.transaction() as conn:
        return MergeRecord(
            project.code(source_id),
            project.code(target_id),
            tuple(
                dict(r._mapping)
                for r in conn.execute(sa.select(codings_t).where(codings_t.c.code_id == source_id))
            ),
            tuple(
                dict(r._mapping)
                for r in conn.execute(
                    sa.select(decisions_t).where(decisions_t.c.code_id == source_id)
                )
            ),
            tuple(
                conn.execute(
                    sa.select(codes_t.c.id).where(codes_t.c.parent_id == source_id)
                ).scalars()
            ),
        )


def undo_merge(project: Project, record: MergeRecord, *, by: str) -> Code:
    """Take a merge back: the merged code returns with its own codings, decisions,
    children and the target's examples as they were; codings made on the target since
    stay there."""
    with project.transaction() as conn:
        if conn.execute(sa.select(codes_t.c.id).where(codes_t.c.id == record.source.id)).first():
            raise InvalidInput(f"'{record.source.name}' is in the codebook already")
        project.code(record.target.id)
        project.save_code(record.source, by=by, action="undo merge")
        target = project.code(record.target.id)
        project.save_code(
            replace(target, examples=record.target.examples), by=by, action="undo merge"
        )

        def segment_exists(segment_id: int) -> bool:
            query = sa.select(segments_t.c.id).where(segments_t.c.id == segment_id)
            return conn.execute(query).first() is not None

        for row in record.codings:
            conn.execute(
                sa.delete(codings_t).where(
                    (codings_t.c.id == row["id"]) & (codings_t.c.code_id == record.target.id)
                )
            )  # moved by the merge: it goes back (one deleted as a duplicate comes back too)
            if segment_exists(row["segment_id"]):
                conn.execute(
                    sa.insert(codings_t).values(**row).prefix_with("OR IGNORE", dialect="sqlite")
                )
        for row in record.decisions:
            on_target = (decisions_t.c.segment_id == row["segment_id"]) & (
                decisions_t.c.code_id == record.target.id
            )
            moved = conn.execute(sa.select(decisions_t).where(on_target)).first()
            if moved is not None and moved.decided_at == row["decided_at"]:
                conn.execute(sa.delete(decisions_t).where(on_target))
            if segment_exists(row["segment_id"]):
                conn.execute(
                    sa.insert(decisions_t).values(**row).prefix_with("OR IGNORE", dialect="sqlite")
                )
        if record.children:
            conn.execute(
                sa.update(codes_t)
                .where(
                    codes_t.c.id.in_(record.children) & (codes_t.c.parent_id == record.target.id)
                )
                .values(parent_id=record.source.id)
            )
        project.log_codebook_change(
            "undo merge", f"{record.source.name} taken back out of {record.target.name}", by=by
        )
    return project.code(record.source.id)


def merge_codes(project: Project, source_id: str, target_id: str, *, by: str) -> int:
    """Merge `source` into `target`: its codings, children and decisions move to the
    target; a segment coded with both (by the same coder) keeps one coding.

    Returns:
        The number of codings moved.
    """
    if source_id == target_id:
        raise InvalidInput("a code cannot be merged into itself")
    with project.transaction() as conn:
        source, target = project.code(source_id), project.code(target_id)
        if target_id in _descendants(project, source_id):
            raise InvalidInput(f"'{target.name}' is inside '{source.name}': move it out first")
        moved = 0
        existing = {
            (r.segment_id, r.coder, r.span_start, r.span_end)
            for r in conn.execute(sa.select(codings_t).where(codings_t.c.code_id == target_id))
        }
        for r in list(conn.execute(sa.select(codings_t).where(codings_t.c.code_id == source_id))):
            key = (r.segment_id, r.coder, r.span_start, r.span_end)
            if key in existing:
                conn.execute(sa.delete(codings_t).where(codings_t.c.id == r.id))
            else:
                conn.execute(
                    sa.update(codings_t).where(codings_t.c.id == r.id).values(code_id=target_id)
                )
                existing.add(key)
                moved += 1
        decided = set(
            conn.execute(
                sa.select(decisions_t.c.segment_id).where(decisions_t.c.code_id == target_id)
            ).scalars()
        )
        conn.execute(
            sa.delete(decisions_t).where(
                (decisions_t.c.code_id == source_id) & decisions_t.c.segment_id.in_(decided)
            )
        )
        conn.execute(
            sa.update(decisions_t)
            .where(decisions_t.c.code_id == source_id)
            .values(code_id=target_id)
        )
        conn.execute(
            sa.update(codes_t).where(codes_t.c.parent_id == source_id).values(parent_id=target_id)
        )
        examples = tuple(dict.fromkeys(target.examples + source.examples))
        if examples != target.examples:
            project.save_code(replace(target, examples=examples), by=by, action="merge")
        conn.execute(sa.delete(codes_t).where(codes_t.c.id == source_id))
        project.log_codebook_change(
            "merge", f"{source.name} → {target.name} ({moved} codings moved)", by=by
        )
    return moved


def split_code(
    project: Project,
    code_id: str,
    new_names: list[str],
    *,
    by: str,
    assign: Mapping[int, str] | None = None,
) -> list[Code]:
    """Split a code into new child codes. Its codings go where `assign` says
    (coding id → new code name); the others stay on the code itself, which becomes
    their theme.

    Returns:
        The new codes.
    """
    names = [n.strip() for n in new_names if n.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise InvalidInput("a split needs at least two new, different names")
    with project.transaction() as conn:
        code = project.code(code_id)
        created = {
            name: project.save_code(
                Code(id=str(uuid.uuid4()), name=name, parent_id=code_id, position=i),
                by=by,
                action="split",
            )
            for i, name in enumerate(names)
        }
        for coding_id, name in (assign or {}).items():
            if name not in created:
                raise InvalidInput(f"'{name}' is not one of the new codes")
            row = conn.execute(
                sa.select(codings_t).where(codings_t.c.id == coding_id)
            ).one_or_none()
            if row is None or row.code_id != code_id:
                raise InvalidInput(f"coding {coding_id} is not a coding of '{code.name}'")
            conn.execute(
                sa.update(codings_t)
                .where(codings_t.c.id == coding_id)
                .values(code_id=created[name].id)
            )
        project.log_codebook_change("split", f"{code.name} → {', '.join(names)}", by=by)
    return list(created.values())


def delete_code(
    project: Project,
    code_id: str,
    *,
    by: str,
    move_codings_to: str | None = None,
    drop_codings: bool = False,
) -> None:
    """Delete a code and its children. Refused when they have codings, unless those are
    moved to another code or explicitly dropped."""
    with project.transaction() as conn:
        code = project.code(code_id)
        doomed = {code_id} | _descendants(project, code_id)
        count = conn.execute(
            sa.select(sa.func.count()).select_from(codings_t).where(codings_t.c.code_id.in_(doomed))
        ).scalar_one()
        if count and move_codings_to is None and not drop_codings:
            raise InvalidInput(
                f"'{code.name}' has {count} codings: move them to another code (or merge "
                "it into one), or confirm that they are to be deleted"
            )
        if move_codings_to is not None:
            if move_codings_to in doomed:
                raise InvalidInput("codings cannot move to a code that is being deleted")
            for r in list(
                conn.execute(sa.select(codings_t).where(codings_t.c.code_id.in_(doomed)))
            ):
                clash = conn.execute(
                    sa.select(codings_t.c.id).where(
                        (codings_t.c.code_id == move_codings_to)
                        & (codings_t.c.segment_id == r.segment_id)
                        & (codings_t.c.coder == r.coder)
                        & (codings_t.c.span_start == r.span_start)
                        & (codings_t.c.span_end == r.span_end)
                    )
                ).first()
                if clash:
                    conn.execute(sa.delete(codings_t).where(codings_t.c.id == r.id))
                else:
                    conn.execute(
                        sa.update(codings_t)
                        .where(codings_t.c.id == r.id)
                        .values(code_id=move_codings_to)
                    )
        conn.execute(sa.delete(codings_t).where(codings_t.c.code_id.in_(doomed)))
        conn.execute(sa.delete(decisions_t).where(decisions_t.c.code_id.in_(doomed)))
        # children before parents (foreign keys)
        remaining = set(doomed)
        while remaining:
            leaves = {
                c
                for c in remaining
                if not conn.execute(sa.select(codes_t.c.id).where(codes_t.c.parent_id == c)).first()
            }
            conn.execute(sa.delete(codes_t).where(codes_t.c.id.in_(leaves)))
            remaining -= leaves
        what = f"{count} codings moved" if move_codings_to else f"{count} codings deleted"
        project.log_codebook_change("delete", f"{code.name} ({what})", by=by)
