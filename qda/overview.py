"""Overview tables of a project (participants, interviews), for the UI and the CLI."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from qda.store import Project


def participants_table(project: Project) -> pd.DataFrame:
    """One row per participant: id, pseudonym, group, each attribute, interviews that
    count and interviews excluded from analysis."""
    interviews = Counter(i.participant_id for i in project.interviews if not i.excluded)
    excluded = Counter(i.participant_id for i in project.interviews if i.excluded)
    attribute_names = list(project.attribute_types)
    rows = [
        {
            "participant": p.id,
            "pseudonym": p.pseudonym,
            "stakeholder_group": p.stakeholder_group,
            **{name: p.attributes.get(name) for name in attribute_names},
            "interviews": interviews[p.id],
            "excluded": excluded[p.id],
        }
        for p in project.participants
    ]
    columns = [
        "participant", "pseudonym", "stakeholder_group", *attribute_names, "interviews",
        "excluded",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def groups_table(project: Project) -> pd.DataFrame:
    """Participants and interviews per stakeholder group (interviews excluded from
    analysis counted apart)."""
    table = participants_table(project)
    if table.empty:
        return pd.DataFrame(columns=["stakeholder_group", "participants", "interviews"])
    groups = (
        table.groupby("stakeholder_group", sort=True)
        .agg(
            participants=("participant", "count"),
            interviews=("interviews", "sum"),
            excluded=("excluded", "sum"),
        )
        .reset_index()
    )
    return groups if groups.excluded.any() else groups.drop(columns="excluded")


def interviews_table(project: Project) -> pd.DataFrame:
    """One row per interview: who, group, language, status, turns, coded turns, duration,
    and why it is excluded from analysis ("" when it counts)."""
    participants = {p.id: p for p in project.participants}
    frame = project.segment_frame()
    segments = Counter(frame.interview)
    coded = Counter(frame[frame.segment_id.isin(set(project.coding_frame().segment_id))].interview)
    rows = []
    for i in project.interviews:
        p = participants[i.participant_id]
        rows.append(
            {
                "interview": i.id,
                "participant": p.label,
                "stakeholder_group": p.stakeholder_group,
                "language": i.language,
                "status": str(i.status),
                "turns": segments[i.id],
                "coded turns": coded[i.id],
                "minutes": round(i.duration_s / 60, 1) if i.duration_s else None,
                "excluded": i.excluded_reason,
                "source": i.source_name,
            }
        )
    columns = [
        "interview", "participant", "stakeholder_group", "language", "status",
        "turns", "coded turns", "minutes", "excluded", "source",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def codebook_table(project: Project) -> pd.DataFrame:
    """One row per code, in tree order: path, depth, codings, coded segments (a theme
    counts its descendants, each segment once), definition."""
    codes = project.codes
    by_id = {c.id: c for c in codes}
    paths = {v.id: k for k, v in project.code_paths().items()}
    codings = project.codings()
    segments_of: dict[str, set[int]] = {c.id: set() for c in codes}
    direct = Counter(c.code_id for c in codings)
    for coding in codings:
        code_id: str | None = coding.code_id
        while code_id is not None:
            segments_of[code_id].add(coding.segment_id)
            code_id = by_id[code_id].parent_id
    rows = [
        {
            "code": paths[c.id],
            "depth": paths[c.id].count("/"),
            "codings": direct[c.id],
            "segments": len(segments_of[c.id]),
            "definition": c.definition,
            "colour": c.colour,
            "id": c.id,
        }
        for c in codes
    ]
    columns = ["code", "depth", "codings", "segments", "definition", "colour", "id"]
    return pd.DataFrame(rows, columns=columns)
