"""Code-fit suggestions against simple baselines, on studies coded by people.

    python bench/suggest.py [--qdpx FILE ...] [--model e5-small]

For each study (the demo study, and each REFI-QDA project given; by default QualCoder's
coded demo project in ../shared/refi-qda/examples/ when it is there), every coded
segment is held out in turn: leave one interview out when two or more interviews are
coded, else five folds of segments. Each method ranks the codable codes for the held-out
segments from the other segments' coding and the codes' own text. Printed per method:

- P@1: the first code is one the person applied;
- R@3: the share of the person's codes among the first three;
- hub: the most any code is ranked first, as a multiple of its share of the codings
  (1 is fair; a code ranked first everywhere is a hub);

and, for qda's scorer, the precision of what is shown at the threshold calibrated on
the held-out scores (the participant turns of coded interviews that nobody coded count
as "no code fits": a suggestion there is wrong), with the share of turns that get one.

Baselines: keyword overlap with the code's name and text; TF-IDF nearest centroid of
the coded segments; TF-IDF centroid plus the code's name and text. Also the earlier
recipe: the embedding of the code's description plus the mean coded example.

Learning from decisions: in each held-out fold, a simulated researcher decides the first
suggestion of the first half of its coded turns (accepted when it is one of their codes,
else rejected); the second half is then ranked by the scorer learnt without those
decisions, with the accepted ones only, and with the rejected ones too (taken off the
code's vectors, REJECTED_WEIGHT).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
QUALCODER = REPO.parent / "shared" / "refi-qda" / "examples" / "qc__demo__qc1.3.2.qdpx"


def words(text: str) -> set[str]:
    from qda.suggest.stopwords import STOP_WORDS

    return {w for w in re.findall(r"\w+", text.lower()) if w not in STOP_WORDS and len(w) > 2}


def study(name: str, folder: Path, qdpx: Path | None):
    import qda
    from qda.demo import build_demo
    from qda.qdpx import import_qdpx

    if qdpx is None:
        return build_demo(folder / name)
    project = qda.create_project(folder / name)
    with qdpx.open("rb") as f:
        import_qdpx(project, f, qdpx.name, by="bench")
    return project


def score_study(project, embedder) -> dict[str, dict[str, float]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    from qda.models import SpeakerRole
    from qda.suggest.codefit import training
    from qda.suggest.embed import cached_embeddings
    from qda.suggest.hybrid import fit_calibration

    segments = [
        s for s in project.segments(analysed_only=True) if s.role is not SpeakerRole.INTERVIEWER
    ]
    data = training(project, embedder, [s.text for s in segments])
    ids = [c.id for c in data.codes]
    truth: dict[int, set[str]] = {}
    for code, rows in data.examples.items():
        for row in rows:
            truth.setdefault(data.pool_segments[row], set()).add(code)
    by_id = {s.id: s for s in segments}
    held = [i for i in sorted(truth) if i in by_id]
    interviews = sorted({by_id[i].interview_id for i in held})
    if len(interviews) >= 2:
        folds = [{i for i in held if by_id[i].interview_id == x} for x in interviews]
        how = f"leave one interview out ({len(interviews)} coded interviews)"
    else:
        order = np.random.default_rng(0).permutation(len(held))
        folds = [{held[k] for k in order[f::5]} for f in range(5)]
        how = "five folds of segments (one coded interview)"
    coded_interviews = {by_id[i].interview_id for i in held}
    negatives = [s for s in segments if s.interview_id in coded_interviews and s.id not in truth]
    codings = Counter(code for codes in truth.values() for code in codes)
    print(
        f"  {len(segments)} participant turns, {len(held)} coded, {len(ids)} codable codes, "
        f"{sum(codings.values())} codings; {how}"
    )

    own_texts = data.own_texts
    tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)).fit(
        [s.text for s in segments] + own_texts
    )
    own_tfidf = normalize(tfidf.transform(own_texts))
    own_words = [words(t) for t in own_texts]
    old_description = data.own.meaning
    ranked: dict[str, dict[int, list[str]]] = {}
    top_scores, right = [], []

    def centroid(matrix, members, own=None, weight=1.0):
        """Each code's mean coded example (dense rows), plus its own text when given."""
        dense = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
        mine = None if own is None else (own.toarray() if hasattr(own, "toarray") else own)
        out = []
        for n, code in enumerate(ids):
            rows = members.get(code) or []
            v = dense[rows].mean(axis=0) if rows else np.zeros(dense.shape[1])
            if mine is not None:
                v = v + weight * mine[n] / max(np.linalg.norm(mine[n]), 1e-12)
            out.append(v / max(np.linalg.norm(v), 1e-12))
        return np.asarray(out)

    pool_tfidf = normalize(tfidf.transform(data.pool_texts))
    learnt = {"no decisions": [], "accepted learnt": [], "accepted and rejected learnt": []}
    for fold, out in enumerate(folds):
        members = {
            code: [r for r in rows if data.pool_segments[r] not in out]
            for code, rows in data.examples.items()
        }
        test = sorted(out)
        texts = [by_id[i].text for i in test]
        x_tfidf = normalize(tfidf.transform(texts)).toarray()
        x_vectors = cached_embeddings(project, embedder, texts)
        methods = {
            "keyword overlap": np.array(
                [[len(words(t) & w) for w in own_words] for t in texts], dtype=float
            ),
            "TF-IDF centroid": x_tfidf @ centroid(pool_tfidf, members).T,
            "TF-IDF centroid + name": x_tfidf @ centroid(pool_tfidf, members, own_tfidf).T,
            "embedding prototype (before)": x_vectors
            @ centroid(data.pool.meaning, members, old_description, 1.0).T,
        }
        scorer = data.scorer(leave_out=out)
        hybrid = scorer.scores(data.vocabulary.vectors(texts, x_vectors))
        methods["qda hybrid scorer"] = hybrid
        for name, matrix in methods.items():
            for segment_id, row in zip(test, matrix, strict=True):
                ranked.setdefault(name, {})[segment_id] = [ids[j] for j in np.argsort(-row)[:3]]
        for segment_id, row in zip(test, hybrid, strict=True):
            top_scores.append(float(row.max()))
            right.append(ids[int(np.argmax(row))] in truth[segment_id])
        for name, hits in decisions(data, scorer, test, texts, x_vectors, truth).items():
            learnt[name] += hits
        negative_texts = [s.text for k, s in enumerate(negatives) if k % len(folds) == fold]
        if negative_texts:
            vectors = cached_embeddings(project, embedder, negative_texts)
            for row in scorer.scores(data.vocabulary.vectors(negative_texts, vectors)):
                top_scores.append(float(row.max()))
                right.append(False)

    results = {}
    for name, ranks in ranked.items():
        p1 = np.mean([ranks[i][0] in truth[i] for i in held])
        r3 = sum(len(set(ranks[i][:3]) & truth[i]) for i in held) / sum(map(len, truth.values()))
        firsts = Counter(ranks[i][0] for i in held)
        hub = max(
            (n / len(held)) / max(codings[c] / sum(codings.values()), 1 / sum(codings.values()))
            for c, n in firsts.items()
        )
        results[name] = {"P@1": float(p1), "R@3": float(r3), "hub": float(hub)}
    calibration = fit_calibration(np.asarray(top_scores), np.asarray(right, bool))
    results["qda hybrid scorer"]["shown precision"] = calibration.precision
    results["qda hybrid scorer"]["shown share"] = calibration.shown_share
    results["qda hybrid scorer"]["threshold"] = calibration.threshold
    results["qda hybrid scorer"]["learnt"] = {k: float(np.mean(v)) for k, v in learnt.items()}
    results["qda hybrid scorer"]["learnt_n"] = len(learnt["no decisions"])
    return results


