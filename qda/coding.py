"""Manual coding: what an interview's segments are coded with, and coding a part of one."""

from __future__ import annotations

import pandas as pd

from qda.errors import InvalidInput
from qda.models import Coding, CodingOrigin, clock
from qda.store import Project


def coded_segments(project: Project, interview_id: str) -> pd.DataFrame:
    """One row per segment: id, turn, time, speaker, text, and the code paths applied."""
    paths = {v.id: k for k, v in project.code_paths().items()}
    applied: dict[int, list[str]] = {}
    for c in project.codings(interview_id=interview_id):
        label = paths[c.code_id] + (" (part)" if c.span else "")
        applied.setdefault(c.segment_id, [])
        if label not in applied[c.segment_id]:
            applied[c.segment_id].append(label)
    rows = []
    for s in project.segments(interview_id):
        rows.append(
            {
                "segment_id": s.id,
                "turn": s.index + 1,
                "time": clock(s.start),
                "speaker": s.speaker,
                "role": str(s.role),
                "text": s.text,
                "codes": applied.get(s.id, []),
            }
        )
    return pd.DataFrame(
        rows, columns=["segment_id", "turn", "time", "speaker", "role", "text", "codes"]
    )


def code_part(
    project: Project,
    segment_id: int,
    code_id: str,
    part: str,
    *,
    coder: str,
    origin: CodingOrigin = CodingOrigin.MANUAL,
) -> Coding:
    """Code the part of a segment's text that reads `part` (its first occurrence)."""
    text = project.segment(segment_id).text
    words = part.strip()
    start = text.find(words) if words else -1
    if start < 0:
        raise InvalidInput(f"'{words[:60]}' is not in the segment's text")
    if start == 0 and len(words) == len(text):
        return project.apply_code(segment_id, code_id, coder=coder, origin=origin)
    return project.apply_code(
        segment_id, code_id, coder=coder, origin=origin, span=(start, start + len(words))
    )


def uncoded_speech(project: Project) -> dict[str, int]:
    """Participant segments nobody has coded yet, per interview (zeros left out)."""
    segments = project.segment_frame()
    coded = set(project.coding_frame().segment_id)
    waiting = segments[(segments.role != "interviewer") & ~segments.segment_id.isin(coded)]
    return waiting.groupby("interview").size().astype(int).to_dict()
