"""The README's command-line journey, run as a batch user would: the `qda` command, from
an empty folder to a cross-tab, a codebook file and a project for other tools."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

import qda
from tests.conftest import RECORDINGS, REPO

pytestmark = pytest.mark.slow
QDA = str(Path(sys.executable).with_name("qda"))


def run(*args: str, cwd: Path, stdout_only: bool = False) -> str:
    """What a command printed (its messages on standard error too, unless only the
    data on standard output is wanted)."""
    result = subprocess.run(
        [QDA, *args], cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**__import__("os").environ, "QDA_USER": "batch"},
    )  # fmt: skip
    assert result.returncode == 0, f"qda {' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result.stdout if stdout_only else result.stdout + result.stderr


def test_the_journey_from_the_command_line(tmp_path):
    (tmp_path / "participants.csv").write_text(
        "participant_id,pseudonym,stakeholder_group,language\n"
        "P15,Lorraine,beneficiaries,en\n"
        "P17,Élodie,allied organisations,fr\n",
        encoding="utf-8",
    )
    for name in ("P15_lorraine.opus", "P17_elodie.opus"):
        shutil.copy(RECORDINGS / name, tmp_path / name)
    shutil.copy(REPO / "codebooks" / "digital_access.yaml", tmp_path)

    run("init", "study", "--name", "Housing advice 2026", cwd=tmp_path)
    run("import-participants", "study", "participants.csv", cwd=tmp_path)
    out = run(
        "transcribe", "P15_lorraine.opus", "P17_elodie.opus", "--project", "study", cwd=tmp_path
    )
    project = qda.open_project(tmp_path / "study")
    assert {i.id: i.status for i in project.interviews} == {
        "P15": "transcribed",
        "P17": "transcribed",
    }
    assert project.interview("P17").language == "fr"  # from the participants file
    run("export-transcript", "study", "P15", "--format", "txt", "-o", "P15.txt", cwd=tmp_path)
    assert "Lorraine:" in (tmp_path / "P15.txt").read_text(encoding="utf-8")

    run("import-codebook", "study", "digital_access.yaml", cwd=tmp_path)
    (tmp_path / "codings.csv").write_text(
        "interview,turn,code,coder\n"
        "P15,2,Access barriers/Login and identity,batch\n"
        "P17,2,Access barriers/Devices and connectivity,batch\n",
        encoding="utf-8",
    )
    out = run("import-codings", "study", "codings.csv", cwd=tmp_path)
    assert "2 new codings applied" in out

    found = json.loads(
        run("suggest", "study", "--codes", "--format", "json", cwd=tmp_path, stdout_only=True)
    )
    suggestions = found["suggestions"]
    assert suggestions and all(s["code"] and s["score"] for s in suggestions)
    themes = json.loads(
        run("suggest", "study", "--themes", "--format", "json", cwd=tmp_path, stdout_only=True)
    )
    assert themes["parameters"]["embedding_model"] == "e5-small"

    run("crosstab", "study", "--format", "xlsx", "-o", "table.xlsx", cwd=tmp_path)
    sheet = load_workbook(tmp_path / "table.xlsx")["Cross-tab"]
    header = [c.value for c in sheet[1]]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    beneficiaries = next(i for i, h in enumerate(header) if str(h).startswith("beneficiaries"))
    allied = next(i for i, h in enumerate(header) if str(h).startswith("allied organisations"))
    assert rows["Access barriers"][beneficiaries] == 1 and rows["Access barriers"][allied] == 1

    run("codebook", "export", "study", "codebook.qdc", cwd=tmp_path)
    run("export-qdpx", "study", "study.qdpx", cwd=tmp_path)
    out = run("import-qdpx", "study.qdpx", "copy", cwd=tmp_path)
    assert "2 codings stored" in out
    info = run("info", "copy", cwd=tmp_path)
    assert "2 participants, 2 interviews" in info
