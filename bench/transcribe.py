"""Transcription speed and accuracy: faster-whisper against openai-whisper.

Both engines run on the same weights (the bundled Whisper base; openai-whisper on the
checkpoint qda converts from it), the same audio and the same decoding settings
(greedy and beam 5, VAD off so both see the same samples), each in a fresh process so
that its peak memory is its own. Then qda's default pipeline (faster-whisper, batched
with VAD, speaker labels included) on the same audio.

    python bench/transcribe.py                   # ~95 s of English from the demo recordings
    python bench/transcribe.py --audio clip.flac --reference "the words said"

Prints real-time factor (seconds of audio per second of work), word error rate and
peak memory, and the ratios against openai-whisper.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CONFIGS = {
    "openai-whisper greedy": ("openai-whisper", 1, "plain"),
    "openai-whisper beam 5": ("openai-whisper", 5, "plain"),
    "faster-whisper greedy": ("faster-whisper", 1, "plain"),
    "faster-whisper beam 5": ("faster-whisper", 5, "plain"),
    "qda default (batched, VAD, speakers)": ("faster-whisper", 5, "pipeline"),
}


def default_audio(folder: Path) -> tuple[Path, str]:
    """The English demo recording three times over (about 95 s), and its words."""
    from qda.audio import SAMPLE_RATE, load_audio
    from tests.conftest import RECORDINGS, reference_text

    samples = load_audio(RECORDINGS / "P15_lorraine.opus").samples
    samples = np.concatenate([samples] * 3)
    path = folder / "english-95s.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path, " ".join([reference_text("P15_lorraine")] * 3)


def run_one(name: str, audio_path: str, reference: str, language: str) -> dict:
    from qda.audio import SAMPLE_RATE, Audio, load_audio
    from qda.transcribe import TranscriptionOptions, load_transcriber
    from qda.transcribe.metrics import word_error_rate
    from qda.transcribe.pipeline import transcribe_audio

    engine, beam, mode = CONFIGS[name]
    audio = load_audio(audio_path)
    transcriber = load_transcriber(engine, "base", threads=2)
    if mode == "plain":
        options = TranscriptionOptions(language=language, beam_size=beam, vad=False, batch_size=1)
        speakers = 1
    else:
        options = TranscriptionOptions(language=language, beam_size=beam)
        speakers = 2
    # one-time costs (imports, VAD and voice-encoder loading, first decode) are paid
    # once per process and do not grow with the recording: warm up on 20 s first
    warm = Audio(audio.samples[: 20 * SAMPLE_RATE], audio.info)
    transcribe_audio(warm, transcriber, options, speakers=speakers)
    started = time.perf_counter()
    result = transcribe_audio(audio, transcriber, options, speakers=speakers)
    seconds = time.perf_counter() - started
    text = " ".join(s.text for s in result.segments)
    return {
        "name": name,
        "rtf": audio.duration / seconds,
        "wer": word_error_rate(reference, text),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path)
    parser.add_argument("--reference", default="")
    parser.add_argument("--language", default="en")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, str(args.audio), args.reference, args.language)))
        return
    with tempfile.TemporaryDirectory() as folder:
        import os

        os.environ.setdefault("QDA_MODEL_CACHE", str(Path(folder) / "models"))
        audio, reference = (
            (args.audio, args.reference) if args.audio else default_audio(Path(folder))
        )
        from qda.audio import load_audio

        duration = load_audio(audio).duration
        print(f"audio: {audio.name}, {duration:.1f} s; Whisper base on both engines; 2 threads\n")
        results = []
        for name in CONFIGS:
            out = subprocess.run(
                [sys.executable, __file__, "--one", name, "--audio", str(audio),
                 "--reference", reference, "--language", args.language],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = results[-1]
            print(
                f"  {r['name']:40s} {r['rtf']:5.1f}x real time  "
                f"WER {r['wer']:.3f}  peak {r['peak_mb']:5.0f} MB"
            )
    by_name = {r["name"]: r for r in results}
    print("\nratios against openai-whisper on the same weights and settings:")
    for decoding in ("greedy", "beam 5"):
        ours, theirs = by_name[f"faster-whisper {decoding}"], by_name[f"openai-whisper {decoding}"]
        print(
            f"  {decoding:7s} speed {ours['rtf'] / theirs['rtf']:4.1f}x   "
            f"WER {ours['wer']:.3f} vs {theirs['wer']:.3f}   "
            f"memory {ours['peak_mb'] / theirs['peak_mb']:.2f}x"
        )
    default, reference_run = (
        by_name["qda default (batched, VAD, speakers)"],
        by_name["openai-whisper beam 5"],
    )
    print(
        f"  qda default pipeline vs openai-whisper beam 5: speed "
        f"{default['rtf'] / reference_run['rtf']:.1f}x, "
        f"WER {default['wer']:.3f} vs {reference_run['wer']:.3f}"
    )


if __name__ == "__main__":
    main()
