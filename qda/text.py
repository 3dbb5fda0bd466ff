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
