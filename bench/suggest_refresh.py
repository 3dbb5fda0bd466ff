"""Code-fit suggestions on a 100-interview study: the first scoring and each refresh.

    python bench/suggest_refresh.py [--interviews 100] [--turns 100] [--model minilm-static]

The demo study plus --interviews generated interviews of --turns participant turns each
(two sentences of the demo's turns, so every turn is new text), embedded and cached
first. Then, on the same project in one run:

1. first: scoring every uncoded turn in a new process state (the TF-IDF vocabulary
   learnt from every turn, the five calibration folds, the scorer, every turn's
   passages); what one `qda suggest --codes` does once vectors are cached;
2. refresh: the same after accepting one suggestion and rejecting another, as the
   Suggestions page does after a decision (the vocabulary is kept: the turns' texts did
   not change; codings and decisions are learnt again).

Suggestions are made with no threshold (all 3 codes of every uncoded turn), as the page
does before its slider filters them. The embedding model only matters for the
embedding step, not timed here.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    from qda.demo import build_demo
    from qda.models import Decision, Participant, SegmentDraft, SpeakerRole
    from qda.suggest import hybrid
    from qda.suggest.codefit import participant_segments, suggest_codes
    from qda.suggest.embed import cached_embeddings, load_embedder

    parser = argparse.ArgumentParser()
    parser.add_argument("--interviews", type=int, default=100)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--model", default="minilm-static")
    args = parser.parse_args()

    project = build_demo(Path(tempfile.mkdtemp()) / "study")
    sentences = [
        x
        for s in project.segments()
        for x in hybrid.SENTENCE.split(s.text)
        if s.role is SpeakerRole.PARTICIPANT and len(x) > 20
    ]
    rng = random.Random(0)
    for k in range(args.interviews):
        pid = f"G{k:03d}"
        project.save_participant(Participant(pid, rng.choice(["beneficiaries", "staff"])))
        turns = [
            SegmentDraft(
                f"{rng.choice(sentences)} {rng.choice(sentences)}",
                pid,
                SpeakerRole.PARTICIPANT,
                float(n),
                n + 1.0,
            )
            for n in range(args.turns)
        ]
        project.add_interview(pid, turns)
    embedder = load_embedder(args.model)
    turns = participant_segments(project)
    started = time.perf_counter()
    cached_embeddings(project, embedder, [s.text for s in turns])
    print(
        f"{len(turns)} participant turns, {len(project.codes)} codes, "
        f"{len(project.codings())} codings; embedded and cached with {args.model} in "
        f"{time.perf_counter() - started:.1f} s (not counted below)"
    )

    hybrid._VOCABULARIES.clear()
    started = time.perf_counter()
    found = suggest_codes(project, embedder, min_chance=0.0)
    first = time.perf_counter() - started
    by_segment: dict[int, list] = {}
    for s in found:
        by_segment.setdefault(s.segment_id, []).append(s)
    (a, *_), (b, *_) = list(by_segment.values())[:2]
    project.decide_suggestion(a.segment_id, a.code_id, Decision.ACCEPTED, by="bench")
    project.decide_suggestion(b.segment_id, b.code_id, Decision.REJECTED, by="bench")
    started = time.perf_counter()
    again = suggest_codes(project, embedder, min_chance=0.0)
    refresh = time.perf_counter() - started
    print(f"first scoring:        {first:6.2f} s  ({len(found)} suggestions)")
    print(f"refresh after 2 decisions: {refresh:6.2f} s  ({len(again)} suggestions)")
    print(f"refresh / first: {refresh / first:.2f} (the goal: a refresh under 5 s)")


if __name__ == "__main__":
    main()
