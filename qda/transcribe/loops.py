"""Repetition loops: Whisper sometimes writes one phrase again and again over a stretch
("men vi er i det, men vi er i det, …"), far more words than anyone can say there.

A text is a loop when it compresses like one (Whisper's own threshold, 2.4) or when it
holds more words per second than speech allows (over 8 a second, for 12 words or
more; brisk speech is 3–4). Decoding catches them and decodes the stretch again; any
left in a stored or imported transcript are flagged with the turn, so that a researcher
listens and corrects them.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

LOOP_RATIO = 2.4  # compression ratio above which Whisper itself calls text repetitive
MAX_WORDS_PER_SECOND = 8.0
MIN_WORDS = 12


def compression_ratio(text: str) -> float:
    """How well a text compresses: repetition loops compress far better than speech."""
    data = text.encode("utf-8")
    return len(data) / max(len(zlib.compress(data)), 1)


def loop_reason(text: str, start: float | None = None, end: float | None = None) -> str | None:
    """Why `text` (spoken from `start` to `end`, when known) looks like a repetition
    loop, in words; None when it looks like speech."""
    words = len(text.split())
    if words >= MIN_WORDS and start is not None and end is not None and end > start:
        rate = words / (end - start)
        if rate > MAX_WORDS_PER_SECOND:
            return f"{words} words in {end - start:.0f} s"
    if len(text) >= 60 and compression_ratio(text) > LOOP_RATIO:
        return "the same words repeated"
    return None


@dataclass(frozen=True)
class Loop:
    segment_id: int
    turn: int  # 1-based
    start: float | None
    reason: str


def find_loops(segments: Iterable) -> list[Loop]:
    """The stored segments (qda.models.Segment) that look like repetition loops."""
    found = []
    for s in segments:
        reason = loop_reason(s.text, s.start, s.end)
        if reason:
            found.append(Loop(s.id, s.index + 1, s.start, reason))
    return found
