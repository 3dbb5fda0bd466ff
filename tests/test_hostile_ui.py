"""Hostile text in every field of a project, shown on every page of the app in headless
Chromium: nothing may load from another host, open a dialog or break a page, and the
text shows as it was written."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

import qda
from qda.codebook import Codebook, CodeNode, import_codebook
from qda.models import AttributeType, CodebookInfo, Participant, SegmentDraft, SpeakerRole
from tests.browser import CHROMIUM_FLAGS, chromium_path, running_app
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO / "tests" / "artifacts"

IMAGE = "![t](http://203.0.113.9/t.png) Anna"
LINK = "[click me](http://203.0.113.9/x)"
HTML = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
LATEX = "$\\frac{1}{0}$"
ICON = ":material/home: :smile: :red[red]"
BARE = "http://203.0.113.9/bare www.example.com x@example.com"
RTL = "abc\u202edcba"
HOSTILE = [IMAGE, LINK, HTML, SCRIPT, LATEX, ICON, BARE, RTL]
SHOWN = [IMAGE, LINK, HTML, SCRIPT, LATEX, ICON]  # checked as visible text on the pages


def hostile_project(path):
    project = qda.create_project(path, name=f"Study {LINK}")
    project.define_attribute("note", AttributeType.TEXT)
    project.save_participants(
        [
            Participant("P01", stakeholder_group=IMAGE, pseudonym=HTML, attributes={"note": LATEX}),
            Participant("P02", stakeholder_group=ICON, pseudonym=SCRIPT, attributes={"note": LINK}),
        ]
    )
    codes = (
        CodeNode(
            name=HTML,
            definition=IMAGE,
            include=LINK,
            exclude=LATEX,
            examples=(ICON, BARE),
            children=(CodeNode(name=LATEX, definition=SCRIPT), CodeNode(name="x :smile: y")),
        ),
        CodeNode(name="[link](https:evil)", definition=BARE),
    )
    import_codebook(
        project, Codebook(info=CodebookInfo(title=SCRIPT, version=ICON), codes=codes), by="t"
    )
    long_word = "w" * 10_000
    texts = [*HOSTILE, long_word, "NUL \x00 here", "ESC \x1b[31m red"]
    for pid in ("P01", "P02"):
        drafts = [
            SegmentDraft(
                text=f"{t} said {pid}",
                speaker=IMAGE if n % 2 else f"{ICON} {pid}",
                role=SpeakerRole.PARTICIPANT,
                start=n * 5.0,
                end=n * 5.0 + 4,
            )
            for n, t in enumerate(texts)
        ]
        project.add_interview(pid, drafts, source_name=f"{HTML}.docx", language="en")
    paths = project.code_paths()
    for segment in project.segments()[:6]:
        project.apply_code(segment.id, paths[f"{HTML}/{LATEX}"].id, coder=f"{LINK} coder")
    project.set_memo("interview", "P01", f"{IMAGE} {SCRIPT}", by="t")
    project.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield b
        b.close()


PAGES = ["", "upload", "transcript", "search", "codebook", "coding", "suggestions", "crosstab"]


def test_hostile_text_stays_text_on_every_page(browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    hostile_project(tmp_path / "hostile")
    with running_app(tmp_path / "hostile", ARTIFACTS / "app-hostile.log") as url:
        here = url.split("/")[2]
        page = browser.new_page(viewport={"width": 1366, "height": 1400})
        outside: list[str] = []
        dialogs: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if r.url.split("/")[2] != here else None,
        )
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        seen: dict[str, str] = {}
        for name in PAGES:
            page.goto(f"{url}/{name}")
            main = page.get_by_test_id("stMain")
            expect(main.get_by_role("heading").first).to_be_visible(timeout=30_000)
            if name == "search":
                page.get_by_label("Words", exact=True).and_(page.locator("input")).fill("said")
                page.keyboard.press("Enter")
            if name == "codebook":
                page.get_by_text("Import or merge a codebook file").first.wait_for()
            page.wait_for_timeout(2500)
            assert page.get_by_test_id("stException").count() == 0, name
            text = main.inner_text().replace("\u2060", "")
            seen[name] = text
            # nothing rendered from the text: no image, link, formula or icon of it
            assert main.locator("img[src*='203.0.113.9'], img[src='x']").count() == 0, name
            hrefs = main.locator("a[href]").evaluate_all("els => els.map(e => e.href)")
            assert not [h for h in hrefs if here not in h], (name, hrefs)
            assert main.locator(".katex, script").count() == 0, name
            page.screenshot(
                path=str(ARTIFACTS / f"hostile-{name or 'project'}.png"), full_page=True
            )
        assert not outside, outside
        assert not dialogs, dialogs
        assert IMAGE in seen["coding"] and IMAGE in seen["transcript"]
        missing = [s for s in SHOWN if s not in seen["transcript"]]
        assert not missing, missing
        assert SCRIPT in seen["codebook"] and ICON in seen["codebook"]  # title, version
        assert f"Study {LINK}" in seen[""] and IMAGE in seen[""]
        page.close()
