"""Speech that voice detection drops, and what the second pass gets back.

    python bench/vad.py

For each clip (the real speech clips of ../shared/audio when they are there, and the
demo's recordings), in one run: words transcribed with faster-whisper's VAD alone, with
VAD and qda's second pass over loud uncovered stretches, and without VAD; the word error
rate of each against the reference where there is one, and the time each took.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

REFERENCES = {
    "fr_bonjour_vous_allez_bien.mp3": ("fr", "Bonjour ! Est-ce que vous allez bien ? " * 2),
    "en_jfk.flac": ("en", "And so, my fellow Americans, ask not what your country can do for "
                          "you, ask what you can do for your country."),
    "fr_punctuations.mp3": ("fr", "Dis-moi, est-ce que l'avion vole ?"),
    "da_tester_en_to_tre.wav": ("da", "tester en to tre fire fem seks syv otte"),
}  # fmt: skip


def main() -> None:
    from qda.audio import load_audio
    from qda.jobs import TranscriptionRequest
    from qda.transcribe import load_transcriber
    from qda.transcribe.gaps import recover
    from qda.transcribe.metrics import word_error_rate
    from qda.transcribe.pipeline import decode
    from tests.conftest import reference_text

    clips = []
    shared = REPO.parent / "shared" / "audio"
    for name, (language, text) in REFERENCES.items():
        if (shared / name).exists():
            clips.append((shared / name, language, text))
    recordings = REPO / "sample_transcripts" / "recordings"
    for name, language in [("P15_lorraine", "en"), ("P16_birgit", "da"), ("P17_elodie", "fr")]:
        clips.append((recordings / f"{name}.opus", language, reference_text(name)))
    engine = load_transcriber("faster-whisper", "base", threads=2)
    print(f"{'clip':32} {'VAD':>16} {'VAD + 2nd pass':>22} {'no VAD':>16}")
    totals = [0, 0, 0]
    for path, language, reference in clips:
        with path.open("rb") as f:
            audio = load_audio(f, path.name)
        options = TranscriptionRequest(language=language).decoding_options(language)
        row = []
        for mode in ("vad", "vad+", "plain"):
            started = time.perf_counter()
            opts = options if mode != "plain" else replace(options, vad=False)
            _, segments = decode(engine, audio.samples, opts)
            segments = list(segments)
            if mode == "vad+":
                segments += recover(engine, audio.samples, options, segments).recovered
            seconds = time.perf_counter() - started
            text = " ".join(s.text for s in sorted(segments, key=lambda s: s.start))
            words = len(text.split())
            row.append((words, word_error_rate(reference, text), seconds))
        for k, (words, _, _) in enumerate(row):
            totals[k] += words
        cells = [f"{w:3} w WER {e:4.2f} {t:4.1f}s" for w, e, t in row]
        print(f"{path.name:32} {cells[0]:>16} {cells[1]:>22} {cells[2]:>16}")
    print(f"words: VAD {totals[0]}, VAD + second pass {totals[1]} "
          f"({totals[1] / max(totals[0], 1):.2f}x), no VAD {totals[2]}")  # fmt: skip


if __name__ == "__main__":
    main()
