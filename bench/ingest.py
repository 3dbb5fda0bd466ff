"""Reading transcripts made elsewhere: speed on long Word files, and what each sample
file becomes.

    python bench/ingest.py [--turns 600]

Generates Word transcripts of N turns in three layouts (Teams' `Name   m:ss`, Otter's
`Name  mm:ss`, bold `Name:`) and times qda's reading against python-docx's own
interface (`paragraph.style`, `run.style`, which search the styles part on every call),
on the same file in the same run. Then reads every sample file of
tests/data/transcripts/ and the demo study and prints the reader chosen, the turns and
the speakers with their roles.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WORDS = (
    "I volunteered after university while I was job hunting, and the library had a "
    "scheme where you sit with people who need help with the forms."
)


def word_file(turns: int, layout: str) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading("Interview", level=1)
    for k in range(turns):
        speaker = "Sara Holm" if k % 2 == 0 else "Tom Reid"
        t = k * 7
        stamp = (
            f"{t // 3600}:{t % 3600 // 60:02d}:{t % 60:02d}"
            if t >= 3600
            else f"{t // 60}:{t % 60:02d}"
        )
        if layout == "bold":
            p = doc.add_paragraph()
            p.add_run(f"{speaker}:").bold = True
            p.add_run(f" {WORDS}")
        else:
            doc.add_paragraph(f"{speaker}{'   ' if layout == 'teams' else '  '}{stamp}")
            doc.add_paragraph(WORDS)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def plain_docx(data: bytes) -> list[tuple[str, str, bool]]:
    """The paragraphs through python-docx's documented interface."""
    from docx import Document

    doc = Document(io.BytesIO(data))
    out = []
    for p in doc.paragraphs:
        bold = bool(p.runs) and bool(p.runs[0].bold or p.runs[0].style.font.bold)
        out.append((p.style.name, p.text, bold))
    return out


def timed(fn, *args, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    from qda.ingest import read_transcript
    from qda.ingest.formats import open_document

    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=600)
    args = parser.parse_args()
    print(f"Word transcripts of {args.turns} turns (best of 3):")
    for layout in ("teams", "otter", "bold"):
        data = word_file(args.turns, layout)
        plain = timed(plain_docx, data)
        ours = timed(open_document, data, "x.docx")
        whole = timed(lambda d: read_transcript(io.BytesIO(d), "x.docx"), data)
        t = read_transcript(io.BytesIO(data), "x.docx")
        print(
            f"  {layout:6} {len(data) // 1000:4} kB: python-docx interface {plain:6.2f} s, "
            f"qda's document {ours:5.2f} s ({plain / ours:5.1f}x), whole read {whole:5.2f} s "
            f"-> {t.format_label}, {len(t.segments)} turns"
        )
    print("\nSample files:")
    samples = sorted((REPO / "tests" / "data" / "transcripts").glob("*.*"))
    with (REPO / "sample_transcripts" / "participants.csv").open(encoding="utf-8") as f:
        demo = [row["transcript_file"] for row in csv.DictReader(f) if row["transcript_file"]]
    samples += [REPO / "sample_transcripts" / name for name in demo]
    found = 0
    for path in samples:
        if path.suffix == ".py":
            continue
        with path.open("rb") as f:
            t = read_transcript(f, path.name)
        found += t.found_turns
        people = ", ".join(f"{s.speaker} ({s.role[0]})" for s in t.speakers)
        print(f"  {path.name:26} {t.format_label:45} {len(t.segments):3} turns  {people}")
    print(
        f"speaker turns found in {found} of {len([p for p in samples if p.suffix != '.py'])} files"
    )


if __name__ == "__main__":
    main()