def decisions(data, scorer, test, texts, x_vectors, truth) -> dict[str, list[bool]]:
    """P@1 hits on the second half of a fold after the first half's first suggestions
    are accepted or rejected (see the module's text)."""
    from scipy import sparse

    from qda.suggest.hybrid import HybridScorer, Vectors

    ids = [c.id for c in data.codes]
    half = len(test) // 2
    if half < 1 or len(test) - half < 1:
        return {}
    x = data.vocabulary.vectors(texts, x_vectors)
    first = scorer.scores(x.rows(range(half)))
    taught = [ids[int(np.argmax(row))] for row in first]
    right = [code in truth[test[k]] for k, code in enumerate(taught)]
    n = data.pool.meaning.shape[0]
    pool = Vectors(
        sparse.vstack([data.pool.word, x.word[:half]], format="csr"),
        sparse.vstack([data.pool.char, x.char[:half]], format="csr"),
        np.vstack([data.pool.meaning, x.meaning[:half]]),
    )
    held = set(test)
    base = {
        code: [r for r in rows if data.pool_segments[r] not in held]
        for code, rows in data.examples.items()
    }
    accepted = {code: list(rows) for code, rows in base.items()}
    rejected: dict[str, list[int]] = {}
    for k, (code, ok) in enumerate(zip(taught, right, strict=True)):
        if ok:
            accepted.setdefault(code, []).append(n + k)
        else:
            rejected.setdefault(code, []).append(k)
    refused = x.rows(range(half))
    rest = x.rows(range(half, len(test)))
    scorers = {
        "no decisions": scorer,
        "accepted learnt": HybridScorer.fit(data.vocabulary, ids, data.own, accepted, pool),
        "accepted and rejected learnt": HybridScorer.fit(
            data.vocabulary, ids, data.own, accepted, pool, rejected, refused
        ),
    }
    return {
        name: [
            ids[int(np.argmax(row))] in truth[test[half + k]]
            for k, row in enumerate(s.scores(rest))
        ]
        for name, s in scorers.items()
    }


