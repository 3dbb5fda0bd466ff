"""A transcript file as numbered lines: plain text, Word, OpenDocument or HTML.

The kind is told from the content (a `.txt` that is really a PDF, a `.docx` that is
really some other zip), so that a wrong extension gets a message that says what the
file is, not a parse error. Word paragraphs keep their bold opening words and whether
they are headings; soft line breaks inside a paragraph become lines of their own.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser

from qda.errors import InvalidInput
from qda.ingest.participants import decode_text

MAX_DOCUMENT_XML = 200_000_000  # unpacked size of a Word or ODT file's text part

_PDF = b"%PDF-"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003, and password-protected .docx
_ZIP = b"PK\x03\x04"
_ODT_MIME = b"application/vnd.oasis.opendocument.text"
_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
    re.IGNORECASE | re.DOTALL,
)


class DocumentKind(StrEnum):
    TEXT = "text"
    WORD = "docx"
    ODT = "odt"
    HTML = "html"


@dataclass(frozen=True)
class Line:
    """One line of a text file, or one paragraph (line) of a Word, ODT or HTML file."""

    text: str
    number: int  # 1-based line of a text file, paragraph of a document
    bold: str = ""  # the paragraph's bold opening words (where a speaker name often is)
    heading: bool = False  # a heading or title paragraph
    anchors: tuple[tuple[float, float, str], ...] = ()  # noScribe: (start, end, speaker)


@dataclass(frozen=True)
class Document:
    """A transcript file opened for reading."""

    name: str
    kind: DocumentKind
    lines: tuple[Line, ...]
    text: str  # a text file as decoded; the paragraphs of a document, one per line
    sha256: str
    warnings: tuple[str, ...] = ()

    def where(self, number: int) -> str:
        """'line 12' in a text file, 'paragraph 12' in a document."""
        return f"{'line' if self.kind is DocumentKind.TEXT else 'paragraph'} {number}"

    def place(self, number: int) -> dict[str, int]:
        """Keyword arguments of `InvalidInput` for the place of line `number`."""
        if self.kind is DocumentKind.TEXT:
            return {"line": number}
        return {"paragraph": number}


def open_document(data: bytes, name: str) -> Document:
    """Open a transcript file's bytes as a document of lines.

    Raises:
        InvalidInput: the file is a PDF, an old or password-protected Word file, a zip
            that is no Word document, a damaged Word file, or binary data.
    """
    sha = hashlib.sha256(data).hexdigest()
    head = data[:4096]
    if head.startswith(_PDF):
        raise InvalidInput(
            "this is a PDF, which holds no speaker turns qda can read: export the "
            "transcript from the program that made it as Word (.docx) or text (.txt)",
            source=name,
        )
    if head.startswith(_OLE):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise InvalidInput(
                "this Word file is protected by a password: open it in Word, remove the "
                "password (File › Info › Protect Document), save it and import it again",
                source=name,
            )
        raise InvalidInput(
            "this is an old Word 97–2003 (.doc) or other Office file: open it in Word or "
            "LibreOffice and save it as Word (.docx)",
            source=name,
        )
    if head.startswith(b"{\\rtf"):
        raise InvalidInput(
            "this is an RTF file: open it in Word or LibreOffice and save it as Word (.docx)",
            source=name,
        )
    if head.startswith(_ZIP):
        return _open_zip(data, name, sha)
    if _HTML_START.match(head):
        text, warnings = decode_text(data, name)
        return Document(name, DocumentKind.HTML, _html_lines(text), text, sha, tuple(warnings))
    if b"\x00" in head:
        raise InvalidInput("this is not a text file (it holds binary data)", source=name)
    text, warnings = decode_text(data, name)
    lines = tuple(Line(t, n) for n, t in enumerate(text.splitlines(), start=1))
    return Document(name, DocumentKind.TEXT, lines, text, sha, tuple(warnings))


def _open_zip(data: bytes, name: str, sha: str) -> Document:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {i.filename: i for i in archive.infolist()}
    except (zipfile.BadZipFile, ValueError):
        raise InvalidInput(
            "this Word file is damaged (it is not a complete zip archive): open it in Word "
            "and save it again",
            source=name,
        ) from None
    odt = "content.xml" in members and "mimetype" in members
    if "word/document.xml" in members:
        kind, part = DocumentKind.WORD, members["word/document.xml"]
    elif odt and archive.read("mimetype").startswith(_ODT_MIME):
        kind, part = DocumentKind.ODT, members["content.xml"]
    else:
        raise InvalidInput(
            "this is a zip file but not a Word document (it has no word/document.xml): "
            "qda reads Word (.docx), OpenDocument (.odt), text, WebVTT, SRT and HTML transcripts",
            source=name,
        )
    if part.file_size > MAX_DOCUMENT_XML:
        raise InvalidInput(
            f"its text part ({part.filename}) unpacks to {part.file_size / 1e6:.0f} MB: "
            "is this really a transcript?",
            source=name,
        )
    try:
        lines = _word_lines(data) if kind is DocumentKind.WORD else _odt_lines(archive.read(part))
    except InvalidInput:
        raise
    except Exception as e:  # python-docx and the XML parser raise many kinds
        raise InvalidInput(
            f"this {'Word' if kind is DocumentKind.WORD else 'OpenDocument'} file cannot be "
            f"read ({type(e).__name__}: {str(e)[:120]}): open it and save it again",
            source=name,
        ) from None
    text = "\n".join(line.text for line in lines)
    return Document(name, kind, lines, text, sha)


# --- Word -----------------------------------------------------------------------------


def _word_lines(data: bytes) -> tuple[Line, ...]:
    from docx import Document as open_docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.table import Table

    doc = open_docx(io.BytesIO(data))
    # style lookups through python-docx search the whole styles part each time (4.5 s
    # for a 600-turn file): read each style once, then go by the ids in the XML
    names: dict[str, str] = {}
    bold_styles: set[str] = set()
    for style in doc.styles:
        names[style.style_id] = style.name or ""
        if style.type in (WD_STYLE_TYPE.CHARACTER, WD_STYLE_TYPE.PARAGRAPH) and style.font.bold:
            bold_styles.add(style.style_id)
    default = doc.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default_name = default.name if default is not None else ""
    lines: list[Line] = []
    number = 0
    for block in doc.iter_inner_content():
        number += 1
        if isinstance(block, Table):
            for row in _table_rows(block):
                lines.append(Line(row, number))
                number += 1
            continue
        style_id = block._p.style
        style = names.get(style_id, default_name) if style_id else default_name
        heading = style.startswith(("Heading", "Title", "Subtitle"))
        bold = ""
        for run in block.runs:
            if not run.text.strip() and bold:
                bold += run.text
                continue
            if run.bold or (run.bold is None and run._r.style in bold_styles):
                bold += run.text
            else:
                break
        parts = block.text.split("\n")
        for k, part in enumerate(parts):
            lines.append(Line(part, number, bold.strip() if k == 0 else "", heading))
    return tuple(lines)


def _table_rows(table) -> list[str]:
    """A transcript table's rows as lines: `[time] Speaker: text` or `Speaker: text`."""
    from qda.ingest.formats.timing import TIME_ONLY

    out = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            if text and (not cells or cells[-1] != text):  # merged cells repeat
                cells.append(text)
        if not cells:
            continue
        if len(cells) == 3 and TIME_ONLY.match(cells[0]):
            out.append(f"[{cells[0].strip('[]')}] {cells[1]}: {cells[2]}")
        elif len(cells) == 3 and TIME_ONLY.match(cells[1]):
            out.append(f"[{cells[1].strip('[]')}] {cells[0]}: {cells[2]}")
        elif len(cells) == 2 and len(cells[0]) <= 40 and "\n" not in cells[0]:
            out.append(f"{cells[0]}: {cells[1]}")
        else:
            out.append(" ".join(cells))
    return out


