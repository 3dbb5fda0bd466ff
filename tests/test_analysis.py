"""Cross-tabs, quotes and co-occurrence, against numbers worked out by hand."""

from __future__ import annotations

import pytest

from qda.analysis import (
    TOTAL,
    Filters,
    Measure,
    cooccurrence,
    cooccurrence_quotes,
    crosstab,
    quotes,
)
from qda.models import AttributeType, Participant, SegmentDraft, SpeakerRole

IV, PT = SpeakerRole.INTERVIEWER, SpeakerRole.PARTICIPANT
ALL = Filters(coded_only=False)  # every interview counts, P4 (not coded) too


@pytest.fixture
def study(project):
    """Theme T > C1 > S1, T > C2; theme U > U1. Group A: P1, P2, P4 (no codings);
    group B: P3 alone. Every interview opens with an interviewer turn."""
    p = project
    p.define_attribute("site", AttributeType.TEXT)
    for pid, group, site in [
        ("P1", "A", "Leeds"),
        ("P2", "A", "Lille"),
        ("P3", "B", "Leeds"),
        ("P4", "A", ""),
    ]:
        p.save_participant(Participant(pid, group, f"{pid}-name", {"site": site} if site else {}))
    turns = {
        "P1": ["question one", "a b c d", "x y"],
        "P2": ["question two", "e f g", "h i j k l"],
        "P3": ["question three", "m n"],
        "P4": ["question four", "o p q r"],
    }
    for pid, texts in turns.items():
        p.add_interview(
            pid,
            [
                SegmentDraft(t, "I" if i == 0 else pid, IV if i == 0 else PT, float(i * 10))
                for i, t in enumerate(texts)
            ],
            language="fr" if pid == "P2" else "en",
        )
    t = p.add_code("T", by="x")
    c1 = p.add_code("C1", by="x", parent_id=t.id)
    s1 = p.add_code("S1", by="x", parent_id=c1.id)
    c2 = p.add_code("C2", by="x", parent_id=t.id)
    u = p.add_code("U", by="x")
    u1 = p.add_code("U1", by="x", parent_id=u.id)
    seg = {(s.interview_id, s.index): s.id for s in p.segments()}
    for (iv, i), code, coder in [
        (("P1", 0), c1, "anna"),  # interviewer turn: must not count
        (("P1", 1), s1, "anna"),
        (("P1", 1), c2, "lars"),  # same segment, two codes of theme T
        (("P1", 2), u1, "anna"),
        (("P2", 1), c1, "anna"),
        (("P3", 1), s1, "lars"),
        (("P3", 1), u1, "lars"),
    ]:
        p.apply_code(seg[(iv, i)], code.id, coder=coder)
    return p


def cells(table, column):
    return table[column].to_dict()


def test_participants_mentioning_by_group(study):
    x = crosstab(study, filters=ALL)
    assert list(x.counts.index) == ["T", "T/C1", "T/C1/S1", "T/C2", "U", "U/U1"]
    assert list(x.counts.columns) == ["A", "B", TOTAL]
    assert x.bases.to_dict() == {"A": 3, "B": 1, TOTAL: 4}  # P4 counts in A's base
    assert cells(x.counts, "A") == {"T": 2, "T/C1": 2, "T/C1/S1": 1, "T/C2": 1, "U": 1, "U/U1": 1}
    assert cells(x.counts, "B") == {"T": 1, "T/C1": 1, "T/C1/S1": 1, "T/C2": 0, "U": 1, "U/U1": 1}
    assert cells(x.counts, TOTAL) == {"T": 3, "T/C1": 3, "T/C1/S1": 2, "T/C2": 1, "U": 2, "U/U1": 2}
    assert x.percents.loc["T", "A"] == 66.7 and x.percents.loc["T", "B"] == 100.0
    assert x.percents.loc["T/C1/S1", TOTAL] == 50.0
    assert "percentage of the column's interviewed participants" in x.definition
    assert "1 interview not coded yet counts in the bases as mentioning nothing." in x.definition
    assert x.depth["T/C1/S1"] == 2


def test_while_coding_is_partial_only_coded_interviews_count(study):
    """P4 is not coded yet: by default it is not a participant who mentions nothing."""
    x = crosstab(study)
    assert x.coded_only and x.not_coded == ("P4",)
    assert x.bases.to_dict() == {"A": 2, "B": 1, TOTAL: 3}
    assert x.percents.loc["T", "A"] == 100.0
    assert "participants with a coded interview" in x.definition
    assert "Only coded interviews count: 1 interview not coded yet (P4) is left out." in (
        x.definition
    )
    by_site = crosstab(study, by="site")  # P4 alone has no site: a column not coded yet
    assert list(by_site.counts.columns) == ["(no value)", "Leeds", "Lille", TOTAL]
    assert by_site.header("(no value)") == "(no value) (not coded yet)"
    assert by_site.header("Leeds") == "Leeds (n=2)"
    assert crosstab(study, by="site", filters=ALL).header("(no value)") == (
        "(no value) (n=1, not coded yet)"
    )
    study.apply_code(study.segments("P4")[1].id, study.codes[-1].id, coder="anna")
    coded = crosstab(study)
    assert not coded.coded_only and not coded.not_coded and coded.bases["A"] == 3


