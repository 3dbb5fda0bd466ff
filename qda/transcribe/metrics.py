"""How good a transcript is against a reference: word error rate, speaker accuracy."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qda.models import SegmentDraft
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
    reference: Sequence[SegmentDraft], segments: Sequence[TranscribedSegment]
) -> float:
    """Share of transcribed speech time given the right speaker, the labels matched to
    the reference speakers in the way that agrees best (speaker labels are arbitrary).
    The speaker of a segment is taken at its middle; reference turns need starts."""
    import itertools

    turns = [(r.start or 0.0, r.speaker) for r in reference]
    time: dict[tuple[str, str], float] = {}
    for s in segments:
        middle = (s.start + s.end) / 2
        truth = turns[0][1]
        for start, speaker in turns:
            if start <= middle:
                truth = speaker
        key = (s.speaker, truth)
        time[key] = time.get(key, 0.0) + (s.end - s.start)
    total = sum(time.values())
    labels = sorted({k[0] for k in time})
    truths = sorted({k[1] for k in time} | {t for _, t in turns})
    best = 0.0
    for chosen in itertools.permutations(truths, min(len(labels), len(truths))):
        best = max(
            best, sum(time.get((label, t), 0.0) for label, t in zip(labels, chosen, strict=False))
        )
    return best / total if total else 0.0
