"""qda's native codebook file: YAML, readable and diff-friendly.

    title: Digital access to public services
    version: "1.0"
    language: en
    authors: [A. Researcher]
    codes:
      - name: Access barriers          # a code with children is a theme
        id: 1f0c…                      # stable GUID; generated from the path if absent
        colour: "#D1495B"
        definition: …
        include: …                     # when to use it
        exclude: …                     # when not to use it
        examples: ["…"]
        children:
          - name: Digital skills and confidence
    changelog:
      - {at: 2026-03-01, by: A. Researcher, action: add, detail: first draft}

Errors name the line of the file.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, BinaryIO, TextIO

import yaml

from qda.codebook import MAX_CODE_DEPTH, Codebook, CodeNode, CodeSet
from qda.errors import InvalidInput
from qda.models import CodebookChange, CodebookInfo

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_CODE_KEYS = {
    "name",
    "id",
    "definition",
    "include",
    "exclude",
    "examples",
    "colour",
    "color",
    "children",
    "codable",
}
_TOP_KEYS = {"title", "version", "language", "authors", "codes", "sets", "changelog"}
MAX_BYTES = 5_000_000
_MAX_YAML_DEPTH = 2 * MAX_CODE_DEPTH + 4  # codes: [ {children: [ … {examples: [ … ]} ] } ]


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ten times faster


class _LineLoader(_SafeLoader):
    """A safe loader that remembers the line of every mapping (as `__line__`)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_codebook_yaml(stream: BinaryIO | TextIO, source: str = "codebook.yaml") -> Codebook:
    """Read and check a YAML codebook.

    Raises:
        InvalidInput: the file is not valid YAML or not a codebook; names the line.
    """
    raw = stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise InvalidInput("larger than 5 MB: is this really a codebook?", source=source)
    try:
        _check_structure(raw, source)
        data = yaml.load(raw, Loader=_LineLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise InvalidInput(
            f"not valid YAML: {problem}",
            source=source,
            line=mark.line + 1 if mark else None,
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput("a codebook file must be a mapping with 'codes'", source=source, line=1)
    line = data.pop("__line__", 1)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(sorted(unknown))} "
            f"(allowed: {', '.join(sorted(_TOP_KEYS))})",
            source=source,
            line=line,
        )
    codes = data.get("codes")
    if not isinstance(codes, list) or not codes:
        raise InvalidInput("'codes' must be a non-empty list of codes", source=source, line=line)
    seen_ids: dict[str, int] = {}
    nodes = tuple(_node(c, source, seen_ids, line) for c in codes)
    authors = data.get("authors") or ()
    if isinstance(authors, str):
        authors = (authors,)
    info = CodebookInfo(
        title=str(data.get("title") or ""),
        version=str(data.get("version") or ""),
        language=str(data.get("language") or ""),
        authors=tuple(str(a) for a in authors),
    )
    changelog = tuple(_change(c, source) for c in data.get("changelog") or ())
    known = set(seen_ids)  # lower case
    sets = []
    for entry in data.get("sets") or ():
        if not isinstance(entry, dict) or not entry.get("name"):
            raise InvalidInput("each set needs a 'name'", source=source, line=line)
        set_line = entry.pop("__line__", line)
        members = tuple(str(m) for m in entry.get("codes") or ())
        unknown_members = [m for m in members if m.lower() not in known]
        if unknown_members:
            raise InvalidInput(
                f"set '{entry['name']}' names codes that have no such id: "
                + ", ".join(unknown_members),
                source=source,
                line=set_line,
            )
        sets.append(
            CodeSet(
                name=str(entry["name"]),
                id=str(entry.get("id") or ""),
                description=str(entry.get("description") or ""),
                members=members,
            )
        )
    return Codebook(info=info, codes=nodes, changelog=changelog, sets=tuple(sets))


