"""Values passed between the transcription engines and the rest of qda."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np


class Engine(StrEnum):
    """Transcription engines qda can run."""

    FASTER_WHISPER = "faster-whisper"  # CTranslate2: the default, fastest on CPU
    OPENAI_WHISPER = "openai-whisper"  # the reference implementation (PyTorch)


@dataclass(frozen=True)
class TranscriptionOptions:
    """Decoding options; stored with every transcript so a result can be reproduced."""

    language: str | None = None  # ISO code ("en", "da", "fr"); None = detect
    beam_size: int = 5  # 1 = greedy decoding
    vad: bool = True  # skip silence (faster-whisper's Silero VAD); avoids hallucinated text
    condition_on_previous_text: bool = False  # True causes repetition loops on long files
    word_timestamps: bool = False
    initial_prompt: str | None = None  # names and jargon the interviews use
    temperature: float | None = None  # None: the engine's fallback schedule (0.0, 0.2, … 1.0)
    batch_size: int = 8  # faster-whisper with VAD: decode this many 30 s windows at once

    def as_dict(self) -> dict[str, object]:
        return {
            "language": self.language,
            "beam_size": self.beam_size,
            "vad": self.vad,
            "condition_on_previous_text": self.condition_on_previous_text,
            "word_timestamps": self.word_timestamps,
            "initial_prompt": self.initial_prompt,
            "temperature": self.temperature,
            "batch_size": self.batch_size,
        }


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class TranscribedSegment:
    """One segment as an engine decodes it (times in seconds from the audio start)."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str = ""


@dataclass(frozen=True)
class TranscriptionInfo:
    """What an engine knows before the first segment: language and duration."""

    language: str
    language_probability: float
    duration: float


@dataclass(frozen=True)
class EngineInfo:
    """Which engine and model made a transcript."""

    engine: Engine
    model: str  # the name or path the user gave
    version: str  # the engine's package version
    device: str = "cpu"
    compute_type: str = ""


@dataclass(frozen=True)
class Transcript:
    """A whole transcription result (what `qda transcribe` writes)."""

    language: str
    duration: float
    engine: EngineInfo
    options: TranscriptionOptions
    segments: list[TranscribedSegment] = field(default_factory=list)
    # loud stretches (start, end) that no segment covers, even decoded without VAD
    untranscribed: list[tuple[float, float]] = field(default_factory=list)


class Transcriber(Protocol):
    """A speech-to-text engine. `transcribe` yields segments as they are decoded, so
    callers can store them and report progress as they arrive."""

    info: EngineInfo

    def transcribe(
        self, audio: np.ndarray, options: TranscriptionOptions
    ) -> tuple[TranscriptionInfo, Iterator[TranscribedSegment]]:
        """Transcribe 16 kHz mono float32 samples."""
        ...
