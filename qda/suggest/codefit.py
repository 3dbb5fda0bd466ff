"""Code-fit suggestions: which existing codes fit a segment that is not yet coded.

Each code gets a prototype vector: its description (name, definition, when to use,
examples) embedded as a query, plus the mean of the segments already coded with it,
the two weighted equally. Measured leave-one-interview-out on the demo study
(multilingual-e5-small): right code first for 55% of segments, 58% of codings among
the top three; the centroid of examples alone gave 51% / 49%, nearest neighbour 20% /
27%. A segment's candidates are the codes whose
prototypes are nearest; the reason shown is the nearest segments already coded with
that code. Suggestions the researcher rejected are not shown again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qda.models import Code, Decision, SpeakerRole
from qda.store import Project
from qda.suggest.embed import Embedder, cached_embeddings

DESCRIPTION_WEIGHT = 1.0  # weight of the description against the mean coded example


@dataclass(frozen=True)
class Reason:
    segment_id: int
    interview_id: str
    text: str
    similarity: float


@dataclass(frozen=True)
class CodeSuggestion:
    segment_id: int
    code_id: str
    code_path: str
    score: float  # cosine similarity of the segment to the code's prototype
    reasons: tuple[Reason, ...]  # the nearest segments already coded with the code


def describe_code(path: str, definition: str, include: str, examples: tuple[str, ...]) -> str:
    """The text that stands for a code before it has codings."""
    parts = [path.replace("/", ": "), definition, include, *examples]
    return ". ".join(p.strip().rstrip(".") for p in parts if p.strip())


def prototypes(project: Project, embedder: Embedder) -> tuple[list[Code], np.ndarray]:
    """The leaf codes and their prototype vectors (rows, normalised)."""
    codes = project.codes
    paths = {v.id: k for k, v in project.code_paths().items()}
    parents = {c.parent_id for c in codes}
    leaves = [c for c in codes if c.id not in parents]
    if not leaves:
        return [], np.zeros((0, 0), np.float32)
    segments = {s.id: s.text for s in project.segments()}
    coded: dict[str, list[int]] = {}
    for coding in project.codings():
        coded.setdefault(coding.code_id, []).append(coding.segment_id)
    descriptions = embedder.embed(
        [describe_code(paths[c.id], c.definition, c.include, c.examples) for c in leaves],
        query=True,
    )
    example_ids = sorted({i for c in leaves for i in coded.get(c.id, [])})
    vectors = cached_embeddings(project, embedder, [segments[i] for i in example_ids])
    row_of = {segment_id: n for n, segment_id in enumerate(example_ids)}
    rows = []
    for c, description in zip(leaves, descriptions, strict=True):
        members = [row_of[i] for i in coded.get(c.id, [])]
        vector = description * DESCRIPTION_WEIGHT
        if members:
            vector = vector + vectors[members].mean(axis=0)
        rows.append(vector / max(np.linalg.norm(vector), 1e-12))
    return leaves, np.stack(rows)


def suggest_codes(
    project: Project,
    embedder: Embedder,
    *,
    top: int = 3,
    interview_id: str | None = None,
    reasons: int = 2,
) -> list[CodeSuggestion]:
    """The `top` codes for every participant segment not yet coded (leaf codes only)."""
    codes = project.codes
    paths = {v.id: k for k, v in project.code_paths().items()}
    parents = {c.parent_id for c in codes}
    leaves = [c for c in codes if c.id not in parents]
    if not leaves:
        return []
    segments = [s for s in project.segments(interview_id) if s.role is not SpeakerRole.INTERVIEWER]
    all_segments = {s.id: s for s in project.segments()}
    coded: dict[str, list[int]] = {}
    coded_segments: set[int] = set()
    for coding in project.codings():
        coded.setdefault(coding.code_id, []).append(coding.segment_id)
        coded_segments.add(coding.segment_id)
    targets = [s for s in segments if s.id not in coded_segments]
    if not targets:
        return []
    rejected = {
        (d.segment_id, d.code_id)
        for d in project.suggestion_decisions()
        if d.decision is Decision.REJECTED
    }
    leaves, prototype_matrix = prototypes(project, embedder)
    example_ids = sorted({i for c in leaves for i in coded.get(c.id, [])})
    example_vectors = cached_embeddings(
        project, embedder, [all_segments[i].text for i in example_ids]
    )
    row_of = {segment_id: n for n, segment_id in enumerate(example_ids)}
    target_vectors = cached_embeddings(project, embedder, [s.text for s in targets])
    scores = target_vectors @ prototype_matrix.T
    out: list[CodeSuggestion] = []
    for position, (s, row) in enumerate(zip(targets, scores, strict=True)):
        order = [j for j in np.argsort(-row) if (s.id, leaves[j].id) not in rejected][:top]
        for j in order:
            code = leaves[j]
            members = [row_of[i] for i in coded.get(code.id, [])]
            near: list[Reason] = []
            if members:
                sims = example_vectors[members] @ target_vectors[position]
                for k in np.argsort(-sims)[:reasons]:
                    example = all_segments[example_ids[members[k]]]
                    near.append(
                        Reason(example.id, example.interview_id, example.text, float(sims[k]))
                    )
            out.append(CodeSuggestion(s.id, code.id, paths[code.id], float(row[j]), tuple(near)))
    return out
