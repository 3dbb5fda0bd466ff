"""The code-fit scorer: which codes a passage is like, by its words and by its meaning.

Three similarities, each to one vector per code made from the project's own coding and
the code's own text (name, definition, when to use, examples):

- words: TF-IDF of words and word pairs, the coded segments' centroid plus the code's
  text (the "TF-IDF centroid + name" baseline, strong where codes are named by what
  people say);
- spelling: TF-IDF of character 3–5-grams, which matches inflections and compounds
  across English, Danish and French ("login", "logget", "connexion");
- meaning: the embedding model's vectors, the coded segments' centroid plus the code's
  description encoded as a query, at half weight.

Each similarity is standardised across the codes of a segment (a z-score) and the
three are summed. Chosen by measurement (`bench/suggest.py`) over
logistic regression on the same features, the embedding prototype alone and sentence-
level maxima: on the demo study and on QualCoder's coded demo project it ranked the
right code first more often than any of them and than each baseline.

Every codable code is a candidate, a parent included; a code with no codings yet is
scored by its own text. `calibrate` turns scores into the chance that the first code is
right, cross-validated on the project's codings, with the uncoded participant turns of
coded interviews counting as "no code fits".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SENTENCE = re.compile(r"(?<=[.!?…])\s+")
DESCRIPTION_WEIGHT = 0.5


def code_text(path: str, definition: str, include: str, examples: Sequence[str]) -> str:
    """The words that stand for a code before (and beside) its codings."""
    parts = [path.replace("/", ": ").replace("_", " "), definition, include, *examples]
    return ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip())


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _z(scores: np.ndarray) -> np.ndarray:
    """Each row standardised: how far above the segment's usual similarity a code is."""
    mean = scores.mean(axis=1, keepdims=True)
    spread = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.maximum(spread, 1e-9)


@dataclass
class Vectors:
    """Texts as the three kinds of vectors (rows in the same order)."""

    word: object  # sparse TF-IDF rows, unit length
    char: object
    meaning: np.ndarray  # the embedding model's unit vectors

    def rows(self, index: Sequence[int]) -> Vectors:
        index = list(index)
        return Vectors(self.word[index], self.char[index], self.meaning[index])


@dataclass
class Vocabulary:
    """The word and character TF-IDF of a project, learnt from all its texts (no
    codings: the cross-validation folds share it without seeing each other's labels)."""

    words: object
    chars: object

    @classmethod
    def fit(cls, texts: list[str]) -> Vocabulary:
        from sklearn.feature_extraction.text import TfidfVectorizer

        words = TfidfVectorizer(
            sublinear_tf=True, ngram_range=(1, 2), token_pattern=r"(?u)\b\w\w+\b"
        )
        chars = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(3, 5))
        return cls(words.fit(texts), chars.fit(texts))

    def vectors(self, texts: list[str], meaning: np.ndarray) -> Vectors:
        return Vectors(
            self.words.transform(texts),
            self.chars.transform(texts),
            _unit_rows(np.asarray(meaning, dtype=np.float64).reshape(len(texts), -1)),
        )


