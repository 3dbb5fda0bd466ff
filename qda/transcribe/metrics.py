"""How good a transcript is against a reference: word error rate, speaker accuracy."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qda.models import SegmentDraft, SpeakerRole
from qda.transcribe.types import TranscribedSegment


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w' ]+", " ", text.lower()).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, ignoring case and
    punctuation."""
    ref, hyp = _words(reference), _words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diagonal + (ref[i - 1] != hyp[j - 1]))
            diagonal = current
    return row[len(hyp)] / max(len(ref), 1)


def speaker_time_accuracy(
    reference: Sequence[SegmentDraft],
    segments: Sequence[TranscribedSegment],
    interviewer: str = "Interviewer",
) -> float:
    """Share of transcribed speech time whose speaker role (interviewer or not) matches
    the reference turn playing at the segment's middle. Reference turns need starts."""
    starts = [(r.start or 0.0, r.role) for r in reference]
    right = total = 0.0
    for s in segments:
        middle = (s.start + s.end) / 2
        role = starts[0][1]
        for start, r in starts:
            if start <= middle:
                role = r
        said_interviewer = s.speaker == interviewer
        length = s.end - s.start
        total += length
        right += length * (said_interviewer == (role is SpeakerRole.INTERVIEWER))
    return right / total if total else 0.0
