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

import dataclasses
import hashlib
import re
import threading
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
    """The word and character TF-IDF of a project, learnt from its segments' texts (no
    codings: the cross-validation folds share it without seeing each other's labels).
    The segments' own rows are kept, so scoring them again costs no second reading."""

    words: object
    chars: object
    row: dict[str, int]  # a corpus text -> its row of `word_rows` and `char_rows`
    word_rows: object
    char_rows: object

    @classmethod
    def fit(cls, texts: list[str]) -> Vocabulary:
        """Learnt once for a set of texts and kept (the last few) while they do not
        change: a refresh after a decision reads no text again."""
        key = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()
        with _KEPT_LOCK:
            if key in _VOCABULARIES:
                _VOCABULARIES[key] = _VOCABULARIES.pop(key)  # most recently used last
                return _VOCABULARIES[key]
        from sklearn.feature_extraction.text import TfidfVectorizer

        unique = list(dict.fromkeys(texts)) or [""]
        words = TfidfVectorizer(
            sublinear_tf=True, ngram_range=(1, 2), token_pattern=r"(?u)\b\w\w+\b"
        )
        chars = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(3, 5))
        try:
            word_rows = words.fit_transform(unique)
        except ValueError:  # no word of two letters anywhere: any mark is a word
            word_rows = words.set_params(token_pattern=r"(?u)\w+|\S").fit_transform(unique)
        char_rows = chars.fit_transform(unique)
        found = cls(
            words, chars, {t: n for n, t in enumerate(unique)}, word_rows.tocsr(), char_rows.tocsr()
        )
        with _KEPT_LOCK:
            _VOCABULARIES[key] = found
            while len(_VOCABULARIES) > KEPT_VOCABULARIES:
                _VOCABULARIES.pop(next(iter(_VOCABULARIES)))
        return found

    def _rows(self, texts: list[str], kind: str):
        from scipy import sparse

        known = getattr(self, f"{kind}_rows")
        missing = list(dict.fromkeys(t for t in texts if t not in self.row))
        if not missing:
            return known[[self.row[t] for t in texts]]
        extra = getattr(self, f"{kind}s").transform(missing)
        where = {t: known.shape[0] + n for n, t in enumerate(missing)}
        rows = [self.row[t] if t in self.row else where[t] for t in texts]
        return sparse.vstack([known, extra], format="csr")[rows]

    def vectors(self, texts: list[str], meaning: np.ndarray) -> Vectors:
        meaning = np.asarray(meaning, dtype=np.float64)
        if meaning.ndim != 2:
            meaning = meaning.reshape(len(texts), -1)
        return Vectors(self._rows(texts, "word"), self._rows(texts, "char"), _unit_rows(meaning))


KEPT_VOCABULARIES = 4
_VOCABULARIES: dict[str, Vocabulary] = {}
_KEPT_LOCK = threading.Lock()  # the app's sessions score in threads of one process


def _means(code_ids: list[str], members: dict[str, list[int]], rows: int):
    """(codes, rows) sparse weights: each code's mean over its member rows."""
    from scipy import sparse

    r, c, w = [], [], []
    for n, code in enumerate(code_ids):
        found = members.get(code) or []
        r += [n] * len(found)
        c += list(found)
        w += [1.0 / max(len(found), 1)] * len(found)
    return sparse.csr_matrix((w, (r, c)), shape=(len(code_ids), rows))


REJECTED_WEIGHT = 0.25


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
        rejected: dict[str, list[int]] | None = None,
        refused: Vectors | None = None,
    ) -> HybridScorer:
        """`own`: the codes' texts (one row a code; meaning = their query vectors);
        `examples`: code -> rows of `pool` coded with it; `rejected`: code -> rows of
        `refused`, the passages a researcher said it does not fit, whose mean is taken
        off the code's vectors at REJECTED_WEIGHT (Rocchio's relevance feedback)."""
        from sklearn.preprocessing import normalize

        mean = _means(code_ids, examples, pool.meaning.shape[0])
        word = mean @ pool.word + own.word
        char = mean @ pool.char + own.char
        meaning = np.asarray(mean @ pool.meaning) + DESCRIPTION_WEIGHT * own.meaning
        if rejected and refused is not None and refused.meaning.shape[0]:
            against = _means(code_ids, rejected, refused.meaning.shape[0]) * REJECTED_WEIGHT
            word = word - against @ refused.word
            char = char - against @ refused.char
            meaning = meaning - np.asarray(against @ refused.meaning)

        def unit(matrix):
            return normalize(matrix.tocsr()) if matrix.shape[0] else matrix.tocsr()

        return cls(list(code_ids), unit(word), unit(char), _unit_rows(meaning), vocabulary)

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
        the code (the whole text when it is one sentence). All sentences are read and
        matched in one pass."""
        split = [
            [x.strip() for x in SENTENCE.split(text.strip()) if x.strip()] for text, _ in pairs
        ]
        long = [n for n, parts in enumerate(split) if len(parts) > 1]
        out = [text.strip() for text, _ in pairs]
        if not long:
            return out
        column = {code: n for n, code in enumerate(self.code_ids)}
        sentences = [x for n in long for x in split[n]]
        codes = np.repeat([column[pairs[n][1]] for n in long], [len(split[n]) for n in long])
        unique = {x: k for k, x in enumerate(dict.fromkeys(sentences))}  # a turn's 3 codes
        word = self.vocabulary.words.transform(list(unique))[[unique[x] for x in sentences]]
        fit = np.asarray(word.multiply(self.word[codes]).sum(axis=1)).ravel()
        start = 0
        for n in long:
            parts = split[n]
            out[n] = parts[int(np.argmax(fit[start : start + len(parts)]))]
            start += len(parts)
        return out

    def passage(self, text: str, code_id: str) -> str:
        return self.passages([(text, code_id)])[0]


@dataclass(frozen=True)
class Calibration:
    """What a score means on this project: the chance the first code is right, a
    logistic curve over the score (Platt scaling: measured on the demo study and
    QualCoder's demo project, its cross-validated Brier score 0.189 and 0.214 against
    isotonic regression's 0.223 and 0.219, and never a chance of 0 or 100%, which
    isotonic steps gave for 8–16% of turns)."""

    slope: float
    intercept: float
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

    def chances(self, scores: np.ndarray) -> np.ndarray:
        """The chance of each score (any shape)."""
        z = self.slope * np.asarray(scores, dtype=float) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def chance(self, score: float) -> float:
        return float(self.chances(np.asarray([score]))[0])


TARGET_PRECISION = 0.6


def fit_calibration(top_scores: np.ndarray, right: np.ndarray) -> Calibration:
    """A logistic map from the first code's score to the chance it is right, and the
    lowest chance whose shown suggestions are right at least TARGET_PRECISION of the
    time (else the one with the best precision)."""
    from sklearn.linear_model import LogisticRegression

    if len(top_scores) < 5 or right.all() or not right.any():
        rate = float(right.mean()) if len(right) else 0.0
        odds = np.log(max(rate, 1e-6) / max(1 - rate, 1e-6))
        return Calibration(0.0, float(odds), 0.0, rate, 1.0, len(right))
    model = LogisticRegression(C=1e4).fit(np.asarray(top_scores, float)[:, None], right)
    found = Calibration(float(model.coef_[0, 0]), float(model.intercept_[0]), 0.0, 0, 1, 0)
    chances = found.chances(top_scores)
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
    return dataclasses.replace(
        found, threshold=best[0], precision=best[1], shown_share=best[2], checked=len(right)
    )
