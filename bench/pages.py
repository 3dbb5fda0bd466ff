"""Page and action timings in a real browser, on the demo study and a 100-interview study.

    python bench/pages.py [--interviews 100] [--segments 100] [--skip-large]

Starts `qda app` on each study (its vectors embedded and cached first, as they are
once the Suggestions page has run), opens every page in headless Chromium twice and
prints the time from the click to the end of the page's script run (Streamlit's own
"running" state), then times accept, reject and undo on the Suggestions page and
another interview on the Coding page. The ratio printed beside an action is the
action's time against a full run of its page (what each click cost when every click
redrew the whole page).

The large study: --interviews interviews of --segments turns each (interviewer
questions and participant answers of two demo sentences), a third of the answers
coded, with the fast static model chosen for the project (embedding 5,000 turns with
e5-small takes minutes on 2 cores; the page's work is the same for every model).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PAGES = [
    ("Project", "Participants by stakeholder group"),
    ("Upload", "Upload recordings"),
    ("Transcripts", "Transcripts"),
    ("Search", "Search"),
    ("Codebook", "Codebook"),
    ("Coding", "Coding"),
    ("Suggestions", "Suggestions"),
    ("Cross-tab & export", "Cross-tab & export"),
]


def build_large(path: Path, interviews: int, segments: int):
    import qda
    from qda.codebook import import_codebook
    from qda.codebook.yaml_format import read_codebook_yaml
    from qda.models import CodingOrigin, Participant, SegmentDraft, SpeakerRole
    from qda.schema import codings_t

    sys.path.insert(0, str(REPO / "bench"))
    from embed import demo_turns

    sentences = [
        s.strip()
        for t in demo_turns()
        for s in re.split(r"(?<=[.!?])\s+", t)
        if len(s.strip()) > 15
    ]
    questions = [
        "How did you first hear about the service?",
        "What happened when you tried to get help online?",
        "Can you say more about that?",
        "What would you change first?",
    ]
    rng = random.Random(0)
    project = qda.create_project(path)
    with (REPO / "codebooks" / "service_experience.yaml").open("rb") as f:
        import_codebook(project, read_codebook_yaml(f), by="bench")
    leaves = [c.id for c in project.codes if c.parent_id is not None]
    groups = ["beneficiaries", "frontline staff", "specialists", "allied organisations"]
    project.save_participants([Participant(f"P{i:03d}", groups[i % 4]) for i in range(interviews)])
    with project.transaction() as conn:
        for i in range(interviews):
            project.add_interview(
                f"P{i:03d}",
                [
                    SegmentDraft(
                        rng.choice(questions) if k % 2 == 0 else " ".join(rng.sample(sentences, 2)),
                        "Interviewer" if k % 2 == 0 else "Participant",
                        SpeakerRole.INTERVIEWER if k % 2 == 0 else SpeakerRole.PARTICIPANT,
                        float(k * 12),
                        float(k * 12 + 11),
                    )
                    for k in range(segments)
                ],
            )
        frame = project.segment_frame()
        answers = frame[frame.role == "participant"].segment_id.tolist()
        conn.execute(
            codings_t.insert(),
            [
                {
                    "segment_id": int(s),
                    "code_id": rng.choice(leaves),
                    "coder": "bench",
                    "origin": CodingOrigin.MANUAL,
                    "created_at": __import__("datetime").datetime(2026, 3, 1),
                }
                for s in answers
                if rng.random() < 1 / 3
            ],
        )
    return project


WATCH = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__qdaRuns = 0;
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'notRunning') window.__qdaRuns++;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def idle(page, timeout: float = 120.0) -> None:
    """Wait until the app is not running a script."""
    page.wait_for_function(
        "document.querySelector('[data-testid=stApp]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=timeout * 1000,
    )


def timed(page, action, until=None, timeout: float = 120.0) -> float:
    """Seconds from `action` until the script run it started has ended (a watcher in
    the page counts every change of Streamlit's script state back to not running), or,
    for a fragment's run (which leaves that state alone), until `until` = (locator,
    "visible" or "hidden") is so."""
    if not page.evaluate("window.__qdaRuns !== undefined"):
        page.evaluate(WATCH)
    before = page.evaluate("window.__qdaRuns")
    started = time.perf_counter()
    action()
    if until is not None:
        locator, state = until
        locator().wait_for(state=state, timeout=timeout * 1000)
    else:
        page.wait_for_function(f"window.__qdaRuns > {before}", timeout=timeout * 1000)
    return time.perf_counter() - started


def reloaded(page, shown) -> float:
    """Seconds for a full run of the page: reload it, until `shown` is visible and the
    script has ended."""
    started = time.perf_counter()
    page.reload()
    shown.wait_for(state="visible", timeout=120_000)
    idle(page)
    return time.perf_counter() - started


def bench_study(name: str, folder: Path, browser) -> None:
    from playwright.sync_api import expect

    from tests.browser import running_app

    with running_app(folder, Path(tempfile.gettempdir()) / f"qda-bench-{folder.name}.log") as url:
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        page.goto(url)
        expect(page.get_by_role("heading", name=PAGES[0][1], exact=True)).to_be_visible(
            timeout=60_000
        )
        idle(page)
        times: dict[str, list[float]] = {}
        for _ in range(2):
            for link, heading in PAGES:

                def open_page(link=link, heading=heading):
                    page.get_by_role("link", name=link, exact=True).click()
                    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(
                        timeout=120_000
                    )

                times.setdefault(link, []).append(timed(page, open_page))
        print(f"\n{name}: page open, first and second time (s)")
        for link, (first, second) in times.items():
            print(f"  {link:20s} {first:6.2f} {second:6.2f}")
        worst = max(second for _, second in times.values())
        print(f"  slowest page, second time: {worst:.2f} s")

        page.get_by_role("link", name="Suggestions", exact=True).click()
        expect(page.get_by_role("button", name="Accept").first).to_be_visible(timeout=120_000)
        idle(page)
        full = reloaded(page, page.get_by_role("button", name="Accept").first)
        print(f"  Suggestions, full page run (reload): {full:.2f} s")
        button = page.get_by_role("button", name="Accept").first
        actions = {
            "accept": (button.click, (lambda: page.get_by_text("Coded turn"), "visible")),
            "undo": (
                lambda: page.get_by_role("button", name="Undo").click(),
                (lambda: page.get_by_text("Coded turn"), "hidden"),
            ),
            "reject": (
                lambda: page.get_by_role("button", name="Reject").first.click(),
                (lambda: page.get_by_text("will not be suggested"), "visible"),
            ),
        }
        for action, (run, until) in actions.items():
            took = timed(page, run, until)
            print(f"  {action:20s} {took:6.2f} s   ({took / full:.2f}x a full page run)")
            page.wait_for_timeout(300)

        page.get_by_role("link", name="Coding", exact=True).click()
        expect(page.get_by_role("heading", name="Coding", exact=True)).to_be_visible()
        idle(page)
        full = reloaded(page, page.get_by_role("heading", name="Coding", exact=True))

        def other_interview():
            box = page.get_by_test_id("stSelectbox").filter(has_text="Interview")
            box.locator("input").click()
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Enter")

        took = timed(page, other_interview)
        print(f"  {'Coding, next interview':20s} {took:6.2f} s   (full page run {full:.2f} s)")
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=100)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from qda.demo import build_demo
    from qda.suggest.embed import cached_embeddings, load_embedder
    from qda.suggest.runs import participant_texts
    from tests.browser import CHROMIUM_FLAGS, chromium_path

    with tempfile.TemporaryDirectory() as tmp:
        studies = []
        started = time.perf_counter()
        demo = build_demo(Path(tmp) / "demo")
        cached_embeddings(demo, load_embedder("e5-small"), participant_texts(demo))
        print(f"demo study built and embedded (e5-small) in {time.perf_counter() - started:.1f} s")
        studies.append(("demo study (e5-small)", Path(tmp) / "demo"))
        if not args.skip_large:
            started = time.perf_counter()
            large = build_large(Path(tmp) / "large", args.interviews, args.segments)
            large.set_embedding_model("minilm-static")
            cached_embeddings(large, load_embedder("minilm-static"), participant_texts(large))
            n = sum(large.segment_counts().values())
            print(
                f"{args.interviews}-interview study ({n} segments, {len(large.codings())} "
                f"codings) built and embedded in {time.perf_counter() - started:.1f} s"
            )
            studies.append((f"{args.interviews} interviews, {n} segments", Path(tmp) / "large"))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            for name, folder in studies:
                bench_study(name, folder, browser)
            browser.close()


if __name__ == "__main__":
    main()
