"""Speech to text: engines behind one `Transcriber` protocol, model lookup, speakers.

    transcriber = load_transcriber(Engine.FASTER_WHISPER, "base")
    transcript = transcribe_audio(load_audio("interview.m4a"), transcriber, options)

Engines are imported lazily: `import qda.transcribe` loads neither PyTorch nor
CTranslate2.
"""

from __future__ import annotations

from qda.transcribe.types import (
    Engine,
    EngineInfo,
    TranscribedSegment,
    Transcriber,
    Transcript,
    TranscriptionInfo,
    TranscriptionOptions,
    Word,
)
from qda.transcribe.weights import BUNDLED_MODELS, DEFAULT_MODEL, ModelUnavailable


def load_transcriber(
    engine: Engine | str = Engine.FASTER_WHISPER,
    model: str = DEFAULT_MODEL,
    *,
    device: str | None = None,
    threads: int = 0,
) -> Transcriber:
    """An engine with its model loaded (a bundled name, another name, or a path)."""
    engine = Engine(engine)
    if engine is Engine.FASTER_WHISPER:
        from qda.transcribe.faster import FasterWhisperTranscriber

        return FasterWhisperTranscriber(model, device=device, threads=threads)
    from qda.transcribe.openai_engine import OpenAIWhisperTranscriber

    return OpenAIWhisperTranscriber(model, device=device, threads=threads)


__all__ = [
    "BUNDLED_MODELS",
    "DEFAULT_MODEL",
    "Engine",
    "EngineInfo",
    "ModelUnavailable",
    "TranscribedSegment",
    "Transcriber",
    "Transcript",
    "TranscriptionInfo",
    "TranscriptionOptions",
    "Word",
    "load_transcriber",
]
