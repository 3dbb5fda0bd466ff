"""Two researchers code the same project at the same time, for a minute: every coding
either of them made is stored, none twice, none lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import qda
from tests.conftest import REPO

pytestmark = pytest.mark.slow

CODER = textwrap.dedent(
    """
    import json, random, sys, time
    import qda

    path, me, seconds, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    project = qda.open_project(path)
    segments = [s.id for s in project.segments()]
    codes = [c.id for c in project.codes]
    rng = random.Random(me)
    made, removed = {}, set()  # (segment, code) -> coding id
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        segment, code = rng.choice(segments), rng.choice(codes)
        coder = rng.choice([me, "team"])  # "team" codings: both write the same rows
        if coder == me and (segment, code) in made and rng.random() < 0.3:
            project.remove_coding(made.pop((segment, code)))
            removed.add((segment, code))
            continue
        coding = project.apply_code(segment, code, coder=coder)
        if coder == me:
            made[(segment, code)] = coding.id
            removed.discard((segment, code))
        else:
            print(json.dumps([segment, code]), file=sys.stderr)
    json.dump({"made": sorted(made), "removed": sorted(removed)}, open(out, "w"))
    """
)


def test_two_processes_coding_at_once_lose_nothing_and_duplicate_nothing(demo_copy, tmp_path):
    seconds = 60
    processes = []
    for me in ("coder-a", "coder-b"):
        out = tmp_path / f"{me}.json"
        processes.append(
            (
                me,
                out,
                subprocess.Popen(
                    [sys.executable, "-c", CODER, str(demo_copy), me, str(seconds), str(out)],
                    cwd=REPO,
                    env=os.environ,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    team: set[tuple[int, str]] = set()
    for _, _, process in processes:
        _, err = process.communicate(timeout=seconds + 120)
        assert process.returncode == 0, err
        team |= {tuple(json.loads(line)) for line in err.splitlines() if line.startswith("[")}

    project = qda.open_project(demo_copy)
    rows = [(c.segment_id, c.code_id, c.coder) for c in project.codings()]
    assert len(rows) == len(set(rows))  # nothing twice
    total = 0
    for me, out, _ in processes:
        log = json.loads(out.read_text())
        made = {tuple(pair) for pair in log["made"]}
        stored = {(s, c) for s, c, coder in rows if coder == me}
        assert stored == made, me  # every coding kept, every removal done, nothing else
        assert not stored & {tuple(pair) for pair in log["removed"]}
        total += len(made)
    assert {(s, c) for s, c, coder in rows if coder == "team"} == team
    assert total > 500  # they really did work at the same time


def test_two_app_sessions_sharing_one_project_lose_nothing(demo_copy):
    """The app serves every browser tab from one `Project` (cached per folder), each
    tab's script on a thread of its own: two threads coding through it at once."""
    import random
    import threading
    import time

    project = qda.open_project(demo_copy)
    segments = [s.id for s in project.segments()]
    codes = [c.id for c in project.codes]
    made: dict[str, set[tuple[int, str]]] = {"tab-1": set(), "tab-2": set()}
    failures: list[BaseException] = []

    def session(name: str) -> None:
        rng = random.Random(name)
        end = time.monotonic() + 10
        try:
            while time.monotonic() < end:
                segment, code = rng.choice(segments), rng.choice(codes)
                project.apply_code(segment, code, coder=name)
                made[name].add((segment, code))
                project.codings(interview_id=project.segment(segment).interview_id)  # a read
        except BaseException as e:  # reported below, with the thread's name
            failures.append(e)

    threads = [threading.Thread(target=session, args=(n,)) for n in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    rows = [(c.segment_id, c.code_id, c.coder) for c in qda.open_project(demo_copy).codings()]
    assert len(rows) == len(set(rows))
    for name, pairs in made.items():
        assert {(s, c) for s, c, coder in rows if coder == name} == pairs
    assert sum(map(len, made.values())) > 200
