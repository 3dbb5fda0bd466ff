"""The whole journey in a real browser, from an empty project to a report.

Participants in two groups → two recordings uploaded and transcribed by the real
worker → a segment corrected and speakers swapped → a codebook imported → segments
coded by hand → a code-fit suggestion accepted → a code created from a topic → the
cross-tab checked against the codings made → XLSX and .qdc downloaded and read back.
A screenshot of every page is saved in tests/artifacts/journey-*.png.
"""

from __future__ import annotations

import io
import time
from collections import defaultdict

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect, sync_playwright

import qda
from qda.codebook.qdc import read_qdc
from qda.models import SpeakerRole
from tests.browser import CHROMIUM_FLAGS, chromium_path, running_app
from tests.conftest import RECORDINGS, REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO / "tests" / "artifacts"


def shot(page: Page, name: str) -> None:
    page.wait_for_timeout(600)
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)


def go(page: Page, link: str, heading: str) -> None:
    page.get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=30_000)


def pick(page: Page, label: str, option: str) -> None:
    """Choose an option of a Streamlit selectbox by its label."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).locator("input").click()
    page.keyboard.type(option)  # filters the options; the exact one is offered first
    expect(page.get_by_role("option", name=option, exact=True)).to_be_visible()
    page.keyboard.press("Enter")
    page.wait_for_timeout(800)


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 1366, f"the page is {width} px wide at 1366 px"


def add_long_interview(project, participant_id: str, minutes: int) -> None:
    """A 60-minute interview as transcription gives it: 600 turns of 6 s."""
    from qda.models import SegmentDraft

    sentences = [
        "How did you first hear about the advice service?",
        "My neighbour told me about it when my benefit was stopped and I had no idea why.",
        "What happened when you tried to get help online?",
        "The website kept asking for a code that never arrived, so I gave up after an hour.",
    ]
    project.add_interview(
        participant_id,
        [
            SegmentDraft(
                sentences[k % 4] + f" ({k})",
                "Interviewer" if k % 2 == 0 else "Lorraine",
                SpeakerRole.INTERVIEWER if k % 2 == 0 else SpeakerRole.PARTICIPANT,
                k * 6.0,
                k * 6.0 + 5.5,
            )
            for k in range(minutes * 10)
        ],
    )


def test_the_whole_journey(tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    folder = tmp_path / "study"
    qda.create_project(folder, name="Housing advice 2026").close()
    with (
        sync_playwright() as p,
        running_app(folder, ARTIFACTS / "app-journey.log") as url,
    ):
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.set_default_timeout(30_000)
        page.goto(url)
        expect(page.get_by_text("This project is empty")).to_be_visible()
        shot(page, "1-empty-project")

        # participants in two stakeholder groups, by hand
        for pid, name, group in [
            ("P15", "Lorraine", "beneficiaries"),
            ("P16", "Birgit", "frontline staff"),
        ]:
            page.get_by_label("Participant id").fill(pid)
            page.get_by_label("Pseudonym").fill(name)
            page.get_by_label("… or a new group").fill(group)
            page.get_by_role("button", name="Add participant").click()
            expect(page.get_by_text(f"Participant {pid} added.")).to_be_visible()
        no_horizontal_scroll(page)
        shot(page, "2-participants")

        # two recordings through the upload widget, transcribed by the app's worker
        go(page, "Upload", "Upload recordings")
        page.set_input_files(
            "input[type=file]",
            [str(RECORDINGS / "P15_lorraine.opus"), str(RECORDINGS / "P16_birgit.opus")],
        )
        expect(page.get_by_text("P16_birgit.opus").first).to_be_visible()
        # Birgit speaks Danish: say so rather than trust detection on 24 s of speech
        language = page.get_by_test_id("stSelectbox").filter(has_text="Language").nth(1)
        language.locator("input").click()
        page.keyboard.type("Danish")
        page.keyboard.press("Enter")
        page.wait_for_timeout(800)
        page.get_by_role("button", name="Add and transcribe").click()
        expect(page.get_by_text("Transcribing P15 (job 1), P16 (job 2)")).to_be_visible(
            timeout=60_000
        )
        shot(page, "3-upload")
        started = time.monotonic()
        expect(page.get_by_test_id("stProgress").get_by_text("done")).to_have_count(
            2, timeout=300_000
        )
        print(f"two recordings (55.5 s) transcribed in {time.monotonic() - started:.1f} s")
        no_horizontal_scroll(page)

        project = qda.open_project(folder)
        assert project.interview("P16").language == "da"
        # the transcript: correct one segment's text, swap the speakers (and back)
        go(page, "Transcripts", "Transcripts")
        pick(page, "Interview", "P15 · Lorraine · beneficiaries")
        expect(page.get_by_text("Speakers: Interviewer (interviewer), Lorraine")).to_be_visible()
        page.get_by_text("Correct one segment in a text box").click()
        page.get_by_label("Text", exact=True).fill(
            "Lorraine, how do you usually contact the council offices?"
        )
        page.get_by_role("button", name="Save this segment").click()
        expect(page.get_by_text("Segment 1 corrected; the original text is kept.")).to_be_visible()
        first = project.segments("P15")[0]
        assert first.text == "Lorraine, how do you usually contact the council offices?"
        assert first.original_text != first.text
        roles = [s.role for s in project.segments("P15")]
        page.get_by_role("button", name="Swap speakers", exact=True).click()
        expect(page.get_by_text("Speakers swapped.")).to_be_visible()
        swapped = [s.role for s in project.segments("P15")]
        assert swapped == [
            SpeakerRole.PARTICIPANT if r is SpeakerRole.INTERVIEWER else SpeakerRole.INTERVIEWER
            for r in roles
        ]
        page.get_by_role("button", name="Swap speakers", exact=True).click()  # and back
        deadline = time.monotonic() + 15
        while [s.role for s in project.segments("P15")] != roles:
            assert time.monotonic() < deadline, "the second swap was not stored"
            time.sleep(0.2)
        no_horizontal_scroll(page)
        shot(page, "4-transcript")

        # a codebook file
        go(page, "Codebook", "Codebook")
        page.set_input_files("input[type=file]", str(REPO / "codebooks" / "digital_access.yaml"))
        page.get_by_role("button", name="Import 26 codes").click()
        expect(page.get_by_text("26 codes imported from digital_access.yaml.")).to_be_visible()
        shot(page, "5-codebook")

        # coding by hand: the second turn of each interview (the participant's answer)
        go(page, "Coding", "Coding")
        made = {}
        for interview, code in [("P15 · Lorraine", "Access barriers/Login and identity"),
                                ("P16 · Birgit", "Human contact/Phone lines and waiting")]:  # fmt: skip
            pick(page, "Interview", interview)
            pick(page, "Segment (select a row above", "2")
            page.get_by_test_id("stMultiSelect").click()
            page.keyboard.type(code.split("/")[1])
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")
            page.get_by_role("button", name="Apply", exact=True).click()
            expect(page.get_by_text(f"Applied {code} to turn 2.")).to_be_visible()
            made[interview.split(" ")[0]] = code
        no_horizontal_scroll(page)
        shot(page, "6-coding")
        assert len(project.codings()) == 2

        # a code from a topic candidate, then a code-fit suggestion accepted
        go(page, "Suggestions", "Suggestions")
        accept = page.get_by_role("button", name="Accept").first
        expect(accept).to_be_visible(timeout=120_000)  # the segments are embedded first
        page.get_by_role("button", name="Find topics no code covers").click()
        create = page.get_by_role("button", name="Create code from this topic").first
        expect(create).to_be_visible(timeout=240_000)
        page.get_by_label("Name of the new code").first.fill("Paper letters")
        create.click()
        expect(page.get_by_text("Created the code Paper letters")).to_be_visible()
        assert "Paper letters" in {c.name for c in project.codes}
        shot(page, "7-suggestions")
        page.get_by_role("button", name="Accept").first.click()
        expect(page.get_by_text("Coded turn")).to_be_visible(timeout=60_000)  # 6-15 s on 2 cores
        assert [c.origin for c in project.codings()].count("suggestion") == 1
        no_horizontal_scroll(page)

        # the cross-tab: its numbers are those of the codings made
        go(page, "Cross-tab & export", "Cross-tab & export")
        shot(page, "8-crosstab")
        no_horizontal_scroll(page)
        with page.expect_download() as download:
            page.get_by_role("button", name=".xlsx").click()
        xlsx = ARTIFACTS / "journey.xlsx"
        download.value.save_as(xlsx)
        sheet = load_workbook(xlsx)["Cross-tab"]
        header = [c.value for c in sheet[1]]
        shown = {}
        for row in sheet.iter_rows(min_row=2, values_only=True):
            for group in ("beneficiaries", "frontline staff"):
                column = next(i for i, h in enumerate(header) if str(h).startswith(group))
                shown[(row[0], group)] = row[column]
        people = {p.id: p.stakeholder_group for p in project.participants}
        paths = {c.id: path for path, c in project.code_paths().items()}
        owner = {s.id: project.interview(s.interview_id).participant_id for s in project.segments()}
        speech = {s.id for s in project.segments() if s.role is not SpeakerRole.INTERVIEWER}
        expected = defaultdict(set)
        for c in project.codings():
            if c.segment_id not in speech:
                continue  # the table leaves interviewer turns out, as it says
            theme = paths[c.code_id].split("/")[0]
            participant = owner[c.segment_id]
            expected[(theme, people[participant])].add(participant)
        assert expected, "no codings were made"
        for (theme, group), who in expected.items():
            assert shown[(theme, group)] == len(who), (theme, group)
        themes = {c.name for c in project.codes if c.parent_id is None}
        for (row, group), value in shown.items():  # every other theme: nobody
            if row in themes and (row, group) not in expected:
                assert not value, (row, group, value)

        # the codebook as .qdc, read back
        go(page, "Codebook", "Codebook")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download .qdc").click()
        qdc = ARTIFACTS / "journey.qdc"
        download.value.save_as(qdc)
        book = read_qdc(io.BytesIO(qdc.read_bytes()), "journey.qdc")
        assert {n.name for _, n in book.walk()} == {c.name for c in project.codes}

        # the transcript page of a 60-minute interview opens quickly
        add_long_interview(project, "P15", minutes=60)
        go(page, "Transcripts", "Transcripts")
        started = time.monotonic()
        pick(page, "Interview", "P15-2 · Lorraine · beneficiaries")
        expect(page.get_by_text("600 segments")).to_be_visible()
        first_turn = page.get_by_test_id("stText").filter(
            has_text="How did you first hear about the advice service? (0)"
        )
        expect(first_turn).to_be_visible()  # the read view: whole turns
        seconds = time.monotonic() - started
        print(f"60-minute transcript (600 segments) shown in {seconds:.2f} s")
        assert seconds < 2.0 + 0.8  # 0.8 s of it is pick()'s own wait
        shot(page, "9-long-transcript")
        page.get_by_test_id("stButtonGroup").get_by_text("Correct", exact=True).click()  # the table
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
        browser.close()
