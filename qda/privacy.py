"""Third-party libraries that would phone home or write outside qda's folders, told not to.

Set when `qda` is imported (the temporary folder: when the `qda` command or the app
starts), and only where the user has not chosen otherwise:

- ONNX Runtime (faster-whisper's voice activity detection) ships Microsoft's 1DS
  telemetry client: it keeps an event store in `~/.cache/Microsoft/DeveloperTools` and
  would send it when online. `ORT_DISABLE_TELEMETRY` switches it off.
- Hugging Face libraries send usage pings when they download: `HF_HUB_DISABLE_TELEMETRY`.
- Matplotlib (the heatmap) writes its font cache to `~/.cache` and `~/.config`; it goes
  into qda's cache folder instead.

`tests/test_privacy.py` runs the whole pipeline under `strace` and fails on any file
written outside the project, qda's cache and the files asked for.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_path() -> Path:
    """qda's cache folder (models and the like): `$QDA_MODEL_CACHE`, else
    `~/.cache/qda/models`. Not created here."""
    env = os.environ.get("QDA_MODEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "qda" / "models"


def keep_third_parties_quiet() -> None:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("MPLCONFIGDIR", str(cache_path() / "matplotlib"))


def private_temp_dir() -> None:
    """Temporary files of this process into qda's cache (called by the `qda` command and
    the app, not on import: a program that uses qda as a library keeps its own)."""
    private = cache_path() / "tmp"
    if tempfile.tempdir == str(private):
        return  # the app calls this on every page run
    try:
        private.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return  # a read-only home: the system's temporary folder it is
    tempfile.tempdir = str(private)
