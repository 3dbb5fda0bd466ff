"""Pieces every reader shares: times, speaker labels, header lines, end times."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from qda.errors import InvalidInput, InvalidInputs

if TYPE_CHECKING:
    from qda.ingest.formats import Document, Turn

TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
TIME_ONLY = re.compile(rf"^\s*\[?(?P<t>{TIME})\]?\s*$")

INTERVIEWER_LABELS = frozenset(
    {
        # English, Danish, French words for the one asking the questions
        "interviewer", "interviewer 1", "interviewer 2", "int", "i", "q", "iv",
        "researcher", "moderator", "facilitator", "intervieweren", "interviewer (i)",
        "forsker", "forskeren", "intervieweur", "intervieweuse", "enquêteur", "enquêtrice",
        "enqueteur", "enquetrice", "chercheur", "chercheuse", "animateur", "animatrice",
        "question",
    }
)  # fmt: skip
# words for the one answering: accepted as labels in lower case too
ANSWER_LABELS = frozenset(
    {"respondent", "participant", "interviewee", "r", "a", "p", "informant", "deltager",
     "interviewpersonen", "informanten", "répondant", "répondante", "enquêté", "enquêtée",
     "answer", "réponse", "svar"}
)  # fmt: skip
# capitalised words that end in a colon inside speech, never a speaker on their own
NOT_NAMES = frozenset(
    {"example", "examples", "note", "notes", "remember", "update",
     "yes", "no", "well", "so", "ok", "okay", "also", "ps", "re", "subject", "date", "time",
     "title", "location", "place", "attendees", "participants", "summary", "keywords",
     "topic", "agenda", "warning", "important", "tip", "step", "reason", "problem",
     "result", "like", "basically", "honestly", "exemple", "remarque", "eksempel", "bemærk",
     "duration", "recorded", "transcript", "transcription", "interview", "speakers"}
)  # fmt: skip
_ABBREVIATION = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Prof|Mme|Mlle|M|St)\.", re.IGNORECASE)
_DATE_LINE = re.compile(
    r"^\W*(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|"
    r"may|jun|jul|aug|sep|oct|nov|dec|man|tir|ons|tor|fre|lør|søn|lun|mar|mer|jeu|ven|sam|"
    r"dim|janv|févr|mars|avr|mai|juin|juil|août|sept|déc|maj|okt)\w*\b)",
    re.IGNORECASE,
)


def parse_time(value: str) -> float:
    """'01:02:03.5', '01:02:03,500' or '02:03' -> seconds."""
    parts = value.strip("[]() ").replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def looks_like_speaker(label: str, *, bold: bool = False) -> bool:
    """Whether the words before a colon can be a speaker's name or role.

    A name is short, starts with a capital (role words such as "interviewer" may be in
    lower case), and holds no sentence punctuation: "yeah, so I'm, right. Example" is
    speech, not a speaker. Bold text in a Word file is taken as a name more readily.
    """
    label = label.strip()
    if not label or len(label) > 40 or label[0].isdigit():
        return False
    lower = label.lower()
    if lower in INTERVIEWER_LABELS or lower in ANSWER_LABELS:
        return True
    if len(label.split()) > (5 if bold else 4):
        return False
    if re.search(r"[.!?,;\"“”«»…]", _ABBREVIATION.sub("", label)):
        return False
    if not (label[0].isupper() or bold):
        return False
    return bold or lower not in NOT_NAMES


def header_line(text: str) -> bool:
    """A title, date or metadata line that may come before the first turn."""
    text = text.strip()
    return bool(text) and (len(text) <= 160 or bool(_DATE_LINE.match(text)))


def fill_ends(turns: list[Turn], doc: Document) -> list[Turn]:
    """A turn without an end time ends where the next one starts; times must not go back.

    Raises:
        InvalidInputs: a turn starts before the one above it.
    """
    out: list[Turn] = []
    errors: list[InvalidInput] = []
    previous: float | None = None
    for i, turn in enumerate(turns):
        if turn.start is not None and previous is not None and turn.start < previous:
            errors.append(
                InvalidInput(
                    "this turn starts before the one above it: timestamps must go forward",
                    source=doc.name,
                    **doc.place(turn.line),
                )
            )
        if turn.start is not None:
            previous = turn.start
        if turn.end is None and turn.start is not None and i + 1 < len(turns):
            following = turns[i + 1].start
            if following is not None and following >= turn.start:
                turn = replace(turn, end=following)
        out.append(turn)
    if errors:
        raise InvalidInputs(errors)
    return out


def split_header(
    turns: list[Turn], preamble: list[tuple[int, str]], doc: Document
) -> tuple[list[Turn], list[str], list[str]]:
    """Lines before the first turn: short ones are the file's header (title, date,
    keywords), left out of the turns; a long one is speech and stays, without a speaker.

    Returns:
        turns (with any kept speech first), the header lines, warnings.
    """
    from qda.ingest.formats import Turn

    header: list[str] = []
    kept: list[Turn] = []
    warnings: list[str] = []
    for number, text in preamble:
        if header_line(text) and not kept:
            header.append(text.strip())
        else:
            kept.append(Turn(text.strip(), line=number))
            warnings.append(
                f"{doc.name}, {doc.where(number)}: text before the first speaker turn was kept "
                "as a turn without a speaker"
            )
    return kept + turns, header, warnings