# --- OpenDocument ------------------------------------------------------------------------

_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def _odt_lines(content: bytes) -> tuple[Line, ...]:
    from defusedxml import ElementTree

    root = ElementTree.fromstring(content)
    lines: list[Line] = []

    def inline(element) -> str:
        parts = [element.text or ""]
        for child in element:
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "s":
                parts.append(" " * int(child.get(f"{{{_TEXT_NS}}}c", "1")))
            elif tag == "tab":
                parts.append("\t")
            elif tag == "line-break":
                parts.append("\n")
            elif tag not in ("note", "annotation"):
                parts.append(inline(child))
            parts.append(child.tail or "")
        return "".join(parts)

    def walk(element) -> None:
        for child in element:
            tag = child.tag
            if tag in (f"{{{_TEXT_NS}}}p", f"{{{_TEXT_NS}}}h"):
                number = len({x.number for x in lines}) + 1
                for part in inline(child).split("\n"):
                    lines.append(Line(part, number, heading=tag.endswith("}h")))
            elif tag == f"{{{_TABLE_NS}}}table-row":
                cells = [" ".join(inline(p) for p in c.iter(f"{{{_TEXT_NS}}}p")) for c in child]
                cells = [c.strip() for c in cells if c.strip()]
                if cells:
                    number = len({x.number for x in lines}) + 1
                    text = f"{cells[0]}: {' '.join(cells[1:])}" if len(cells) > 1 else cells[0]
                    lines.append(Line(text, number))
            else:
                walk(child)

    walk(root)
    return tuple(lines)


# --- HTML -----------------------------------------------------------------------------

_BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote"}
_ANCHOR = re.compile(r"^ts_(\d+)_(\d+)(?:_(.*))?$")


class _Paragraphs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[Line] = []
        self.parts: list[str] = []
        self.anchors: list[tuple[float, float, str]] = []
        self.heading = False
        self.skip = 0
        self.number = 0

    def flush(self) -> None:
        text = "".join(self.parts)
        if text.strip() or self.anchors:
            self.number += 1
            for k, part in enumerate(text.split("\n")):
                self.lines.append(
                    Line(part.strip(), self.number, heading=self.heading,
                         anchors=tuple(self.anchors) if k == 0 else ())
                )  # fmt: skip
        self.parts, self.anchors, self.heading = [], [], False

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("head", "style", "script", "title"):
            self.skip += 1
        elif tag in _BLOCKS:
            self.flush()
            self.heading = tag.startswith("h") and tag[1:].isdigit()
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "a":
            name = dict(attrs).get("name") or ""
            if m := _ANCHOR.match(name):
                self.anchors.append((int(m[1]) / 1000, int(m[2]) / 1000, m[3] or ""))

    def handle_endtag(self, tag) -> None:
        if tag in ("head", "style", "script", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCKS:
            self.flush()

    def handle_data(self, data) -> None:
        if not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def _html_lines(text: str) -> tuple[Line, ...]:
    parser = _Paragraphs()
    parser.feed(text)
    parser.close()
    parser.flush()
    return tuple(parser.lines)
