"""REFI-QDA codebook exchange (`.qdc`): written strictly, read leniently.

Writing follows Codebook.xsd (namespace `urn:QDA-XML:codebook:1.0`) with a real XML
writer: GUIDs are the codes' own when they are GUIDs, else uuid5 of qda's namespace
and the code path (so the same codebook exported twice is byte-identical); colours
are `#RRGGBB`; the hierarchy is nested `<Code>`s; sets become `<Sets>` (never an
empty one). A code's definition, when to use it, when not, and its examples go into
`<Description>` as plain text that other tools show as it is and qda parses back:

    What stops people from using a service that has moved online.

    When to use: a concrete obstacle a person meets.
    When not to use: the effects of the obstacle.
    Examples:
    - "I never know which button to press."

Reading accepts namespaces 1.0 and 0:4 (and none), an empty `<Sets/>`, colours in
other notations, missing or non-GUID ids, codes without descriptions, NVivo's
non-codable root, and the codebook inside a `.qdpx` / `.qde` project; it reports what
it kept, fixed and dropped. XML is parsed with defusedxml: DTDs, entities and external
references are refused.
"""

from __future__ import annotations

import io
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from typing import BinaryIO

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from qda.codebook import CODE_NAMESPACE, MAX_CODE_DEPTH, Codebook, CodeNode, CodeSet, ImportReport
from qda.errors import InvalidInput
from qda.models import CodebookInfo
from qda.text import xml_safe_tree

NS = "urn:QDA-XML:codebook:1.0"
_GUID = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$"
)
_HEADERS = {"When to use:": "include", "When not to use:": "exclude", "Examples:": "examples"}
MAX_BYTES = 50_000_000


# --- writing ---------------------------------------------------------------------------


def guid_for(code_id: str, path: str) -> str:
    """The code's id when it is a GUID, else a stable uuid5 of its path (upper case,
    the form NVivo and ATLAS.ti write)."""
    if code_id and _GUID.match(code_id):
        return code_id.strip("{}").upper()
    return str(uuid.uuid5(CODE_NAMESPACE, path)).upper()


def describe(node: CodeNode) -> str:
    """The `<Description>` text of a code (empty when it has nothing to say)."""
    parts = [node.definition] if node.definition else []
    if node.include:
        parts.append(f"When to use: {node.include}")
    if node.exclude:
        parts.append(f"When not to use: {node.exclude}")
    if node.examples:
        parts.append("Examples:\n" + "\n".join(f'- "{e}"' for e in node.examples))
    return "\n\n".join(parts)


def parse_description(text: str) -> dict[str, object]:
    """The fields of a description written by `describe` (any other text is the
    definition)."""
    fields: dict[str, object] = {"definition": "", "include": "", "exclude": "", "examples": ()}
    definition: list[str] = []
    current = None
    examples: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        header = next((h for h in _HEADERS if block.startswith(h)), None)
        if header is None:
            if current == "examples" and block.lstrip().startswith("- "):
                header = "Examples:"
            else:
                definition.append(block.strip())
                continue
        current = _HEADERS[header]
        body = block[len(header) :].strip() if block.startswith(header) else block.strip()
        if current == "examples":
            for line in body.splitlines():
                line = line.strip()
                if line.startswith("- "):
                    line = line[2:].strip()
                    if len(line) >= 2 and line[0] == line[-1] == '"':
                        line = line[1:-1]
                    examples.append(line)
                elif line and examples:
                    examples[-1] += " " + line
        else:
            fields[current] = body
    fields["definition"] = "\n\n".join(definition)
    fields["examples"] = tuple(examples)
    return fields


def add_codes(parent: ET.Element, codebook: Codebook, ns: str) -> dict[str, str]:
    """Write the code tree under `parent` as nested `<Code>`s of namespace `ns` (the
    codebook's or the project's: the elements are the same); returns code id -> GUID."""
    codes = ET.SubElement(parent, f"{{{ns}}}Codes")
    guids: dict[str, str] = {}

    def add(parent: ET.Element, nodes: tuple[CodeNode, ...], prefix: str) -> None:
        for node in nodes:
            path = f"{prefix}{node.name}"
            guid = guid_for(node.id, path)
            guids[node.id or path] = guid
            attributes = {
                "guid": guid,
                "name": node.name,
                "isCodable": "true" if node.codable else "false",
            }
            if node.colour:
                attributes["color"] = node.colour.upper()
            element = ET.SubElement(parent, f"{{{ns}}}Code", attributes)
            description = describe(node)
            if description:
                ET.SubElement(element, f"{{{ns}}}Description").text = description
            add(element, node.children, f"{path}/")

    add(codes, codebook.codes, "")
    return guids