def _check_structure(raw: str | bytes, source: str) -> None:
    """Refuse, before building anything, what would exhaust the machine: aliases (one
    alias can stand for a copy of a whole subtree, and a handful of them for billions of
    nodes) and nesting deeper than a codebook has (building it would overflow the stack).
    The YAML event stream is read without recursion, so this check cannot itself fail."""
    depth = 0
    for event in yaml.parse(raw, Loader=_SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise InvalidInput(
                f"a YAML alias (*{event.anchor}) repeats another part of the file; "
                "write each code and example out once",
                source=source,
                line=event.start_mark.line + 1,
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > _MAX_YAML_DEPTH:
                raise InvalidInput(
                    f"nested deeper than a codebook can be (at most {MAX_CODE_DEPTH} levels "
                    "of codes)",
                    source=source,
                    line=event.start_mark.line + 1,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _text(entry: dict, key: str) -> str:
    value = entry.get(key) or ""
    return str(value).strip()


def _node(entry: Any, source: str, seen_ids: dict[str, int], parent_line: int) -> CodeNode:
    if not isinstance(entry, dict):
        raise InvalidInput(
            f"each code must be a mapping with a 'name', found {entry!r:.60}",
            source=source,
            line=parent_line,
        )
    if "__line__" not in entry:  # read already: the same mapping again, through an alias
        raise InvalidInput(
            f"code '{entry.get('name', '?')}' appears twice (a YAML alias such as *code): "
            "write each code once",
            source=source,
            line=parent_line,
        )
    line = entry.pop("__line__")
    unknown = set(entry) - _CODE_KEYS
    if unknown:
        raise InvalidInput(
            f"unknown code field(s) {', '.join(sorted(unknown))}", source=source, line=line
        )
    name = _text(entry, "name")
    if not name:
        raise InvalidInput("a code has no name", source=source, line=line)
    if "/" in name:
        raise InvalidInput(f"code name '{name}' contains '/'", source=source, line=line)
    code_id = _text(entry, "id")
    if code_id:
        key = code_id.lower()  # GUIDs are the same in either case (.qdc writes upper case)
        if key in seen_ids:
            raise InvalidInput(
                f"id {code_id} is also used on line {seen_ids[key]}", source=source, line=line
            )
        seen_ids[key] = line
    colour = _text(entry, "colour") or _text(entry, "color")
    if colour and not _COLOUR.match(colour):
        raise InvalidInput(
            f"colour '{colour}' of '{name}' is not of the form #RRGGBB", source=source, line=line
        )
    codable = entry.get("codable", True)
    if not isinstance(codable, bool):
        raise InvalidInput(
            f"'codable' of '{name}' must be true or false, not {codable!r:.30}",
            source=source,
            line=line,
        )
    examples = entry.get("examples") or ()
    if isinstance(examples, str):
        examples = (examples,)
    if not isinstance(examples, list | tuple):
        raise InvalidInput(
            f"'examples' of '{name}' must be a list of texts, not {examples!r:.30}",
            source=source,
            line=line,
        )
    children_raw = entry.get("children") or []
    if not isinstance(children_raw, list):
        raise InvalidInput(f"'children' of '{name}' must be a list", source=source, line=line)
    children = tuple(_node(c, source, seen_ids, line) for c in children_raw)
    names = [c.name for c in children]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInput(
            f"'{name}' has two children named {', '.join(duplicates)}", source=source, line=line
        )
    return CodeNode(
        name=name,
        id=code_id,
        definition=_text(entry, "definition"),
        include=_text(entry, "include"),
        exclude=_text(entry, "exclude"),
        examples=tuple(str(e).strip() for e in examples),
        colour=colour.upper(),
        children=children,
        codable=codable,
    )


def _change(entry: Any, source: str) -> CodebookChange:
    if not isinstance(entry, dict):
        raise InvalidInput(
            f"a changelog entry must be a mapping, found {entry!r:.60}", source=source
        )
    line = entry.pop("__line__")
    at = entry.get("at")
    if isinstance(at, dt.date) and not isinstance(at, dt.datetime):
        at = dt.datetime.combine(at, dt.time())
    if not isinstance(at, dt.datetime):
        raise InvalidInput("a changelog entry needs a date in 'at'", source=source, line=line)
    return CodebookChange(
        at=at, by=_text(entry, "by"), action=_text(entry, "action"), detail=_text(entry, "detail")
    )


def write_codebook_yaml(codebook: Codebook, out: BinaryIO) -> None:
    """Write qda's native YAML (fields in a fixed order, empty ones left out)."""

    def code(node: CodeNode) -> dict[str, Any]:
        data: dict[str, Any] = {"name": node.name}
        if node.id:
            data["id"] = node.id
        for key in ("colour", "definition", "include", "exclude"):
            if getattr(node, key):
                data[key] = getattr(node, key)
        if node.examples:
            data["examples"] = list(node.examples)
        if not node.codable:
            data["codable"] = False
        if node.children:
            data["children"] = [code(c) for c in node.children]
        return data

    info = codebook.info
    doc: dict[str, Any] = {}
    for key in ("title", "version", "language"):
        if getattr(info, key):
            doc[key] = getattr(info, key)
    if info.authors:
        doc["authors"] = list(info.authors)
    doc["codes"] = [code(c) for c in codebook.codes]
    if codebook.sets:
        doc["sets"] = [
            {"name": s.name, **({"id": s.id} if s.id else {}),
             **({"description": s.description} if s.description else {}),
             "codes": list(s.members)}
            for s in codebook.sets
        ]  # fmt: skip
    if codebook.changelog:
        doc["changelog"] = [
            {"at": c.at.date() if c.at.time() == dt.time() else c.at, "by": c.by,
             "action": c.action, "detail": c.detail}
            for c in codebook.changelog
        ]  # fmt: skip
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=88)
    out.write(text.encode("utf-8"))
