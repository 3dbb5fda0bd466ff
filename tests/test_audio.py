"""Checking and decoding recordings: every common format, and every kind of bad file."""

from __future__ import annotations

import io
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from qda.audio import SAMPLE_RATE, UnsupportedAudio, load_audio, probe
from tests.conftest import RECORDINGS

SPEECH = RECORDINGS / "P15_lorraine.opus"


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return load_audio(SPEECH).samples[: 8 * SAMPLE_RATE]


def encode(
    samples: np.ndarray | None,
    path: Path,
    codec: str,
    *,
    rate: int = 44_100,
    stereo: bool = False,
    video: bool = False,
) -> Path:
    """Write samples (16 kHz mono) with PyAV as `codec` in the container of `path`."""
    with av.open(str(path), "w") as out:
        layout = "stereo" if stereo else "mono"
        a = out.add_stream(codec, rate=rate, layout=layout) if samples is not None else None
        v = out.add_stream("mpeg4", rate=1) if video else None
        if v is not None:
            v.width, v.height, v.pix_fmt = 64, 64, "yuv420p"
            for i in range(3):
                frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 40 * i, np.uint8), "rgb24")
                frame.pts = i
                frame.time_base = Fraction(1, 1)
                for packet in v.encode(frame):
                    out.mux(packet)
            for packet in v.encode(None):
                out.mux(packet)
        if a is not None:
            data = np.stack([samples, samples * 0.5]) if stereo else samples.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(
                data.astype(np.float32), format="fltp", layout=layout
            )
            frame.sample_rate = SAMPLE_RATE
            frame.time_base = Fraction(1, SAMPLE_RATE)
            fmt = a.codec_context.codec.audio_formats[0].name
            resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
            for chunk in resampler.resample(frame) + resampler.resample(None):
                for packet in a.encode(chunk):
                    out.mux(packet)
            for packet in a.encode(None):
                out.mux(packet)
    return path


@pytest.mark.parametrize(
    ("name", "codec", "kwargs"),
    [
        ("a.wav", "pcm_s16le", {"stereo": True}),
        ("a.mp3", "libmp3lame", {}),
        ("a.m4a", "aac", {}),
        ("a.ogg", "libopus", {"rate": 48_000}),
        ("a.opus", "libopus", {"rate": 48_000}),
        ("a.flac", "flac", {}),
        ("a.webm", "libopus", {"rate": 48_000}),
        ("a.mp4", "aac", {"video": True}),
        ("a.mov", "aac", {"video": True, "stereo": True}),
    ],
)
def test_formats_researchers_record_decode_to_16k(tmp_path, speech, name, codec, kwargs):
    path = encode(speech, tmp_path / name, codec, **kwargs)
    audio = load_audio(path)
    assert abs(audio.duration - 8.0) < 0.2
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert audio.info.has_video == kwargs.get("video", False)
    assert (audio.stereo is not None) == kwargs.get("stereo", False)
    # the same speech comes out: correlate with the original over the middle part
    n = min(len(speech), len(audio.samples)) - 4000
    best = max(
        np.corrcoef(speech[2000:n], audio.samples[2000 + lag : n + lag])[0, 1]
        for lag in range(0, 1200, 8)
        if n + lag <= len(audio.samples)
    )
    assert best > 0.3, best  # lossy codecs shift phases; unrelated audio gives about 0


def test_file_like_input(speech, tmp_path):
    data = encode(speech, tmp_path / "a.flac", "flac").read_bytes()
    assert abs(load_audio(io.BytesIO(data), "upload.flac").duration - 8.0) < 0.1
    assert probe(io.BytesIO(data), "upload.flac").codec == "flac"


def _wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    return buffer.getvalue()


def test_bad_recordings_get_a_clear_reason(speech, tmp_path):
    cases = {
        "empty.mp3": b"",
        "random.mp3": np.random.default_rng(0).bytes(50_000),
        "notes.m4a": b"These are my interview notes, not a recording.\n" * 50,
        "short.wav": _wav_bytes(speech[: SAMPLE_RATE // 10]),
        "silence.wav": _wav_bytes(np.zeros(SAMPLE_RATE * 5, np.float32)),
        "truncated.wav": _wav_bytes(speech)[: 44 + 2 * SAMPLE_RATE // 3],
    }
    no_audio = encode(None, tmp_path / "video.mp4", "aac", video=True).read_bytes()
    cases["video-only.mp4"] = no_audio
    whole = encode(speech, tmp_path / "phone.m4a", "aac").read_bytes()
    cases["cut-off.m4a"] = whole[: len(whole) // 2]
    expected = {
        "empty.mp3": "empty.mp3: the file is empty",
        "random.mp3": "random.mp3: not an audio or video file qda can read",
        "notes.m4a": "notes.m4a: not an audio or video file qda can read",
        "short.wav": "short.wav: the recording is too short (0.10 s)",
        "silence.wav": "silence.wav: the recording is silent",
        "truncated.wav": "truncated.wav: the file is damaged or truncated: only 0.3 s of its 8.0 s",
        "video-only.mp4": "video-only.mp4: the file has no audio track",
        "cut-off.m4a": "cut-off.m4a: the file is incomplete: its index is missing",
    }
    for name, data in cases.items():
        with pytest.raises(UnsupportedAudio) as raised:
            load_audio(io.BytesIO(data), name)
        assert str(raised.value).startswith(expected[name]), str(raised.value)


def test_recordings_over_the_length_limit_are_refused(speech):
    with pytest.raises(
        UnsupportedAudio, match=r"the limit is 0.0833 minutes .*QDA_MAX_AUDIO_HOURS"
    ):
        load_audio(io.BytesIO(_wav_bytes(speech)), "long.wav", max_seconds=5)
