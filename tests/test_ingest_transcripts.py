"""Transcript files: plain text turns, WebVTT, SRT; linking files to participants."""

from __future__ import annotations

import pytest

from qda.errors import InvalidInput, InvalidInputs
from qda.ingest import import_transcripts, match_participant, read_transcript
from qda.ingest.speakers import assign_roles
from qda.models import Participant, SegmentDraft, SpeakerRole
from tests.conftest import as_file

TEXT = """[00:00:00] Interviewer: How do you contact the council?
[00:00:04] Maureen: I used to go to the office.
It was on Market Street.

[00:01:02.5] Interviewer: And now?
Maureen [00:01:05]: Now it is all online. #00:01:30-2#
"""


def test_plain_text_turns_with_timestamps():
    t = read_transcript(as_file(TEXT), "P01.txt")
    assert [(s.speaker, s.role, s.start, s.end) for s in t.segments] == [
        ("Interviewer", SpeakerRole.INTERVIEWER, 0.0, 4.0),
        ("Maureen", SpeakerRole.PARTICIPANT, 4.0, 62.5),
        ("Interviewer", SpeakerRole.INTERVIEWER, 62.5, 65.0),
        ("Maureen", SpeakerRole.PARTICIPANT, 65.0, 90.2),
    ]
    assert t.segments[1].text == "I used to go to the office.\nIt was on Market Street."
    assert t.segments[3].text == "Now it is all online."
    assert len(t.sha256) == 64


def test_plain_text_without_timestamps_and_with_a_header():
    text = "Interview 3, Lille\n\nQ: Comment allez-vous ?\nR: Bien, merci.\n"
    t = read_transcript(as_file(text), "P03.txt")
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("Q", "Comment allez-vous ?"),
        ("R", "Bien, merci."),
    ]
    assert t.left_out == ["Interview 3, Lille"] and t.title == "Interview 3, Lille"
    assert t.segments[0].role is SpeakerRole.INTERVIEWER
    assert all(s.start is None for s in t.segments)


def test_long_text_before_the_first_turn_is_kept_as_speech():
    speech = "So I was saying, before you switched it on, " * 5
    t = read_transcript(as_file(f"{speech}\nQ: Go on?\nR: Yes.\n"), "x.txt")
    assert t.segments[0].text == speech.strip() and t.segments[0].speaker == ""
    assert "line 1: text before the first speaker turn" in t.warnings[0]


def test_text_without_any_speaker_is_split_into_paragraphs():
    text = "First paragraph, line one.\nline two.\n\nSecond paragraph, with a colon: here.\n"
    t = read_transcript(as_file(text), "notes.txt")
    assert [s.text for s in t.segments] == [
        "First paragraph, line one.\nline two.",
        "Second paragraph, with a colon: here.",
    ]


def test_sentence_with_a_colon_is_not_a_speaker():
    text = "Ann: I said it plainly, you know: no more forms.\nWell, the thing is: nobody asked.\n"
    t = read_transcript(as_file(text), "x.txt")
    assert len(t.segments) == 1
    assert t.segments[0].text.endswith("nobody asked.")


def test_webvtt_voice_tags_and_notes():
    vtt = """WEBVTT
Kind: captions

NOTE a comment
over two lines

intro
00:00.000 --> 00:05.500 align:start
<v Interviewer>How are you &amp; your family?</v>

00:05.500 --> 00:00:09.000
<v.loud Dev>Fine, <i>thanks</i>.</v>
<v Interviewer>Good.

00:00:09.000 --> 00:00:12.000
Dev: Plain prefix too.
"""
    t = read_transcript(as_file(vtt), "P02.vtt")
    assert [(s.speaker, s.text, s.start, s.end) for s in t.segments] == [
        ("Interviewer", "How are you & your family?", 0.0, 5.5),
        ("Dev", "Fine, thanks.", 5.5, 9.0),
        ("Interviewer", "Good.", 5.5, 9.0),
        ("Dev", "Plain prefix too.", 9.0, 12.0),
    ]


