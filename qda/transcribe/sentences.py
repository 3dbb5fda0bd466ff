"""Cut long decoded segments into sentences using their word timings.

Batched decoding returns one segment per ~30 s of speech, which may hold both
speakers; cutting at sentence ends and pauses gives pieces short enough to label
with one speaker each.
"""

from __future__ import annotations

from qda.transcribe.types import TranscribedSegment, Word

SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
PAUSE_S = 1.0  # a silence this long between words also ends a piece
MAX_PIECE_S = 30.0


def split_sentences(segment: TranscribedSegment) -> list[TranscribedSegment]:
    """The segment cut after sentence ends and long pauses (needs word timings)."""
    if not segment.words:
        return [segment]
    pieces: list[list[Word]] = [[]]
    for i, word in enumerate(segment.words):
        current = pieces[-1]
        if current:
            gap = word.start - current[-1].end
            ended = current[-1].text.strip().endswith(SENTENCE_END) and len(current) >= 2
            too_long = word.end - current[0].start > MAX_PIECE_S
            if ended or gap >= PAUSE_S or too_long:
                pieces.append([])
        pieces[-1].append(word)
        del i
    out = []
    for words in pieces:
        text = "".join(w.text for w in words).strip()
        if text:
            out.append(
                TranscribedSegment(
                    words[0].start, words[-1].end, text, tuple(words), segment.speaker
                )
            )
    return out or [segment]