def studies_to_score(qdpx: list[Path] | None) -> list[tuple[str, Path | None]]:
    """The demo study, then each REFI-QDA project given (by default QualCoder's coded
    demo project, when ../shared is there)."""
    found: list[tuple[str, Path | None]] = [("demo study", None)]
    for path in qdpx if qdpx is not None else [QUALCODER]:
        if path.exists():
            found.append((path.stem, path))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qdpx", type=Path, nargs="*")
    parser.add_argument("--model", default="e5-small")
    args = parser.parse_args()
    from qda.suggest.embed import load_embedder

    embedder = load_embedder(args.model)
    studies = studies_to_score(args.qdpx)
    baselines = ("keyword overlap", "TF-IDF centroid", "TF-IDF centroid + name")
    with tempfile.TemporaryDirectory() as folder:
        for name, qdpx in studies:
            print(f"\n{name} ({args.model})")
            project = study(re.sub(r"\W+", "-", name), Path(folder), qdpx)
            results = score_study(project, embedder)
            project.close()
            best = max(results[b]["P@1"] for b in baselines)
            print(f"\n  {'method':30s}  P@1    R@3    hub")
            for method, r in results.items():
                print(f"  {method:30s} {r['P@1']:.3f}  {r['R@3']:.3f}  {r['hub']:5.1f}")
            h = results["qda hybrid scorer"]
            print(
                f"\n  qda / best baseline: P@1 {h['P@1'] / max(best, 1e-9):.2f}x"
                f"\n  at the calibrated threshold (chance {h['threshold']:.2f}): "
                f"{h['shown precision']:.0%} of the suggestions shown are right, "
                f"{h['shown share']:.0%} of the held-out turns get one"
                f"\n  learning from decisions (P@1 on the second half of each fold, "
                f"{h['learnt_n']} turns): "
                + ", ".join(f"{k} {v:.3f}" for k, v in h["learnt"].items())
            )


if __name__ == "__main__":
    main()
