"""Counting voices and placing turn changes (qda.transcribe.voices)."""

from __future__ import annotations

import numpy as np
import pytest

from qda.errors import QdaError
from qda.transcribe.types import Word
from qda.transcribe.voices import (
    AUTO,
    cluster_voices,
    parse_speakers,
    smooth,
    word_speakers,
)


def voices(n_per: list[int], seed: int = 0, noise: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around one random direction per voice."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(n_per), 64))
    rows, truth = [], []
    for k, n in enumerate(n_per):
        rows.append(centres[k] + noise * np.sqrt(64) * rng.normal(size=(n, 64)) / 8)
        truth += [k] * n
    x = np.concatenate(rows)
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.array(truth)


def test_parse_speakers():
    assert parse_speakers("auto") == AUTO and parse_speakers(None) == AUTO
    assert parse_speakers("3") == 3 and parse_speakers(1) == 1
    with pytest.raises(QdaError, match="'auto' or a number"):
        parse_speakers("two")
    with pytest.raises(QdaError, match="1 or more"):
        parse_speakers(-2)


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_the_number_of_voices_is_counted(count):
    x, truth = voices([40] * count, seed=count)
    labels, centres = cluster_voices(x, AUTO)
    assert len(centres) == count
    if count > 1:  # the same grouping as the truth, whatever the numbers
        pairs = {(a, b) for a, b in zip(labels.tolist(), truth.tolist(), strict=True)}
        assert len(pairs) == count


def test_a_voice_with_a_tiny_share_is_not_a_speaker():
    x, _ = voices([100, 2], seed=5)
    _, centres = cluster_voices(x, AUTO)
    assert len(centres) == 1


def test_a_given_number_is_used():
    x, _ = voices([60], seed=1)
    assert len(cluster_voices(x, 2)[1]) == 2


def test_smoothing_removes_a_single_odd_window_but_keeps_a_turn():
    x, _ = voices([30, 30], seed=2)
    centres = np.stack([x[:30].mean(0), x[30:].mean(0)])
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    odd = x[45] + 0.8 * x[0]  # a window that leans to B: a noise or a straddled change
    odd = (odd / np.linalg.norm(odd))[None]
    assert (odd @ centres.T).argmax() == 1
    sequence = np.concatenate([x[:15], odd, x[15:30], x[30:45]])  # A…A b A…A B…B
    path = smooth(sequence, centres)
    assert path[:31].tolist() == [0] * 31 and path[31:].tolist() == [1] * 15


def words(spec: str) -> list[Word]:
    """'a b | c' : words 0.3 s long, 0.05 s apart, 0.6 s where '|' is."""
    out, t = [], 0.0
    for token in spec.split():
        if token == "|":
            t += 0.55
            continue
        out.append(Word(t, t + 0.3, " " + token))
        t += 0.35
    return out


def test_a_turn_change_moves_to_the_pause_between_words():
    w = words("what you need, or need to avoid. | yes I see")
    # the windows put the change two words too early ("to avoid." to the next voice)
    change = (w[4].start + w[5].start) / 2
    centres = np.arange(0, 5, 0.1)
    labels = (centres > change).astype(int)
    who = word_speakers(w, centres, labels)
    assert who == [0] * 7 + [1] * 3


def test_a_backchannel_stays_inside_the_answer():
    w = words("we waited for hours | mm | and nobody came back to us")
    centres = np.array([(x.start + x.end) / 2 for x in w])
    labels = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    assert word_speakers(w, centres, labels) == [0] * len(w)
