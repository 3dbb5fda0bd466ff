"""Transcription with the real bundled models on the project's own recordings."""

from __future__ import annotations

import json
import wave

import numpy as np
import pytest
from click.testing import CliRunner

from qda.audio import SAMPLE_RATE, Audio, AudioInfo, load_audio
from qda.cli import main
from qda.ingest import read_transcript
from qda.transcribe import ModelUnavailable, TranscriptionOptions, load_transcriber
from qda.transcribe.metrics import speaker_time_accuracy, word_error_rate
from qda.transcribe.pipeline import INTERVIEWER, transcribe_audio
from qda.transcribe.weights import BASE_SHA256, _sha256, find_model
from tests.conftest import RECORDINGS, reference_text

pytestmark = pytest.mark.slow


def reference(stem: str):
    with (RECORDINGS / f"{stem}.txt").open("rb") as f:
        return read_transcript(f, f"{stem}.txt").segments


def test_bundled_models_are_found_without_network(model_cache):
    base = find_model("base")
    assert base.bundled and base.path.is_relative_to(model_cache)
    assert _sha256(base.path / "model.bin") == BASE_SHA256
    assert find_model("base").path == base.path  # joined once, then reused
    assert (find_model("tiny.en").path / "model.bin").exists()
    assert find_model("large-v3").path is None  # left to the engine's own download
    with pytest.raises(ModelUnavailable, match=r"'small' is not bundled.*bundled models"):
        load_transcriber("faster-whisper", "small")


def test_english_word_error_rate_of_base(base_model):
    audio = load_audio(RECORDINGS / "P15_lorraine.opus")
    result = transcribe_audio(audio, base_model, TranscriptionOptions(language="en"))
    hypothesis = " ".join(s.text for s in result.segments)
    assert word_error_rate(reference_text("P15_lorraine"), hypothesis) < 0.10
    assert result.engine.engine == "faster-whisper" and result.engine.version


def test_language_detection(base_model):
    audio = load_audio(RECORDINGS / "P15_lorraine.opus")
    language, probability = base_model.detect_language(audio.samples)
    assert (language, probability > 0.8) == ("en", True)
    result = transcribe_audio(audio, base_model, TranscriptionOptions(language=None))
    assert result.language == "en"


@pytest.mark.parametrize(
    ("stem", "language"), [("P15_lorraine", "en"), ("P16_birgit", "da"), ("P17_elodie", "fr")]
)
def test_two_voices_are_told_apart(base_model, stem, language):
    audio = load_audio(RECORDINGS / f"{stem}.opus")
    # temperature 0: no sampling fallback, so the segments (and this test) are the same
    # every run; the synthetic Danish voice otherwise sends Whisper into random retries
    options = TranscriptionOptions(language=language, temperature=0.0)
    result = transcribe_audio(audio, base_model, options)
    assert speaker_time_accuracy(reference(stem), result.segments) >= 0.95
    assert result.segments[0].speaker == INTERVIEWER


def test_one_voice_per_stereo_channel_is_transcribed_channel_by_channel(base_model, tmp_path):
    """An interview recorded with one microphone per person, each on its own channel."""
    mono = load_audio(RECORDINGS / "P15_lorraine.opus").samples
    turns = reference("P15_lorraine")
    left, right = np.zeros_like(mono), np.zeros_like(mono)
    for turn, following in zip(turns, [*turns[1:], None], strict=True):
        a = int(turn.start * SAMPLE_RATE)
        b = int(following.start * SAMPLE_RATE) if following else len(mono)
        (left if turn.speaker == "Interviewer" else right)[a:b] = mono[a:b]
    stereo = np.stack([left, right])
    audio = Audio(mono, AudioInfo(len(mono) / SAMPLE_RATE, 2, SAMPLE_RATE, "pcm", "wav"), stereo)
    result = transcribe_audio(audio, base_model, TranscriptionOptions(language="en"))
    assert speaker_time_accuracy(turns, result.segments) == 1.0
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)


def test_openai_whisper_runs_on_the_same_weights(base_model, model_cache):
    openai_engine = load_transcriber("openai-whisper", "base", threads=2)
    assert (model_cache / "openai-whisper" / "faster-whisper-base.pt").exists()
    audio = load_audio(RECORDINGS / "P15_lorraine.opus")
    options = TranscriptionOptions(language="en", beam_size=1, batch_size=1)
    ours = transcribe_audio(audio, openai_engine, options, speakers=1)
    theirs = transcribe_audio(audio, base_model, options, speakers=1)
    text = " ".join(s.text for s in ours.segments)
    assert word_error_rate(" ".join(s.text for s in theirs.segments), text) < 0.1
    assert word_error_rate(reference_text("P15_lorraine"), text) < 0.15
    assert ours.engine.engine == "openai-whisper"


def test_tiny_english_model():
    tiny = load_transcriber("faster-whisper", "tiny.en", threads=2)
    audio = load_audio(RECORDINGS / "P15_lorraine.opus")
    result = transcribe_audio(audio, tiny, TranscriptionOptions(language="en"), speakers=1)
    assert (
        word_error_rate(reference_text("P15_lorraine"), " ".join(s.text for s in result.segments))
        < 0.3
    )


def test_cli_transcribes_without_a_project(tmp_path):
    out = tmp_path / "p15.json"
    result = CliRunner().invoke(
        main,
        [
            "transcribe",
            str(RECORDINGS / "P15_lorraine.opus"),
            "--language",
            "en",
            "--format",
            "json",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert (
        data["language"] == "en" and data["engine"] == "faster-whisper" and data["model"] == "base"
    )
    assert abs(data["duration"] - 31.7) < 0.5
    assert {"start", "end", "speaker", "text"} <= set(data["segments"][0])
    assert {s["speaker"] for s in data["segments"]} == {"Interviewer", "Participant"}

    srt = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["transcribe", str(RECORDINGS / "P15_lorraine.opus"), "--format", "srt", "-o", str(srt)],
    )
    assert result.exit_code == 0
    assert (srt / "P15_lorraine.srt").read_text().startswith("1\n00:00:00,")

    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"not audio" * 100)
    result = CliRunner().invoke(main, ["transcribe", str(bad)])
    assert result.exit_code == 1
    assert "broken.mp3: not an audio or video file qda can read" in result.output


def _write_wav(path, samples):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


@pytest.mark.parametrize(("stem", "language"), [("P15_lorraine", "en"), ("P17_elodie", "fr")])
def test_a_monologue_gets_one_speaker_and_a_number_is_still_obeyed(base_model, stem, language):
    """Only the participant's answers of a demo recording: one voice. `auto` (the
    default) labels one speaker; the number, when given, is used as it is."""
    full = load_audio(RECORDINGS / f"{stem}.opus").samples
    turns = reference(stem)
    pieces = []
    for turn, following in zip(turns, [*turns[1:], None], strict=True):
        if turn.speaker != "Interviewer":
            a = int(turn.start * SAMPLE_RATE)
            b = int(following.start * SAMPLE_RATE) if following else len(full)
            pieces.append(full[a:b])
    mono = np.concatenate(pieces)
    audio = Audio(mono, AudioInfo(len(mono) / SAMPLE_RATE, 1, SAMPLE_RATE, "pcm", "wav"))
    options = TranscriptionOptions(language=language, temperature=0.0)
    result = transcribe_audio(audio, base_model, options)
    assert len({s.speaker for s in result.segments}) == 1
    forced = transcribe_audio(audio, base_model, options, speakers=2)
    assert len({s.speaker for s in forced.segments}) == 2
