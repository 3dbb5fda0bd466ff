"""Transcript writers: TXT, SRT, WebVTT, DOCX, JSON.

TXT uses `[hh:mm:ss] Speaker: text` turns, the form MAXQDA, ATLAS.ti and NVivo import
with timestamps (and that qda itself reads back). Each writer takes a `Transcript`
and a binary stream.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import BinaryIO

from qda.export.paper import new_document
from qda.models import Interview, clock
from qda.store import Project
from qda.text import without_controls
from qda.transcribe.types import (
    Engine,
    EngineInfo,
    TranscribedSegment,
    Transcript,
    TranscriptionOptions,
)


def _cue_time(seconds: float, sep: str = ".") -> str:
    """`hh:mm:ss.mmm` (WebVTT) or `hh:mm:ss,mmm` (SRT)."""
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def write_txt(t: Transcript, out: BinaryIO) -> None:
    lines = []
    for s in t.segments:
        speaker = f"{s.speaker}: " if s.speaker else ""
        lines.append(f"[{clock(s.start)}] {speaker}{s.text}")
    out.write(("\n".join(lines) + "\n").encode("utf-8"))


def write_srt(t: Transcript, out: BinaryIO) -> None:
    blocks = []
    for n, s in enumerate(t.segments, start=1):
        speaker = f"{s.speaker}: " if s.speaker else ""
        blocks.append(
            f"{n}\n{_cue_time(s.start, ',')} --> {_cue_time(s.end, ',')}\n{speaker}{s.text}\n"
        )
    out.write("\n".join(blocks).encode("utf-8"))


def write_vtt(t: Transcript, out: BinaryIO) -> None:
    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    blocks = ["WEBVTT\n"]
    for s in t.segments:
        body = f"<v {escape(s.speaker)}>{escape(s.text)}</v>" if s.speaker else escape(s.text)
        blocks.append(f"{_cue_time(s.start)} --> {_cue_time(s.end)}\n{body}\n")
    out.write("\n".join(blocks).encode("utf-8"))


def _meta(t: Transcript) -> dict[str, object]:
    return {
        "language": t.language,
        "duration": round(t.duration, 3),
        "engine": str(t.engine.engine),
        "engine_version": t.engine.version,
        "model": t.engine.model,
        "options": t.options.as_dict(),
    }


def write_json(t: Transcript, out: BinaryIO) -> None:
    data = {
        **_meta(t),
        "segments": [
            {
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "speaker": s.speaker,
                "text": s.text,
                **(
                    {"words": [[round(w.start, 3), round(w.end, 3), w.text] for w in s.words]}
                    if s.words
                    else {}
                ),
            }
            for s in t.segments
        ],
    }
    out.write(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


def write_docx(t: Transcript, out: BinaryIO) -> None:
    from docx.shared import Pt, RGBColor

    doc = new_document()
    doc.add_heading("Transcript", level=1)
    meta = doc.add_paragraph()
    meta.add_run(
        f"Language: {t.language or 'unknown'} · Duration: {clock(t.duration)} · "
        f"{t.engine.engine} {t.engine.version}, model {t.engine.model}"
    ).font.size = Pt(9)
    for s in t.segments:
        p = doc.add_paragraph()
        stamp = p.add_run(f"[{clock(s.start)}] ")
        stamp.font.color.rgb = RGBColor(0x80, 0x80, 0x80)
        if s.speaker:
            p.add_run(without_controls(f"{s.speaker}: ")).bold = True
        p.add_run(without_controls(s.text))
    buffer = io.BytesIO()
    doc.save(buffer)
    out.write(buffer.getvalue())


TRANSCRIPT_WRITERS: dict[str, tuple[Callable[[Transcript, BinaryIO], None], str]] = {
    "txt": (write_txt, "text/plain"),
    "srt": (write_srt, "application/x-subrip"),
    "vtt": (write_vtt, "text/vtt"),
    "docx": (write_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "json": (write_json, "application/json"),
}


def write_transcript(t: Transcript, fmt: str, out: BinaryIO) -> None:
    """Write `t` in format `fmt` (one of TRANSCRIPT_WRITERS)."""
    if fmt not in TRANSCRIPT_WRITERS:
        raise ValueError(f"unknown format '{fmt}' (known: {', '.join(TRANSCRIPT_WRITERS)})")
    TRANSCRIPT_WRITERS[fmt][0](t, out)


def transcript_of_interview(project: Project, interview: Interview) -> Transcript:
    """An interview's current (corrected) transcript as an exportable `Transcript`."""
    segments = project.segments(interview.id)
    options = dict(interview.engine_options)
    decoding = TranscriptionOptions(
        **{k: v for k, v in options.items() if k in TranscriptionOptions.__dataclass_fields__}
    )
    engine = (
        Engine(interview.engine)
        if interview.engine in Engine.__members__.values()
        else Engine.FASTER_WHISPER
    )
    return Transcript(
        language=interview.language,
        duration=interview.duration_s
        or max((s.end or s.start or 0.0 for s in segments), default=0.0),
        engine=EngineInfo(
            engine=engine,
            model=interview.model or "(imported)",
            version=str(options.get("engine_version", "")),
        ),
        options=decoding,
        segments=[
            TranscribedSegment(s.start or 0.0, s.end or s.start or 0.0, s.text, (), s.speaker)
            for s in segments
        ],
    )
