"""Importing a large codebook: reading the YAML and storing the codes.

    python bench/codebook.py [--codes 30000] [--compare 2000]

Generates a codebook of N codes (themes of 99 codes each) and times reading it (libyaml
with qda's structure check) and storing it with `Project.save_codes` (one transaction,
the checks made once in memory), against storing the first `--compare` codes one at a
time with `Project.save_code` (a query per check), on the same codes in the same run.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def codebook_yaml(codes: int) -> bytes:
    themes = []
    for t in range(max(1, codes // 100)):
        themes.append(f"  - name: Theme {t}\n    children:\n")
        themes.extend(f"      - name: Code {c}\n        definition: d{c}\n" for c in range(99))
    return ("codes:\n" + "".join(themes)).encode()


def main() -> None:
    from qda.codebook import import_codebook
    from qda.codebook.yaml_format import read_codebook_yaml
    from qda.store import create_project

    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=30_000)
    parser.add_argument("--compare", type=int, default=2_000)
    args = parser.parse_args()
    raw = codebook_yaml(args.codes)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        book = read_codebook_yaml(io.BytesIO(raw), "big.yaml")
        read_s = time.perf_counter() - started
        project = create_project(Path(tmp) / "bulk")
        started = time.perf_counter()
        n = import_codebook(project, book, by="bench")
        bulk_s = time.perf_counter() - started
        one = create_project(Path(tmp) / "one")
        codes = project.codes[: args.compare]
        started = time.perf_counter()
        with one.transaction():
            for code in codes:
                one.save_code(code, by="bench", action="import")
        one_s = time.perf_counter() - started
        per_bulk = bulk_s / n
        per_one = one_s / len(codes)
    print(f"{n} codes, {len(raw) / 1e6:.1f} MB of YAML")
    print(f"read:                       {read_s:6.2f} s")
    print(f"save_codes (all {n}):    {bulk_s:6.2f} s  ({per_bulk * 1e3:.3f} ms a code)")
    print(f"save_code (first {len(codes)}):    {one_s:6.2f} s  ({per_one * 1e3:.3f} ms a code)")
    print(f"ratio, a code at a time / bulk: {per_one / per_bulk:.0f}x")


if __name__ == "__main__":
    main()
