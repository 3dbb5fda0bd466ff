"""Who speaks in an imported transcript: mistyped names, and interviewer or participant.

Roles are found, in this order, by the project's list of its interviewers (`qda config
PROJECT --interviewer NAME`), by the usual words for an interviewer in English, Danish
and French, and, when two speakers have names, by who asks the questions. Each speaker
gets the reason for their role, which the import preview shows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from qda.ingest.formats import Document, Turn
from qda.ingest.formats.timing import INTERVIEWER_LABELS
from qda.models import SegmentDraft, SpeakerRole

if TYPE_CHECKING:
    from qda.store import Project

_UNKNOWN = re.compile(
    r"^(?:unknown(?: speaker)?|speaker \?|\?+|inaudible|unidentified(?: speaker)?|"
    r"ukendt(?: taler)?|inconnu(?:e)?|locuteur inconnu)$",
    re.IGNORECASE,
)
_LOOKALIKE = str.maketrans({"o": "0", "l": "1", "i": "1", "s": "5", "z": "2"})


def _key(label: str) -> str:
    return re.sub(r"[\W_]+", "", label.lower()).translate(_LOOKALIKE)


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def similar(a: str, b: str) -> bool:
    """Whether label `a` looks like a slip of the keyboard for `b` ("BSRO6" for "BSR06",
    "Intervewer" for "Interviewer")."""
    if a == b:
        return False
    ka, kb = _key(a), _key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    allowed = 1 if min(len(ka), len(kb)) >= 4 else 0
    if min(len(ka), len(kb)) >= 9:
        allowed = 2
    return _distance(ka, kb) <= allowed


def fix_typos(
    turns: list[Turn], doc: Document, declared: Iterable[str] = ()
) -> tuple[list[Turn], list[str]]:
    """A speaker seen in one or two turns whose label looks like a mistyped name of a
    frequent (or declared) speaker is read as that speaker, and reported."""
    counts = Counter(t.speaker for t in turns if t.speaker)
    names = set(declared)
    warnings: list[str] = []
    renamed: dict[str, str] = {}
    for rare, n in counts.items():
        if n > 2 or rare in names:
            continue
        targets = [
            s for s in [*counts, *names]
            if s != rare and (counts[s] >= max(3, 3 * n) or s in names) and similar(rare, s)
        ]  # fmt: skip
        if len(set(targets)) == 1:
            renamed[rare] = targets[0]
    out = []
    for t in turns:
        if t.speaker in renamed:
            warnings.append(
                f"{doc.name}, {doc.where(t.line)}: speaker '{t.speaker}' looks like a typo "
                f"for '{renamed[t.speaker]}' and was read as '{renamed[t.speaker]}'"
            )
            t = replace(t, speaker=renamed[t.speaker])
        out.append(t)
    for label in sorted({t.speaker for t in out if _UNKNOWN.match(t.speaker)}):
        lines = [doc.where(t.line) for t in out if t.speaker == label]
        more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
        warnings.append(
            f"{doc.name}, {', '.join(lines[:3])}{more}: the file does not know who spoke "
            f"('{label}', {len(lines)} turn{'' if len(lines) == 1 else 's'}): set the speaker "
            "on the Transcripts page"
        )
    if declared:
        for s in sorted({t.speaker for t in out if t.speaker} - names):
            first = next(t for t in out if t.speaker == s)
            warnings.append(
                f"{doc.name}, {doc.where(first.line)}: speaker '{s}' is not among the "
                f"speakers the file lists ({', '.join(declared)})"
            )
    return out, warnings


@dataclass(frozen=True)
class SpeakerSummary:
    """One speaker of a transcript, as the preview and the import report show them."""

    speaker: str
    role: SpeakerRole
    turns: int
    reason: str  # why this role: "project setting", "the word 'Interviewer'", …


def _matches(label: str, names: Iterable[str]) -> bool:
    """A configured interviewer name fits a label ("Sara" fits "Sara Jensen" and back)."""
    words = label.lower().split()
    for name in names:
        other = name.lower().split()
        if other and (words[: len(other)] == other or other[: len(words)] == words):
            return True
    return False


def assign_roles(
    segments: list[SegmentDraft],
    interviewer_names: Iterable[str] = (),
    interviewer_labels: Iterable[str] = INTERVIEWER_LABELS,
) -> tuple[list[SegmentDraft], list[SpeakerSummary]]:
    """Set each segment's role from its speaker label.

    Returns:
        The segments with roles, and each speaker with their role and its reason.
    """
    names = [n for n in interviewer_names if n.strip()]
    words = {x.lower() for x in interviewer_labels}
    counts = Counter(s.speaker for s in segments if s.speaker)
    reason: dict[str, str] = {}
    asker: set[str] = set()
    by_setting = {s for s in counts if names and _matches(s, names)}
    if by_setting:
        asker = by_setting
        reason = {s: "named as an interviewer of the study" for s in by_setting}
    else:
        by_word = {s for s in counts if s.strip().lower() in words}
        if by_word:
            asker = by_word
            reason = {s: f"the word '{s}'" for s in by_word}
        elif len(counts) == 2:
            questions = Counter(s.speaker for s in segments if s.text.rstrip().endswith("?"))
            ratio = {s: questions[s] / counts[s] for s in counts}
            top = max(ratio, key=ratio.get)
            if ratio[top] > min(ratio.values()):
                asker = {top}
                reason = {top: f"asks the questions ({ratio[top]:.0%} of turns end in '?')"}
    fallback = "not the interviewer" if asker else "no interviewer found"
    return _with_roles(segments, asker, lambda sp: reason.get(sp, fallback))


def set_interviewers(
    segments: list[SegmentDraft], interviewers: Iterable[str]
) -> tuple[list[SegmentDraft], list[SpeakerSummary]]:
    """Roles as the researcher chose them in the preview: these speakers interview."""
    return _with_roles(segments, set(interviewers), lambda sp: "chosen in the import")


def _with_roles(
    segments: list[SegmentDraft], asking: set[str], reason
) -> tuple[list[SegmentDraft], list[SpeakerSummary]]:
    """The segments with `asking` as interviewers, every other named speaker a
    participant; each speaker's summary with `reason(speaker)`."""

    def role(speaker: str) -> SpeakerRole:
        return SpeakerRole.INTERVIEWER if speaker in asking else SpeakerRole.PARTICIPANT

    out = [replace(s, role=role(s.speaker) if s.speaker else SpeakerRole.OTHER) for s in segments]
    counts = Counter(s.speaker for s in segments if s.speaker)
    return out, [SpeakerSummary(sp, role(sp), n, reason(sp)) for sp, n in counts.items()]


def apply_interviewer_names(project: Project, *, by: str) -> dict[str, list[str]]:
    """Give the project's named interviewers their role in interviews already stored:
    in each interview where one of them speaks, they interview and the other named
    speakers do not. Each change is kept in the segment history.

    Returns:
        interview id -> the speakers whose role changed.
    """
    names = project.interviewer_names
    changed: dict[str, list[str]] = {}
    if not names:
        return changed
    with project.transaction():
        for interview in project.interviews:
            roles = {s.speaker: s.role for s in project.segments(interview.id) if s.speaker}
            asking = {sp for sp in roles if _matches(sp, names)}
            if not asking:
                continue
            for speaker, role in roles.items():
                wanted = SpeakerRole.INTERVIEWER if speaker in asking else SpeakerRole.PARTICIPANT
                if role is not wanted:
                    project.rename_speaker(interview.id, speaker, speaker, role=wanted, by=by)
                    changed.setdefault(interview.id, []).append(speaker)
    return changed