def test_srt():
    srt = "1\n00:00:00,000 --> 00:00:03,250\nInterviewer: Hello?\n\n2\n00:00:03,250 --> 00:00:07,000\nPriya: Hello,\nnice to meet you.\n"
    t = read_transcript(as_file(srt), "P06.srt")
    assert [(s.speaker, s.text, s.start, s.end) for s in t.segments] == [
        ("Interviewer", "Hello?", 0.0, 3.25),
        ("Priya", "Hello, nice to meet you.", 3.25, 7.0),
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.srt", "1\n00:00:00,000 -> 00:00:03,000\nHi\n", "a.srt, line 1: expected a timing line"),
        (
            "a.srt",
            "1\n00:00:05,000 --> 00:00:03,000\nHi\n",
            "a.srt, line 2: the cue ends before it starts",
        ),
        ("a.vtt", "Hi\nthere\n", "a.vtt, line 1: not a WebVTT file"),
        (
            "a.txt",
            "[00:01:00] A: one\n[00:00:10] B: two\n",
            "a.txt, line 2: this turn starts before",
        ),
        ("a.txt", "\n\n  \n", "a.txt: no text found"),
        ("a.doc", "x", "a.doc: this is an old Word 97–2003 file"),
        ("a.xyz", "x", "unknown transcript format '.xyz'"),
        ("a.docx", "PK\x03\x04", "a.docx: this Word file is damaged"),
        ("a.txt", "\x00\x01binary", "a.txt: this is not a text file"),
    ],
)
def test_bad_transcripts_name_the_place(name, content, expected):
    with pytest.raises((InvalidInput, InvalidInputs), match=None) as raised:
        read_transcript(as_file(content), name)
    assert expected in str(raised.value)


def test_interviewer_guessed_from_questions_when_labels_are_names():
    segments, _ = assign_roles(
        [
            SegmentDraft("How did it start?", "Sara"),
            SegmentDraft("With a letter.", "Jonas"),
            SegmentDraft("And then?", "Sara"),
            SegmentDraft("I called them. Why would I not?", "Jonas"),
        ]
    )
    assert [s.role for s in segments] == [
        SpeakerRole.INTERVIEWER,
        SpeakerRole.PARTICIPANT,
        SpeakerRole.INTERVIEWER,
        SpeakerRole.PARTICIPANT,
    ]


def test_match_participant_by_name_or_column():
    people = [Participant("P01", "a"), Participant("P1", "a"), Participant("P10", "b")]
    assert match_participant("P01_maureen.txt", people, {}) == "P01"
    assert match_participant("p10 - interview.vtt", people, {}) == "P10"
    assert match_participant("P1.txt", people, {}) == "P1"
    assert match_participant("first interview.txt", people, {"first interview.txt": "P10"}) == "P10"
    with pytest.raises(InvalidInput, match="no participant fits"):
        match_participant("Maureen.txt", people, {})


def test_import_is_all_or_nothing_and_skips_duplicates(small_project):
    good = ("P02_bob.txt", as_file("Interviewer: Hi?\nBob: Hello.\n"))
    bad = ("P02_second.srt", as_file("garbage\n"))
    with pytest.raises(InvalidInputs) as raised:
        import_transcripts(small_project, [good, bad])
    assert "P02_second.srt, line 1" in str(raised.value)
    assert [i.id for i in small_project.interviews] == ["P01"]

    result = import_transcripts(
        small_project, [("P02_bob.txt", as_file("Interviewer: Hi?\nBob: Hello.\n"))]
    )
    assert [i.id for i in result.added] == ["P02"]
    again = import_transcripts(
        small_project, [("copy.txt", as_file("Interviewer: Hi?\nBob: Hello.\n"))]
    )
    assert again.added == [] and again.skipped == ["copy.txt"]
    assert [s.text for s in small_project.segments("P02")] == ["Hi?", "Hello."]
