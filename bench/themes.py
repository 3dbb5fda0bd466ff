"""New-theme candidates: do they bring back a code a researcher made?

    python bench/themes.py [--qdpx FILE ...] [--model e5-small] [--codes 8] [--speed 2000]

For each study (the demo study, and each REFI-QDA project given; by default QualCoder's
coded demo project in ../shared/refi-qda/examples/ when it is there), each of the
--codes largest codes (by coded segments, at least 4) is deleted in turn with its
codings, and the new-theme candidates are run on what is left. Printed per deleted
code: its segments, how many of them are in the pool the topics are looked for in
(not coded with another code, not fitting one), the best Jaccard overlap of a topic
with the deleted code's segments, and the same for the baseline: TF-IDF of the pool's
texts + k-means with as many clusters as qda found topics (at least 2), same seed.
Then the median best Jaccard of each and the ratio, with the topics' sizes.

Speed (--speed N, default 2,000): a topic run on a generated study of N participant
turns (two sentences of the demo's turns each), vectors cached (minilm-static), with
qda's clustering (Ward up to 4,000 turns) against UMAP + HDBSCAN on the same turns
(what runs above 4,000), each in a process that has run it once.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def baseline(texts: list[str], ids: list[int], k: int, seed: int) -> list[set[int]]:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    from qda.suggest.stopwords import STOP_WORDS

    x = TfidfVectorizer(sublinear_tf=True, stop_words=list(STOP_WORDS)).fit_transform(texts)
    labels = KMeans(max(2, min(k, len(texts))), n_init=10, random_state=seed).fit_predict(x)
    return [{ids[i] for i in np.flatnonzero(labels == c)} for c in set(labels.tolist())]


def score_study(template: Path, folder: Path, embedder, codes: int) -> list[dict]:
    import qda
    from qda.codebook.operations import delete_code
    from qda.suggest.themes import theme_candidates

    project = qda.open_project(template)
    paths = {c.id: path for path, c in project.code_paths().items()}
    members: dict[str, set[int]] = {}
    for c in project.codings():
        members.setdefault(c.code_id, set()).add(c.segment_id)
    parents = {c.parent_id for c in project.codes}
    chosen = sorted(
        (c for c in project.codes if c.id not in parents and len(members.get(c.id, ())) >= 4),
        key=lambda c: (-len(members[c.id]), paths[c.id]),
    )[:codes]
    project.close()
    rows = []
    for code in chosen:
        copy = folder / f"without-{code.id}"
        shutil.copytree(template, copy)
        p = qda.open_project(copy)
        delete_code(p, code.id, by="bench", drop_codings=True)
        target = members[code.id]
        run = theme_candidates(p, embedder, seed=0)
        best = max((jaccard(set(c.segment_ids), target) for c in run.candidates), default=0.0)
        pool = list(run.pool)
        texts = p.segment_texts(pool)
        base = baseline([texts[i] for i in pool], pool, len(run.candidates), 0)
        rows.append(
            {
                "code": paths[code.id],
                "segments": len(target),
                "in pool": len(target & set(pool)),
                "pool": len(pool),
                "topics": len(run.candidates),
                "sizes": sorted((c.size for c in run.candidates), reverse=True),
                "outliers": len(run.outliers),
                "qda": best,
                "baseline": max(jaccard(c, target) for c in base),
            }
        )
        p.close()
        shutil.rmtree(copy)
    return rows


def speed(n: int) -> None:
    import random
    import time

    import qda
    from qda.demo import build_demo
    from qda.models import Participant, SegmentDraft, SpeakerRole
    from qda.suggest import themes
    from qda.suggest.embed import cached_embeddings, load_embedder
    from qda.suggest.hybrid import SENTENCE
    from qda.suggest.runs import participant_texts

    with tempfile.TemporaryDirectory() as folder:
        demo = build_demo(Path(folder) / "demo")
        sentences = [
            x
            for s in demo.segments()
            if s.role is SpeakerRole.PARTICIPANT
            for x in SENTENCE.split(s.text)
            if len(x) > 15
        ]
        project = qda.create_project(Path(folder) / "study")
        rng = random.Random(0)
        for i in range(n // 100):
            project.save_participant(Participant(f"P{i:03d}", ["a", "b", "c", "d"][i % 4]))
            project.add_interview(
                f"P{i:03d}",
                [
                    SegmentDraft(" ".join(rng.sample(sentences, 2)), "Participant")
                    for _ in range(100)
                ],
            )
        embedder = load_embedder("minilm-static")
        cached_embeddings(project, embedder, participant_texts(project))
        times = {}
        for name, limit in (("qda (Ward)", themes.WARD_MAX), ("UMAP + HDBSCAN", 0)):
            themes.WARD_MAX = limit
            themes.theme_candidates(project, embedder, seed=1)  # warm: compiles, caches
            themes._REDUCED.clear()
            started = time.perf_counter()
            run = themes.theme_candidates(project, embedder, seed=0)
            times[name] = time.perf_counter() - started
            print(
                f"  {name:16s} {times[name]:5.1f} s  {len(run.candidates)} topics "
                f"({run.parameters['clustering']}), {len(run.outliers)} outliers"
            )
        themes.WARD_MAX = 4_000
        print(f"  ratio: {times['UMAP + HDBSCAN'] / times['qda (Ward)']:.1f}x (goal: under 15 s)")


def main() -> None:
    from suggest import studies_to_score, study

    from qda.suggest.embed import load_embedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qdpx", type=Path, nargs="*")
    parser.add_argument("--model", default="e5-small")
    parser.add_argument("--codes", type=int, default=8)
    parser.add_argument("--speed", type=int, default=2_000)
    args = parser.parse_args()
    embedder = load_embedder(args.model)
    studies = studies_to_score(args.qdpx)
    with tempfile.TemporaryDirectory() as folder:
        for name, qdpx in studies:
            slug = re.sub(r"\W+", "-", name)
            template = study(slug, Path(folder), qdpx)
            template.close()
            print(f"\n{name} ({args.model})")
            rows = score_study(Path(folder) / slug, Path(folder), embedder, args.codes)
            print(f"  {'deleted code':42s} segs  pool  topics  outl   qda   TF-IDF+k-means")
            for r in rows:
                print(
                    f"  {r['code'][:42]:42s} {r['segments']:4d} {r['in pool']:3d}/{r['pool']:<4d}"
                    f" {r['topics']:5d} {r['outliers']:5d}  {r['qda']:.3f}  {r['baseline']:.3f}"
                )
            q = float(np.median([r["qda"] for r in rows])) if rows else 0.0
            b = float(np.median([r["baseline"] for r in rows])) if rows else 0.0
            sizes = rows[0]["sizes"] if rows else []
            print(
                f"\n  median best Jaccard: qda {q:.3f}, baseline {b:.3f}, "
                f"ratio {q / max(b, 1e-9):.2f}x; topic sizes (first run): {sizes}"
            )
    if args.speed:
        print(f"\na topic run on {args.speed} turns, vectors cached")
        speed(args.speed)


if __name__ == "__main__":
    main()
