"""The app in a real browser: headless Chromium opens the demo study."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect, sync_playwright

import qda
from tests.browser import CHROMIUM_FLAGS, chromium_path, running_app
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def test_demo_study_in_the_browser(browser, demo_copy):
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app(demo_copy, ARTIFACTS / "app.log") as url:
        page = browser.new_page(viewport={"width": 1366, "height": 1500})
        started = time.monotonic()
        page.goto(url)
        heading = page.get_by_role("heading", name="Digital by default? (demo study)")
        expect(heading).to_be_visible(timeout=30_000)
        print(f"project page shown {time.monotonic() - started:.1f} s after navigation")

        for label, value in [("Participants", "18"), ("Interviews", "15"), ("Codings", "88")]:
            metric = page.get_by_test_id("stMetric").filter(has_text=label)
            expect(metric).to_contain_text(value)
        tabs = page.get_by_role("tab")
        expect(tabs).to_have_text(
            [
                "allied organisations (5)",
                "beneficiaries (6)",
                "frontline staff (4)",
                "specialists (3)",
            ]
        )
        page.get_by_role("tab", name="beneficiaries (6)").click()
        expect(page.get_by_role("tabpanel").get_by_test_id("stDataFrame").first).to_be_visible()
        expect(page.get_by_text("No interview yet for 3 participant(s)")).to_be_visible()
        # Nothing may leave the machine: the app asks no other host for anything.
        hosts = set()
        page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
        page.reload()
        expect(heading).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        assert hosts <= {url.split("/")[2]}, hosts
        page.screenshot(path=str(ARTIFACTS / "project.png"), full_page=True)

        page.get_by_role("link", name="Codebook").click()
        expect(
            page.get_by_text("Digital access to public services · version 1.0 · 26 codes")
        ).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "codebook.png"), full_page=True)
        page.get_by_role("link", name="Cross-tab & export").click()
        expect(
            page.get_by_text("percentage of the column's participants with a coded interview")
        ).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name=".xlsx")).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "crosstab.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("button", name=".xlsx").click()
        saved = ARTIFACTS / "crosstab.xlsx"
        download.value.save_as(saved)
        from openpyxl import load_workbook

        book = load_workbook(saved)
        assert book.sheetnames == ["Cross-tab", "Quotes", "About"]

        # Suggestions: the segments are embedded in the background, then suggested codes
        page.get_by_role("link", name="Suggestions").click()
        expect(page.get_by_role("button", name="Accept").first).to_be_visible(timeout=120_000)
        page.get_by_role("button", name="Find topics no code covers").click()
        expect(page.get_by_role("button", name="Create code from this topic").first).to_be_visible(
            timeout=180_000
        )
        expect(page.get_by_text("embedding_model e5-small").first).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "suggestions.png"), full_page=True)
        page.get_by_role("link", name="Project").click()
        expect(heading).to_be_visible(timeout=30_000)

        page.get_by_role("button", name="Close project").click()
        expect(page.get_by_role("heading", name="Open a project")).to_be_visible()
        expect(page.get_by_label("Folder for the demo")).to_have_value("~/qda-demo")
        page.screenshot(path=str(ARTIFACTS / "start.png"), full_page=True)


def test_upload_a_recording_and_read_its_transcript(browser, demo_copy):
    """Drag a recording in, watch the real worker transcribe it, open the transcript."""
    recording = REPO / "sample_transcripts" / "recordings" / "P15_lorraine.opus"
    with running_app(demo_copy, ARTIFACTS / "app-upload.log") as url:
        page = browser.new_page(viewport={"width": 1366, "height": 1100})
        page.goto(f"{url}/upload")
        expect(page.get_by_role("heading", name="Upload recordings")).to_be_visible(timeout=30_000)
        page.set_input_files("input[type=file]", str(recording))
        expect(page.get_by_text("P15_lorraine.opus").first).to_be_visible(timeout=20_000)
        page.get_by_role("button", name="Add and transcribe").click()
        expect(page.get_by_text("Transcribing P15 (job 1)")).to_be_visible(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "upload.png"), full_page=True)
        started = time.monotonic()
        expect(page.get_by_test_id("stProgress").get_by_text("done")).to_be_visible(timeout=180_000)
        print(f"31.7 s recording transcribed in {time.monotonic() - started:.1f} s (page view)")

        page.get_by_role("link", name="Transcripts").click()
        expect(page.get_by_role("heading", name="Transcripts")).to_be_visible(timeout=30_000)
        page.get_by_test_id("stSelectbox").first.click()
        page.get_by_role("option", name="P15 · Lorraine · beneficiaries").click()
        expect(page.get_by_text("transcribed · language en · faster-whisper base")).to_be_visible()
        expect(page.get_by_text("Speakers: Interviewer (interviewer), Lorraine")).to_be_visible()
        expect(page.get_by_test_id("stAudio")).to_be_visible()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "transcript.png"), full_page=True)


def test_a_recording_over_the_upload_limit_is_refused_in_the_browser(browser, demo_copy, tmp_path):
    """`qda app --max-upload-mb 1`: the browser refuses a 2 MB recording before sending
    it, says why, and the project gets nothing."""
    big = tmp_path / "P16_long.wav"
    big.write_bytes(b"RIFF" + b"\0" * 2_000_000)
    with running_app(
        demo_copy, ARTIFACTS / "app-limit.log", options=("--max-upload-mb", "1")
    ) as url:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{url}/upload")
        expect(page.get_by_text("Up to 1 MB and 4 hours per recording")).to_be_visible(
            timeout=30_000
        )
        page.set_input_files("input[type=file]", str(big))
        expect(page.get_by_text("File must be 1.0MB or smaller")).to_be_visible(timeout=20_000)
        expect(page.get_by_role("button", name="Add and transcribe")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "upload-limit.png"))
    assert not (demo_copy / "media").exists()


def test_transcripts_from_other_tools_are_previewed_and_imported(browser, tmp_path):
    """An Otter export, a Teams Word file and a placeholder dropped on the Project page:
    each shown as read before anything is written, then imported."""
    import qda
    from qda.ingest import import_participants, read_participants_csv

    samples = REPO / "sample_transcripts"
    study = qda.create_project(tmp_path / "study", name="Housing advice")
    with (samples / "participants.csv").open("rb") as f:
        import_participants(study, read_participants_csv(f, "participants.csv"))
    study.set_interviewer_names(["Sara Holm"])
    files = [
        samples / n for n in ("P04_tom_otter.txt", "P10_mette_teams.docx", "P18_withdrawn.docx")
    ]
    with running_app(study.root, ARTIFACTS / "app-import.log") as url:
        page = browser.new_page(viewport={"width": 1366, "height": 2600})
        page.goto(url)
        uploader = page.get_by_test_id("stFileUploader").filter(has_text="Transcripts: Word")
        expect(uploader).to_be_visible(timeout=30_000)
        uploader.locator("input[type=file]").set_input_files([str(f) for f in files])
        expect(page.get_by_text("Read as Otter.ai export: 20 turns, 2 speakers")).to_be_visible(
            timeout=30_000
        )
        expect(
            page.get_by_text("Read as Teams transcript (Word): 20 turns, 2 speakers")
        ).to_be_visible()
        expect(page.get_by_text("named as an interviewer of the study").first).to_be_attached()
        assert study.interviews == []  # nothing is written by the preview
        page.wait_for_timeout(500)
        preview = page.get_by_test_id("stExpander").filter(
            has=page.get_by_text("Read as Otter.ai export")
        )
        preview.screenshot(path=str(ARTIFACTS / "import-preview.png"))
        page.get_by_role("button", name="Import 3 transcripts").click()
        expect(page.get_by_text("3 interviews added; 1 excluded from analysis.")).to_be_visible(
            timeout=30_000
        )
    assert [i.id for i in study.interviews] == ["P04", "P10", "P18"]
    assert study.interview("P18").excluded
    assert {s.speaker: s.role for s in study.segments("P10")} == {
        "Sara Holm": "interviewer",
        "Mette Lund": "participant",
    }


def test_one_click_plays_a_turn_and_the_player_stays_in_view(browser, demo_copy):
    from qda.jobs import attach_recording

    ARTIFACTS.mkdir(exist_ok=True)
    project = qda.open_project(demo_copy)
    with (REPO / "sample_transcripts" / "recordings" / "P15_lorraine.opus").open("rb") as f:
        attach_recording(project, "P04", f, "P04.opus")
    turns = project.segments("P04")
    with running_app(demo_copy, ARTIFACTS / "app-play.log") as url:
        page = browser.new_page(viewport={"width": 1366, "height": 800})
        page.goto(f"{url}/transcript")
        box = page.get_by_test_id("stSelectbox").filter(has_text="Interview").locator("input")
        box.click()
        page.keyboard.type("P04")
        page.keyboard.press("Enter")
        play = page.get_by_role("button", name="▶")
        expect(play).to_have_count(len(turns))  # read view: a ▶ on every turn
        audio = "document.querySelector('audio')"
        for n in (2, 0, 2):  # a later turn, an earlier one, the same one again
            play.nth(n).scroll_into_view_if_needed()
            play.nth(n).click()
            page.wait_for_function(
                f"!{audio}.paused && {audio}.currentTime >= {int(turns[n].start)}"
                f" && {audio}.currentTime < {turns[n].start} + 3",
                timeout=15_000,
            )
        page.mouse.wheel(0, 5000)
        page.wait_for_timeout(500)
        top, bottom = page.evaluate(f"[{audio}.getBoundingClientRect().top, "
                                    f"{audio}.getBoundingClientRect().bottom]")  # fmt: skip
        assert top >= 0 and bottom <= 800, (top, bottom)  # pinned at the top of the window
        page.screenshot(path=str(ARTIFACTS / "transcript-play.png"))
        page.close()
