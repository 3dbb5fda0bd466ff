"""Search across transcripts: words with or without accents, phrases, speaker, group,
code, context."""

from __future__ import annotations

from click.testing import CliRunner

import qda
from qda.cli import main
from qda.search import context, search


def test_words_phrases_accents_and_filters(demo_path):
    p = qda.open_project(demo_path)
    found = search(p, "password")
    assert {h.interview_id for h in found} >= {"P01", "P03", "P04"}
    assert all("password" in h.text.lower() for h in found)
    assert search(p, "PASSWORD") == found
    accented = search(p, "demarches")  # finds "démarches"
    assert accented and all("démarches" in h.text.lower() for h in accented)
    phrase = search(p, '"on paper"')
    assert phrase and all("on paper" in h.text.lower() for h in phrase)
    both = search(p, "password book")
    assert both and all("password" in h.text.lower() and "book" in h.text.lower() for h in both)
    assert len(both) < len(found)
    staff = search(p, "password", group="frontline staff")
    assert staff and {h.group for h in staff} == {"frontline staff"}
    asked = search(p, "", speaker="interviewer")
    assert asked and {h.role for h in asked} == {"interviewer"}
    theme = search(p, "", code="Access barriers")
    assert theme and all(any(c.startswith("Access barriers/") for c in h.codes) for h in theme)
    assert search(p, "", code="Login and identity") == search(
        p, "", code="Access barriers/Login and identity"
    )
    around = context(p, found[0].segment_id, around=1)
    assert [hit for hit, _ in around] == [False, True, False]


def test_cli_search_with_context(demo_path):
    result = CliRunner().invoke(
        main, ["search", str(demo_path), "password", "--group", "beneficiaries", "--context", "1"]
    )
    assert result.exit_code == 0
    assert "P01 turn 12, 00:01:45 · Maureen (beneficiaries)" in result.output
    assert " > Maureen: Half of it. Then it asked for my password again" in result.output
    assert "codes: Access barriers/Login and identity" in result.output
