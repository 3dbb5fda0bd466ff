"""Refine hints: codes that may be one (merge candidates) or two (split candidates).

- **Merge**: two codes whose coded segments are hard to tell apart: each code's
  segments are, on average, nearly as close to the other code's centre as to their
  own. The score is that closeness ratio; hints above `MERGE_RATIO` are shown.

The vectors are the segments' embeddings less each language's mean and the study's
mean (`qda.suggest.themes.without_language`): raw multilingual vectors made every pair
of the demo's codes look alike (ratios 0.97–0.99, 19 hints) and split codes into an
English and a Danish-and-French group. Centred, the demo's ratios run from 0.46 down,
`MERGE_RATIO` keeps its four closest pairs, and no split follows a language.
- **Split**: a code whose segments form two clear groups: k-means with two clusters
  gives a silhouette of at least `SPLIT_SILHOUETTE` and both groups hold at least
  `MIN_GROUP` segments. The two groups' most typical segments are shown.

Codes need at least `MIN_GROUP` coded segments to be judged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qda.store import Project
from qda.suggest.embed import Embedder, cached_embeddings
from qda.suggest.themes import without_language

MIN_GROUP = 3
MERGE_RATIO = 0.35
SPLIT_SILHOUETTE = 0.12


@dataclass(frozen=True)
class MergeHint:
    code_a: str  # paths
    code_b: str
    ratio: float  # mean similarity to the other centre / to their own centre


@dataclass(frozen=True)
class SplitHint:
    code: str
    silhouette: float
    groups: tuple[tuple[int, ...], tuple[int, ...]]  # segment ids, most typical first


def refine_hints(
    project: Project, embedder: Embedder, *, seed: int = 0
) -> tuple[list[MergeHint], list[SplitHint]]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    paths = {v.id: k for k, v in project.code_paths().items()}
    texts = {s.id: s.text for s in project.segments(analysed_only=True)}
    members: dict[str, list[int]] = {}
    for c in project.codings():
        if c.segment_id not in texts:
            continue  # an excluded interview's codings
        if c.segment_id not in members.setdefault(c.code_id, []):
            members[c.code_id].append(c.segment_id)
    judged = {code: sorted(ids) for code, ids in members.items() if len(ids) >= MIN_GROUP}
    every = sorted({i for ids in judged.values() for i in ids})
    # each language's mean taken off, so that codes are compared by meaning, and a code
    # said in three languages is not "two groups" (qda.suggest.themes.without_language)
    centred = without_language(
        cached_embeddings(project, embedder, [texts[i] for i in every]), [texts[i] for i in every]
    )
    centred = centred - centred.mean(axis=0)  # one language: the study's mean
    centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    row = {segment_id: n for n, segment_id in enumerate(every)}
    vectors = {code: centred[[row[i] for i in ids]] for code, ids in judged.items()}
    centres = {
        code: v.mean(axis=0) / max(np.linalg.norm(v.mean(axis=0)), 1e-12)
        for code, v in vectors.items()
    }
    codes = sorted(judged, key=lambda c: paths[c])
    merges = []
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            own = np.concatenate([vectors[a] @ centres[a], vectors[b] @ centres[b]]).mean()
            other = np.concatenate([vectors[a] @ centres[b], vectors[b] @ centres[a]]).mean()
            ratio = float(other / own)
            if ratio >= MERGE_RATIO:
                merges.append(MergeHint(paths[a], paths[b], ratio))
    merges.sort(key=lambda h: -h.ratio)
    splits = []
    for code in codes:
        v = vectors[code]
        if len(v) < 2 * MIN_GROUP:
            continue
        labels = KMeans(2, n_init=10, random_state=seed).fit_predict(v)
        if min(np.bincount(labels)) < MIN_GROUP:
            continue
        score = float(silhouette_score(v, labels, metric="cosine"))
        if score < SPLIT_SILHOUETTE:
            continue
        groups = []
        for k in (0, 1):
            idx = np.flatnonzero(labels == k)
            centre = v[idx].mean(axis=0)
            order = idx[np.argsort(-(v[idx] @ centre))]
            groups.append(tuple(judged[code][j] for j in order))
        splits.append(SplitHint(paths[code], score, (groups[0], groups[1])))
    splits.sort(key=lambda h: -h.silhouette)
    return merges, splits
