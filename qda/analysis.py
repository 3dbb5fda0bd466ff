"""Themes × stakeholder group: cross-tabs, quotes and code co-occurrence (pure pandas).

Rows are the codebook's themes and codes in tree order; a theme counts the segments
of all the codes under it, each segment once even when several of its codes are
applied. Columns are the values of a participant attribute (`stakeholder_group` by
default) and a total. Cells count, selectably:

- **participants** (default): participants of the group with at least one coded
  segment in the row, and that number as a share of the group's interviewed
  participants (a study compares people, not word counts);
- **segments**: coded segments, and their share of the group's segments;
- **words**: words in the coded segments.

Filters: only participant speech (interviewer turns left out; on by default),
interview language, coder, interviews. Interviews excluded from analysis (withdrawn
consent, placeholders, pilots) are never counted, in cells or in bases.
`Crosstab.definition` says in words what each number is, for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

from qda.models import SpeakerRole, clock
from qda.store import Project

TOTAL = "Total"
NO_VALUE = "(no value)"


class Measure(StrEnum):
    PARTICIPANTS = "participants"
    SEGMENTS = "segments"
    WORDS = "words"


@dataclass(frozen=True)
class Filters:
    """Which coded speech counts."""

    participant_speech_only: bool = True  # leave interviewer turns out
    languages: tuple[str, ...] = ()  # interview languages; empty = all
    coders: tuple[str, ...] = ()  # empty = all
    interviews: tuple[str, ...] = ()  # empty = all
    # count only interviews with at least one coding: True, False, or None = only them
    # while coding is partial (some interviews coded, others not yet)
    coded_only: bool | None = None

    def describe(self) -> str:
        parts = ["participant speech only" if self.participant_speech_only else "all speech"]
        if self.languages:
            parts.append("languages " + ", ".join(self.languages))
        if self.coders:
            parts.append("coders " + ", ".join(self.coders))
        if self.interviews:
            parts.append(f"{len(self.interviews)} interviews")
        return "; ".join(parts)


@dataclass(frozen=True)
class Crosstab:
    """A themes × attribute table: counts, percentages and what they mean."""

    counts: pd.DataFrame  # index: code paths; columns: attribute values + Total
    percents: pd.DataFrame | None  # same shape (None for words)
    bases: pd.Series  # denominator per column (participants or segments)
    measure: Measure
    by: str
    filters: Filters
    depth: dict[str, int] = field(default_factory=dict)  # code path -> level (0 = theme)
    code_ids: dict[str, str] = field(default_factory=dict)  # code path -> id
    # the scope counted: what was left out (excluded, not coded yet) is read from it
    within: Scope | None = field(default=None, repr=False, compare=False)

    @property
    def excluded(self) -> int:
        """Interviews excluded from analysis, counted nowhere."""
        return self.within.excluded if self.within else 0

    @property
    def coded_only(self) -> bool:
        """Only interviews with a coding count (cells and bases)."""
        return self.within.coded_only if self.within else False

    @property
    def not_coded(self) -> tuple[str, ...]:
        """Interviews in scope with no coding yet."""
        return self.within.not_coded if self.within else ()

    @property
    def not_coded_columns(self) -> tuple[str, ...]:
        """Columns none of whose interviews is coded."""
        return self.within.not_coded_columns if self.within else ()

    def header(self, column: str) -> str:
        """A column's heading: its value, its base and whether it is coded yet."""
        if column in self.not_coded_columns:
            if self.coded_only:
                return f"{column} (not coded yet)"
            return f"{column} (n={self.bases[column]}, not coded yet)"
        if self.measure is Measure.WORDS:
            return column
        return f"{column} (n={self.bases[column]})"

    @property
    def coding_note(self) -> str:
        """What the table does with interviews not coded yet, in words."""
        if not self.not_coded:
            return ""
        n = len(self.not_coded)
        one = n == 1
        some = f"{n} interview{'' if one else 's'} not coded yet"
        if self.coded_only:
            note = (
                f" Only coded interviews count: {some} ({', '.join(self.not_coded)}) "
                f"{'is' if one else 'are'} left out."
            )
        else:
            note = f" {some} {'counts' if one else 'count'} in the bases as mentioning nothing."
        if self.not_coded_columns:
            note += f" Not coded yet: {', '.join(self.not_coded_columns)}."
        return note

    @property
    def exclusions(self) -> str:
        """The sentence the definition ends with when interviews are excluded."""
        if not self.excluded:
            return ""
        if self.excluded == 1:
            return " 1 interview excluded from analysis is not counted."
        return f" {self.excluded} interviews excluded from analysis are not counted."

    @property
    def definition(self) -> str:
        scope = self.filters.describe()
        if self.measure is Measure.PARTICIPANTS:
            base = (
                "participants with a coded interview"
                if self.coded_only
                else "interviewed participants"
            )
            return (
                f"Each cell: number of participants in the {self.by} column with at least one "
                f"coded segment under the row's code (a theme includes the codes under it), "
                f"and that number as a percentage of the column's {base} "
                f"(n under the column name). Counted on {scope}.{self.exclusions}{self.coding_note}"
            )
        if self.measure is Measure.SEGMENTS:
            return (
                f"Each cell: number of segments coded with the row's code or a code under it "
                f"(each segment once), and its percentage of all segments of the column's "
                f"participants. Counted on {scope}.{self.exclusions}{self.coding_note}"
            )
        return (
            f"Each cell: number of words in the segments coded with the row's code or a code "
            f"under it (each segment once). Counted on {scope}.{self.exclusions}{self.coding_note}"
        )


