"""Cross-tab speed on a generated study: 200 interviews × 200 segments, 3 codings each.

    python bench/crosstab.py [--interviews 200] [--segments 200]

Prints the time to build the study, the cross-tab (participants and segments), the
co-occurrence matrix, and the XLSX, and the ratio against a plain loop over the same
codings (the alternative a researcher would write by hand).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def build(path: Path, interviews: int, segments: int):
    import qda
    from qda.codebook import import_codebook
    from qda.codebook.yaml_format import read_codebook_yaml
    from qda.models import AttributeType, CodingOrigin, Participant, SegmentDraft, SpeakerRole
    from qda.schema import codings_t

    rng = random.Random(0)
    project = qda.create_project(path)
    with (REPO / "codebooks" / "service_experience.yaml").open("rb") as f:
        import_codebook(project, read_codebook_yaml(f), by="bench")
    leaves = [c.id for c in project.codes if c.parent_id is not None]
    groups = ["beneficiaries", "frontline staff", "specialists", "allied organisations"]
    project.define_attribute("site", AttributeType.TEXT)
    project.save_participants(
        [
            Participant(
                f"P{i:03d}", groups[i % 4], attributes={"site": ["Leeds", "Aarhus", "Lille"][i % 3]}
            )
            for i in range(interviews)
        ]
    )
    with project.transaction() as conn:
        for i in range(interviews):
            project.add_interview(
                f"P{i:03d}",
                [
                    SegmentDraft(
                        " ".join(
                            rng.choice(["access", "wait", "phone", "form", "help", "staff"])
                            for _ in range(20)
                        ),
                        "Interviewer" if k % 2 == 0 else "Participant",
                        SpeakerRole.INTERVIEWER if k % 2 == 0 else SpeakerRole.PARTICIPANT,
                        float(k * 10),
                    )
                    for k in range(segments)
                ],
            )
        ids = [s.id for s in project.segments()]
        rows = []
        for segment_id in ids:
            for code_id in rng.sample(leaves, 3):
                rows.append(
                    {
                        "segment_id": segment_id,
                        "code_id": code_id,
                        "coder": "bench",
                        "origin": CodingOrigin.MANUAL,
                        "created_at": dt.datetime(2026, 1, 1),
                        "span_start": 0,
                        "span_end": -1,
                    }
                )
        conn.execute(codings_t.insert(), rows)
    return project


def naive_crosstab(project):
    """The hand-written alternative: loop over codings, walk up to the theme."""
    parent = {c.id: c.parent_id for c in project.codes}
    segments = {s.id: s for s in project.segments()}
    interviews = {i.id: i for i in project.interviews}
    people = {p.id: p for p in project.participants}
    seen = set()
    counts: dict[tuple[str, str], set[str]] = {}
    for coding in project.codings():
        segment = segments[coding.segment_id]
        if segment.role.value == "interviewer":
            continue
        participant = interviews[segment.interview_id].participant_id
        group = people[participant].stakeholder_group
        code = coding.code_id
        while code is not None:
            key = (code, segment.id)
            if key not in seen:
                seen.add(key)
                counts.setdefault((code, group), set()).add(participant)
            code = parent[code]
    return counts


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"  {label:44s} {seconds:7.2f} s")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=200)
    parser.add_argument("--segments", type=int, default=200)
    args = parser.parse_args()
    from qda.analysis import Measure, cooccurrence, crosstab
    from qda.export import build_report, write_table

    with tempfile.TemporaryDirectory() as folder:
        n = args.interviews * args.segments
        print(f"study: {args.interviews} interviews × {args.segments} segments = {n:,} segments,")
        print(f"       {3 * n:,} codings\n")
        project, _ = timed(
            "build the study (SQLite)",
            lambda: build(Path(folder) / "s", args.interviews, args.segments),
        )
        table, t_participants = timed(
            "cross-tab, participants mentioning", lambda: crosstab(project)
        )
        timed("cross-tab, coded segments", lambda: crosstab(project, measure=Measure.SEGMENTS))
        _, t_naive = timed(
            "plain Python loop over the same codings", lambda: naive_crosstab(project)
        )
        timed("co-occurrence matrix", lambda: cooccurrence(project))
        report, t_report = timed(
            "report (2 quotes per theme and group)", lambda: build_report(project, table)
        )
        _, t_xlsx = timed(
            "XLSX (table, quotes, about)", lambda: write_table(report, "xlsx", io.BytesIO())
        )
        print()
        print(f"cross-tab: {t_participants:.2f} s (goal < 1 s)")
        print(f"plain loop / cross-tab: {t_naive / t_participants:.1f}x")
        print(f"XLSX with its report: {t_report + t_xlsx:.2f} s (goal < 5 s)")


if __name__ == "__main__":
    main()
