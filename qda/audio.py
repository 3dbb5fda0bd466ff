"""Check and decode recordings in-process with PyAV (its own FFmpeg; no `ffmpeg` needed).

Accepts what researchers record: wav, mp3, m4a/aac, ogg/opus, flac, webm, and the
audio track of video files (mp4, mov, mkv). Everything is decoded to 16 kHz float32,
mono for the engines, plus the two channels of a stereo file (one voice per channel
is a common interview set-up).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from qda.errors import InvalidInput
from qda.limits import ENV, limits

SAMPLE_RATE = 16_000
MIN_SECONDS = 0.5
SILENCE_PEAK = 1e-3  # below this peak amplitude a recording is taken as silent

AUDIO_EXTENSIONS = (
    "wav", "mp3", "m4a", "aac", "ogg", "opus", "oga", "flac", "webm", "wma",
    "mp4", "mov", "mkv", "avi", "3gp", "amr",
)  # fmt: skip


class UnsupportedAudio(InvalidInput):
    """A recording qda cannot use, with the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(reason, source=source)


@dataclass(frozen=True)
class AudioInfo:
    """What a recording is, as found when checking it."""

    duration: float  # seconds
    channels: int
    sample_rate: int
    codec: str
    container: str
    has_video: bool = False


@dataclass(frozen=True)
class Audio:
    """A decoded recording."""

    samples: np.ndarray  # 16 kHz mono float32 in [-1, 1]
    info: AudioInfo
    stereo: np.ndarray | None = None  # (2, n) 16 kHz float32 when the file has 2+ channels

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def sha256_of(source: str | Path | BinaryIO) -> str:
    digest = hashlib.sha256()
    if isinstance(source, str | Path):
        with open(source, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    else:
        position = source.tell()
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
        source.seek(position)
    return digest.hexdigest()


def _head(source: str | Path | BinaryIO, size: int = 1 << 16) -> bytes:
    if isinstance(source, str | Path):
        with open(source, "rb") as f:
            return f.read(size)
    position = source.tell()
    data = source.read(size)
    source.seek(position)
    return data


def _size(source: str | Path | BinaryIO) -> int:
    if isinstance(source, str | Path):
        return Path(source).stat().st_size
    position = source.tell()
    source.seek(0, 2)
    size = source.tell() - position
    source.seek(position)
    return size


def declared_wav_seconds(head: bytes) -> float | None:
    """The length a WAV file's header announces (FFmpeg trusts the file size instead,
    so a cut-off WAV would otherwise pass as a short one)."""
    if len(head) < 44 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    position, byte_rate = 12, None
    while position + 8 <= len(head):
        chunk, size = (
            head[position : position + 4],
            int.from_bytes(head[position + 4 : position + 8], "little"),
        )
        if chunk == b"fmt " and position + 20 <= len(head):
            byte_rate = int.from_bytes(head[position + 16 : position + 20], "little")
        if chunk == b"data":
            if not byte_rate or size in (0, 0xFFFFFFFF):  # streaming writers leave it open
                return None
            return size / byte_rate
        position += 8 + size + (size & 1)
    return None


def _open(source: str | Path | BinaryIO, name: str) -> av.container.InputContainer:
    if _size(source) == 0:
        raise UnsupportedAudio(name, "the file is empty")
    head = _head(source, 12)
    try:
        container = av.open(source if not isinstance(source, Path) else str(source), "r")
    except (av.error.FFmpegError, ValueError, OSError) as e:
        reason = _reason(e)
        if head[4:8] == b"ftyp":  # an MP4/M4A/MOV whose index never got written
            raise UnsupportedAudio(
                name,
                "the file is incomplete: its index is missing (the recording may not "
                "have finished saving, or the copy was cut off)",
            ) from None
        raise UnsupportedAudio(
            name, f"not an audio or video file qda can read ({reason})"
        ) from None
    if not container.streams.audio:
        container.close()
        raise UnsupportedAudio(name, "the file has no audio track")
    return container


def _reason(error: Exception | None) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(": '", 1)[0] if text else type(error).__name__


def probe(source: str | Path | BinaryIO, name: str = "") -> AudioInfo:
    """Check that a file holds audio, without decoding it all."""
    name = name or str(source)
    with _open(source, name) as container:
        return _info(container)


def _info(container: av.container.InputContainer) -> AudioInfo:
    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    else:
        duration = 0.0
    return AudioInfo(
        duration=duration,
        channels=stream.codec_context.channels or 1,
        sample_rate=stream.codec_context.sample_rate or 0,
        codec=stream.codec_context.name,
        container=container.format.name,
        has_video=bool(container.streams.video),
    )


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.3g} hours" if seconds >= 3600 else f"{seconds / 60:.3g} minutes"


def load_audio(
    source: str | Path | BinaryIO,
    name: str = "",
    *,
    max_seconds: float | None = None,
) -> Audio:
    """Decode a recording to 16 kHz float32 after checking it.

    Raises:
        UnsupportedAudio: empty, not audio, no audio track, truncated (less than half
            of its stated length decodes), too short, too long, or silent.
    """
    name = name or Path(str(source)).name
    if max_seconds is None:
        max_seconds = limits().audio_seconds
    declared = declared_wav_seconds(_head(source))
    with _open(source, name) as container:
        info = _info(container)
        if declared is not None:
            info = AudioInfo(
                max(info.duration, declared),
                info.channels,
                info.sample_rate,
                info.codec,
                info.container,
                info.has_video,
            )
        if info.duration > max_seconds:
            raise UnsupportedAudio(
                name,
                f"the recording is {_hours(info.duration)} long; the limit is "
                f"{_hours(max_seconds)} (split it, or raise the limit: {ENV['audio_hours']})",
            )
        stream = container.streams.audio[0]
        layout = "stereo" if info.channels >= 2 else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        decode_error = None
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
        except (av.error.FFmpegError, ValueError) as e:
            decode_error = e  # a damaged file: keep what decoded, judge below
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    channels = 2 if layout == "stereo" else 1
    data = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    data = data.astype(np.float32, copy=False)
    seconds = data.shape[1] / SAMPLE_RATE
    if seconds == 0:
        reason = f" ({_reason(decode_error)})" if decode_error else ""
        raise UnsupportedAudio(name, f"no audio could be decoded from the file{reason}")
    if info.duration > 0 and seconds < 0.95 * info.duration - 0.5:
        raise UnsupportedAudio(
            name,
            f"the file is damaged or truncated: only {seconds:.1f} s of its "
            f"{info.duration:.1f} s could be decoded",
        )
    if decode_error is not None and seconds < MIN_SECONDS:
        raise UnsupportedAudio(name, f"the file is damaged ({_reason(decode_error)})")
    if seconds < MIN_SECONDS:
        raise UnsupportedAudio(name, f"the recording is too short ({seconds:.2f} s)")
    if seconds > max_seconds:
        raise UnsupportedAudio(
            name,
            f"the recording is longer than the limit of {_hours(max_seconds)} "
            f"(split it, or raise the limit: {ENV['audio_hours']})",
        )
    mono = data.mean(axis=0) if channels == 2 else data[0]
    if float(np.max(np.abs(mono))) < SILENCE_PEAK:
        raise UnsupportedAudio(name, "the recording is silent: there is nothing to transcribe")
    info = AudioInfo(
        duration=seconds,
        channels=info.channels,
        sample_rate=info.sample_rate,
        codec=info.codec,
        container=info.container,
        has_video=info.has_video,
    )
    return Audio(
        samples=np.ascontiguousarray(mono), info=info, stereo=data if channels == 2 else None
    )
