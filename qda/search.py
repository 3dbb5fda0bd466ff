"""Search across all transcripts: words, speaker, stakeholder group, code.

Words match whole or as the start of a word, in any case and with or without accents
("necessaire" finds "nécessaires"); a phrase in quotes matches as written. Every word
must be in the segment. Results come in interview order, each with the codes applied
to it, and `context` gives the turns around one, to read it where it was said.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from qda.models import SpeakerRole
from qda.store import Project


@dataclass(frozen=True)
class Hit:
    """A segment that matches, with what a researcher needs to place it."""

    segment_id: int
    interview_id: str
    turn: int  # 1-based, as the transcript reads
    start: float | None
    participant: str  # pseudonym or id
    group: str
    speaker: str
    role: SpeakerRole
    text: str
    codes: tuple[str, ...]  # code paths applied to the segment
    excluded: bool  # the interview is excluded from analysis


def _fold(text: str) -> str:
    """Lower case without accents, for matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _patterns(query: str) -> list[re.Pattern]:
    phrases = re.findall(r'"([^"]+)"', query)
    words = re.sub(r'"[^"]*"', " ", query).split()
    out = [re.compile(re.escape(_fold(p))) for p in phrases if p.strip()]
    out += [re.compile(r"(?<!\w)" + re.escape(_fold(w))) for w in words]
    return out


def search(
    project: Project,
    query: str = "",
    *,
    speaker: str | None = None,
    group: str | None = None,
    code: str | None = None,
    limit: int | None = 500,
) -> list[Hit]:
    """Segments whose text holds every word of `query`, said by `speaker` (a label, or
    the role "interviewer" / "participant"), from participants of `group`, coded with
    `code` (a path or a name; a theme finds the codes under it)."""
    patterns = _patterns(query)
    people = {p.id: p for p in project.participants}
    interviews = {i.id: i for i in project.interviews}
    paths = {c.id: path for path, c in project.code_paths().items()}
    codes_of: dict[int, list[str]] = {}
    for c in project.codings():
        if paths[c.code_id] not in codes_of.setdefault(c.segment_id, []):
            codes_of[c.segment_id].append(paths[c.code_id])
    wanted_code = None
    if code:
        wanted_code = code.strip().lower()
    hits: list[Hit] = []
    for s in project.segments():
        interview = interviews[s.interview_id]
        person = people[interview.participant_id]
        if group and person.stakeholder_group != group:
            continue
        if speaker and speaker.lower() not in (s.speaker.lower(), str(s.role)):
            continue
        applied = tuple(codes_of.get(s.id, ()))
        if wanted_code and not any(
            p.lower() == wanted_code
            or p.lower().startswith(wanted_code + "/")
            or p.rsplit("/", 1)[-1].lower() == wanted_code
            for p in applied
        ):
            continue
        folded = _fold(s.text)
        if not all(p.search(folded) for p in patterns):
            continue
        hits.append(
            Hit(s.id, s.interview_id, s.index + 1, s.start, person.label,
                person.stakeholder_group, s.speaker, s.role, s.text, applied,
                interview.excluded)
        )  # fmt: skip
        if limit is not None and len(hits) >= limit:
            break
    return hits


def context(project: Project, segment_id: int, around: int = 2) -> list[tuple[bool, object]]:
    """The turns around a segment: (is it the segment, Segment), `around` on each side."""
    segment = project.segment(segment_id)
    turns = project.segments(segment.interview_id)
    at = segment.index
    return [(t.id == segment_id, t) for t in turns[max(0, at - around) : at + around + 1]]
