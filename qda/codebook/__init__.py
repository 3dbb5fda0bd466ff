"""Codebooks: a tree of codes with definitions, exchanged between researchers as files.

`Codebook` is the file-side view (what a YAML file holds); `import_codebook` brings one
into a project, matching codes by their stable id so that a codebook edited by a
colleague updates the codes in place and keeps their codings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from qda.models import Code, CodebookChange, CodebookInfo, CodeSetRecord
from qda.store import Project

# uuid5 namespace for codes that arrive without an id: the same path gives the same id.
CODE_NAMESPACE = uuid.UUID("6f1c1f5e-3f57-4b8e-9a3e-0c2d7a5b9e41")
# Levels of codes under a top-level theme that a codebook file may have: far more than
# any codebook uses, few enough that a generated file cannot exhaust the reader.
MAX_CODE_DEPTH = 20


@dataclass(frozen=True)
class CodeNode:
    """A code in a codebook file, with its children (a code with children is a theme)."""

    name: str
    id: str = ""
    definition: str = ""
    include: str = ""
    exclude: str = ""
    examples: tuple[str, ...] = ()
    colour: str = ""
    children: tuple[CodeNode, ...] = ()
    codable: bool = True  # False: a heading for its codes, never applied itself


@dataclass(frozen=True)
class CodeSet:
    """A named group of codes across the tree (REFI-QDA `<Set>`, ATLAS.ti code group)."""

    name: str
    id: str = ""
    description: str = ""
    members: tuple[str, ...] = ()  # code ids


@dataclass(frozen=True)
class ImportReport:
    """What reading a codebook file kept, fixed and dropped, for the researcher to see."""

    kept: int = 0
    fixed: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"{self.kept} codes read" if self.kept else "no codes in the file"]
        out += [f"fixed: {f}" for f in self.fixed]
        out += [f"dropped: {d}" for d in self.dropped]
        return out


@dataclass(frozen=True)
class Codebook:
    """A whole codebook file."""

    info: CodebookInfo = field(default_factory=CodebookInfo)
    codes: tuple[CodeNode, ...] = ()
    changelog: tuple[CodebookChange, ...] = ()
    sets: tuple[CodeSet, ...] = ()
    report: ImportReport = field(default_factory=ImportReport, compare=False)

    def walk(self) -> list[tuple[str, CodeNode]]:
        """(path, node) for every code, parents first."""
        out: list[tuple[str, CodeNode]] = []

        def visit(nodes: tuple[CodeNode, ...], prefix: str) -> None:
            for node in nodes:
                path = f"{prefix}{node.name}"
                out.append((path, node))
                visit(node.children, f"{path}/")

        visit(self.codes, "")
        return out


def stable_code_id(path: str) -> str:
    """The GUID given to a code that has none: uuid5 of qda's namespace and its path."""
    return str(uuid.uuid5(CODE_NAMESPACE, path))


def import_codebook(project: Project, codebook: Codebook, *, by: str, source: str = "") -> int:
    """Add the codebook's codes to the project, or update those with the same id.

    Codes of the project that the file does not hold are kept (with their codings).

    Returns:
        The number of codes added or updated.
    """
    codes: list[Code] = []

    def collect(nodes: tuple[CodeNode, ...], parent_id: str | None, prefix: str) -> None:
        for position, node in enumerate(nodes):
            path = f"{prefix}{node.name}"
            code = Code(
                id=node.id or stable_code_id(path),
                name=node.name,
                parent_id=parent_id,
                definition=node.definition,
                include=node.include,
                exclude=node.exclude,
                examples=node.examples,
                colour=node.colour,
                position=position,
                codable=node.codable,
            )
            codes.append(code)
            collect(node.children, code.id, f"{path}/")

    collect(codebook.codes, None, "")
    with project.transaction():
        count = project.save_codes(codes, by=by, action="import")
        project.set_codebook_info(codebook.info)
        if codebook.sets:
            project.set_codebook_sets(
                [
                    CodeSetRecord(s.name, s.id, s.description, tuple(s.members))
                    for s in codebook.sets
                ]
            )
        project.log_codebook_change(
            "import", f"{count} codes from {source or 'a codebook file'}", by=by
        )
    return count
