"""The `qda` command line, run as a user would (in-process, and once as a real process)."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

import qda
from qda.cli import main
from tests.conftest import REPO

SAMPLES = REPO / "sample_transcripts"


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_build_a_study_step_by_step(tmp_path):
    study = tmp_path / "study"
    assert run("init", study, "--name", "My study").exit_code == 0
    result = run("import-participants", study, SAMPLES / "participants.csv")
    assert result.exit_code == 0
    assert "18 participants imported" in result.output
    assert "age (number)" in result.output and "interview_date (date)" in result.output

    files = [SAMPLES / "P01_maureen.txt", SAMPLES / "P02_dev.vtt", SAMPLES / "P06_priya.srt"]
    result = run("import-transcripts", study, *files)
    assert result.exit_code == 0, result.output
    assert "added P01 from P01_maureen.txt" in result.output
    assert "skipped" in run("import-transcripts", study, files[0]).output

    result = run(
        "import-codebook", study, REPO / "codebooks" / "digital_access.yaml", "--by", "anna"
    )
    assert "26 codes imported" in result.output
    codings = tmp_path / "c.csv"
    codings.write_text(
        "interview,turn,code,coder\nP02,2,Access barriers/Devices and connectivity,anna\n"
    )
    assert "1 new codings applied" in run("import-codings", study, codings).output

    info = run("info", study).output
    assert "My study" in info
    assert "18 participants, 3 interviews" in info
    assert "P06" in info and "Priya" in info

    p = qda.open_project(study)
    assert p.codebook_changes[-1].by == "anna"


def test_errors_are_one_clear_line_without_traceback(tmp_path):
    study = tmp_path / "study"
    run("init", study)
    bad = tmp_path / "people.csv"
    bad.write_text("participant_id,group\nP01,a\n")
    result = CliRunner().invoke(main, ["import-participants", str(study), str(bad)])
    assert result.exit_code == 1
    assert "people.csv, line 1: missing column 'stakeholder_group'" in result.output
    assert "Traceback" not in result.output
    assert qda.open_project(study).participants == []

    result = CliRunner().invoke(main, ["info", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "no qda project" in result.output


def test_demo_command_builds_once_and_then_keeps_the_project(tmp_path):
    path = tmp_path / "demo"
    first = run("demo", path)
    assert "built the demo study" in first.output and "15 interviews" in first.output
    p = qda.open_project(path)
    p.edit_segment(p.segments("P01")[1].id, "Edited by a researcher.", by="anna")
    second = run("demo", path)
    assert "already holds a project" in second.output
    assert qda.open_project(path).segments("P01")[1].text == "Edited by a researcher."


def test_console_script_runs(tmp_path):
    qda_bin = [sys.executable, "-m", "qda.cli"]
    out = subprocess.run([*qda_bin, "--version"], capture_output=True, text=True, check=True)
    assert "0.1.0" in out.stdout


def test_stopping_qda_app_stops_its_server(tmp_path):
    """SIGTERM to `qda app` (a service manager, `kill`, a closed terminal) stops the
    Streamlit server it started: nothing keeps serving the project without it."""
    import signal
    import time
    import urllib.request

    from tests.browser import free_port

    qda.create_project(tmp_path / "p").close()
    port = free_port()
    app = subprocess.Popen(
        [sys.executable, "-m", "qda.cli", "app", str(tmp_path / "p"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    health = f"http://localhost:{port}/_stcore/health"

    def serving() -> bool:
        try:
            with urllib.request.urlopen(health, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    deadline = time.monotonic() + 60
    while not serving():
        assert app.poll() is None and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.2)
    app.send_signal(signal.SIGTERM)
    assert app.wait(timeout=20) == 0
    assert not serving()


def test_import_a_folder_of_other_tools_transcripts(tmp_path):
    """A folder of Otter, Teams, Word, Rev and noScribe files: previewed with --dry-run
    (nothing changes), then imported; a placeholder is offered for exclusion."""
    data = REPO / "tests" / "data" / "transcripts"
    folder = tmp_path / "from the transcriber"
    folder.mkdir()
    for source, target in [
        ("otter_export.txt", "P04 Tom.txt"),
        ("teams.docx", "P10 Mette.docx"),
        ("word_bold_names.docx", "P13.docx"),
        ("rev.txt", "P07 Helen.txt"),
        ("noscribe.html", "P11.html"),
        ("P18_placeholder.docx", "P18.docx"),
    ]:
        (folder / target).write_bytes((data / source).read_bytes())
    (folder / "budget.xlsx").write_bytes(b"PK")  # not a transcript: left alone
    study = tmp_path / "study"
    run("init", study)
    run("import-participants", study, SAMPLES / "participants.csv")
    assert "interviewers: Sara Holm" in run("config", study, "--interviewer", "Sara Holm").output
    assert "embedding model: e5-small" in run("config", study).output  # the default
    chosen = run("config", study, "--embedding-model", "minilm-static")
    assert "embedding model: minilm-static" in chosen.output
    assert qda.open_project(study).embedding_model == "minilm-static"
    assert run("config", study, "--embedding-model", "bert").exit_code != 0

    preview = run("import-transcripts", study, folder, "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert (
        "P04 Tom.txt:\n  participant: P04\n  read as: Otter.ai export, 10 turns" in preview.output
    )
    assert "speaker 'Sara Holm': interviewer, 3 turns (named as an interviewer of the study)" in (
        preview.output
    )
    assert "looks like a placeholder" in preview.output
    assert "nothing was changed" in preview.output
    assert qda.open_project(study).interviews == []

    result = run("import-transcripts", study, folder)
    assert result.exit_code == 0, result.output
    assert "added P10 from P10 Mette.docx: Teams transcript (Word): 6 turns" in result.output
    assert "added P11 from P11.html: noScribe HTML: 4 turns" in result.output
    assert f"qda exclude {study} P18" in result.output
    assert "budget.xlsx" not in result.output
    p = qda.open_project(study)
    assert len(p.interviews) == 6 and not any(i.excluded for i in p.interviews)

    assert (
        "P18 excluded from analysis: consent"
        in run("exclude", study, "P18", "--reason", "consent").output
    )
    assert p.interview("P18").excluded_reason == "consent"
    assert "P18 is part of the analysis again" in run("include", study, "P18").output
    assert not qda.open_project(study).interview("P18").excluded
    missing = run("exclude", study, "P99")
    assert missing.exit_code == 1 and "no interview 'P99'" in missing.output


def test_import_placeholders_excluded_at_once(tmp_path):
    study = tmp_path / "study"
    run("init", study)
    run("import-participants", study, SAMPLES / "participants.csv")
    result = run(
        "import-transcripts", study, SAMPLES / "P18_withdrawn.docx", "--exclude-placeholders"
    )
    assert "added P18 from P18_withdrawn.docx (excluded from analysis)" in result.output


def test_interviewers_named_afterwards_get_their_role_in_imported_interviews(tmp_path):
    study = tmp_path / "study"
    run("init", study)
    run("import-participants", study, SAMPLES / "participants.csv")
    text = "Sara: I would like to hear about letters.\nBo: Do you mean paper ones?\n" * 2
    (tmp_path / "P09.txt").write_text(text, encoding="utf-8")
    run("import-transcripts", study, tmp_path / "P09.txt")
    roles = {s.speaker: s.role for s in qda.open_project(study).segments("P09")}
    assert roles == {"Sara": "participant", "Bo": "interviewer"}  # Bo asked the questions
    result = run("config", study, "--interviewer", "Sara", "--apply", "--by", "anna")
    assert (
        "P09: roles set for Sara, Bo" in result.output and "1 interviews changed" in result.output
    )
    p = qda.open_project(study)
    assert {s.speaker: s.role for s in p.segments("P09")} == {
        "Sara": "interviewer",
        "Bo": "participant",
    }
    assert [h["action"] for h in p.segment_history("P09")] == ["rename speaker"] * 2


def test_app_on_a_busy_port_says_so_at_once(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["app", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} is in use" in result.output and f"--port {port + 1}" in result.output


def test_retranscribe_from_the_command_line(demo_copy):
    refused = run("retranscribe", demo_copy, "P01", "--no-wait")
    assert refused.exit_code == 1 and "P01 has no recording to transcribe again" in refused.output
    recording = SAMPLES / "recordings" / "P15_lorraine.opus"
    assert run("attach-recording", demo_copy, "P01", recording).exit_code == 0
    queued = run("retranscribe", demo_copy, "P01", "--language", "en", "--no-wait")
    assert "queued job 1: P01 again with faster-whisper base" in queued.output
    p = qda.open_project(demo_copy)
    assert p.jobs()[0].options["language"] == "en" and len(p.jobs()[0].options["carry"]) > 0


def test_memos_from_the_command_line(demo_copy):
    study = str(demo_copy)
    code = "Human contact/Phone lines and waiting"
    assert run("memo", study, "--code", code).output.strip() == "(no memo)"
    run("memo", study, "--code", code, "--set", "Ask about MitID.", "--by", "anna")
    run("memo", study, "--code", code, "--set", "Ask about MitID in round 2.", "--by", "lars")
    assert run("memo", study, "--code", code).output.strip() == "Ask about MitID in round 2."
    history = run("memo", study, "--code", code, "--history").output.splitlines()
    assert [line.split(" ", 2)[2] for line in history] == [
        "anna: Ask about MitID.",
        "lars: Ask about MitID in round 2.",
    ]
    run("memo", study, "--interview", "P04", "--set", "Recorded in the library.")
    listed = run("memo", study).output
    assert f"code {code} (lars" in listed and "interview P04 (" in listed
    assert run("memo", study, "--code", "Nope").exit_code == 2
    assert "no interview" in run("memo", study, "--interview", "P99", "--set", "x").output.lower()
