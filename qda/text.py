"""Text from outside qda: control characters that have no place in it.

A transcript, a CSV cell or a code name may carry bytes a text editor hides: an ESC
from a terminal log, a NUL from a broken export, a C1 control from a wrongly decoded
file. None of them means anything to a reader, Word and XML refuse them, and a
terminal may act on them; they are removed where text comes in (with a warning that
says how many) and again where it goes out. Tabs and line breaks stay.
"""

from __future__ import annotations

import re

CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def remove_controls(text: str) -> tuple[str, int]:
    """The text without control characters, and how many there were."""
    if not CONTROLS.search(text):
        return text, 0
    clean, count = CONTROLS.subn("", text)
    return clean, count


def without_controls(text: str) -> str:
    """The text without control characters (for writing files that refuse them)."""
    return CONTROLS.sub("", text) if CONTROLS.search(text) else text


# Markdown that could link, load, format or change the page: every character CommonMark,
# GitHub's extensions or Streamlit give a meaning to, escaped with a backslash.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~$]|&(?=#?\w+;))")
_LINE_START = re.compile(r"(?m)^([ \t]*)([-+=#]|\d+[.)])")
# Links and emoji codes are found in the text after the Markdown is parsed, where a
# backslash is gone: an invisible WORD JOINER breaks them instead.
_JOINER = "\u2060"
_AFTER_PARSE = re.compile(
    r"(?i)(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?=@)|(?<=:)(?=[\w/+-]+(?::|\\\[))"
)  # a link, www., an e-mail address, :emoji: or :material/icon:, :colour[text]


def markdown_literal(text: object, *, one_line: bool = True) -> str:
    """Text shown as written where Markdown is rendered (a page of the app, a Markdown
    export): no link, image, HTML, LaTeX, emoji code, list or table can come of it, and
    control characters are dropped. Links and emoji codes get an invisible word joiner
    (U+2060), which a reader does not see. With `one_line`, line breaks become spaces
    (a table cell, a heading)."""
    text = without_controls(str(text))
    if one_line:
        text = " ".join(text.splitlines())
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _AFTER_PARSE.sub(_JOINER, text)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match[1], match[2]
    return f"{indent}{marker[:-1]}\\{marker[-1]}"


def xml_safe_tree(root) -> None:
    """Remove, in place, the control characters XML 1.0 cannot hold from every text,
    tail and attribute of an ElementTree element and its descendants."""
    for element in root.iter():
        if element.text:
            element.text = without_controls(element.text)
        if element.tail:
            element.tail = without_controls(element.tail)
        for key, value in element.attrib.items():
            if CONTROLS.search(value):
                element.attrib[key] = without_controls(value)
