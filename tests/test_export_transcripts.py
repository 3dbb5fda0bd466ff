"""Transcript exports: each format reads back (our readers, python-docx, json)."""

from __future__ import annotations

import io
import json

import pytest
from docx import Document

from qda.export import TRANSCRIPT_WRITERS, transcript_of_interview, write_transcript
from qda.ingest import read_transcript
from qda.transcribe.types import (
    Engine,
    EngineInfo,
    TranscribedSegment,
    Transcript,
    TranscriptionOptions,
)

TRANSCRIPT = Transcript(
    language="fr",
    duration=75.5,
    engine=EngineInfo(Engine.FASTER_WHISPER, "base", "1.2.1"),
    options=TranscriptionOptions(language="fr"),
    segments=[
        TranscribedSegment(0.0, 4.25, "Comment allez-vous ?", speaker="Interviewer"),
        TranscribedSegment(4.25, 62.0, "Bien, merci. Très bien & vous ?", speaker="Élodie"),
        TranscribedSegment(63.5, 75.5, "Parfait.", speaker="Interviewer"),
    ],
)


def written(fmt: str) -> bytes:
    buffer = io.BytesIO()
    write_transcript(TRANSCRIPT, fmt, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt"])
def test_text_formats_read_back_the_same_turns(fmt):
    back = read_transcript(io.BytesIO(written(fmt)), f"P17.{fmt}")
    assert [(s.speaker, s.text) for s in back.segments] == [
        (s.speaker, s.text) for s in TRANSCRIPT.segments
    ]
    assert [s.start for s in back.segments] == ([0, 4, 63] if fmt == "txt" else [0, 4.25, 63.5])


def test_vtt_escapes_markup_in_the_text():
    t = Transcript(
        "fr", 2.0, TRANSCRIPT.engine, TRANSCRIPT.options,
        [TranscribedSegment(0.0, 2.0, "a <b> & c", speaker="X")],
    )  # fmt: skip
    buffer = io.BytesIO()
    write_transcript(t, "vtt", buffer)
    assert "<v X>a &lt;b&gt; &amp; c</v>" in buffer.getvalue().decode()
    assert read_transcript(io.BytesIO(buffer.getvalue()), "x.vtt").segments[0].text == "a <b> & c"


def test_txt_is_the_timestamped_turn_form():
    assert (
        written("txt").decode().splitlines()[1]
        == "[00:00:04] Élodie: Bien, merci. Très bien & vous ?"
    )


def test_json_holds_what_a_script_needs():
    data = json.loads(written("json"))
    assert (data["language"], data["duration"], data["engine"], data["model"]) == (
        "fr",
        75.5,
        "faster-whisper",
        "base",
    )
    assert data["segments"][1] == {
        "start": 4.25,
        "end": 62.0,
        "speaker": "Élodie",
        "text": "Bien, merci. Très bien & vous ?",
    }


def test_docx_opens_with_every_turn():
    doc = Document(io.BytesIO(written("docx")))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "[00:01:03] Interviewer: Parfait." in paragraphs
    assert any("faster-whisper" in p for p in paragraphs)


def test_registry_lists_every_format():
    assert set(TRANSCRIPT_WRITERS) == {"txt", "srt", "vtt", "docx", "json"}
    with pytest.raises(ValueError, match="unknown format"):
        write_transcript(TRANSCRIPT, "pdf", io.BytesIO())


def test_an_imported_interview_exports_its_corrected_text(small_project):
    segment = small_project.segments("P01")[1]
    small_project.edit_segment(segment.id, "Only on my old phone.", by="anna")
    t = transcript_of_interview(small_project, small_project.interview("P01"))
    assert [s.text for s in t.segments][1] == "Only on my old phone."
    assert t.language == "en"
