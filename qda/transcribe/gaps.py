"""Speech that voice detection left out: found by loudness, decoded again without it.

Silero VAD (faster-whisper's) spares Whisper the silences, where it would make text up,
but it also drops quiet or short speech: in a 36 s French clip the second "Bonjour,
est-ce que vous allez bien ?" (32–36 s) is gone. After decoding, stretches that are
loud enough to be speech (well above the recording's own noise floor) and that no
segment covers are decoded once more without VAD; what comes back is added, and what
does not is reported with its times, so that nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from qda.transcribe.types import TranscribedSegment, Transcriber, TranscriptionOptions

SAMPLE_RATE = 16_000
FRAME_S = 0.03
MIN_GAP_S = 0.6  # shorter loud stretches (a cough, a chair) are not looked at
ABOVE_FLOOR_DB = 15.0  # a frame is loud when this far above the 20th percentile
MAX_GAPS = 60  # decoding again stops here (a noisy recording), the rest are reported


@dataclass(frozen=True)
class Gaps:
    """What the second pass found."""

    recovered: list[TranscribedSegment]
    missing: list[tuple[float, float]]  # loud stretches still without text (seconds)


def loud_stretches(samples: np.ndarray, *, join_s: float = 0.4) -> list[tuple[float, float]]:
    """Stretches (start, end in seconds) of frames well above the noise floor."""
    frame = int(FRAME_S * SAMPLE_RATE)
    n = len(samples) // frame
    if n == 0:
        return []
    rms = np.sqrt(np.mean(samples[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms)
    loud = db > max(np.percentile(db, 20) + ABOVE_FLOOR_DB, -50.0)
    out: list[list[float]] = []
    for i in np.flatnonzero(loud):
        start, end = i * FRAME_S, (i + 1) * FRAME_S
        if out and start - out[-1][1] <= join_s:
            out[-1][1] = end
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def uncovered(
    stretches: Sequence[tuple[float, float]],
    segments: Sequence[TranscribedSegment],
    *,
    margin_s: float = 0.3,
) -> list[tuple[float, float]]:
    """The parts of `stretches` no segment covers, at least `MIN_GAP_S` long."""
    covered = sorted((s.start - margin_s, s.end + margin_s) for s in segments)
    out = []
    for start, end in stretches:
        pieces = [(start, end)]
        for a, b in covered:
            pieces = [
                part
                for lo, hi in pieces
                for part in ((lo, min(hi, a)), (max(lo, b), hi))
                if part[1] - part[0] > 0
            ]
        out += [(lo, hi) for lo, hi in pieces if hi - lo >= MIN_GAP_S]
    return out


def recover(
    transcriber: Transcriber,
    samples: np.ndarray,
    options: TranscriptionOptions,
    segments: Sequence[TranscribedSegment],
    *,
    speaker: str = "",
    pad_s: float = 0.5,
) -> Gaps:
    """Decode, without VAD, the loud stretches that `segments` leave uncovered."""
    gaps = uncovered(loud_stretches(samples), segments)
    plain = replace(options, vad=False)
    recovered: list[TranscribedSegment] = []
    missing: list[tuple[float, float]] = []
    for k, (start, end) in enumerate(gaps):
        if k >= MAX_GAPS:
            missing.append((start, end))
            continue
        lo = max(0.0, start - pad_s)
        hi = min(len(samples) / SAMPLE_RATE, end + pad_s)
        _, found = transcriber.transcribe(
            samples[int(lo * SAMPLE_RATE) : int(hi * SAMPLE_RATE)], plain
        )
        texts = [
            replace(
                s,
                start=lo + s.start,
                end=min(hi, lo + s.end),
                words=tuple(replace(w, start=w.start + lo, end=w.end + lo) for w in s.words),
                speaker=speaker,
            )
            for s in found
            if s.text.strip()
        ]
        if texts:
            recovered += texts
        else:
            missing.append((round(start, 1), round(end, 1)))
    return Gaps(recovered, missing)
