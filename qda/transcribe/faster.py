"""faster-whisper (CTranslate2): the default engine. int8 on CPU, float16 on a GPU."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from qda.transcribe.loops import loop_reason
from qda.transcribe.sentences import split_sentences
from qda.transcribe.types import (
    Engine,
    EngineInfo,
    TranscribedSegment,
    TranscriptionInfo,
    TranscriptionOptions,
    Word,
)
from qda.transcribe.weights import download_failed, find_model


def _device() -> tuple[str, str]:
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        return "cuda", "float16"
    return "cpu", "int8"


class FasterWhisperTranscriber:
    """Whisper through faster-whisper, loaded once and reused for many files."""

    def __init__(self, model: str = "base", *, device: str | None = None, threads: int = 0):
        import faster_whisper
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        source = find_model(model)
        device, compute_type = (
            (device, "int8" if device == "cpu" else "float16") if device else _device()
        )
        threads = threads or min(4, os.cpu_count() or 1)
        try:
            self._model = WhisperModel(
                str(source.path) if source.path else source.name,
                device=device,
                compute_type=compute_type,
                cpu_threads=threads,
                download_root=None,
                local_files_only=False,
            )
        except Exception as e:  # the hub download of a model that is not bundled
            if source.path is None:
                raise download_failed(model, e) from None
            raise
        self._batched = BatchedInferencePipeline(self._model)
        self.info = EngineInfo(
            engine=Engine.FASTER_WHISPER,
            model=model,
            version=faster_whisper.__version__,
            device=device,
            compute_type=compute_type,
        )

    def transcribe(
        self, audio: np.ndarray, options: TranscriptionOptions
    ) -> tuple[TranscriptionInfo, Iterator[TranscribedSegment]]:
        common = {
            "language": options.language,
            "beam_size": options.beam_size,
            "word_timestamps": options.word_timestamps,
            "initial_prompt": options.initial_prompt,
        }
        if options.temperature is not None:
            common["temperature"] = options.temperature
        batched = options.vad and options.batch_size > 1
        if batched:
            # Speech regions found by VAD are decoded several at a time: about 1.7x
            # faster than one by one on 2 cores, same words (previous text is never
            # used as a prompt in this mode). Its ~30 s segments are cut into
            # sentences by their word timings.
            common["word_timestamps"] = True
            segments, info = self._batched.transcribe(
                audio, batch_size=options.batch_size, **common
            )
        else:
            segments, info = self._model.transcribe(
                audio,
                vad_filter=options.vad,
                condition_on_previous_text=options.condition_on_previous_text,
                **common,
            )

        def convert() -> Iterator[TranscribedSegment]:
            for s in segments:
                if loop_reason(s.text, s.start, s.end):
                    # a repetition loop ("men vi er i det, men vi er i det, …"): decode
                    # that stretch again one window at a time, where Whisper's
                    # temperature fallback can get out of it
                    yield from self._redecode(audio, s.start, s.end, options)
                    continue
                words = tuple(Word(w.start, w.end, w.word, w.probability) for w in (s.words or ()))
                segment = TranscribedSegment(s.start, s.end, s.text.strip(), words)
                yield from split_sentences(segment) if batched else [segment]

        return (
            TranscriptionInfo(info.language, info.language_probability, info.duration),
            convert(),
        )

    def _redecode(
        self, audio: np.ndarray, start: float, end: float, options: TranscriptionOptions
    ) -> Iterator[TranscribedSegment]:
        piece = audio[int(start * 16_000) : int(end * 16_000) + 1]
        segments, _ = self._model.transcribe(
            piece,
            language=options.language,
            beam_size=options.beam_size,
            word_timestamps=True,
            initial_prompt=options.initial_prompt,
            vad_filter=True,
            condition_on_previous_text=False,
            **({"temperature": options.temperature} if options.temperature is not None else {}),
        )
        for s in segments:
            words = tuple(
                Word(w.start + start, w.end + start, w.word, w.probability) for w in (s.words or ())
            )
            yield TranscribedSegment(s.start + start, s.end + start, s.text.strip(), words)

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The most likely language of the first 30 s, with its probability."""
        language, probability, _ = self._model.detect_language(audio)
        return language, probability
