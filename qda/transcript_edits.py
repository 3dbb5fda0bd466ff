"""Correcting transcripts: text, speakers, merge, split, replacement.

A mixin of `Project`. Every change first copies the rows it touches into
`segment_history`, so no correction ever loses the text or timing it replaced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from qda.errors import InvalidInput, NotFound
from qda.models import Segment, SegmentDraft, SpeakerRole
from qda.schema import (
    WHOLE_SEGMENT,
    _now,
    codings_t,
    decisions_t,
    segment_history_t,
    segments_t,
)

# the changes that alter segments in place, which undo can put back
UNDOABLE = frozenset({"edit", "speaker", "rename speaker", "swap speakers"})


class TranscriptEdits:
    """Segment corrections; needs `transaction()`, `segment()`, `segments()`,
    `codings()` and `_insert_segments()` of `Project`."""

    def _remember(self, conn: Connection, interview_id: str, rows, action: str, by: str) -> None:
        """Keep the state of segments before a change (segment_history)."""
        before = [
            {
                "id": r.id, "idx": r.idx, "start": r.start_s, "end": r.end_s,
                "speaker": r.speaker, "role": r.role, "text": r.text,
                "original_text": r.original_text,
            }
            for r in rows
        ]  # fmt: skip
        conn.execute(
            sa.insert(segment_history_t).values(
                interview_id=interview_id,
                at=_now(),
                by=by,
                action=action,
                before=json.dumps(before, ensure_ascii=False),
            )
        )

    def _segment_rows(self, conn: Connection, interview_id: str, ids=None) -> list[sa.Row]:
        query = (
            sa.select(segments_t)
            .where(segments_t.c.interview_id == interview_id)
            .order_by(segments_t.c.idx)
        )
        if ids is not None:
            query = query.where(segments_t.c.id.in_(list(ids)))
        return list(conn.execute(query))

    def segment_history(self, interview_id: str) -> list[dict[str, object]]:
        """Every change to an interview's segments, oldest first, with the state before."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(segment_history_t)
                .where(segment_history_t.c.interview_id == interview_id)
                .order_by(segment_history_t.c.id)
            )
            return [
                {"at": r.at, "by": r.by, "action": r.action, "before": json.loads(r.before)}
                for r in rows
            ]

    def _undoable(self, conn: Connection, interview_id: str) -> sa.Row | None:
        """The latest change of an interview that can be undone and was not."""
        rows = list(
            conn.execute(
                sa.select(segment_history_t)
                .where(segment_history_t.c.interview_id == interview_id)
                .order_by(segment_history_t.c.id.desc())
            )
        )
        undone = {int(r.action.split("#", 1)[1]) for r in rows if r.action.startswith("undo #")}
        for r in rows:
            if r.action in UNDOABLE and r.id not in undone:
                return r
        return None

    def last_change(self, interview_id: str) -> str | None:
        """What `undo_last_change` would undo, in words ("edit by anna"); None if nothing."""
        with self._read() as conn:
            row = self._undoable(conn, interview_id)
        if row is None:
            return None
        n = len(json.loads(row.before))
        return f"{row.action} by {row.by} ({n} segment{'s' if n != 1 else ''})"

    def undo_last_change(self, interview_id: str, *, by: str) -> str:
        """Put back the segments as they were before the latest text or speaker change
        (an edit, a speaker set, renamed or swapped) not yet undone; the state it
        replaces is kept in the history too. Merges and splits are undone by splitting
        or merging again.

        Returns:
            What was undone, in words.
        """
        with self.transaction() as conn:
            row = self._undoable(conn, interview_id)
            if row is None:
                raise InvalidInput(f"nothing to undo in interview {interview_id}")
            before = json.loads(row.before)
            current = self._segment_rows(conn, interview_id, [x["id"] for x in before])
            if len(current) != len(before):
                raise InvalidInput(
                    "cannot undo: the segments it changed were merged or split since"
                )
            self._remember(conn, interview_id, current, f"undo #{row.id}", by)
            for x in before:
                conn.execute(
                    sa.update(segments_t)
                    .where(segments_t.c.id == x["id"])
                    .values(text=x["text"], speaker=x["speaker"], role=x["role"],
                            start_s=x["start"], end_s=x["end"], edited_by=by,
                            edited_at=_now())
                )  # fmt: skip
        return f"{row.action} by {row.by}"

    def edit_segment(self, segment_id: int, text: str, *, by: str) -> Segment:
        """Correct a segment's text; the original ASR or imported text is kept."""
        with self.transaction() as conn:
            segment = self.segment(segment_id)
            if text == segment.text:
                return segment
            self._remember(
                conn,
                segment.interview_id,
                self._segment_rows(conn, segment.interview_id, [segment_id]),
                "edit",
                by,
            )
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.id == segment_id)
                .values(text=text, edited_by=by, edited_at=_now())
            )
        return self.segment(segment_id)

    def set_speaker(
        self, segment_id: int, speaker: str, role: SpeakerRole | None = None, *, by: str
    ) -> Segment:
        """Give one segment another speaker (and role: interviewer if the name is used
        by the interviewer's other segments, else as given or participant)."""
        with self.transaction() as conn:
            segment = self.segment(segment_id)
            if role is None:
                same = [s for s in self.segments(segment.interview_id) if s.speaker == speaker]
                role = same[0].role if same else SpeakerRole.PARTICIPANT
            self._remember(
                conn,
                segment.interview_id,
                self._segment_rows(conn, segment.interview_id, [segment_id]),
                "speaker",
                by,
            )
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.id == segment_id)
                .values(speaker=speaker.strip(), role=role, edited_by=by, edited_at=_now())
            )
        return self.segment(segment_id)

    def rename_speaker(
        self,
        interview_id: str,
        old: str,
        new: str,
        *,
        role: SpeakerRole | None = None,
        by: str,
    ) -> int:
        """Rename a speaker in every segment of an interview (optionally setting the
        role). Returns how many segments changed."""
        if not new.strip():
            raise InvalidInput("a speaker needs a name")
        with self.transaction() as conn:
            rows = [r for r in self._segment_rows(conn, interview_id) if r.speaker == old]
            if not rows:
                raise NotFound(f"no speaker '{old}' in interview {interview_id}")
            self._remember(conn, interview_id, rows, "rename speaker", by)
            values = {"speaker": new.strip(), "edited_by": by, "edited_at": _now()}
            if role is not None:
                values["role"] = role
            conn.execute(
                sa.update(segments_t)
                .where((segments_t.c.interview_id == interview_id) & (segments_t.c.speaker == old))
                .values(**values)
            )
            return len(rows)

    def swap_speakers(self, interview_id: str, *, by: str) -> None:
        """Swap the two speakers of an interview (names and roles), in one action:
        for when the interviewer was guessed wrong."""
        with self.transaction() as conn:
            rows = self._segment_rows(conn, interview_id)
            speakers = list(dict.fromkeys(r.speaker for r in rows if r.speaker))
            if len(speakers) != 2:
                raise InvalidInput(
                    f"interview {interview_id} has {len(speakers)} speakers; swapping needs two"
                )
            a, b = speakers
            role = {r.speaker: r.role for r in rows}
            self._remember(conn, interview_id, rows, "swap speakers", by)
            for r in rows:
                if r.speaker in (a, b):
                    other = b if r.speaker == a else a
                    conn.execute(
                        sa.update(segments_t)
                        .where(segments_t.c.id == r.id)
                        .values(speaker=other, role=role[other], edited_by=by, edited_at=_now())
                    )

    def merge_segments(self, first_id: int, *, by: str, speaker: str | None = None) -> Segment:
        """Join a segment with the next one (text, original text, times, words). Codings
        of both stay on the merged segment, each on the words it covered (a code on both
        whole turns covers the whole). Two turns of different speakers need `speaker`:
        which of the two the merged turn is."""
        with self.transaction() as conn:
            first = self.segment(first_id)
            rows = self._segment_rows(conn, first.interview_id)
            position = next(i for i, r in enumerate(rows) if r.id == first_id)
            if position + 1 >= len(rows):
                raise InvalidInput("the last segment has no next segment to merge with")
            a, b = rows[position], rows[position + 1]
            if speaker is None and a.speaker != b.speaker:
                raise InvalidInput(
                    f"turns {position + 1} and {position + 2} have different speakers "
                    f"('{a.speaker}', '{b.speaker}'): say which speaker the merged turn is"
                )
            speaker = a.speaker if speaker is None else speaker
            if speaker not in (a.speaker, b.speaker):
                raise InvalidInput(f"'{speaker}' is neither speaker of the two turns")
            role = a.role if speaker == a.speaker else b.role
            self._remember(conn, first.interview_id, [a, b], "merge", by)
            text = f"{a.text} {b.text}".strip()
            offset = len(a.text) + 1
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.id == a.id)
                .values(
                    text=text,
                    original_text=f"{a.original_text} {b.original_text}".strip(),
                    end_s=b.end_s if b.end_s is not None else a.end_s,
                    words=json.dumps(json.loads(a.words) + json.loads(b.words)),
                    speaker=speaker,
                    role=role,
                    edited_by=by,
                    edited_at=_now(),
                )
            )

            def whole(c) -> bool:
                return (c.span_start, c.span_end) == WHOLE_SEGMENT

            codings_a = list(
                conn.execute(sa.select(codings_t).where(codings_t.c.segment_id == a.id))
            )
            codings_b = list(
                conn.execute(sa.select(codings_t).where(codings_t.c.segment_id == b.id))
            )
            both = {(c.code_id, c.coder) for c in codings_a if whole(c)} & {
                (c.code_id, c.coder) for c in codings_b if whole(c)
            }
            for c in codings_a:
                if whole(c) and (c.code_id, c.coder) not in both:
                    conn.execute(
                        sa.update(codings_t)
                        .where(codings_t.c.id == c.id)
                        .values(span_start=0, span_end=len(a.text))
                    )
            for c in codings_b:
                if whole(c) and (c.code_id, c.coder) in both:
                    conn.execute(sa.delete(codings_t).where(codings_t.c.id == c.id))
                    continue
                start, end = (0, len(b.text)) if whole(c) else (c.span_start, c.span_end)
                values = {
                    "segment_id": a.id,
                    "span_start": start + offset,
                    "span_end": end + offset,
                }
                clash = conn.execute(
                    sa.select(codings_t.c.id).where(
                        (codings_t.c.segment_id == a.id)
                        & (codings_t.c.code_id == c.code_id)
                        & (codings_t.c.coder == c.coder)
                        & (codings_t.c.span_start == values["span_start"])
                        & (codings_t.c.span_end == values["span_end"])
                    )
                ).first()
                if clash:
                    conn.execute(sa.delete(codings_t).where(codings_t.c.id == c.id))
                else:
                    conn.execute(
                        sa.update(codings_t).where(codings_t.c.id == c.id).values(**values)
                    )
            conn.execute(
                sa.update(decisions_t)
                .where(decisions_t.c.segment_id == b.id)
                .where(
                    ~decisions_t.c.code_id.in_(
                        sa.select(decisions_t.c.code_id).where(decisions_t.c.segment_id == a.id)
                    )
                )
                .values(segment_id=a.id)
            )
            conn.execute(sa.delete(segments_t).where(segments_t.c.id == b.id))
            self._reindex(conn, first.interview_id)
        return self.segment(first_id)

    def split_segment(self, segment_id: int, at: int, *, by: str) -> tuple[Segment, Segment]:
        """Cut a segment in two at character `at` of its text. Times are divided by the
        word timings when known, else in proportion to the text; codings stay on both
        parts. The original text is cut at the same place when the text is unedited,
        else kept whole on the first part (and in the segment history)."""
        with self.transaction() as conn:
            segment = self.segment(segment_id)
            text = segment.text
            if not 0 < at < len(text) or not text[:at].strip() or not text[at:].strip():
                raise InvalidInput(
                    f"cannot split the segment at character {at}: both parts need text"
                )
            rows = self._segment_rows(conn, segment.interview_id)
            self._remember(
                conn, segment.interview_id, [r for r in rows if r.id == segment_id], "split", by
            )
            head, tail = text[:at].strip(), text[at:].strip()
            if segment.original_text == text:
                original_head, original_tail = head, tail
            else:
                original_head, original_tail = segment.original_text, ""
            cut = _split_time(segment, at)
            words_head = [w for w in segment.words if cut is None or w[1] <= cut]
            words_tail = [w for w in segment.words if cut is not None and w[1] > cut]
            # make room: shift later segments one place
            conn.execute(
                sa.update(segments_t)
                .where(
                    (segments_t.c.interview_id == segment.interview_id)
                    & (segments_t.c.idx > segment.index)
                )
                .values(idx=-segments_t.c.idx - 1)
            )
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.interview_id == segment.interview_id)
                .where(segments_t.c.idx < 0)
                .values(idx=-segments_t.c.idx)
            )
            conn.execute(
                sa.update(segments_t)
                .where(segments_t.c.id == segment_id)
                .values(
                    text=head,
                    original_text=original_head,
                    end_s=cut,
                    words=json.dumps([list(w) for w in words_head]),
                    edited_by=by,
                    edited_at=_now(),
                )
            )
            result = conn.execute(
                sa.insert(segments_t).values(
                    interview_id=segment.interview_id,
                    idx=segment.index + 1,
                    start_s=cut,
                    end_s=segment.end,
                    speaker=segment.speaker,
                    role=segment.role,
                    text=tail,
                    original_text=original_tail,
                    edited_by=by,
                    edited_at=_now(),
                    words=json.dumps([list(w) for w in words_tail]),
                )
            )
            new_id = result.inserted_primary_key[0]
            for c in list(
                conn.execute(sa.select(codings_t).where(codings_t.c.segment_id == segment_id))
            ):
                conn.execute(
                    sa.update(codings_t)
                    .where(codings_t.c.id == c.id)
                    .values(span_start=WHOLE_SEGMENT[0], span_end=WHOLE_SEGMENT[1])
                )
                conn.execute(
                    sa.insert(codings_t).values(
                        segment_id=new_id,
                        code_id=c.code_id,
                        coder=c.coder,
                        origin=c.origin,
                        created_at=c.created_at,
                        span_start=WHOLE_SEGMENT[0],
                        span_end=WHOLE_SEGMENT[1],
                    )
                )
        return self.segment(segment_id), self.segment(new_id)

    def _reindex(self, conn: Connection, interview_id: str) -> None:
        """Number an interview's segments 0, 1, 2, … again (after a merge)."""
        rows = self._segment_rows(conn, interview_id)
        for new, r in enumerate(rows):
            if r.idx != new:
                conn.execute(
                    sa.update(segments_t).where(segments_t.c.id == r.id).values(idx=-new - 1)
                )
        conn.execute(
            sa.update(segments_t)
            .where((segments_t.c.interview_id == interview_id) & (segments_t.c.idx < 0))
            .values(idx=-segments_t.c.idx - 1)
        )

    def replace_transcript(
        self,
        interview_id: str,
        segments: Sequence[SegmentDraft],
        *,
        by: str,
        keep_codings: bool = False,
    ) -> None:
        """Put new segments in place of an interview's (a finished transcription).
        Refused when the interview has codings, unless the caller keeps them
        (`keep_codings`: a transcription again carries them over); the old segments go
        to the history."""
        with self.transaction() as conn:
            if not keep_codings and self.codings(interview_id=interview_id):
                raise InvalidInput(
                    f"interview {interview_id} has codings; its transcript cannot be replaced"
                )
            rows = self._segment_rows(conn, interview_id)
            if rows:
                self._remember(conn, interview_id, rows, "replace transcript", by)
            conn.execute(sa.delete(segments_t).where(segments_t.c.interview_id == interview_id))
            self._insert_segments(conn, interview_id, segments)


def _split_time(segment: Segment, at: int) -> float | None:
    """Where in time a segment's text is cut at character `at`."""
    if segment.start is None or segment.end is None:
        return None
    if segment.words:
        consumed = 0
        for _start, end, word in segment.words:
            consumed += len(word)
            if consumed >= at:
                return end
    share = at / max(len(segment.text), 1)
    return round(segment.start + share * (segment.end - segment.start), 2)
