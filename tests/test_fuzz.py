"""Generated input (Hypothesis, derandomized so every run tries the same cases): a
transcript, a participants CSV and a YAML codebook made of odd text either import or
end in qda's own error, and a refused file leaves the project as it was."""

from __future__ import annotations

import io

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qda
from qda.codebook import import_codebook
from qda.codebook.yaml_format import read_codebook_yaml
from qda.errors import QdaError
from qda.ingest import import_participants, read_participants_csv
from qda.ingest.transcripts import read_transcript
from qda.models import Participant

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text as files bring it: letters of the three languages, Markdown and CSV punctuation,
# quotes, line breaks, control characters, bidi marks and the odd astral character.
ODD = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("aæøåéèçABZ019 :;,.\"'|#*_[]()<>!$@\\/-\n\r\t")),
        st.sampled_from(["\x00", "\x1b", "\x07", "\x85", "\u202e", "\ufeff", "\U0001f600"]),
        st.characters(codec="utf-8"),
    ),
    max_size=300,
)


def state(project) -> tuple:
    return (
        [(p.id, p.stakeholder_group, p.pseudonym, p.attributes) for p in project.participants],
        [(c.id, c.name, c.parent_id) for c in project.codes],
        [(i.id, i.participant_id) for i in project.interviews],
        project.attribute_types,
    )


def fresh():
    project = qda.open_project("sqlite://")
    project.save_participant(Participant("P01", "beneficiaries", "Maureen"))
    return project


@FUZZ
@given(lines=st.lists(ODD, min_size=1, max_size=12), encoding=st.sampled_from(["utf-8", "cp1252"]))
def test_a_generated_transcript_is_read_or_refused_with_a_message(lines, encoding):
    data = "\n".join(lines).encode(encoding, errors="replace")
    for name in ("P01.txt", "P01.vtt", "P01.srt"):
        try:
            transcript = read_transcript(io.BytesIO(data), name)
        except QdaError:
            continue
        for segment in transcript.segments:
            assert segment.text.strip()
            assert "\x00" not in segment.text and "\x1b" not in segment.text


CELL = st.one_of(ODD, st.sampled_from(["", "007", "+4520123456", "1e400", "9" * 40, "2026-02-30"]))


@FUZZ
@given(data=st.data(), delimiter=st.sampled_from([",", ";", "\t"]))
def test_a_generated_participants_csv_imports_or_changes_nothing(data, delimiter):
    extra = data.draw(st.lists(CELL, max_size=4), label="extra columns")
    header = ["participant_id", "stakeholder_group", *extra]
    width = st.just(len(header)) if data.draw(st.booleans()) else st.integers(0, 7)
    rows = data.draw(
        st.lists(width.flatmap(lambda n: st.lists(CELL, min_size=n, max_size=n)), max_size=8),
        label="rows",
    )
    text = "\n".join(delimiter.join(row) for row in [header, *rows])
    project = fresh()
    before = state(project)
    try:
        table = read_participants_csv(io.BytesIO(text.encode()), "fuzz.csv")
        import_participants(project, table, update=True)
    except QdaError:
        assert state(project) == before
        return
    for p in project.participants:
        assert p.id and p.stakeholder_group
        assert "\x00" not in p.stakeholder_group


CODE_KEYS = ["name", "id", "children", "codes", "examples", "colour", "definition", "codable",
             "sets", "changelog", "title"]  # fmt: skip
SCALAR = st.one_of(ODD, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none())
TREE = st.recursive(
    SCALAR,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(
                st.sampled_from(CODE_KEYS),
                ODD,
            ),
            children,
            max_size=5,
        ),
    ),
    max_leaves=30,
)


@FUZZ
@given(document=TREE, mangle=st.sampled_from(["", "&a ", "*a", "!!python/none ", "{", "\t"]))
def test_a_generated_yaml_codebook_imports_or_changes_nothing(document, mangle):
    text = yaml.safe_dump({"codes": document} if mangle != "" else document, allow_unicode=True)
    if mangle:
        middle = len(text) // 2
        text = text[:middle] + mangle + text[middle:]
    project = fresh()
    before = state(project)
    try:
        book = read_codebook_yaml(io.BytesIO(text.encode()), "fuzz.yaml")
        import_codebook(project, book, by="fuzz")
    except QdaError:
        assert state(project) == before
        return
    assert project.codes
