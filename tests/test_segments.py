"""Correcting transcripts: text, speakers, merge, split; nothing is ever lost."""

from __future__ import annotations

import pytest

from qda.errors import InvalidInput
from qda.models import Participant, SegmentDraft, SpeakerRole

IV, P = SpeakerRole.INTERVIEWER, SpeakerRole.PARTICIPANT


@pytest.fixture
def interview(project):
    project.save_participant(Participant("P01", "beneficiaries", "Ann"))
    project.add_interview(
        "P01",
        [
            SegmentDraft("How do you get online?", "SPEAKER_1", IV, 0.0, 3.0),
            SegmentDraft("Only on my phone.", "SPEAKER_2", P, 3.0, 5.0),
            SegmentDraft(
                "It runs out of data. Then I go to the library.",
                "SPEAKER_2",
                P,
                5.0,
                10.0,
                (
                    (5.0, 6.0, " It"),
                    (6.0, 6.5, " runs"),
                    (6.5, 7.0, " out"),
                    (7.0, 7.2, " of"),
                    (7.2, 7.8, " data."),
                    (8.0, 8.5, " Then"),
                    (8.5, 8.7, " I"),
                    (8.7, 9.0, " go"),
                    (9.0, 9.2, " to"),
                    (9.2, 9.4, " the"),
                    (9.4, 10.0, " library."),
                ),
            ),
            SegmentDraft("And the council?", "SPEAKER_1", IV, 10.0, 12.0),
        ],
    )
    theme = project.add_code("Access", by="anna")
    devices = project.add_code("Devices", by="anna", parent_id=theme.id)
    return project, devices


def test_swap_and_rename_speakers(interview):
    project, _ = interview
    project.swap_speakers("P01", by="anna")
    segments = project.segments("P01")
    assert [(s.speaker, s.role) for s in segments] == [
        ("SPEAKER_2", P),
        ("SPEAKER_1", IV),
        ("SPEAKER_1", IV),
        ("SPEAKER_2", P),
    ]
    project.swap_speakers("P01", by="anna")
    assert project.rename_speaker("P01", "SPEAKER_2", "Ann", role=P, by="anna") == 2
    assert project.rename_speaker("P01", "SPEAKER_1", "Interviewer", role=IV, by="anna") == 2
    assert [s.speaker for s in project.segments("P01")] == [
        "Interviewer",
        "Ann",
        "Ann",
        "Interviewer",
    ]
    one = project.set_speaker(project.segments("P01")[3].id, "Ann", by="anna")
    assert (one.speaker, one.role) == ("Ann", P)


def test_merge_keeps_texts_codings_and_order(interview):
    project, devices = interview
    _, b, c, d = project.segments("P01")
    project.apply_code(b.id, devices.id, coder="anna")
    project.apply_code(c.id, devices.id, coder="anna")
    project.apply_code(c.id, devices.id, coder="lars")
    project.edit_segment(b.id, "Only on my mobile.", by="anna")
    merged = project.merge_segments(b.id, by="anna")
    assert merged.text == "Only on my mobile. It runs out of data. Then I go to the library."
    assert (
        merged.original_text == "Only on my phone. It runs out of data. Then I go to the library."
    )
    assert (merged.start, merged.end) == (3.0, 10.0)
    assert [s.index for s in project.segments("P01")] == [0, 1, 2]
    assert [s.text for s in project.segments("P01")][2] == "And the council?"
    assert sorted(c.coder for c in project.codings()) == ["anna", "lars"]  # no double count
    assert {c.segment_id for c in project.codings()} == {b.id}
    with pytest.raises(InvalidInput, match="last segment"):
        project.merge_segments(d.id, by="anna")


def test_merging_two_speakers_asks_which_and_keeps_each_coding_on_its_words(interview):
    project, devices = interview
    a, b, _, _ = project.segments("P01")
    project.apply_code(a.id, devices.id, coder="anna")  # the whole question
    project.apply_code(b.id, devices.id, coder="anna", span=(8, 13))  # "my ph"
    with pytest.raises(InvalidInput, match="different speakers"):
        project.merge_segments(a.id, by="anna")
    with pytest.raises(InvalidInput, match="neither speaker"):
        project.merge_segments(a.id, by="anna", speaker="Someone")
    merged = project.merge_segments(a.id, by="anna", speaker="SPEAKER_2")
    assert (merged.speaker, merged.role) == ("SPEAKER_2", P)
    spans = sorted(c.span for c in project.codings())
    assert [merged.text[x:y] for x, y in spans] == ["How do you get online?", "my ph"]


