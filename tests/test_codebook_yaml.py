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
    with pytest.raises(InvalidInput, match=r"a YAML alias \(\*c\) repeats") as e:
        read_codebook_yaml(io.BytesIO(alias), "alias.yaml")
    assert e.value.line == 4
    number = b"codes:\n  - name: Access\n    examples: 42\n"
    with pytest.raises(InvalidInput, match="'examples' of 'Access' must be a list") as e:
        read_codebook_yaml(io.BytesIO(number), "number.yaml")
    assert e.value.line == 2


def test_nesting_and_aliases_that_would_exhaust_the_reader_are_refused_with_the_line():
    import io
    import time

    from qda.codebook.yaml_format import read_codebook_yaml
    from qda.errors import InvalidInput

    block = "codes:\n" + "".join(
        "  " * i + f"- name: c{i}\n" + "  " * i + "  children:\n" for i in range(350)
    )
    with pytest.raises(InvalidInput, match="nested deeper than a codebook can be") as e:
        read_codebook_yaml(io.BytesIO(block.encode()), "deep.yaml")
    assert e.value.line == 44  # the 22nd level of codes
    flow = "codes: " + "[" * 400 + "]" * 400 + "\n"
    with pytest.raises(InvalidInput, match="nested deeper"):
        read_codebook_yaml(io.BytesIO(flow.encode()), "flow.yaml")
    bomb = (
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + k)}: &{chr(98 + k)} [" + ", ".join([f"*{chr(97 + k)}"] * 9) + "]\n"
            for k in range(8)
        )
        + "codes:\n  - name: A\n    examples: [*i, *i, *i, *i, *i, *i, *i, *i, *i]\n"
    )
    started = time.perf_counter()
    with pytest.raises(InvalidInput, match=r"a YAML alias \(\*a\)") as e:
        read_codebook_yaml(io.BytesIO(bomb.encode()), "bomb.yaml")
    assert e.value.line == 2 and time.perf_counter() - started < 5


def test_ids_that_differ_only_in_case_are_the_same_id():
    import io

    from qda.codebook.yaml_format import read_codebook_yaml
    from qda.errors import InvalidInput

    text = (
        "codes:\n  - name: A\n    id: 1f0c6a2e-0000-4000-8000-00000000000a\n"
        "  - name: B\n    id: 1F0C6A2E-0000-4000-8000-00000000000A\n"
    )
    with pytest.raises(InvalidInput, match="also used on line 2") as e:
        read_codebook_yaml(io.BytesIO(text.encode()), "case.yaml")
    assert e.value.line == 4