@dataclass
class HybridScorer:
    """One prototype a code for each kind of vector: its coded examples' mean plus its
    own text. `scores` sums the standardised similarities."""

    code_ids: list[str]
    word: object
    char: object
    meaning: np.ndarray
    vocabulary: Vocabulary

    @classmethod
    def fit(
        cls,
        vocabulary: Vocabulary,
        code_ids: list[str],
        own: Vectors,
        examples: dict[str, list[int]],
        pool: Vectors,
    ) -> HybridScorer:
        """`own`: the codes' texts (one row a code; meaning = their query vectors);
        `examples`: code -> rows of `pool` coded with it."""
        from scipy import sparse
        from sklearn.preprocessing import normalize

        rows, cols, weights = [], [], []
        for n, code in enumerate(code_ids):
            members = examples.get(code) or []
            rows += [n] * len(members)
            cols += list(members)
            weights += [1.0 / max(len(members), 1)] * len(members)
        mean = sparse.csr_matrix(
            (weights, (rows, cols)), shape=(len(code_ids), pool.meaning.shape[0])
        )
        return cls(
            list(code_ids),
            normalize(mean @ pool.word + own.word),
            normalize(mean @ pool.char + own.char),
            _unit_rows(np.asarray(mean @ pool.meaning) + DESCRIPTION_WEIGHT * own.meaning),
            vocabulary,
        )

    def scores(self, x: Vectors) -> np.ndarray:
        """(segments, codes): the summed standardised similarities."""
        if x.meaning.shape[0] == 0:
            return np.zeros((0, len(self.code_ids)))
        parts = [
            (x.word @ self.word.T).toarray(),
            (x.char @ self.char.T).toarray(),
            x.meaning @ self.meaning.T,
        ]
        return sum(_z(p) for p in parts)

    def passages(self, pairs: Sequence[tuple[str, str]]) -> list[str]:
        """For each (text, code id), the sentence of the text whose words are nearest
        the code (the whole text when it is one sentence). All sentences are read in
        one pass, so this costs about as much as scoring them."""
        split = [
            [x.strip() for x in SENTENCE.split(text.strip()) if x.strip()] for text, _ in pairs
        ]
        sentences = [x for parts in split if len(parts) > 1 for x in parts]
        if not sentences:
            return [text.strip() for text, _ in pairs]
        column = {code: n for n, code in enumerate(self.code_ids)}
        word = self.vocabulary.words.transform(sentences)
        char = self.vocabulary.chars.transform(sentences)
        out, start = [], 0
        for (text, code), parts in zip(pairs, split, strict=True):
            if len(parts) <= 1:
                out.append(text.strip())
                continue
            rows = slice(start, start + len(parts))
            start += len(parts)
            j = column[code]
            fit = (word[rows] @ self.word[j].T).toarray().ravel()
            fit = fit + (char[rows] @ self.char[j].T).toarray().ravel()
            out.append(parts[int(np.argmax(fit))])
        return out

    def passage(self, text: str, code_id: str) -> str:
        return self.passages([(text, code_id)])[0]


@dataclass(frozen=True)
class Calibration:
    """What a score means on this project: the chance the first code is right."""

    scores: tuple[float, ...]  # sorted thresholds (the isotonic fit's knots)
    chances: tuple[float, ...]  # the chance of being right above each
    threshold: float  # the chance below which a suggestion is not shown
    precision: float  # cross-validated precision of what is shown at the threshold
    shown_share: float  # share of the held-out segments that got a suggestion
    checked: int  # how many held-out segments it was measured on

    def describe(self) -> str:
        """One line for the researcher: the threshold and what it gives."""
        if self.checked < 5:
            return "too few coded segments to measure the suggestions yet: every one is shown"
        return (
            f"measured on {self.checked} held-out turns of this project: suggestions with a "
            f"chance of at least {self.threshold:.2f} are shown; {self.precision:.0%} of "
            f"those were right, and {self.shown_share:.0%} of the turns got one"
        )

    def chance(self, score: float) -> float:
        if not self.scores:
            return 0.0
        return float(np.interp(score, self.scores, self.chances))


TARGET_PRECISION = 0.6


def fit_calibration(top_scores: np.ndarray, right: np.ndarray) -> Calibration:
    """An isotonic map from the first code's score to the chance it is right, and the
    lowest chance whose shown suggestions are right at least TARGET_PRECISION of the
    time (else the one with the best precision)."""
    from sklearn.isotonic import IsotonicRegression

    if len(top_scores) < 5 or right.all() or not right.any():
        rate = float(right.mean()) if len(right) else 0.0
        return Calibration((0.0,), (rate,), 0.0, rate, 1.0, len(right))
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(top_scores, right.astype(float))
    chances = iso.predict(top_scores)
    best = (0.0, float(right.mean()), 1.0)
    for level in sorted(set(np.round(chances, 3))):
        shown = chances >= level
        if shown.sum() < 3:
            break
        precision = float(right[shown].mean())
        if precision >= TARGET_PRECISION:
            best = (float(level), precision, float(shown.mean()))
            break
        if precision > best[1]:
            best = (float(level), precision, float(shown.mean()))
    knots = np.asarray(iso.X_thresholds_, dtype=float)
    return Calibration(
        tuple(knots.tolist()),
        tuple(np.asarray(iso.y_thresholds_, dtype=float).tolist()),
        best[0],
        best[1],
        best[2],
        len(right),
    )