def test_segments_count_each_segment_once(study):
    x = crosstab(study, measure=Measure.SEGMENTS, filters=ALL)
    assert x.bases.to_dict() == {"A": 5, "B": 1, TOTAL: 6}  # interviewer turns left out
    assert cells(x.counts, "A")["T"] == 2  # P1 turn 2 has S1 and C2: counted once
    assert x.percents.loc["T", "A"] == 40.0
    assert cells(x.counts, TOTAL) == {"T": 3, "T/C1": 3, "T/C1/S1": 2, "T/C2": 1, "U": 2, "U/U1": 2}


def test_words(study):
    x = crosstab(study, measure=Measure.WORDS)
    assert cells(x.counts, "A")["T"] == 7 and cells(x.counts, "B")["T"] == 2
    assert x.counts.loc["T", TOTAL] == 9 and x.percents is None


def test_interviewer_turns_count_only_when_asked(study):
    x = crosstab(
        study,
        measure=Measure.SEGMENTS,
        filters=Filters(participant_speech_only=False, coded_only=False),
    )
    assert x.counts.loc["T", "A"] == 3 and x.bases["A"] == 8


def test_other_attribute_and_filters(study):
    x = crosstab(study, by="site", filters=ALL)
    assert list(x.counts.columns) == ["(no value)", "Leeds", "Lille", TOTAL]
    assert x.counts.loc["U", "Leeds"] == 2
    lars = crosstab(study, filters=Filters(coders=("lars",)))
    assert lars.counts.loc["T", TOTAL] == 2 and lars.counts.loc["T/C1", TOTAL] == 1
    english = crosstab(
        study, measure=Measure.SEGMENTS, filters=Filters(languages=("en",), coded_only=False)
    )
    assert english.bases["A"] == 3 and english.counts.loc["T/C1", "A"] == 1


def test_quotes_behind_a_cell(study):
    t = study.code_paths()["T"].id
    q = quotes(study, t, value="A")
    assert q.to_dict("records") == [
        {
            "participant": "P1-name",
            "stakeholder_group": "A",
            "interview": "P1",
            "time": "00:00:10",
            "turn": 2,
            "text": "a b c d",
            "segment": "a b c d",
        },
        {
            "participant": "P2-name",
            "stakeholder_group": "A",
            "interview": "P2",
            "time": "00:00:10",
            "turn": 2,
            "text": "e f g",
            "segment": "e f g",
        },
    ]
    assert len(quotes(study, t)) == 3


def test_cooccurrence(study):
    m = cooccurrence(study)
    assert m.loc["T/C1/S1", "U/U1"] == 1  # P3's turn
    assert m.loc["T/C1/S1", "T/C2"] == 1  # P1's turn
    assert m.loc["T/C1", "T/C2"] == 0
    assert m.loc["T/C1/S1", "T/C1/S1"] == 2
    near = cooccurrence(study, window=1)
    assert near.loc["T/C1/S1", "U/U1"] == 2  # P1: S1 on turn 2, U1 on turn 3
    paths = study.code_paths()
    both = cooccurrence_quotes(study, paths["T/C1/S1"].id, paths["U/U1"].id)
    assert both.text.tolist() == ["m n"]


def test_an_empty_project_gives_an_empty_table(project):
    x = crosstab(project)
    assert x.counts.empty and x.bases.to_dict() == {TOTAL: 0}


def test_an_excluded_interview_counts_nowhere_until_included(study):
    """P1 withdrew consent: out of every cell, base, quote and co-occurrence."""
    study.exclude_interview("P1", "withdrew consent", by="anna")
    x = crosstab(study, filters=ALL)
    assert x.bases.to_dict() == {"A": 2, "B": 1, TOTAL: 3}
    assert cells(x.counts, "A") == {"T": 1, "T/C1": 1, "T/C1/S1": 0, "T/C2": 0, "U": 0, "U/U1": 0}
    assert x.percents.loc["T", "A"] == 50.0
    assert " 1 interview excluded from analysis is not counted." in x.definition
    s1 = study.code_paths()["T/C1/S1"].id
    assert quotes(study, s1)["participant"].tolist() == ["P3-name"]
    assert cooccurrence(study).loc["T/C1/S1", "T/C2"] == 0
    assert crosstab(study, measure=Measure.SEGMENTS, filters=ALL).bases[TOTAL] == 4
    study.include_interview("P1", by="anna")
    assert crosstab(study, filters=ALL).bases.to_dict() == {"A": 3, "B": 1, TOTAL: 4}
    assert quotes(study, s1)["participant"].tolist() == ["P1-name", "P3-name"]


def test_quotes_and_words_are_what_was_coded(study):
    """A coding of part of a segment quotes and counts that part; two parts read as one
    quotation; a whole-segment coding of the same code counts the whole."""
    u = study.code_paths()["U"].id
    u1 = study.code_paths()["U/U1"].id
    p2 = study.segments("P2")[2]  # "h i j k l"
    study.apply_code(p2.id, u1, coder="anna", span=(0, 3))  # "h i"
    study.apply_code(p2.id, u1, coder="lars", span=(6, 9))  # "k l"
    q = quotes(study, u, filters=ALL)
    row = q[q.interview == "P2"].iloc[0]
    assert row.text == "h i … k l" and row.segment == "h i j k l"
    words = crosstab(study, measure=Measure.WORDS, filters=ALL)
    assert words.counts.loc["U/U1", "A"] == 2 + 4  # P1 "x y" whole, P2 two words of each part
    study.apply_code(p2.id, u1, coder="cy")  # now someone coded the whole turn
    assert crosstab(study, measure=Measure.WORDS, filters=ALL).counts.loc["U/U1", "A"] == 2 + 5
    assert quotes(study, u1, filters=ALL).query("interview == 'P2'").text.iloc[0] == "h i j k l"
