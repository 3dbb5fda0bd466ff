"""Speech that voice detection dropped: loud stretches no segment covers are decoded
again without VAD, and what stays empty is reported."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qda.transcribe.gaps import loud_stretches, recover, uncovered
from qda.transcribe.types import TranscribedSegment, TranscriptionInfo, TranscriptionOptions

RATE = 16_000


def clip(*parts: tuple[float, float]) -> np.ndarray:
    """Quiet noise with a 200 Hz tone (amplitude, seconds) per part; amplitude 0 = pause."""
    rng = np.random.default_rng(0)
    out = []
    for amplitude, seconds in parts:
        t = np.arange(int(seconds * RATE)) / RATE
        out.append(amplitude * np.sin(2 * np.pi * 200 * t) + rng.normal(0, 0.001, t.size))
    return np.concatenate(out).astype(np.float32)


@dataclass
class SlicesTranscriber:
    """Says "words" for any slice with a tone in it; records what it was asked."""

    asked: list

    def transcribe(self, samples, options):
        self.asked.append((len(samples) / RATE, options.vad))
        loud = np.abs(samples).max() > 0.05
        segments = [TranscribedSegment(0.2, len(samples) / RATE - 0.2, "words")] if loud else []
        return TranscriptionInfo("en", 1.0, len(samples) / RATE), iter(segments)


def test_loud_stretches_and_what_segments_leave_uncovered():
    samples = clip((0.3, 2.0), (0, 5.0), (0.3, 1.5), (0, 2.0), (0.3, 0.2), (0, 1.0))
    stretches = loud_stretches(samples)
    assert [(round(a, 1), round(b, 1)) for a, b in stretches] == [
        (0.0, 2.0),
        (7.0, 8.5),
        (10.5, 10.7),
    ]
    said = [TranscribedSegment(0.1, 1.9, "hello")]
    # the first is covered, the third too short (a cough): the second is left
    assert [(round(a, 1), round(b, 1)) for a, b in uncovered(stretches, said)] == [(7.0, 8.5)]


def test_skipped_speech_is_decoded_again_without_vad():
    samples = clip((0.3, 2.0), (0, 5.0), (0.3, 1.5), (0, 2.0))
    engine = SlicesTranscriber([])
    found = recover(
        engine, samples, TranscriptionOptions(language="en", vad=True),
        [TranscribedSegment(0.1, 1.9, "hello")], speaker="S1",
    )  # fmt: skip
    assert [(round(s, 1), vad) for s, vad in engine.asked] == [(2.5, False)]  # padded, no VAD
    (segment,) = found.recovered
    assert (round(segment.start, 1), segment.text, segment.speaker) == (6.7, "words", "S1")
    assert found.missing == []


def test_a_loud_stretch_without_words_is_reported():
    samples = clip((0.3, 2.0), (0, 3.0), (0.3, 1.0), (0, 1.0))

    class Nothing(SlicesTranscriber):
        def transcribe(self, samples, options):
            return TranscriptionInfo("en", 1.0, 1.0), iter([])

    found = recover(Nothing([]), samples, TranscriptionOptions(), [TranscribedSegment(0, 2, "a")])
    assert found.recovered == [] and found.missing == [(5.0, 6.0)]
