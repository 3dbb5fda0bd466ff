"""Embeddings (real bundled models), their cache, and code-fit suggestions."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

import qda
from qda.cli import main
from qda.models import CodingOrigin, Decision
from qda.suggest.codefit import suggest_codes, suggestion_queue
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
    found = suggest_codes(p, e5, interview_id="P03", top=3, min_chance=0)
    by_segment: dict[int, set[str]] = {}
    for s in found:
        by_segment.setdefault(s.segment_id, set()).add(s.code_id)
    recalled = sum(1 for c in hidden if c.code_id in by_segment.get(c.segment_id, set()))
    assert recalled / len(hidden) >= 0.5  # random picks of 3 of 22 codes: 0.14
    coded = {c.code_id for c in p.codings()}
    assert all(s.reasons for s in found if s.code_id in coded)  # coded examples to show
    assert all(0 <= s.chance <= 1 and s.passage and s.passage in p.segment(s.segment_id).text
               for s in found)  # fmt: skip
    assert found == suggest_codes(p, e5, interview_id="P03", top=3, min_chance=0)  # reproducible
    shown = suggest_codes(p, e5, interview_id="P03", top=3)  # at the measured threshold
    assert {s.segment_id for s in shown} < {s.segment_id for s in found}


def test_accept_codes_and_reject_hides(demo_copy, e5):
    p = qda.open_project(demo_copy)
    first = suggest_codes(p, e5, interview_id="P04", min_chance=0)[0]
    p.decide_suggestion(first.segment_id, first.code_id, Decision.REJECTED, by="anna")
    again = suggest_codes(p, e5, interview_id="P04", min_chance=0)
    assert (first.segment_id, first.code_id) not in {(s.segment_id, s.code_id) for s in again}
    other = next(s for s in again if s.segment_id == first.segment_id)
    p.decide_suggestion(other.segment_id, other.code_id, Decision.ACCEPTED, by="anna")
    (coding,) = [c for c in p.codings() if c.segment_id == other.segment_id]
    assert coding.origin is CodingOrigin.SUGGESTION and coding.coder == "anna"
    assert other.segment_id not in {s.segment_id for s in suggest_codes(p, e5, interview_id="P04")}


def test_undo_a_decision_and_the_revision_it_changes(demo_copy, e5):
    p = qda.open_project(demo_copy)
    first = suggest_codes(p, e5, interview_id="P04")[0]
    before = p.revision()
    p.decide_suggestion(first.segment_id, first.code_id, Decision.ACCEPTED, by="anna")
    accepted = p.revision()
    assert accepted != before
    p.undo_decision(first.segment_id, first.code_id, by="anna")
    assert not [c for c in p.codings() if c.segment_id == first.segment_id]
    assert not p.suggestion_decisions() and p.revision() != accepted
    assert first in suggest_codes(p, e5, interview_id="P04")  # back in the queue
    p.decide_suggestion(first.segment_id, first.code_id, Decision.REJECTED, by="anna")
    p.undo_decision(first.segment_id, first.code_id, by="anna")
    assert first in suggest_codes(p, e5, interview_id="P04")
    with pytest.raises(qda.errors.NotFound):
        p.undo_decision(first.segment_id, first.code_id, by="anna")
    # editing a segment, excluding an interview, editing a code: each changes it
    seen = {p.revision()}
    p.edit_segment(first.segment_id, "Edited text of the segment.", by="anna")
    seen.add(p.revision())
    p.exclude_interview("P04", "pilot", by="anna")
    seen.add(p.revision())
    code = p.codes[0]
    p.save_code(dataclasses.replace(code, definition="A new definition."), by="anna")
    seen.add(p.revision())
    assert len(seen) == 4


def test_one_queue_over_every_interview_best_fit_first(demo_copy, e5):
    p = qda.open_project(demo_copy)
    found = suggest_codes(p, e5)
    queue = suggestion_queue(found, order="best")
    assert len({p.segment(i).interview_id for i, _ in queue}) > 3
    best = [max(o.score for o in options) for _, options in queue]
    assert best == sorted(best, reverse=True)
    in_turns = suggestion_queue(found, order="transcript")
    assert [i for i, _ in in_turns] == list(dict.fromkeys(s.segment_id for s in found))
    assert sorted(i for i, _ in queue) == sorted(i for i, _ in in_turns)


def test_code_descriptions_are_embedded_once(demo_copy, e5):
    p = qda.open_project(demo_copy)
    counting = Counting(e5)
    suggest_codes(p, counting)
    first = counting.count
    suggest_codes(p, counting)
    assert first > 0 and counting.count == first  # nothing embedded the second time


def test_cli_suggest_codes(demo_copy):
    result = CliRunner().invoke(
        main, ["suggest", str(demo_copy), "--codes", "--interview", "P06", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "e5-small"
    assert "suggestions with a chance of at least" in result.stderr
    assert 0 <= data["threshold"] <= 1 and 0 <= data["precision_at_threshold"] <= 1
    first = data["suggestions"][0]
    assert {
        "segment_id",
        "interview",
        "turn",
        "code",
        "score",
        "chance",
        "passage",
        "text",
        "nearest_coded_example",
    } <= set(first)
    assert first["interview"] == "P06" and first["passage"] in first["text"]
    assert all(s["chance"] >= data["threshold"] for s in data["suggestions"] if s["code"] ==
               first["code"] and s["segment_id"] == first["segment_id"])  # fmt: skip


def test_too_few_segments_get_a_clear_message(project, e5):
    from qda.errors import QdaError
    from qda.models import Participant, SegmentDraft
    from qda.suggest.themes import theme_candidates

    project.save_participant(Participant("P1", "a"))
    project.add_interview("P1", [SegmentDraft("Only one thing to say.", "Ann")])
    with pytest.raises(QdaError, match="topics need at least 3"):
        theme_candidates(project, e5)


def test_small_sets_cluster_with_kmeans_and_keep_non_ascii_words(project, e5):
    from qda.models import Participant, SegmentDraft
    from qda.suggest.themes import code_from_theme, theme_candidates

    project.save_participant(Participant("P1", "beneficiaries"))
    project.save_participant(Participant("P2", "frontline staff"))
    talk = [
        "Værdifællesskaber betyder meget for de ældre frivillige i foreningen.",
        "De frivillige i foreningen taler om værdifællesskaber og fællesskab.",
        "Værdifællesskaber og frivillige fællesskaber holder foreningen sammen.",
        "The bus to the town centre only runs twice a day, so I miss appointments.",
        "Without a bus on Sundays I cannot get to the job centre appointments.",
        "The last bus leaves at six, so evening appointments are impossible for me.",
    ]
    project.add_interview("P1", [SegmentDraft(t, "Ann") for t in talk[:3] + talk[3:4]])
    project.add_interview("P2", [SegmentDraft(t, "Bob") for t in talk[4:]])
    run = theme_candidates(project, e5, seed=1)
    assert run.parameters["clustering"] == "kmeans(2)" and run.parameters["segments"] == 6
    words = {w for c in run.candidates for w in c.key_words}
    assert "værdifællesskaber" in words and "vrdifllesskaber" not in words
    assert sum(c.size for c in run.candidates) == 6
    assert run.candidates == theme_candidates(project, e5, seed=1).candidates  # reproducible
    top = run.candidates[0]
    assert len(top.quotes) == 3 and sum(top.groups.values()) == top.size
    code = code_from_theme(project, top, by="anna")
    assert code.name == top.suggested_name and "segments about" in code.definition
    assert project.codings() == []  # proposed for review, not coded


TOPICS = {
    "bus": [
        "The bus to the {} only runs twice a day, so I miss appointments.",
        "Without a bus on {} I cannot get to the job centre.",
        "The last bus to the {} leaves at six in the evening.",
    ],
    "money": [
        "I borrowed money from my {} to pay the rent this month.",
        "The {} bill came and I had to choose between heating and food.",
        "We fell behind on the {} payments after the benefit was cut.",
    ],
    "volunteers": [
        "The volunteers at the {} know everybody by name.",
        "I started volunteering at the {} after my husband died.",
        "Volunteering at the {} gave me a reason to get up in the morning.",
    ],
}
PLACES = ["town centre", "library", "market", "station", "hospital", "school", "church",
          "club", "park", "harbour"]  # fmt: skip


def larger_study(project, n_per_topic=30):
    from qda.models import Participant, SegmentDraft

    for i, templates in enumerate(TOPICS.values()):
        project.save_participant(Participant(f"P{i}", ["a", "b", "c"][i]))
        project.add_interview(
            f"P{i}",
            [
                SegmentDraft(templates[k % 3].format(PLACES[k % 10]) + f" ({k})", "Ann")
                for k in range(n_per_topic)
            ],
        )


def test_larger_sets_get_topics_the_size_of_codes(project, e5):
    from qda.models import Participant, SegmentDraft
    from qda.suggest.themes import theme_candidates

    larger_study(project)  # 90 segments of three subjects, one participant each
    project.save_participant(Participant("P9", "a"))
    answer = " ".join(  # one long answer about buses, then about money
        [TOPICS["bus"][k % 3].format(PLACES[k + 3]) for k in range(6)]
        + [
            TOPICS["money"][k % 3].format(
                ["sister", "gas", "council tax", "aunt", "water", "rent"][k]
            )
            for k in range(6)
        ]
    )  # 743 characters: two passages, one a subject
    interview = project.add_interview("P9", [SegmentDraft(answer, "Ann")])
    (long,) = [x.id for x in project.segments(interview.id)]
    run = theme_candidates(project, e5, seed=0)
    assert run.parameters["segments"] == 91 and run.parameters["passages"] == 92
    assert run.parameters["clustering"] == "ward(12)"
    owner = {s.id: s.interview_id for s in project.segments() if s.id != long}
    holding = [c for c in run.candidates if long in c.segment_ids]
    for c in run.candidates:
        assert 3 <= c.size <= 40
        subjects = {owner[i] for i in c.segment_ids if i != long}
        assert len(subjects) == 1, (c.key_words, subjects)  # one subject a topic
    for c in holding:
        assert c.passages[c.segment_ids.index(long)] in answer
    # the answer's two passages each lie nearer the turns of their own subject
    from qda.suggest.themes import passages

    halves = [t for _, t in passages(project.segments(interview.id))]
    assert len(halves) == 2 and " ".join(halves) == answer
    bus, money = (
        e5.embed([s.text for s in project.segments(x)]).mean(axis=0) for x in ("P0", "P1")
    )
    first, second = e5.embed(halves)
    assert first @ bus > first @ money and second @ money > second @ bus
    from qda.errors import QdaError

    with pytest.raises(QdaError, match="between 2 and 92"):
        theme_candidates(project, e5, topics=500)


def test_very_large_sets_use_umap_and_a_second_number_of_topics_only_reclusters(
    project, e5, monkeypatch
):
    from qda.suggest import themes

    monkeypatch.setattr(themes, "WARD_MAX", 50)  # as a study of more than 4,000 turns
    larger_study(project)
    auto = themes.theme_candidates(project, e5, seed=0)
    assert auto.parameters["reduction"].startswith("umap")
    assert auto.parameters["clustering"] == "hdbscan(min_cluster_size=5, leaf)"
    assert len(auto.candidates) >= 2 and not auto.reused
    four = themes.theme_candidates(project, e5, seed=0, topics=4)
    assert four.reused and four.parameters["topics"] == 4 and len(four.candidates) == 4
    assert sum(c.size for c in four.candidates) == 90  # k-means leaves no outliers
    two = themes.theme_candidates(project, e5, seed=0, topics=2)
    assert two.reused and len(two.candidates) == 2
    assert themes.theme_candidates(project, e5, seed=0, topics=4).candidates == four.candidates


def test_embedding_run_records_progress_and_embeds_each_text_once(project, e5):
    from qda.suggest.embed import not_cached
    from qda.suggest.runs import participant_texts, run_embedding, runs

    larger_study(project, n_per_topic=10)
    counting = Counting(e5)
    texts = participant_texts(project)
    assert len(not_cached(project, "e5-small", texts)) == 30
    run = run_embedding(project, counting, by="anna", chunk=8)
    assert (run.kind, run.status, run.result["done"], run.result["total"]) == (
        "embed", "done", 30, 30,
    )  # fmt: skip
    assert counting.count == 30 and not not_cached(project, "e5-small", texts)
    again = run_embedding(project, counting, by="anna")
    assert again.result["total"] == 0 and counting.count == 30
    assert [r.id for r in runs(project, "embed")] == [again.id, run.id]


def test_static_model_is_distilled_once_and_ranks_meaning(model_cache):
    from qda.suggest.static import _cache_file

    static = load_embedder("minilm-static")
    assert _cache_file().exists()
    v = static.embed(
        [
            "The bus only runs twice a day so I miss my appointments.",
            "There is hardly any public transport to get to the job centre.",
            "I borrowed money from my sister to pay the rent.",
        ]
    )
    assert v.shape == (3, 256) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert np.array_equal(
        load_embedder("minilm-static").embed(["same text"]), static.embed(["same text"])
    )


def test_demo_themes_and_cli(demo_copy):
    result = CliRunner().invoke(main, ["suggest", str(demo_copy), "--themes", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["parameters"]["seed"] == 0 and data["parameters"]["embedding_model"] == "e5-small"
    from qda.suggest.runs import runs

    (recorded,) = runs(qda.open_project(demo_copy))
    assert (recorded.id, recorded.status) == (data["run"], "done")
    assert [c.size for c in recorded.candidates()] == [t["segments"] for t in data["themes"]]
    assert data["parameters"]["bertopic"] and data["parameters"]["no_code_fits"] > 0
    assert data["themes"] and all(len(t["quotes"]) <= 3 and t["key_words"] for t in data["themes"])
    p = qda.open_project(demo_copy)
    every = {s.id for s in p.segments(analysed_only=True) if s.role.value != "interviewer"}
    listed = [i for t in data["themes"] for i in t["segment_ids"]]
    assert set(listed) | set(data["outliers"]) == every
    assert all(len(t["segment_ids"]) == t["segments"] for t in data["themes"])
    for t in data["themes"]:  # the part of each turn that is in the topic
        assert len(t["passages"]) == t["segments"]
        pairs = zip(t["segment_ids"], t["passages"], strict=True)
        assert all(x in p.segment(i).text for i, x in pairs)
    assert all(re.fullmatch(r".+, [01]\.\d\d", t["close_to"]) for t in data["themes"])
    news = [c.new for c in recorded.candidates()]
    assert news == sorted(news, reverse=True)  # the most turns no code fits first
    # topics by meaning, not by language: most mix turns in two or three languages
    from qda.suggest.themes import language_of

    mixed = [
        len({language_of(p.segment(i).text) for i in t["segment_ids"]}) > 1
        for t in data["themes"]
        if t["segments"] >= 5
    ]
    assert sum(mixed) >= len(mixed) / 2, mixed


def test_refine_hints_find_a_code_that_holds_two_topics(project, e5):
    from qda.models import Participant, SegmentDraft
    from qda.suggest.refine import refine_hints

    project.save_participant(Participant("P1", "a"))
    buses = [
        f"The bus to town runs only {n} times a day so I miss appointments."
        for n in ("two", "three", "four", "five")
    ]
    money = [
        f"I had to borrow {n} pounds from my sister to pay the rent."
        for n in ("fifty", "sixty", "eighty", "ninety")
    ]
    rent = [
        f"My rent arrears reached {n} pounds after the payment stopped."
        for n in ("two hundred", "three hundred", "four hundred")
    ]
    project.add_interview("P1", [SegmentDraft(t, "Ann") for t in buses + money + rent])
    mixed = project.add_code("Everyday problems", by="x")
    borrowing = project.add_code("Borrowing", by="x")
    arrears = project.add_code("Arrears", by="x")
    s = project.segments("P1")
    for seg in s[:8]:  # buses and borrowing under one code: two topics
        project.apply_code(seg.id, mixed.id, coder="anna")
    for seg in (s[4], s[6], s[8], s[10]):  # two codes used for the same mix of money talk
        project.apply_code(seg.id, borrowing.id, coder="anna")
    for seg in (s[5], s[7], s[9]):
        project.apply_code(seg.id, arrears.id, coder="anna")
    merges, splits = refine_hints(project, e5)
    assert [h.code for h in splits] == ["Everyday problems"]
    first, second = splits[0].groups
    assert {frozenset(first), frozenset(second)} == {
        frozenset(x.id for x in s[:4]),
        frozenset(x.id for x in s[4:8]),
    }
    assert merges and {merges[0].code_a, merges[0].code_b} == {"Arrears", "Borrowing"}


def test_a_background_run_is_recorded_and_a_failure_too(project, e5):
    from concurrent.futures import ThreadPoolExecutor

    from qda.models import Participant, SegmentDraft
    from qda.suggest.runs import runs, start_themes

    project.save_participant(Participant("P1", "a"))
    project.add_interview("P1", [SegmentDraft("Too little.", "Ann")])
    with ThreadPoolExecutor(1) as pool:
        run_id = start_themes(project, e5, pool, seed=3, by="anna")
    (run,) = runs(project)
    assert (run.id, run.status, run.created_by) == (run_id, "failed", "anna")
    assert "topics need at least 3" in run.error and run.parameters["seed"] == 3


def test_cli_refine(demo_copy):
    result = CliRunner().invoke(main, ["suggest", str(demo_copy), "--refine", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"merge", "split"}
    from qda.suggest.refine import MERGE_RATIO, refine_hints
    from qda.suggest.themes import language_of

    assert all(len(m["codes"]) == 2 and m["closeness"] >= MERGE_RATIO for m in data["merge"])
    # the demo's codes are said in English, Danish and French: a code is not "two groups"
    # by language, and merge hints tell codes apart (they once all read 0.97-0.99)
    p = qda.open_project(demo_copy)
    merges, splits = refine_hints(p, load_embedder("e5-small"))
    for hint in splits:
        a, b = ({language_of(p.segment(i).text) for i in g} for g in hint.groups)
        assert a & b, (hint.code, a, b)
    assert 0 < len(merges) <= 8
    result = CliRunner().invoke(main, ["suggest", str(demo_copy), "--codes", "--refine"])
    assert result.exit_code == 2 and "--codes, --themes or --refine" in result.output


def test_a_run_left_by_a_stopped_app_is_marked_failed(project):
    from qda.suggest.runs import mark_abandoned, queue_themes, runs

    queue_themes(project, "e5-small", seed=0, by="anna")  # queued, but no thread took it
    assert mark_abandoned(project) == 1
    (run,) = runs(project)
    assert run.status == "failed" and "the app stopped" in run.error


def test_excluded_interviews_get_no_suggestions_and_teach_none(demo_copy, e5):
    p = qda.open_project(demo_copy)
    for c in p.codings(interview_id="P03"):
        p.remove_coding(c.id)
    p.exclude_interview("P03", "pilot interview", by="anna")
    assert suggest_codes(p, e5, interview_id="P03") == []
    excluded = {s.id for s in p.segments("P01")}
    p.exclude_interview("P01", "withdrew consent", by="anna")
    found = suggest_codes(p, e5, top=1)
    assert found and all(r.segment_id not in excluded for s in found for r in s.reasons)
    assert not {s.segment_id for s in found} & excluded
    p.include_interview("P03", by="anna")
    assert suggest_codes(p, e5, interview_id="P03")


def test_topics_look_among_the_turns_that_get_no_suggestion(demo_copy, e5):
    from qda.suggest.themes import check_topic_size, fitting

    p = qda.open_project(demo_copy)
    coded = {c.segment_id for c in p.codings()}
    candidates = [s for s in check_topic_size(p) if s.id not in coded]
    fits = fitting(p, e5, candidates, cached_embeddings(p, e5, [s.text for s in candidates]))
    shown = {s.segment_id for s in suggest_codes(p, e5)}
    assert 0 < fits.sum() < len(candidates)
    assert {s.id for s, f in zip(candidates, fits, strict=True) if f} == shown & {
        s.id for s in candidates
    }
