"""Transcript readers, one per format, on the sample files of tests/data/transcripts/;
qda's own exports read back; files that must be refused."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from qda.errors import InvalidInput, InvalidInputs
from qda.export import transcript_of_interview, write_transcript
from qda.ingest import import_transcripts, read_transcript
from qda.ingest.formats import choose_reader, open_document
from qda.models import SpeakerRole
from tests.conftest import as_file

DATA = Path(__file__).parent / "data" / "transcripts"
I, P = SpeakerRole.INTERVIEWER, SpeakerRole.PARTICIPANT  # noqa: E741
STAMP = re.compile(r"\b\d{1,2}:\d{2}\b|-->")


def read(name: str, **kwargs):
    with (DATA / name).open("rb") as f:
        return read_transcript(f, name, **kwargs)


def no_header_or_time_in_text(t) -> None:
    for s in t.segments:
        assert not STAMP.search(s.text), s.text
        for sp in t.speakers:  # no speaker label left at the start of the words
            assert not re.match(rf"{re.escape(sp.speaker)}\s*[:(\[]", s.text), s.text
        for line in t.left_out:
            assert line not in s.text


def turns(t) -> list[tuple]:
    return [(s.speaker, s.role, s.start) for s in t.segments]


def test_otter_txt_header_typo_and_missing_speaker():
    t = read("otter_export.txt")
    assert (t.format, t.format_label) == ("otter", "Otter.ai export")
    assert turns(t) == [
        ("Interviewer", I, 0.0), ("Tom Reid", P, 5.0), ("Interviewer", I, 17.0),
        ("Tom Reid", P, 20.0), ("Interviewer", I, 62.0), ("Tom Reid", P, 65.0),
        ("", SpeakerRole.OTHER, 130.0), ("Tom Reid", P, 133.0),  # 'Tom Raid' read as Tom Reid
        ("Interviewer", I, 3605.0), ("Tom Reid", P, 3609.0),
    ]  # fmt: skip
    assert t.segments[3].text.count("\n") == 1  # a turn of two lines stays one turn
    assert t.left_out[0] == "Digital champion, Tom" and t.title == "Digital champion, Tom"
    assert "Transcribed by https://otter.ai" in t.left_out
    assert "SUMMARY KEYWORDS" in t.left_out and "Tom Reid, Interviewer" in t.left_out
    said = "\n".join(t.warnings)
    assert "line 30: a turn with a time (02:10) but no speaker name" in said
    assert "line 33: speaker 'Tom Raid' looks like a typo for 'Tom Reid'" in said
    no_header_or_time_in_text(t)


def test_otter_docx():
    t = read("otter_export.docx")
    assert t.format == "otter"
    assert turns(t) == [("Interviewer", I, 0.0), ("Aisha Khan", P, 6.0),
                        ("Interviewer", I, 19.0), ("Aisha Khan", P, 24.0)]  # fmt: skip
    assert "Example: last week" in t.segments[3].text  # a colon inside speech is not a speaker
    assert t.left_out[-1] == "Transcribed by https://otter.ai"
    no_header_or_time_in_text(t)


def test_zoom_vtt_joins_cues_of_one_speaker():
    t = read("zoom.vtt")
    assert t.format_label == "Zoom WebVTT"
    assert turns(t) == [("Sara Holm", I, 1.02), ("Jonas Berg", P, 4.9),
                        ("Sara Holm", I, 15.9), ("Jonas Berg", P, 19.6)]  # fmt: skip
    assert t.segments[1].text.startswith("Yes, fine. I run the volunteer café")
    assert t.segments[1].end == 15.2
    no_header_or_time_in_text(t)


def test_teams_vtt_joins_cues_with_ids_and_voice_tags():
    t = read("teams.vtt")
    assert t.format_label == "Teams WebVTT"
    assert turns(t) == [("Claire Dubois", I, 2.31), ("Samira Haddad", P, 9.42),
                        ("Claire Dubois", I, 20.02), ("Samira Haddad", P, 22.9)]  # fmt: skip
    assert "1f0c3a52" not in " ".join(s.text for s in t.segments)
    no_header_or_time_in_text(t)


def test_teams_docx():
    t = read("teams.docx")
    assert t.format == "teams"
    assert turns(t) == [("Sara Holm", I, 3.0), ("Mette Larsen", P, 9.0), ("Sara Holm", I, 21.0),
                        ("Mette Larsen", P, 24.0), ("Sara Holm", I, 3725.0),
                        ("Mette Larsen", P, 3729.0)]  # fmt: skip
    assert t.segments[1].text == (
        "De fleste ringer eller kommer forbi.\nMen mange bliver sendt videre til borger.dk."
    )
    assert "Sara Holm started transcription" in t.left_out
    assert "Sara Holm stopped transcription" in t.left_out
    no_header_or_time_in_text(t)


def test_rev():
    t = read("rev.txt")
    assert t.format == "rev"
    assert turns(t) == [("Interviewer", I, 0.0), ("Helen", P, 7.0), ("Interviewer", I, 19.0),
                        ("Helen", P, 22.0), ("Interviewer", I, 65.0), ("Helen", P, 69.0)]  # fmt: skip
    assert t.segments[3].text.endswith("the arrears letter.\nAnd by then it's two months.")
    assert t.left_out == ["Helen - housing association - 16 March 2026"]
    no_header_or_time_in_text(t)


def test_noscribe_html():
    t = read("noscribe.html")
    assert t.format == "noscribe"
    assert turns(t) == [("S00", I, 0.0), ("S01", P, 4.6), ("S00", I, 15.8), ("S01", P, 18.5)]
    assert (
        t.segments[1].text
        == "Vi hjælper nytilkomne med post fra kommunen. Mest breve, de ikke kan læse."
    )
    assert t.segments[1].end == 15.3
    assert t.left_out[0] == "P11_jonas.mp3"
    no_header_or_time_in_text(t)


def test_word_with_bold_names_french_colons_and_a_title():
    t = read("word_bold_names.docx")
    assert t.format == "text"
    assert [(s.speaker, s.role) for s in t.segments] == [("Enquêtrice", I), ("Camille", P)] * 3
    assert t.left_out == ["Entretien P13 – Camille", "Lille, le 6 mai 2026", "Durée : 42 minutes"]
    assert t.segments[1].text == (
        "J'accompagne les personnes qui ont des difficultés avec le numérique.\n"
        "Surtout pour les démarches urgentes : la CAF, les impôts, France Travail."
    )
    assert "Exemple : une permanence" in t.segments[5].text
    no_header_or_time_in_text(t)


def test_word_speaker_and_time_lines_over_the_words():
    t = read("word_speaker_lines.docx")
    assert turns(t) == [("INTERVIEWER", I, 0.0), ("GARETH", P, 6.0),
                        ("INTERVIEWER", I, 15.0), ("GARETH", P, 18.0)]  # fmt: skip
    assert t.segments[1].text == "Knowing when to do it for someone and when to teach them."
    no_header_or_time_in_text(t)


def test_word_with_bold_names_alone_over_the_words():
    from docx import Document

    doc = Document()
    doc.add_paragraph().add_run("Interview with Priya, 12 March").bold = True
    for name, text in [("INTERVIEWER", "Where do services fall short?"),
                       ("PRIYA", "Error messages."), ("INTERVIEWER", "How often?"),
                       ("PRIYA", "Every week.")]:  # fmt: skip
        doc.add_paragraph().add_run(name).bold = True
        doc.add_paragraph(text)
    buffer = io.BytesIO()
    doc.save(buffer)
    buffer.seek(0)
    t = read_transcript(buffer, "P06.docx")
    assert [(s.speaker, s.role, s.text) for s in t.segments][:2] == [
        ("INTERVIEWER", I, "Where do services fall short?"),
        ("PRIYA", P, "Error messages."),
    ]
    assert len(t.segments) == 4 and t.left_out == ["Interview with Priya, 12 March"]


def test_word_table_of_turns():
    t = read("word_table.docx")
    assert turns(t) == [("Interviewer", I, 0.0), ("Gareth", P, 5.0),
                        ("Interviewer", I, 12.0), ("Gareth", P, 14.0)]  # fmt: skip
    no_header_or_time_in_text(t)


def test_odt():
    t = read("bent.odt")
    assert [(s.speaker, s.role) for s in t.segments] == [("Interviewer", I), ("Bent", P)] * 2
    assert t.left_out == ["Interview P09"]


def test_a_placeholder_notice_is_recognised():
    t = read("P18_placeholder.docx")
    assert t.placeholder.startswith("Removed: the participant did not consent")
    assert not read("rev.txt").placeholder


def test_a_file_without_turns_says_it_was_read_as_paragraphs():
    text = "We met at the café.\nShe talked about the forms.\n\nThen we walked to the office.\n"
    t = read_transcript(as_file(text), "notes.txt")
    assert t.format == "paragraphs" and len(t.segments) == 2
    assert "no speaker turns found: read as paragraphs" in t.warnings[-1]
    assert t.reading == "no speaker turns found: read as 2 paragraphs"


def test_cues_without_speakers_say_so():
    vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\nHello there.\n\n00:02.000 --> 00:04.000\nHi.\n"
    t = read_transcript(as_file(vtt), "P01.vtt")
    assert len(t.segments) == 2 and t.warnings == [
        "P01.vtt: read as WebVTT, but it names no speakers: set them on the Transcripts page"
    ]


def test_the_content_decides_not_the_extension():
    vtt = (DATA / "zoom.vtt").read_bytes()
    assert read_transcript(io.BytesIO(vtt), "P01.txt").format_label == "Zoom WebVTT"
    otter = (DATA / "otter_export.txt").read_bytes()
    assert read_transcript(io.BytesIO(otter), "P01.md").format == "otter"
    doc = open_document((DATA / "teams.docx").read_bytes(), "P01.txt")  # a .docx named .txt
    assert choose_reader(doc).name == "teams"


def test_a_speaker_label_is_never_speech():
    text = (
        "Interviewer: How did it go?\nAnn: Badly.\nInterviewer: Why?\n"
        "Ann: yeah, so I'm, right. Example: the form.\nInterviewer: And then?\n"
        "Ann: Then I rang.\nNote: they never rang back.\nInterviewer: Oh?\n"
    )
    t = read_transcript(as_file(text), "x.txt")
    assert [s.speaker for s in t.segments] == ["Interviewer", "Ann"] * 3 + ["Interviewer"]
    assert t.segments[3].text == "yeah, so I'm, right. Example: the form."
    assert t.segments[5].text == "Then I rang.\nNote: they never rang back."


def test_a_mistyped_participant_code_is_read_as_the_speaker_it_resembles():
    text = "".join(f"Interviewer: Question {k}?\nBSR06: Answer {k}.\n" for k in range(4))
    text += "Interviewer: Last one?\nBSRO6: The last answer.\n"
    t = read_transcript(as_file(text), "BSR06.txt")
    assert {s.speaker for s in t.segments} == {"Interviewer", "BSR06"}
    assert "line 10: speaker 'BSRO6' looks like a typo for 'BSR06'" in "\n".join(t.warnings)


def test_a_speaker_the_file_does_not_know_is_reported():
    text = "Interviewer  00:00\nHello?\n\nAnn  00:03\nHi.\n\nUnknown Speaker  00:09\nSorry!\n"
    t = read_transcript(as_file(text), "P01.txt")
    assert t.format == "otter" and t.segments[2].speaker == "Unknown Speaker"
    assert (
        "P01.txt, line 7: the file does not know who spoke ('Unknown Speaker', 1 turn)"
        in (t.warnings[0])
    )


def test_the_study_s_interviewers_are_found_first():
    text = "Sara: I want to ask you about letters.\nBo: Yes?\nSara: Do you read them.\nBo: Never?\n"
    by_questions = read_transcript(as_file(text), "x.txt")
    assert [s.role for s in by_questions.segments][:2] == [P, I]  # Bo asks more questions
    named = read_transcript(as_file(text), "x.txt", interviewer_names=["Sara Holm"])
    assert [s.role for s in named.segments] == [I, P, I, P]
    assert named.speakers[0].reason == "named as an interviewer of the study"
    chosen = read_transcript(as_file(text), "x.txt", interviewers=["Bo"])
    assert [s.role for s in chosen.segments] == [P, I, P, I]


def test_no_interviewer_found_is_reported():
    text = "Ann: We came by bus.\nBo: We walked.\nCal: I drove.\n" * 2
    t = read_transcript(as_file(text), "x.txt")
    assert "could not tell which speaker is the interviewer (Ann, Bo, Cal)" in t.warnings[-1]


@pytest.mark.parametrize("fmt", ["txt", "vtt", "docx"])
def test_qda_s_own_exports_read_back_as_the_same_turns(demo_path, fmt):
    import qda

    project = qda.open_project(demo_path)
    for interview_id in ("P01", "P02", "P12"):
        original = transcript_of_interview(project, project.interview(interview_id))
        buffer = io.BytesIO()
        write_transcript(original, fmt, buffer)
        buffer.seek(0)
        back = read_transcript(buffer, f"{interview_id}.{fmt}")
        stored = project.segments(interview_id)
        assert [(s.speaker, s.role, s.text) for s in back.segments] == [
            (s.speaker, s.role, s.text) for s in stored
        ]
        assert [int(s.start) for s in back.segments] == [int(s.start) for s in stored]
    project.close()


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("P01_renamed_zip.docx", "a zip file but not a Word document"),
        ("P01_empty.docx", "no text found in the transcript"),
        ("P01_password.docx", "this Word file is protected by a password"),
        ("P01_pdf_renamed.txt", "this is a PDF"),
    ],
)
def test_bad_files_are_refused_and_change_nothing(small_project, name, says):
    bad = Path(__file__).parent / "bad_inputs" / "transcripts" / name
    before = [(i.id, len(small_project.segments(i.id))) for i in small_project.interviews]
    good = ("P02_bob.txt", as_file("Interviewer: Hi?\nBob: Hello.\n"))
    with pytest.raises((InvalidInput, InvalidInputs)) as raised:
        import_transcripts(small_project, [good, (name, bad.open("rb"))])
    assert f"{name}: " in str(raised.value) and says in str(raised.value)
    assert [(i.id, len(small_project.segments(i.id))) for i in small_project.interviews] == before
