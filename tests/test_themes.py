"""New-theme candidates' words and names, fast (tests/test_suggest.py runs the topic
model itself with the real embedding model)."""

from __future__ import annotations

from click.testing import CliRunner

import qda
from qda.cli import main
from qda.models import Participant, SegmentDraft, SpeakerRole
from qda.suggest.themes import ThemeCandidate, left_out_words, phrases_first


def test_names_fillers_fragments_and_the_study_list_are_left_out(tmp_path):
    p = qda.create_project(tmp_path / "s")
    p.save_participant(Participant("P01", "beneficiaries", pseudonym="Maureen Oakley"))
    p.set_interviewer_names(["Sofie Kjær"])
    p.add_interview(
        "P01",
        [
            SegmentDraft("Hello, tell me about it.", "Sofie Kjær", SpeakerRole.INTERVIEWER),
            SegmentDraft("Well, I don't know.", "SPEAKER_2", SpeakerRole.PARTICIPANT),
        ],
    )
    p.set_topic_stop_words(["Council", " housing ", ""])
    words = set(left_out_words(p))
    assert {"maureen", "oakley", "sofie", "kjær", "speaker", "p"} <= words  # people
    assert {"yeah", "okay", "bye", "altså", "voilà", "ben", "bah", "euh"} <= words  # fillers
    assert {"don", "didn", "isn", "ve"} <= words  # what is left of "don't", "we've"
    assert {"council", "housing"} <= words and p.topic_stop_words == ["council", "housing"]
    assert not {"rent", "consent", "bus", "fællesskab"} & words


def test_key_phrases_come_before_the_words_they_hold_and_name_the_topic():
    words = ["consent", "consent form", "shared consent form", "referral", "form"]
    assert phrases_first(words) == ("shared consent form", "referral")
    topic = ThemeCandidate(0, 5, ("shared consent form", "referral"), (), {}, ())
    assert topic.suggested_name == "Shared consent form"
    assert ThemeCandidate(1, 5, ("rent", "arrears"), (), {}, ()).suggested_name == (
        "Rent and arrears"
    )
    assert ThemeCandidate(2, 5, (), (), {}, ()).suggested_name == "Topic 2"


def test_the_cli_sets_and_clears_the_study_stop_words(tmp_path):
    qda.create_project(tmp_path / "s")
    runner = CliRunner()
    result = runner.invoke(
        main, ["config", str(tmp_path / "s"), "--stop-word", "Council", "--stop-word", "rent"]
    )
    assert result.exit_code == 0, result.output
    assert "topic stop words: council, rent" in result.output
    assert qda.open_project(tmp_path / "s").topic_stop_words == ["council", "rent"]
    result = runner.invoke(main, ["config", str(tmp_path / "s"), "--clear-stop-words"])
    assert "topic stop words: (only the built-in ones)" in result.output
    assert qda.open_project(tmp_path / "s").topic_stop_words == []


def test_long_turns_become_passages_of_whole_sentences():
    from qda.models import Segment
    from qda.suggest.themes import PASSAGE_CHARS, passages

    sentences = [
        f"Sentence number {n} says something about the bus and the rent." for n in range(20)
    ]
    text = " ".join(sentences)
    long = Segment(1, "P01", 0, text, text, "Ann", SpeakerRole.PARTICIPANT)
    short = Segment(2, "P01", 1, "A short turn.", "A short turn.", "Ann")
    out = passages([long, short])
    parts = [text for s, text in out if s.id == 1]
    assert len(parts) > 2 and all(len(x) <= PASSAGE_CHARS for x in parts)
    assert " ".join(parts) == long.text  # every sentence once, in order
    assert out[-1][1] == "A short turn."