def write_qdc(codebook: Codebook, out: BinaryIO, *, origin: str = "qda") -> None:
    """Write a codebook as a REFI-QDA `.qdc` file (valid against Codebook.xsd)."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}CodeBook", {"origin": origin})
    guids = add_codes(root, codebook, NS)
    sets = [s for s in codebook.sets if s.members]
    if sets:
        sets_element = ET.SubElement(root, f"{{{NS}}}Sets")
        for s in sets:
            set_guid = guid_for(s.id, f"set:{s.name}")
            element = ET.SubElement(
                sets_element, f"{{{NS}}}Set", {"guid": set_guid, "name": s.name}
            )
            if s.description:
                ET.SubElement(element, f"{{{NS}}}Description").text = s.description
            for member in s.members:
                if member in guids:
                    ET.SubElement(element, f"{{{NS}}}MemberCode", {"guid": guids[member]})
    ET.indent(root, space="  ")
    xml_safe_tree(root)
    out.write(b'<?xml version="1.0" encoding="utf-8"?>\n')
    out.write(ET.tostring(root, encoding="utf-8", xml_declaration=False))
    out.write(b"\n")


# --- reading ---------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if _local(c.tag) == name]


def normalise_colour(value: str) -> str | None:
    """`#RRGGBB` from `#RGB`, `#RRGGBBAA`, `RRGGBB`, `rgb(r, g, b)` or a packed integer."""
    v = value.strip()
    if re.fullmatch(r"\d{1,10}", v):  # a packed integer, as some tools write (0xRRGGBB)
        return f"#{int(v) & 0xFFFFFF:06X}"
    if m := re.fullmatch(r"#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?", v):
        return f"#{m[1].upper()}"
    if m := re.fullmatch(r"#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])", v):
        return "#" + "".join(c * 2 for c in m.groups()).upper()
    if m := re.fullmatch(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)(?:\s*,[^)]*)?\)", v):
        r, g, b = (min(int(x), 255) for x in m.groups())
        return f"#{r:02X}{g:02X}{b:02X}"
    return None


def parse_xml(data: bytes, source: str) -> ET.Element:
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as e:
        raise InvalidInput(
            f"refused: the file declares a DTD or entities ({type(e).__name__}), which "
            "REFI-QDA files never need and which can make a parser read files or run "
            "out of memory",
            source=source,
        ) from None
    except ET.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else None
        raise InvalidInput(f"not well-formed XML ({e})", source=source, line=line) from None


def read_qdc(stream: BinaryIO, source: str = "codebook.qdc") -> Codebook:
    """Read a `.qdc` file, or the codebook of a `.qdpx` / `.qde` project file."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InvalidInput("larger than 50 MB: is this really a codebook?", source=source)
    if data[:4] == b"PK\x03\x04":
        data = _project_xml_from_zip(data, source)
    root = parse_xml(data, source)
    if _local(root.tag) == "Project":
        books = _children(root, "CodeBook")
        if not books:
            raise InvalidInput("the project file holds no codebook", source=source)
        root = books[0]
    if _local(root.tag) != "CodeBook":
        raise InvalidInput(
            f"not a REFI-QDA codebook: the root element is <{_local(root.tag)}>", source=source
        )
    return codebook_from_xml(root, source)


def _project_xml_from_zip(data: bytes, source: str) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidInput("a damaged .qdpx file (not a readable zip)", source=source) from None
    names = [n for n in archive.namelist() if n.lower().endswith(".qde")]
    if not names:
        raise InvalidInput("the .qdpx file holds no project.qde", source=source)
    info = archive.getinfo(names[0])
    if info.file_size > MAX_BYTES:
        raise InvalidInput(
            f"{names[0]} would unpack to {info.file_size / 1e6:.0f} MB; refused", source=source
        )
    return archive.read(info)


