"""Text from outside: control characters removed, Markdown made literal."""

from __future__ import annotations

import re

import pytest

from qda.text import markdown_literal, remove_controls, without_controls


def test_control_characters_go_and_tabs_and_line_breaks_stay():
    assert remove_controls("a\x00b\x1b[31mc\x07\td\ne\r\n\x85\x9f") == ("ab[31mc\td\ne\r\n", 5)
    assert remove_controls("plain") == ("plain", 0)
    assert without_controls("\ufffeok\uffff") == "ok"


def _rendered(markdown: str) -> str:
    """What a reader sees: the escapes and the word joiners gone."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


@pytest.mark.parametrize(
    "text",
    [
        "![t](http://203.0.113.9/t.png) Anna",
        "[click](http://203.0.113.9/x)",
        "<img src=x onerror=alert(1)>",
        "$\\frac{1}{0}$",
        ":material/home: :smile: :red[red]",
        "www.example.com and x@example.com",
        "a | b",
        "# heading",
        "1. a list",
        "- a list",
        "&lt;b&gt;",
        "~~struck~~ **bold** _it_ `code`",
    ],
)
def test_markdown_is_escaped_and_reads_the_same(text):
    out = markdown_literal(text)
    assert _rendered(out) == text
    bare, escaped = [], False
    for char in out:  # every character Markdown acts on comes escaped
        if not escaped and char in "[]<>|*$`_~":
            bare.append(char)
        escaped = not escaped and char == "\\"
    assert not bare, out
    for live in ("://", "www.", ":material/", ":smile:", ":red[", "x@"):
        if live in text:
            assert live not in out, (live, out)
    assert not out.startswith(("#", "1.", "-"))


def test_one_line_joins_lines_and_multi_line_escapes_each_line_start():
    assert markdown_literal("a\nb") == "a b"
    assert markdown_literal("a\n- b\n# c", one_line=False) == "a\n\\- b\n\\# c"
