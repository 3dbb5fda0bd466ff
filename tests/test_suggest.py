"""Embeddings (real bundled models), their cache, and code-fit suggestions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import qda
from qda.cli import main
from qda.models import CodingOrigin, Decision
from qda.suggest.codefit import suggest_codes
from qda.suggest.embed import cached_embeddings, load_embedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e5():
    return load_embedder("e5-small")


class Counting:
    """Wraps an embedder and counts the texts it embeds."""

    def __init__(self, inner):
        self.inner, self.name, self.count = inner, inner.name, 0

    def embed(self, texts, *, query=False):
        self.count += len(texts)
        return self.inner.embed(texts, query=query)


def test_multilingual_model_places_languages_together(e5):
    v = e5.embed(
        [
            "I could not log in because the code app did not work on my old phone.",
            "Jeg kunne ikke logge ind, fordi kode-appen ikke virkede på min gamle telefon.",
            "Je n'ai pas pu me connecter car l'application ne marchait pas sur mon vieux téléphone.",
            "We run a café afternoon where older people help each other.",
        ]
    )
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[3] and v[0] @ v[2] > v[0] @ v[3]


def test_only_new_text_is_embedded(demo_copy, e5):
    p = qda.open_project(demo_copy)
    counting = Counting(e5)
    texts = [s.text for s in p.segments("P01")]
    first = cached_embeddings(p, counting, texts)
    assert counting.count == len(set(texts))
    again = cached_embeddings(p, counting, texts)
    assert counting.count == len(set(texts)) and np.array_equal(first, again)
    p.edit_segment(p.segments("P01")[3].id, "An edited sentence.", by="anna")
    cached_embeddings(p, counting, [s.text for s in p.segments("P01")])
    assert counting.count == len(set(texts)) + 1


def test_hidden_codings_come_back_as_suggestions(demo_copy, e5):
    p = qda.open_project(demo_copy)
    hidden = [c for c in p.codings(interview_id="P03")]
    for c in hidden:
        p.remove_coding(c.id)
    found = suggest_codes(p, e5, interview_id="P03", top=3)
    by_segment: dict[int, set[str]] = {}
    for s in found:
        by_segment.setdefault(s.segment_id, set()).add(s.code_id)
    recalled = sum(1 for c in hidden if c.code_id in by_segment.get(c.segment_id, set()))
    assert recalled / len(hidden) >= 0.35  # random picks of 3 of 20 codes: 0.15
    assert all(s.reasons for s in found)  # every code has coded examples to show
    assert found == suggest_codes(p, e5, interview_id="P03", top=3)  # reproducible


def test_accept_codes_and_reject_hides(demo_copy, e5):
    p = qda.open_project(demo_copy)
    first = suggest_codes(p, e5, interview_id="P04")[0]
    p.decide_suggestion(first.segment_id, first.code_id, Decision.REJECTED, by="anna")
    again = suggest_codes(p, e5, interview_id="P04")
    assert (first.segment_id, first.code_id) not in {(s.segment_id, s.code_id) for s in again}
    other = next(s for s in again if s.segment_id == first.segment_id)
    p.decide_suggestion(other.segment_id, other.code_id, Decision.ACCEPTED, by="anna")
    (coding,) = [c for c in p.codings() if c.segment_id == other.segment_id]
    assert coding.origin is CodingOrigin.SUGGESTION and coding.coder == "anna"
    assert other.segment_id not in {s.segment_id for s in suggest_codes(p, e5, interview_id="P04")}


def test_cli_suggest_codes(demo_copy):
    result = CliRunner().invoke(
        main, ["suggest", str(demo_copy), "--codes", "--interview", "P06", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["model"] == "e5-small"
    first = data["suggestions"][0]
    assert {
        "segment_id",
        "interview",
        "turn",
        "code",
        "score",
        "text",
        "nearest_coded_example",
    } <= set(first)
    assert first["interview"] == "P06" and "/" in first["code"]
