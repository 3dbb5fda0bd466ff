"""The code-fit scorer's parts, fast: vocabulary kept, passages, rejections learnt,
embedding progress and batches kept (a small deterministic embedder stands in for the
model here; tests/test_suggest.py runs the same with the real one)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import qda
from qda.models import Code, Decision, Participant, SegmentDraft, SpeakerRole
from qda.suggest import hybrid
from qda.suggest.codefit import fit_codes, suggest_codes
from qda.suggest.embed import cached_embeddings
from qda.suggest.hybrid import HybridScorer, Vocabulary


class Hashing:
    """Bag-of-words vectors by hashing: texts that share words are near."""

    name = "hashing"

    def __init__(self, fail_after: int | None = None):
        self.calls, self.fail_after = 0, fail_after

    def embed(self, texts, *, query=False):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("the model stopped")
        out = np.zeros((len(texts), 64), np.float32)
        for n, text in enumerate(texts):
            for word in text.lower().split():
                out[n, int(hashlib.sha256(word.encode()).hexdigest(), 16) % 64] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


TURNS = [
    "The bus to the centre never comes on time. I wait an hour in the rain.",
    "I could not log in to the portal. The password reset never arrived.",
    "The bus driver was kind. But the timetable is wrong every winter.",
    "My login failed again and the helpline was closed.",
    "We need more staff in the evening. The queue is long.",
    "Nobody answered when I called. The portal said my account was locked.",
    "The evening bus is cancelled so I walk home. It takes an hour.",
    "There are not enough staff at night and people are tired.",
]


def study(tmp_path):
    p = qda.create_project(tmp_path / "s")
    p.save_codes(
        [
            Code("transport", "Transport", definition="buses, timetables, getting there"),
            Code("access", "Online access", definition="logging in to the portal"),
            Code("staffing", "Staffing", definition="not enough staff"),
        ],
        by="t",
        action="import",
    )
    for k in range(2):
        p.save_participant(Participant(f"P{k}", "beneficiaries"))
        p.add_interview(
            f"P{k}",
            [
                SegmentDraft(t, "X", SpeakerRole.PARTICIPANT, float(n), n + 1.0)
                for n, t in enumerate(TURNS[k * 4 : k * 4 + 4])
            ],
        )
    segments = {s.text: s for s in p.segments()}
    for text, code in [(TURNS[0], "transport"), (TURNS[1], "access"), (TURNS[4], "staffing")]:
        p.apply_code(segments[text].id, code, coder="t")
    return p, segments


def test_the_vocabulary_is_learnt_once_for_the_same_texts():
    hybrid._VOCABULARIES.clear()
    first = Vocabulary.fit(TURNS)
    assert Vocabulary.fit(list(TURNS)) is first  # kept: a refresh reads no text again
    assert Vocabulary.fit(TURNS[:-1]) is not first
    meaning = np.ones((2, 3))
    kept = first.vectors([TURNS[2], "a new text about buses"], meaning)
    read = first.words.transform([TURNS[2], "a new text about buses"])
    assert abs(kept.word - read).max() < 1e-12  # a corpus row is what reading it gives
    for n in range(hybrid.KEPT_VOCABULARIES + 1):
        Vocabulary.fit([f"text {n}", "other"])
    assert len(hybrid._VOCABULARIES) == hybrid.KEPT_VOCABULARIES


def test_the_passage_is_the_sentence_that_fits_the_code():
    vocabulary = Vocabulary.fit(TURNS)
    own = vocabulary.vectors(["transport bus timetable", "login portal password"], np.eye(2))
    pool = vocabulary.vectors([], np.zeros((0, 2)))
    scorer = HybridScorer.fit(vocabulary, ["transport", "access"], own, {}, pool)
    text = "I like the staff here. The bus timetable is wrong. My password expired."
    assert scorer.passages([(text, "transport"), (text, "access"), ("One sentence", "access")]) == [
        "The bus timetable is wrong.",
        "My password expired.",
        "One sentence",
    ]


def test_a_rejected_code_scores_lower_on_turns_like_the_rejected_one():
    vocabulary = Vocabulary.fit(TURNS)
    e = Hashing()
    own = vocabulary.vectors(["Transport", "Online access"], e.embed(["Transport", "Online"]))
    pool = vocabulary.vectors(TURNS[:2], e.embed(TURNS[:2]))
    examples = {"transport": [0], "access": [1]}
    plain = HybridScorer.fit(vocabulary, ["transport", "access"], own, examples, pool)
    refused = vocabulary.vectors([TURNS[5]], e.embed([TURNS[5]]))
    taught = HybridScorer.fit(
        vocabulary, ["transport", "access"], own, examples, pool, {"access": [0]}, refused
    )
    like = vocabulary.vectors([TURNS[5], TURNS[3]], e.embed([TURNS[5], TURNS[3]]))
    before, after = plain.scores(like), taught.scores(like)
    assert after[0, 1] < before[0, 1] and after[1, 1] < before[1, 1]


def test_rejections_are_learnt_and_a_later_coding_overrides_them(tmp_path):
    p, segments = study(tmp_path)
    e = Hashing()
    fitted = fit_codes(p, e)
    assert fitted.data.rejected == {}
    target = segments[TURNS[5]]
    p.decide_suggestion(target.id, "access", Decision.REJECTED, by="t")
    again = fit_codes(p, e)
    assert again.data.rejected == {"access": [0]}
    assert again.data.refused_segments == [target.id]
    x = again.data.vocabulary.vectors([TURNS[3]], cached_embeddings(p, e, [TURNS[3]]))
    y = fitted.data.vocabulary.vectors([TURNS[3]], cached_embeddings(p, e, [TURNS[3]]))
    assert again.scorer.scores(x)[0, 1] < fitted.scorer.scores(y)[0, 1]
    found = suggest_codes(p, e, min_chance=0.0, fitted=again)
    assert "access" not in {s.code_id for s in found if s.segment_id == target.id}
    p.apply_code(target.id, "access", coder="t")  # the researcher changed their mind
    assert fit_codes(p, e).data.rejected == {}


def test_suggestions_carry_chance_and_passage_and_keep_the_threshold(tmp_path):
    p, segments = study(tmp_path)
    e = Hashing()
    found = suggest_codes(p, e, min_chance=0.0)
    coded = {c.segment_id for c in p.codings()}
    assert {s.segment_id for s in found} == {s.id for s in segments.values()} - coded
    assert all(0.0 <= s.chance <= 1.0 for s in found)
    assert all(s.passage in p.segment(s.segment_id).text for s in found)
    assert suggest_codes(p, e, min_chance=1.01) == []  # nothing is that sure


def test_embedding_reports_progress_and_keeps_every_finished_batch(tmp_path, monkeypatch):
    from qda.suggest import embed

    monkeypatch.setattr(embed, "EMBED_BATCH", 3)
    p = qda.create_project(tmp_path / "s")
    texts = [f"text number {n}" for n in range(8)]
    seen = []
    cached_embeddings(p, Hashing(), texts[:4], progress=lambda *a: seen.append(a))
    assert [a[1:] for a in seen] == [(3, 4), (4, 4)]
    assert "embedding" in seen[0][0]
    with pytest.raises(RuntimeError):
        cached_embeddings(p, Hashing(fail_after=1), texts)  # batch 1 saved, batch 2 fails
    counting = Hashing()
    cached_embeddings(p, counting, texts)
    assert counting.calls == 1  # only the one batch the failed run did not finish


def test_a_project_without_codes_fits_and_suggests_nothing(tmp_path):
    p = qda.create_project(tmp_path / "s")
    p.save_participant(Participant("P0", "beneficiaries"))
    p.add_interview("P0", [SegmentDraft(TURNS[0], "X", SpeakerRole.PARTICIPANT, 0.0, 1.0)])
    fitted = fit_codes(p, Hashing())
    assert fitted.data.codes == [] and fitted.calibration.checked == 0
    assert suggest_codes(p, Hashing(), fitted=fitted) == []


def test_the_cli_shows_progress_of_long_steps_only(capsys):
    from qda.cli import PROGRESS_FROM, _progress_line

    _progress_line("embedding new text (e5-small)", 3, 3)
    assert capsys.readouterr().err == ""  # a few texts: no line
    for done in (256, PROGRESS_FROM + 300):
        _progress_line("embedding new text (e5-small)", done, PROGRESS_FROM + 300)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"embedding new text (e5-small): 256 of {PROGRESS_FROM + 300}",
        f"embedding new text (e5-small): {PROGRESS_FROM + 300} of {PROGRESS_FROM + 300}",
    ]


def test_the_chance_rises_with_the_score_and_is_never_certain():
    from qda.suggest.hybrid import fit_calibration

    rng = np.random.default_rng(0)
    scores = rng.normal(size=200)
    right = rng.random(200) < 1 / (1 + np.exp(-2 * scores))
    calibration = fit_calibration(scores, right)
    chances = calibration.chances(np.array([-3.0, 0.0, 3.0]))
    assert chances[0] < chances[1] < chances[2] and chances[0] > 0 and chances[2] < 1
    assert calibration.checked == 200 and 0 < calibration.threshold < 1
    assert calibration.precision >= 0.6  # what is shown above the threshold is right that often
    shown = calibration.chances(scores) >= calibration.threshold
    assert calibration.precision == pytest.approx(right[shown].mean())
    assert calibration.shown_share == pytest.approx(shown.mean())
    assert fit_calibration(scores[:3], right[:3]).describe().startswith("too few")
