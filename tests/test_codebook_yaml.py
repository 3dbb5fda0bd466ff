"""The YAML codebook format and importing a codebook into a project."""

from __future__ import annotations

import pytest

from qda.codebook import import_codebook, stable_code_id
from qda.codebook.yaml_format import read_codebook_yaml
from qda.errors import InvalidInput
from tests.conftest import REPO, as_file

DEMO_CODEBOOK = REPO / "codebooks" / "digital_access.yaml"


def test_demo_codebook_reads_whole():
    with DEMO_CODEBOOK.open("rb") as f:
        codebook = read_codebook_yaml(f, DEMO_CODEBOOK.name)
    assert codebook.info.title == "Digital access to public services"
    themes = [c.name for c in codebook.codes]
    assert themes == [
        "Access barriers",
        "Human contact",
        "Consequences",
        "Service design",
        "Working together",
        "Co-production",
    ]
    paths = dict(codebook.walk())
    assert len(paths) == 26
    skills = paths["Access barriers/Digital skills and confidence"]
    assert skills.definition and skills.include and skills.exclude and skills.examples
    assert all(node.id == stable_code_id(path) for path, node in codebook.walk())
    assert codebook.codes[0].colour == "#D1495B"
    assert len(codebook.changelog) == 2


def test_codes_without_ids_get_stable_ones(project):
    text = "codes:\n  - name: Theme\n    children:\n      - name: Code\n"
    codebook = read_codebook_yaml(as_file(text), "c.yaml")
    assert import_codebook(project, codebook, by="anna") == 2
    assert project.code_paths()["Theme/Code"].id == stable_code_id("Theme/Code")


def test_reimport_updates_codes_in_place(project):
    v1 = "codes:\n  - name: Theme\n    id: t1\n    children:\n      - {name: Code, id: c1}\n"
    v2 = "codes:\n  - name: Theme renamed\n    id: t1\n    children:\n      - {name: Code, id: c1, definition: Now defined}\n"
    import_codebook(project, read_codebook_yaml(as_file(v1), "v1.yaml"), by="anna")
    import_codebook(project, read_codebook_yaml(as_file(v2), "v2.yaml"), by="lars")
    paths = project.code_paths()
    assert list(paths) == ["Theme renamed", "Theme renamed/Code"]
    assert paths["Theme renamed/Code"].definition == "Now defined"
    assert project.codebook_changes[-1].by == "lars"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("codes:\n  - name: A\n    children: [\n", "c.yaml, line 4: not valid YAML"),
        ("- just a list\n", "c.yaml, line 1: a codebook file must be a mapping"),
        ("title: x\n", "'codes' must be a non-empty list"),
        ("codes:\n  - name: A\n  - definition: no name\n", "c.yaml, line 3: a code has no name"),
        (
            "codes:\n  - name: A\n    colour: red\n",
            "c.yaml, line 2: colour 'red' of 'A' is not of the form #RRGGBB",
        ),
        (
            "codes:\n  - {name: A, id: x}\n  - {name: B, id: x}\n",
            "c.yaml, line 3: id x is also used on line 2",
        ),
        (
            "codes:\n  - name: A\n    children:\n      - name: B\n      - name: B\n",
            "'A' has two children named B",
        ),
        ("codes:\n  - name: A\n    colour_: '#000000'\n", "line 2: unknown code field(s) colour_"),
        ("codes:\n  - name: A/B\n", "code name 'A/B' contains '/'"),
    ],
)
def test_malformed_codebooks_name_the_line(text, expected):
    with pytest.raises(InvalidInput) as raised:
        read_codebook_yaml(as_file(text), "c.yaml")
    assert expected in str(raised.value)


def test_yaml_tags_that_run_code_are_refused():
    text = "codes: !!python/object/apply:os.system ['echo hacked']\n"
    with pytest.raises(InvalidInput, match="not valid YAML"):
        read_codebook_yaml(as_file(text), "evil.yaml")


def test_a_code_reused_through_an_alias_or_examples_that_are_no_list_are_refused():
    import io

    from qda.codebook.yaml_format import read_codebook_yaml
    from qda.errors import InvalidInput

    alias = b"codes:\n  - &c\n    name: Access\n  - *c\n"
    with pytest.raises(InvalidInput, match="code 'Access' appears twice"):
        read_codebook_yaml(io.BytesIO(alias), "alias.yaml")
    number = b"codes:\n  - name: Access\n    examples: 42\n"
    with pytest.raises(InvalidInput, match="'examples' of 'Access' must be a list") as e:
        read_codebook_yaml(io.BytesIO(number), "number.yaml")
    assert e.value.line == 2