def test_split_divides_text_time_words_and_codings(interview):
    project, devices = interview
    c = project.segments("P01")[2]
    project.apply_code(c.id, devices.id, coder="anna")
    first, second = project.split_segment(c.id, c.text.index("Then"), by="anna")
    assert (first.text, second.text) == ("It runs out of data.", "Then I go to the library.")
    assert (first.original_text, second.original_text) == (first.text, second.text)
    assert (first.start, first.end, second.start, second.end) == (5.0, 7.8, 7.8, 10.0)
    assert second.words[0][2] == " Then"
    assert [s.index for s in project.segments("P01")] == [0, 1, 2, 3, 4]
    assert project.segments("P01")[4].text == "And the council?"
    assert {co.segment_id for co in project.codings()} == {first.id, second.id}
    with pytest.raises(InvalidInput, match="both parts need text"):
        project.split_segment(first.id, 0, by="anna")


def test_every_change_is_in_the_history(interview):
    project, _ = interview
    b = project.segments("P01")[1]
    project.edit_segment(b.id, "Only on my mobile.", by="anna")
    project.edit_segment(b.id, "Only on my mobile phone.", by="lars")
    project.swap_speakers("P01", by="anna")
    project.merge_segments(b.id, by="anna")
    history = project.segment_history("P01")
    assert [(h["action"], h["by"]) for h in history] == [
        ("edit", "anna"),
        ("edit", "lars"),
        ("swap speakers", "anna"),
        ("merge", "anna"),
    ]
    assert history[1]["before"][0]["text"] == "Only on my mobile."
    assert history[0]["before"][0]["original_text"] == "Only on my phone."


def test_a_coded_transcript_is_not_replaced(interview):
    project, devices = interview
    project.apply_code(project.segments("P01")[1].id, devices.id, coder="anna")
    with pytest.raises(InvalidInput, match="has codings"):
        project.replace_transcript("P01", [SegmentDraft("new")], by="engine")
    assert len(project.segments("P01")) == 4


def test_the_last_changes_are_undone_one_after_another(small_project):
    p = small_project
    first, second = p.segments("P01")[1:3]
    p.edit_segment(first.id, "Only on my old phone.", by="anna")
    p.set_speaker(second.id, "Interviewer", SpeakerRole.INTERVIEWER, by="anna")
    assert p.last_change("P01") == "speaker by anna (1 segment)"
    assert p.undo_last_change("P01", by="anna") == "speaker by anna"
    assert (p.segment(second.id).speaker, p.segment(second.id).role) == ("Ann", "participant")
    assert p.undo_last_change("P01", by="anna") == "edit by anna"
    assert p.segment(first.id).text == "Only on my phone."
    assert p.last_change("P01") is None
    with pytest.raises(InvalidInput, match="nothing to undo"):
        p.undo_last_change("P01", by="anna")
    actions = [h["action"] for h in p.segment_history("P01")]
    assert actions[:2] == ["edit", "speaker"] and actions[2].startswith("undo #")
    p.swap_speakers("P01", by="anna")
    p.undo_last_change("P01", by="anna")
    assert [s.speaker for s in p.segments("P01")] == ["Interviewer", "Ann", "Ann"]


def test_a_change_to_merged_segments_is_not_undone_half_way(small_project):
    p = small_project
    first, second = p.segments("P01")[1:3]
    p.edit_segment(second.id, "I go to the big library.", by="anna")
    p.merge_segments(first.id, by="anna")
    with pytest.raises(InvalidInput, match="merged or split since"):
        p.undo_last_change("P01", by="anna")


def test_a_removed_coding_is_put_back_as_it_was(small_project):
    p = small_project
    segment = p.segments("P01")[1]
    code = p.codes[-1]
    coding = p.apply_code(segment.id, code.id, coder="anna", span=(0, 4))
    removed = p.remove_coding(coding.id)
    assert p.codings() == []
    back = p.restore_coding(removed)
    assert (back.coder, back.span, back.created_at) == ("anna", (0, 4), coding.created_at)