def codebook_from_xml(
    root: ET.Element, source: str, id_map: dict[str, str] | None = None
) -> Codebook:
    """The codebook of a `<CodeBook>` element (of a .qdc or a project). `id_map`, when
    given, is filled with each code's GUID in the file (lower case) -> its id in qda."""
    fixed: list[str] = []
    dropped: list[str] = []
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if namespace and namespace not in (NS, "urn:QDA-XML:codebook:0:4", "urn:QDA-XML:project:1.0"):
        fixed.append(f"read namespace {namespace} as {NS}")
    codes_elements = _children(root, "Codes")
    top = [c for codes in codes_elements for c in _children(codes, "Code")]
    if (
        len(top) == 1
        and top[0].get("isCodable", "true").lower() == "false"
        and _children(top[0], "Code")
    ):
        fixed.append(f"left out the non-codable root '{top[0].get('name', '')}' and kept its codes")
        top = _children(top[0], "Code")
    id_map = {} if id_map is None else id_map
    seen: set[str] = set()
    count = 0

    def node(element: ET.Element, prefix: str) -> CodeNode | None:
        nonlocal count
        name = (element.get("name") or "").strip()
        guid = (element.get("guid") or "").strip()
        if prefix.count("/") > MAX_CODE_DEPTH:
            raise InvalidInput(
                f"codes nested deeper than a codebook can be (at most {MAX_CODE_DEPTH} "
                f"levels), at '{prefix[:80]}…'",
                source=source,
            )
        if not name:
            dropped.append(f"a code without a name (guid {guid or 'none'}) and its children")
            return None
        if "/" in name:
            fixed.append(f"'{name}': '/' replaced by '-' (it separates paths in qda)")
            name = name.replace("/", "-")
        path = f"{prefix}{name}"
        if not _GUID.match(guid):
            new = str(uuid.uuid5(CODE_NAMESPACE, path))
            problem = f"id {guid!r} is not a GUID" if guid else "no id"
            fixed.append(f"'{path}': {problem}; gave it {new}")
            guid_out = new
        else:
            guid_out = guid.strip("{}").lower()
        if guid_out in seen:
            new = str(uuid.uuid5(CODE_NAMESPACE, f"{path}#{count}"))
            fixed.append(f"'{path}': id {guid_out} was used twice; gave it {new}")
            guid_out = new
        seen.add(guid_out)
        if guid:
            id_map[guid.strip("{}").lower()] = guid_out
        colour = ""
        if element.get("color"):
            colour = normalise_colour(element.get("color", "")) or ""
            if not colour:
                fixed.append(f"'{path}': colour {element.get('color')!r} not understood, left out")
            elif colour != element.get("color"):
                fixed.append(f"'{path}': colour {element.get('color')} written as {colour}")
        description = "".join(d.text or "" for d in _children(element, "Description"))
        fields = parse_description(description)
        count += 1
        children: list[CodeNode] = []
        names: set[str] = set()
        for child in _children(element, "Code"):
            c = node(child, f"{path}/")
            if c is None:
                continue
            if c.name in names:
                dropped.append(
                    f"'{path}/{c.name}': a second code of that name under the same parent"
                )
                continue
            names.add(c.name)
            children.append(c)
        return CodeNode(
            name=name,
            id=guid_out,
            definition=str(fields["definition"]),
            include=str(fields["include"]),
            exclude=str(fields["exclude"]),
            examples=tuple(fields["examples"]),
            colour=colour,
            children=tuple(children),
            codable=(element.get("isCodable") or "true").strip().lower() != "false",
        )

    nodes: list[CodeNode] = []
    names: set[str] = set()
    for element in top:
        n = node(element, "")
        if n is None:
            continue
        if n.name in names:
            dropped.append(f"'{n.name}': a second top-level code of that name")
            continue
        names.add(n.name)
        nodes.append(n)
    if not nodes:
        raise InvalidInput("the codebook has no codes", source=source)
    sets: list[CodeSet] = []
    for sets_element in _children(root, "Sets"):
        for s in _children(sets_element, "Set"):
            members = tuple(
                id_map[m.get("guid", "").strip("{}").lower()]
                for m in _children(s, "MemberCode")
                if m.get("guid", "").strip("{}").lower() in id_map
            )
            missing = len(_children(s, "MemberCode")) - len(members)
            if missing:
                dropped.append(
                    f"set '{s.get('name', '')}': {missing} member(s) that are not codes here"
                )
            sets.append(
                CodeSet(
                    name=s.get("name", "").strip(),
                    id=(s.get("guid") or "").strip("{}").lower(),
                    description="".join(d.text or "" for d in _children(s, "Description")).strip(),
                    members=members,
                )
            )
    info = CodebookInfo(title=root.get("origin", "") and f"from {root.get('origin')}")
    return Codebook(
        info=info,
        codes=tuple(nodes),
        sets=tuple(sets),
        report=ImportReport(kept=count, fixed=tuple(fixed), dropped=tuple(dropped)),
    )