@dataclass(frozen=True)
class Scope:
    """The coded speech a table counts, computed once and shared by the table, its
    quotes and its report."""

    by: str
    filters: Filters
    segments: pd.DataFrame  # segments in scope (no text), with "column" (the attribute value)
    pairs: pd.DataFrame  # (code_id, segment_id): a coding counts for its code and its ancestors
    excluded: int = 0  # interviews excluded from analysis
    coded_only: bool = False
    not_coded: tuple[str, ...] = ()
    not_coded_columns: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # every column value in scope, coded or not
    # (code_id, segment_id, span_start, span_end): what each coding covers, per code
    # and ancestor; span_end -1 is the whole segment
    spans: pd.DataFrame | None = None

    def parts(self, project: Project, code_id: str, segment_ids) -> dict[int, list[str]]:
        """The coded text of each segment for a code (and the codes under it): the
        whole segment, or the parts its codings cover when none covers all of it."""
        ids = [int(i) for i in segment_ids]
        texts = project.segment_texts(ids)
        spans = self.spans
        mine = spans[(spans.code_id == code_id) & spans.segment_id.isin(ids)]
        by_segment = {
            int(k): list(zip(g.span_start, g.span_end, strict=True))
            for k, g in mine.groupby("segment_id")
        }
        return {i: coded_parts(texts[i], by_segment.get(i, [(0, -1)])) for i in ids}


