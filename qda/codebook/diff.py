"""Compare codebooks by GUID, and merge a colleague's codebook into a project.

`diff_codebooks(a, b)` lists what changed from a to b: codes added, removed, renamed,
moved, and fields changed (definition, include, exclude, examples, colour).

`plan_merge(project, theirs)` lists the same for the project's codebook against a
file. New codes are taken as they come; every change to a code the project already
has is a *decision*, which `apply_merge` applies only when the researcher took it:
nothing is resolved silently. Codes missing from the file stay in the project.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from enum import StrEnum

from qda.codebook import Codebook, CodeNode, stable_code_id
from qda.codebook.operations import codebook_of, move_code
from qda.errors import InvalidInput
from qda.models import Code
from qda.store import Project

FIELDS = ("definition", "include", "exclude", "examples", "colour")


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    MOVED = "moved"
    CHANGED = "changed"


@dataclass(frozen=True)
class CodeChange:
    """One difference between two codebooks."""

    kind: ChangeKind
    code_id: str
    path: str  # where the code is in the second codebook (first, if removed)
    field: str = ""  # for CHANGED
    old: str = ""
    new: str = ""

    @property
    def key(self) -> str:
        """Stable name of this change, to accept it in a merge."""
        return f"{self.kind}:{self.code_id}:{self.field}"

    def __str__(self) -> str:
        if self.kind is ChangeKind.ADDED:
            return f"added {self.path}"
        if self.kind is ChangeKind.REMOVED:
            return f"removed {self.path}"
        if self.kind is ChangeKind.RENAMED:
            return f"renamed {self.old} → {self.new}"
        if self.kind is ChangeKind.MOVED:
            name = self.path.rsplit("/", 1)[-1]
            return f"moved {name}: {self.old or '(top)'} → {self.new or '(top)'}"
        return f"{self.path}: {self.field} changed"


@dataclass(frozen=True)
class _Entry:
    node: CodeNode
    path: str
    parent: str | None


def _index(codebook: Codebook) -> dict[str, _Entry]:
    out: dict[str, _Entry] = {}

    def visit(nodes: tuple[CodeNode, ...], prefix: str, parent: str | None) -> None:
        for node in nodes:
            path = f"{prefix}{node.name}"
            key = (node.id or stable_code_id(path)).strip("{}").lower()
            out[key] = _Entry(node, path, parent)
            visit(node.children, f"{path}/", key)

    visit(codebook.codes, "", None)
    return out


def _text(value: object) -> str:
    return "\n".join(value) if isinstance(value, tuple) else str(value)


def diff_codebooks(a: Codebook, b: Codebook) -> list[CodeChange]:
    """What changed from `a` to `b`, matching codes by GUID."""
    left, right = _index(a), _index(b)
    changes: list[CodeChange] = []
    for key, entry in right.items():
        if key not in left:
            changes.append(CodeChange(ChangeKind.ADDED, key, entry.path))
            continue
        before = left[key]
        if before.node.name != entry.node.name:
            changes.append(
                CodeChange(
                    ChangeKind.RENAMED, key, entry.path, old=before.node.name, new=entry.node.name
                )
            )
        if before.parent != entry.parent:
            old_parent = left[before.parent].path if before.parent in left else ""
            new_parent = right[entry.parent].path if entry.parent else ""
            changes.append(
                CodeChange(ChangeKind.MOVED, key, entry.path, old=old_parent, new=new_parent)
            )
        for field in FIELDS:
            old, new = getattr(before.node, field), getattr(entry.node, field)
            if field == "colour":
                old, new = old.upper(), new.upper()
            if old != new:
                changes.append(
                    CodeChange(ChangeKind.CHANGED, key, entry.path, field, _text(old), _text(new))
                )
    for key, entry in left.items():
        if key not in right:
            changes.append(CodeChange(ChangeKind.REMOVED, key, entry.path))
    return changes


def plan_merge(project: Project, theirs: Codebook) -> tuple[list[CodeChange], list[CodeChange]]:
    """(additions, decisions) for merging `theirs` into the project's codebook."""
    changes = [
        c for c in diff_codebooks(codebook_of(project), theirs) if c.kind is not ChangeKind.REMOVED
    ]
    additions = [c for c in changes if c.kind is ChangeKind.ADDED]
    decisions = [c for c in changes if c.kind is not ChangeKind.ADDED]
    return additions, decisions


def apply_merge(
    project: Project, theirs: Codebook, *, take: Collection[str], by: str, source: str = ""
) -> tuple[int, int]:
    """Merge: add their new codes, and apply the decisions whose key is in `take`
    (the others keep the project's version).

    Returns:
        (codes added, changes taken).
    """
    additions, decisions = plan_merge(project, theirs)
    unknown = set(take) - {d.key for d in decisions}
    if unknown:
        raise InvalidInput(f"no such change to take: {', '.join(sorted(unknown))}")
    entries = _index(theirs)
    taken = 0
    with project.transaction():
        for change in additions:  # parents come before children in the diff
            entry = entries[change.code_id]
            parent = entry.parent
            siblings = sum(1 for c in project.codes if c.parent_id == parent)
            project.save_code(
                Code(
                    id=change.code_id,
                    name=entry.node.name,
                    parent_id=parent,
                    definition=entry.node.definition,
                    include=entry.node.include,
                    exclude=entry.node.exclude,
                    examples=entry.node.examples,
                    colour=entry.node.colour,
                    position=siblings,
                ),
                by=by,
                action="merge: add",
            )
        for change in decisions:
            if change.key not in take:
                continue
            taken += 1
            code = project.code(change.code_id)
            entry = entries[change.code_id]
            if change.kind is ChangeKind.RENAMED:
                project.save_code(
                    replace(code, name=entry.node.name), by=by, action="merge: rename"
                )
            elif change.kind is ChangeKind.MOVED:
                move_code(project, code.id, entry.parent, by=by)
            else:
                project.save_code(
                    replace(code, **{change.field: getattr(entry.node, change.field)}),
                    by=by,
                    action=f"merge: {change.field}",
                )
        project.log_codebook_change(
            "merge",
            f"{len(additions)} codes added and {taken} of {len(decisions)} changes taken"
            + (f" from {source}" if source else ""),
            by=by,
        )
    return len(additions), taken


def merge_summary(added: int, taken: int, offered: int, source: str) -> str:
    """What a merge did, in words: "From b.yaml: 2 new codes; 1 of 3 changes taken"."""
    new = {0: "no new codes", 1: "1 new code"}.get(added, f"{added} new codes")
    if not offered:
        changes = "no changes to existing codes"
    elif not taken:
        changes = f"none of the {offered} changes taken (the codebook keeps its wording)"
    else:
        changes = f"{taken} of {offered} change{'s' if offered != 1 else ''} taken"
    return f"From {source}: {new}; {changes}."
