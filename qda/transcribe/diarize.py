"""Who speaks when: label each transcribed segment with a speaker.

Two ways, tried in order:

1. **Channels.** A stereo recording with one voice per channel (a common interview
   set-up: uncorrelated channels) is transcribed channel by channel, so each segment
   comes with its speaker and overlapping speech is kept.
2. **Voices.** Otherwise the speech is cut into 1.6 s windows, each embedded with the
   voice encoder whose weights the `resemblyzer` package ships (a 3-layer LSTM over
   40-band mel frames, 256-d embeddings); `qda.transcribe.voices` counts the voices,
   smooths who speaks when and places the turn changes. The encoder is re-implemented
   here and only its weight file is read from the package, so resemblyzer's own
   imports (and its `webrtcvad` dependency) are never needed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from qda.audio import SAMPLE_RATE
from qda.errors import QdaError

WINDOW_S = 1.6  # the voice encoder's partial-utterance length (160 mel frames)
N_FFT, HOP, N_MELS = 400, 160, 40


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    mel = f / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log_part, mel)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    linear = m * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, log_part, linear)


_MEL_CACHE: list[np.ndarray] = []


def _mel_filters() -> np.ndarray:
    """(40, 201) Slaney-normalised triangular mel filters for 16 kHz, n_fft 400."""
    if not _MEL_CACHE:
        fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
        mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
        fdiff = np.diff(mel_f)
        ramps = mel_f[:, None] - fft_freqs[None, :]
        lower = -ramps[:-2] / fdiff[:-1, None]
        upper = ramps[2:] / fdiff[1:, None]
        weights = np.maximum(0, np.minimum(lower, upper))
        weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]
        _MEL_CACHE.append(weights.astype(np.float32))
    return _MEL_CACHE[0]


def speaker_name(index: int) -> str:
    return f"SPEAKER_{index + 1}"


def _weights_path() -> Path:
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise QdaError("speaker labels need the resemblyzer package: pip install resemblyzer")
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


class VoiceEncoder:
    """resemblyzer's speaker encoder (GE2E), loaded from its shipped weights."""

    def __init__(self, threads: int = 0) -> None:
        import torch
        from torch import nn

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)
        state = torch.load(_weights_path(), map_location="cpu", weights_only=False)["model_state"]
        self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        self.lstm.eval()
        self.linear.eval()

    @staticmethod
    def mel_frames(wav: np.ndarray) -> np.ndarray:
        """(frames, 40) mel power spectrogram, 25 ms windows every 10 ms.

        The same features as resemblyzer's (librosa's `melspectrogram` with n_fft=400,
        hop 160, 40 Slaney mel bands, zero-padded centred frames), computed with numpy
        so that no numba compilation delays the first file.
        """
        padded = np.pad(wav.astype(np.float32), (N_FFT // 2, N_FFT // 2))
        count = 1 + (len(padded) - N_FFT) // HOP
        frames = np.lib.stride_tricks.as_strided(
            padded, shape=(count, N_FFT), strides=(padded.strides[0] * HOP, padded.strides[0])
        )
        window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
        power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
        return (power @ _mel_filters().T).astype(np.float32)

    def embed(self, windows: np.ndarray, batch: int = 256) -> np.ndarray:
        """L2-normalised embeddings of (n, frames, 40) mel windows."""
        torch = self._torch
        out = []
        with torch.inference_mode():
            for i in range(0, len(windows), batch):
                x = torch.from_numpy(windows[i : i + batch])
                _, (hidden, _) = self.lstm(x)
                e = torch.relu(self.linear(hidden[-1]))
                out.append((e / torch.norm(e, dim=1, keepdim=True).clamp_min(1e-9)).numpy())
        return np.concatenate(out) if out else np.zeros((0, 256), np.float32)


def _normalize_volume(wav: np.ndarray, target_dbfs: float = -30.0) -> np.ndarray:
    rms = float(np.sqrt(np.mean(wav.astype(np.float64) ** 2)))
    if rms <= 0:
        return wav
    change = target_dbfs - 20 * np.log10(rms)
    return wav * (10 ** (change / 20)) if change > 0 else wav


def separate_channels(stereo: np.ndarray | None, max_correlation: float = 0.3) -> bool:
    """True when a stereo recording holds one voice per channel: the channels are
    nearly uncorrelated and both carry sound. Such files are transcribed channel by
    channel, which also keeps speech where both talk at once."""
    if stereo is None or stereo.shape[0] != 2:
        return False
    left, right = stereo[0].astype(np.float64), stereo[1].astype(np.float64)
    if min(np.abs(left).max(), np.abs(right).max()) < 1e-3:
        return False
    return abs(float(np.corrcoef(left, right)[0, 1])) < max_correlation