def coded_parts(text: str, spans) -> list[str]:
    """The parts of `text` that (start, end) spans cover, overlaps merged; the whole
    text when a span is the whole segment (end -1)."""
    if any(end < 0 for _, end in spans):
        return [text]
    merged: list[list[int]] = []
    for start, end in sorted((int(a), int(b)) for a, b in spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [text[a:b].strip() for a, b in merged if text[a:b].strip()] or [text]


def scope(project: Project, by: str = "stakeholder_group", filters: Filters = Filters()) -> Scope:
    """Select the segments and codings that count, and expand codings to their themes."""
    people = {p.id: p for p in project.participants}

    def column_of(pid: str) -> str:
        p = people[pid]
        value = p.stakeholder_group if by == "stakeholder_group" else p.attributes.get(by)
        return NO_VALUE if value in (None, "") else str(value)

    segments = project.segment_frame()
    keep = ~segments.excluded.astype(bool)  # excluded interviews never count
    excluded = int(segments.interview[~keep].nunique())
    if filters.interviews:
        keep &= segments.interview.isin(filters.interviews)
    if filters.languages:
        keep &= segments.language.isin(filters.languages)
    if filters.participant_speech_only:
        keep &= segments.role != SpeakerRole.INTERVIEWER.value
    codings = project.coding_frame()
    if filters.coders:
        codings = codings[codings.coder.isin(filters.coders)]
    # an interview is coded when any of its turns (an interviewer's too) carries a coding
    coded = set(segments.interview[segments.segment_id.isin(codings.segment_id)])
    segments = segments[keep].copy()
    segments["column"] = segments.participant.map({pid: column_of(pid) for pid in people})
    in_scope = set(segments.interview)
    not_coded = tuple(sorted(in_scope - coded))
    coded_only = filters.coded_only
    if coded_only is None:
        coded_only = bool(not_coded) and bool(in_scope & coded)
    columns_coded = set(segments.column[segments.interview.isin(coded)])
    every_column = tuple(sorted(set(segments.column)))
    not_coded_columns = tuple(c for c in every_column if c not in columns_coded)
    if coded_only:
        segments = segments[segments.interview.isin(coded)]
    codings = codings[codings.segment_id.isin(segments.segment_id)]
    parent = {c.id: c.parent_id for c in project.codes}
    lineage: dict[str, list[str]] = {}
    for code_id in parent:
        chain, current = [], code_id
        while current is not None:
            chain.append(current)
            current = parent[current]
        lineage[code_id] = chain
    spans = codings.assign(code_id=codings.code_id.map(lineage)).explode("code_id")[
        ["code_id", "segment_id", "span_start", "span_end"]
    ]
    pairs = spans[["code_id", "segment_id"]].drop_duplicates()
    return Scope(
        by=by,
        filters=filters,
        segments=segments,
        pairs=pairs,
        excluded=excluded,
        coded_only=coded_only,
        not_coded=not_coded,
        not_coded_columns=not_coded_columns,
        columns=every_column,
        spans=spans,
    )


def crosstab(
    project: Project,
    *,
    by: str = "stakeholder_group",
    measure: Measure = Measure.PARTICIPANTS,
    filters: Filters = Filters(),
    within: Scope | None = None,
) -> Crosstab:
    """Themes and codes × the values of a participant attribute, with a total."""
    measure = Measure(measure)
    within = within or scope(project, by, filters)
    segments = within.segments
    pairs = within.pairs.merge(segments, on="segment_id")
    paths = {v.id: k for k, v in project.code_paths().items()}
    order = [paths[c.id] for c in project.codes]
    columns = list(within.columns)  # a column not coded yet stays, marked as such
    if measure is Measure.PARTICIPANTS:
        per = pairs.groupby(["code_id", "column"]).participant.nunique()
        total = pairs.groupby("code_id").participant.nunique()
        bases = segments.groupby("column").participant.nunique()
        base_total = segments.participant.nunique()
    elif measure is Measure.SEGMENTS:
        per = pairs.groupby(["code_id", "column"]).segment_id.nunique()
        total = pairs.groupby("code_id").segment_id.nunique()
        bases = segments.groupby("column").segment_id.nunique()
        base_total = segments.segment_id.nunique()
    else:
        pairs = _coded_words(project, within, pairs)
        per = pairs.groupby(["code_id", "column"]).words.sum()
        total = pairs.groupby("code_id").words.sum()
        bases = segments.groupby("column").words.sum()
        base_total = int(segments.words.sum())
    table = per.unstack("column", fill_value=0) if len(per) else pd.DataFrame()
    table = table.reindex(index=[c.id for c in project.codes], columns=columns, fill_value=0)
    table[TOTAL] = total.reindex(table.index, fill_value=0) if len(total) else 0
    table.index = [paths[i] for i in table.index]
    table = table.fillna(0).astype(int)
    table.columns.name = by
    bases = bases.reindex(columns, fill_value=0)
    bases[TOTAL] = base_total
    bases = bases.astype(int)
    percents = None
    if measure is not Measure.WORDS:
        percents = (
            (table / bases.astype(float).replace(0.0, float("nan")) * 100).round(1).fillna(0.0)
        )
    return Crosstab(
        counts=table.loc[order] if order else table,
        percents=percents.loc[order] if percents is not None and order else percents,
        bases=bases,
        measure=measure,
        by=by,
        filters=filters,
        depth={p: p.count("/") for p in order},
        code_ids={paths[c.id]: c.id for c in project.codes},
        within=within,
    )


def _coded_words(project: Project, within: Scope, pairs: pd.DataFrame) -> pd.DataFrame:
    """`pairs` with `words` counting only what each code's codings cover of a segment."""
    spans = within.spans
    partial = spans.groupby(["code_id", "segment_id"]).span_end.min()
    partial = partial[partial >= 0]  # no coding of that code covers the whole segment
    if partial.empty:
        return pairs
    words: dict[tuple[str, int], int] = {}
    for code_id, group in partial.reset_index().groupby("code_id"):
        for segment_id, found in within.parts(project, code_id, group.segment_id).items():
            words[(code_id, segment_id)] = sum(len(p.split()) for p in found)
    keys = list(zip(pairs.code_id, pairs.segment_id, strict=True))
    return pairs.assign(words=[words.get(k, w) for k, w in zip(keys, pairs.words, strict=True)])


def quotes(
    project: Project,
    code_id: str,
    *,
    by: str = "stakeholder_group",
    value: str | None = None,
    filters: Filters = Filters(),
    within: Scope | None = None,
) -> pd.DataFrame:
    """The segments behind a cell: coded with the code (or a code under it), from
    participants whose attribute `by` is `value` (all when None)."""
    within = within or scope(project, by, filters)
    segments, pairs = within.segments, within.pairs
    hits = segments[segments.segment_id.isin(pairs[pairs.code_id == code_id].segment_id)]
    if value is not None:
        hits = hits[hits.column == value]
    texts = project.segment_texts(hits.segment_id)
    parts = within.parts(project, code_id, hits.segment_id)
    people = {p.id: p for p in project.participants}
    coded = [" … ".join(parts[i]) for i in hits.segment_id]
    return pd.DataFrame(
        {
            "participant": [people[p].label for p in hits.participant],
            by: hits.column.tolist(),
            "interview": hits.interview.tolist(),
            "time": [clock(t) for t in hits.start],
            "turn": (hits["index"] + 1).tolist(),
            "text": coded,  # what was coded: the segment, or the parts of it coded
            "segment": [texts[i] for i in hits.segment_id],  # the whole turn, for context
        }
    )


def cooccurrence(
    project: Project, *, window: int = 0, filters: Filters = Filters()
) -> pd.DataFrame:
    """Codes × codes: segments where both are applied (or, with `window` = N, where the
    second is applied within N segments of the first in the same interview). The
    diagonal holds each code's own segment count."""
    within = scope(project, "stakeholder_group", filters)
    segments = within.segments
    codings = project.coding_frame()
    if filters.coders:
        codings = codings[codings.coder.isin(filters.coders)]
    codings = codings[codings.segment_id.isin(segments.segment_id)]
    paths = {v.id: k for k, v in project.code_paths().items()}
    ids = [c.id for c in project.codes]
    position = segments.set_index("segment_id")[["interview", "index"]]
    coded = codings.drop_duplicates(["segment_id", "code_id"]).join(position, on="segment_id")
    names = [paths[i] for i in ids]
    if window == 0:
        both = coded[["segment_id", "code_id"]].merge(
            coded[["segment_id", "code_id"]], on="segment_id"
        )
        counts = pd.crosstab(both.code_id_x, both.code_id_y)
        counts = counts.reindex(index=ids, columns=ids, fill_value=0)
        counts.index, counts.columns = names, names
        return counts.astype(int)
    by_code = {cid: group for cid, group in coded.groupby("code_id")}
    matrix = pd.DataFrame(0, index=names, columns=names)
    for a in ids:
        if a not in by_code:
            continue
        left = by_code[a]
        for b in ids:
            if b not in by_code:
                continue
            right = by_code[b]
            if a == b:
                n = left.segment_id.nunique()
            else:
                joined = left.merge(right, on="interview", suffixes=("_a", "_b"))
                near = joined[(joined.index_a - joined.index_b).abs() <= window]
                n = near.segment_id_a.nunique()
            matrix.loc[paths[a], paths[b]] = n
    return matrix


def cooccurrence_quotes(
    project: Project, code_a: str, code_b: str, *, filters: Filters = Filters()
) -> pd.DataFrame:
    """The segments coded with both codes."""
    first = quotes(project, code_a, filters=filters)
    second = quotes(project, code_b, filters=filters)
    keys = ["interview", "turn"]
    return first.merge(second[keys], on=keys)
