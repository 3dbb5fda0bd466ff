"""Repetition loops: found in decoded and stored text, flagged in the app and the CLI."""

from __future__ import annotations

from click.testing import CliRunner

import qda
from qda.cli import main
from qda.models import Participant, SegmentDraft, SpeakerRole
from qda.transcribe.loops import find_loops, loop_reason

LOOP = " ".join(["men vi er i det,"] * 29)  # 145 words


def test_a_loop_is_told_from_speech():
    assert loop_reason(LOOP, 10.0, 15.0) == "145 words in 5 s"
    assert loop_reason(LOOP) == "the same words repeated"  # no times (an imported file)
    speech = (
        "I rang the number and waited fifty minutes, and then it cut off, so I went to the "
        "library the next morning and a volunteer there helped me fill the form in."
    )
    assert loop_reason(speech, 0.0, 9.0) is None and loop_reason(speech) is None
    assert loop_reason("Yes. Yes. Yes.", 0.0, 0.5) is None  # too short to judge


def test_loops_left_in_a_transcript_are_flagged_in_the_app_and_the_cli(tmp_path, monkeypatch):
    from tests.test_ui_app import open_page, start

    p = qda.create_project(tmp_path / "study")
    p.save_participant(Participant("P01", "staff"))
    p.add_interview(
        "P01",
        [
            SegmentDraft("How did it start?", "Interviewer", SpeakerRole.INTERVIEWER, 0.0, 2.0),
            SegmentDraft(LOOP, "Mette", SpeakerRole.PARTICIPANT, 2.0, 7.0),
        ],
    )
    assert [(x.turn, x.reason) for x in find_loops(p.segments("P01"))] == [(2, "145 words in 5 s")]
    result = CliRunner().invoke(main, ["info", str(p.root)])
    assert "P01, turn 2 (00:00:02): looks like a repetition loop (145 words in 5 s)" in (
        result.output
    )
    monkeypatch.setenv("QDA_PROJECT", str(p.root))
    at = open_page(start(), "transcript")
    assert any("turn 2 (00:00:02, 145 words in 5 s)" in w.value for w in at.warning)
