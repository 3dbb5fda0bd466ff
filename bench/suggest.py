"""Code-fit suggestions against a keyword-matching baseline, on a coded study.

Hides a share of the study's codings (whole segments, seeded), asks for suggestions
for those segments, and prints precision@1 (the first suggestion is one of the
hidden codes) and recall@3 (hidden codings found among the top three), next to a
baseline that ranks codes by the words a segment shares with the code's name,
definition, when-to-use text and examples.

    python bench/suggest.py [PROJECT] [--hide 0.3] [--model e5-small]

Without PROJECT it builds the demo study in a temporary folder.
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

STOP = set(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "not",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "their",
        "them",
        "there",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
        "og",
        "at",
        "det",
        "er",
        "en",
        "et",
        "de",
        "den",
        "til",
        "på",
        "med",
        "som",
        "af",
        "le",
        "la",
        "les",
        "des",
        "un",
        "une",
        "du",
        "est",
        "pour",
        "que",
        "qui",
        "pas",
    ]
)


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if w not in STOP and len(w) > 2}


def evaluate(ranked: dict[int, list[str]], truth: dict[int, set[str]]) -> tuple[float, float]:
    first = sum(1 for s, codes in truth.items() if ranked.get(s, [None])[0] in codes) / len(truth)
    found = sum(len(set(ranked.get(s, [])[:3]) & codes) for s, codes in truth.items())
    return first, found / sum(len(c) for c in truth.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path)
    parser.add_argument("--hide", type=float, default=0.3)
    parser.add_argument("--model", default="e5-small")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import shutil

    import qda
    from qda.demo import build_demo
    from qda.suggest.codefit import describe_code, suggest_codes
    from qda.suggest.embed import load_embedder

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "study"
        if args.project:
            shutil.copytree(args.project, path)
        else:
            build_demo(path).close()
        project = qda.open_project(path)
        coded = sorted({c.segment_id for c in project.codings()})
        hidden = set(random.Random(args.seed).sample(coded, max(1, int(len(coded) * args.hide))))
        truth: dict[int, set[str]] = {}
        for c in project.codings():
            if c.segment_id in hidden:
                truth.setdefault(c.segment_id, set()).add(c.code_id)
                project.remove_coding(c.id)
        n_hidden = sum(map(len, truth.values()))
        print(f"{len(coded)} coded segments; {len(hidden)} hidden ({n_hidden} codings)")

        paths = {v.id: k for k, v in project.code_paths().items()}
        parents = {c.parent_id for c in project.codes}
        leaves = [c for c in project.codes if c.id not in parents]
        vocab = {
            c.id: words(describe_code(paths[c.id], c.definition, c.include, c.examples))
            for c in leaves
        }
        baseline = {}
        for segment_id in hidden:
            text = words(project.segment(segment_id).text)
            scores = sorted(leaves, key=lambda c: (-len(text & vocab[c.id]), paths[c.id]))
            baseline[segment_id] = [c.id for c in scores]

        embedder = load_embedder(args.model)
        started = time.perf_counter()
        ranked: dict[int, list[str]] = {}
        for s in suggest_codes(project, embedder, top=3):
            if s.segment_id in hidden:
                ranked.setdefault(s.segment_id, []).append(s.code_id)
        seconds = time.perf_counter() - started
        p1, r3 = evaluate(ranked, truth)
        b1, b3 = evaluate(baseline, truth)
        print(f"\n  {'':22s} precision@1  recall@3")
        print(f"  {args.model + ' suggestions':22s} {p1:11.2f}  {r3:8.2f}   ({seconds:.1f} s)")
        print(f"  {'keyword baseline':22s} {b1:11.2f}  {b3:8.2f}")
        print(
            f"\n  ratio: precision@1 {p1 / max(b1, 1e-9):.1f}x, "
            f"recall@3 {r3 / max(b3, 1e-9):.1f}x the baseline"
        )


if __name__ == "__main__":
    main()
