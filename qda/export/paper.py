"""The paper size Word documents are written on: A4, or US Letter where the locale
expects it (python-docx's own template is Letter, which prints badly on A4 paper)."""

from __future__ import annotations

import locale
import os

LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "PR", "GT"})


def letter_paper() -> bool:
    """Whether the user's locale prints on US Letter ($LC_PAPER, else the locale)."""
    name = os.environ.get("LC_PAPER") or os.environ.get("LC_ALL") or ""
    if not name:
        name = locale.getlocale()[0] or os.environ.get("LANG", "")
    country = name.split(".")[0].replace("-", "_").split("_")[-1].upper() if "_" in name else ""
    return country in LETTER_COUNTRIES


def new_document():
    """A python-docx document on the locale's paper, with 2 cm margins."""
    from docx import Document
    from docx.shared import Cm, Inches

    doc = Document()
    for section in doc.sections:
        if letter_paper():
            section.page_width, section.page_height = Inches(8.5), Inches(11)
        else:
            section.page_width, section.page_height = Cm(21), Cm(29.7)
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Cm(2))
    return doc
