"""Code-fit suggestions: which existing codes fit a segment that is not yet coded.

The scorer (`qda.suggest.hybrid`) learns from the project's own coding: per code, the
mean of the passages coded with it plus the code's own text, by words, spelling and
meaning, less the mean of the turns a researcher said it does not fit. `fit_codes`
fits it once per state of the project and calibrates it on the project's coding (five
folds), so each suggestion has the chance that it is right, and segments below the
threshold get none: no code fits them well, and new-theme candidates are looked for
among them (`qda.suggest.themes`). `bench/suggest.py` scores it against keyword and
TF-IDF baselines; the reason shown is the nearest passages already coded with a code,
and the passage the sentence of the segment that fits it. Suggestions the researcher
rejected are not shown again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qda.models import Code, Decision, SpeakerRole
from qda.store import Project
from qda.suggest.embed import Embedder, cached_embeddings
from qda.suggest.hybrid import (
    Calibration,
    HybridScorer,
    Vectors,
    Vocabulary,
    code_text,
    fit_calibration,
)


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
    score: float  # the hybrid score: summed standardised similarities (qda.suggest.hybrid)
    reasons: tuple[Reason, ...]  # the nearest passages already coded with the code
    chance: float = 0.0  # calibrated chance that the code is right (as a first code)
    passage: str = ""  # the sentence of the segment that fits the code best


Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class Training:
    """What the scorer learns from: the codable codes, their texts, every passage coded
    with them (a coded span is its own passage; a whole segment its text), and the
    segments a researcher said a suggested code does not fit."""

    codes: list[Code]
    paths: dict[str, str]
    vocabulary: Vocabulary
    own: Vectors  # the codes' texts
    own_texts: list[str]
    pool: Vectors  # the coded passages
    pool_segments: list[int]  # the segment of each passage
    pool_texts: list[str]
    examples: dict[str, list[int]]  # code id -> rows of `pool`
    refused: Vectors  # the segments of rejected suggestions
    refused_segments: list[int]
    rejected: dict[str, list[int]]  # code id -> rows of `refused`

    def scorer(self, leave_out: set[int] = frozenset()) -> HybridScorer:
        """Fitted on every passage and decision but those of the segments in
        `leave_out`."""
        examples = {
            code: [r for r in rows if self.pool_segments[r] not in leave_out]
            for code, rows in self.examples.items()
        }
        rejected = {
            code: [r for r in rows if self.refused_segments[r] not in leave_out]
            for code, rows in self.rejected.items()
        }
        return HybridScorer.fit(
            self.vocabulary,
            [c.id for c in self.codes],
            self.own,
            examples,
            self.pool,
            rejected,
            self.refused,
        )


def training(
    project: Project, embedder: Embedder, corpus: list[str], progress: Progress | None = None
) -> Training:
    paths = {v.id: k for k, v in project.code_paths().items()}
    codes = [c for c in project.codes if c.codable]
    frame = project.segment_frame()
    analysed = set(frame.segment_id[~frame.excluded.astype(bool)].tolist())
    wanted = {c.id for c in codes}
    codings = [c for c in project.codings() if c.segment_id in analysed and c.code_id in wanted]
    coded_with = {(c.segment_id, c.code_id) for c in codings}
    refusals = [
        d
        for d in project.suggestion_decisions()
        if d.decision is Decision.REJECTED
        and d.code_id in wanted
        and d.segment_id in analysed
        and (d.segment_id, d.code_id) not in coded_with  # coded since: the coding counts
    ]
    texts = project.segment_texts(
        sorted({c.segment_id for c in codings} | {d.segment_id for d in refusals})
    )
    passages: dict[tuple[int, str], int] = {}
    pool_segments: list[int] = []
    pool_texts: list[str] = []
    examples: dict[str, list[int]] = {}
    for c in codings:
        text = texts[c.segment_id]
        passage = text[c.span[0] : c.span[1]] if c.span else text
        key = (c.segment_id, passage)
        if key not in passages:
            passages[key] = len(pool_texts)
            pool_segments.append(c.segment_id)
            pool_texts.append(passage)
        row = passages[key]
        if row not in examples.setdefault(c.code_id, []):
            examples[c.code_id].append(row)
    refused_segments = sorted({d.segment_id for d in refusals})
    refused_row = {segment_id: n for n, segment_id in enumerate(refused_segments)}
    rejected: dict[str, list[int]] = {}
    for d in refusals:
        rejected.setdefault(d.code_id, []).append(refused_row[d.segment_id])
    own_texts = [code_text(paths[c.id], c.definition, c.include, c.examples) for c in codes]
    vocabulary = Vocabulary.fit([*corpus, *own_texts])

    def vectors(texts: list[str], query: bool = False) -> Vectors:
        meaning = cached_embeddings(project, embedder, texts, query=query, progress=progress)
        return vocabulary.vectors(texts, meaning)

    refused_texts = [texts[i] for i in refused_segments]
    return Training(
        codes,
        paths,
        vocabulary,
        vectors(own_texts, query=True),
        own_texts,
        vectors(pool_texts),
        pool_segments,
        pool_texts,
        examples,
        vectors(refused_texts),
        refused_segments,
        rejected,
    )


def participant_segments(project: Project) -> list:
    """The analysed turns that suggestions are for and learn from (not the interviewer's)."""
    return [
        s for s in project.segments(analysed_only=True) if s.role is not SpeakerRole.INTERVIEWER
    ]


def calibrate(
    project: Project,
    embedder: Embedder,
    data: Training | None = None,
    *,
    segments: list | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """How often the first code is right at each score, measured on the project's own
    coding: five folds of coded segments, each scored by a scorer that did not see it,
    and the participant turns of coded interviews that nobody coded, which no code
    should be offered for."""
    segments = participant_segments(project) if segments is None else segments
    data = data or training(project, embedder, [s.text for s in segments], progress)
    truth: dict[int, set[str]] = {}
    for code, rows in data.examples.items():
        for row in rows:
            truth.setdefault(data.pool_segments[row], set()).add(code)
    coded_interviews = {s.interview_id for s in segments if s.id in truth}
    negatives = [s for s in segments if s.interview_id in coded_interviews and s.id not in truth]
    held = sorted(truth)
    if len(held) < 5:
        return fit_calibration(np.zeros(0), np.zeros(0, bool))
    by_id = {s.id: s for s in segments}
    order = np.random.default_rng(0).permutation(len(held))
    top, right = [], []
    ids = [c.id for c in data.codes]
    for fold in range(FOLDS):
        test = [by_id[held[k]] for k in sorted(order[fold::FOLDS]) if held[k] in by_id]
        test += [n for k, n in enumerate(negatives) if k % FOLDS == fold]
        scorer = data.scorer(leave_out={s.id for s in test})
        texts = [s.text for s in test]
        vectors = data.vocabulary.vectors(
            texts, cached_embeddings(project, embedder, texts, progress=progress)
        )
        for s, row in zip(test, scorer.scores(vectors), strict=True):
            best = int(np.argmax(row))
            top.append(float(row[best]))
            right.append(ids[best] in truth.get(s.id, set()))
    return fit_calibration(np.asarray(top), np.asarray(right, bool))


FOLDS = 5


@dataclass
class CodeFit:
    """The scorer fitted on all of a project's coding and decisions, with its
    calibration: made once per state of the project, used for every suggestion."""

    data: Training
    scorer: HybridScorer
    calibration: Calibration
    segments: list  # the participant turns it was made from


def fit_codes(
    project: Project,
    embedder: Embedder,
    *,
    progress: Progress | None = None,
    segments: list | None = None,
) -> CodeFit:
    """`segments`: the participant turns, when the caller has them already."""
    segments = participant_segments(project) if segments is None else segments
    data = training(project, embedder, [s.text for s in segments], progress)
    calibration = calibrate(project, embedder, data, segments=segments, progress=progress)
    return CodeFit(data, data.scorer(), calibration, segments)


def suggest_codes(
    project: Project,
    embedder: Embedder,
    *,
    top: int = 3,
    interview_id: str | None = None,
    reasons: int = 2,
    min_chance: float | None = None,
    fitted: CodeFit | None = None,
    progress: Progress | None = None,
) -> list[CodeSuggestion]:
    """The `top` codes for every participant segment not yet coded, with the chance the
    first is right and the passage that fits. A segment whose first code's chance is
    below `min_chance` (by default the project's calibrated threshold) gets none."""
    if not any(c.codable for c in project.codes):
        return []
    coded_segments = {c.segment_id for c in project.codings()}
    every = participant_segments(project) if fitted is None else fitted.segments
    targets = [
        s
        for s in every
        if s.id not in coded_segments and (interview_id is None or s.interview_id == interview_id)
    ]
    if not targets:
        return []
    fitted = fitted or fit_codes(project, embedder, progress=progress, segments=every)
    data, scorer, calibration = fitted.data, fitted.scorer, fitted.calibration
    floor = calibration.threshold if min_chance is None else min_chance
    rejected = {
        (d.segment_id, d.code_id)
        for d in project.suggestion_decisions()
        if d.decision is Decision.REJECTED
    }
    frame = project.segment_frame()
    owner = dict(zip(frame.segment_id, frame.interview, strict=True))
    texts = [s.text for s in targets]
    target_vectors = cached_embeddings(project, embedder, texts, progress=progress)
    scores = scorer.scores(data.vocabulary.vectors(texts, target_vectors))
    chances = calibration.chances(scores)
    ranked = np.argsort(-scores, axis=1)
    out: list[CodeSuggestion] = []
    for position, s in enumerate(targets):
        order = [j for j in ranked[position, : top + 8] if (s.id, data.codes[j].id) not in rejected]
        if len(order) < top:
            order = [j for j in ranked[position] if (s.id, data.codes[j].id) not in rejected]
        order = order[:top]
        if not order or chances[position, order[0]] < floor:
            continue  # no code fits well enough: left for the new-theme candidates
        for j in order:
            code = data.codes[j]
            members = data.examples.get(code.id) or []
            near: list[Reason] = []
            if members:
                sims = data.pool.meaning[members] @ scorer_vector(target_vectors[position])
                for k in np.argsort(-sims)[:reasons]:
                    row_k = members[k]
                    segment_id = data.pool_segments[row_k]
                    near.append(
                        Reason(
                            segment_id, owner[segment_id], data.pool_texts[row_k], float(sims[k])
                        )
                    )
            out.append(
                CodeSuggestion(
                    s.id,
                    code.id,
                    data.paths[code.id],
                    float(scores[position, j]),
                    tuple(near),
                    chance=float(chances[position, j]),
                )
            )
    text_of = {s.id: s.text for s in targets}
    found = scorer.passages([(text_of[x.segment_id], x.code_id) for x in out])
    return [dataclasses.replace(x, passage=p) for x, p in zip(out, found, strict=True)]


def scorer_vector(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


ORDERS = ("best", "uncertain", "transcript")  # best fit first, least sure first, or in turns


def suggestion_queue(
    found: list[CodeSuggestion], *, order: str = "best"
) -> list[tuple[int, list[CodeSuggestion]]]:
    """The suggestions grouped by segment, as one queue over every interview: the
    segments whose best code fits best first ("best"), or in transcript order."""
    if order not in ORDERS:
        raise ValueError(f"unknown order '{order}' (known: {', '.join(ORDERS)})")
    grouped: dict[int, list[CodeSuggestion]] = {}
    for s in found:
        grouped.setdefault(s.segment_id, []).append(s)
    items = list(grouped.items())
    if order == "best":
        items.sort(key=lambda item: -max(o.score for o in item[1]))  # stable: ties keep turns
    elif order == "uncertain":  # the decisions that teach the scorer most come first
        items.sort(key=lambda item: abs(max(o.chance for o in item[1]) - 0.5))
    return items
