"""Suggestions page: codes that fit segments not yet coded; accept or reject each."""

from __future__ import annotations

import streamlit as st

from qda.coding import uncoded_speech
from qda.models import Decision
from qda.suggest.codefit import suggest_codes
from qda.suggest.embed import not_cached
from qda.suggest.runs import mark_abandoned, participant_texts, runs, start_embedding
from qda.ui.state import background, embedder, flash, page, user

project = page("Suggestions")
if not project.codes or not project.segment_counts():
    st.info("Suggestions need transcripts (Upload or Project page) and a codebook (Codebook page).")
    st.stop()
st.write(
    "Codes that may fit participant segments nobody has coded yet, ranked by how close "
    "the segment is to the code's definition and to what is already coded with it. "
    "Nothing is coded until you accept; a rejected suggestion is not shown again."
)
counts = project.segment_counts()
interviews = [i.id for i in project.interviews if counts.get(i.id) and not i.excluded]
if not interviews:
    st.info("Every interview is excluded from analysis: include one on the Project page.")
    st.stop()
uncoded = uncoded_speech(project)
waiting = [i for i in interviews if uncoded.get(i)]
st.session_state.setdefault("sg_interview", (waiting or interviews)[0])
c1, c2 = st.columns(2)
interview_id = c1.selectbox("Interview", interviews, key="sg_interview")
model = c2.selectbox(
    "Embedding model",
    ["e5-small", "minilm", "minilm-static"],
    key="sg_model",
    help="e5-small reads English, Danish and French; minilm only English; minilm-static "
    "(English) is a hundred times faster and somewhat less exact, for very large studies "
    "(prepared once, about 30 s).",
)
BACKGROUND_ABOVE = 48  # segments to embed before the work goes to the background


def embedding_progress() -> None:
    """Embedding every participant segment in the background, with progress; the page
    shows suggestions once it is done."""
    latest = next(iter(runs(project, "embed")), None)
    if latest is not None and latest.status in ("queued", "running"):
        done, total = latest.result.get("done", 0), latest.result.get("total", 0)
        st.progress(
            done / total if total else 0.0, f"Embedding segments ({model}): {done} of {total}"
        )
        st.caption("This runs in the background: you can use other pages meanwhile.")
        return
    st.rerun()


mark_abandoned(project)
pending = not_cached(project, model, participant_texts(project))
if len(pending) > BACKGROUND_ABOVE:
    latest = next(iter(runs(project, "embed")), None)
    if latest is not None and latest.status == "failed":
        st.error(f"Embedding the segments failed: {latest.error}")
        if not st.button("Try again", key="sg_embed_retry"):
            st.stop()
    if latest is None or latest.status not in ("queued", "running"):
        start_embedding(project, embedder(model), background(), by=user())
    st.fragment(embedding_progress, run_every=1.0)()
    st.stop()
with st.spinner("Reading the segments (only new text is embedded)…"):
    found = suggest_codes(project, embedder(model), interview_id=interview_id)
if not found:
    st.success(
        "Every participant segment of this interview is coded (or every suggestion was decided)."
    )
by_segment: dict[int, list] = {}
for s in found:
    by_segment.setdefault(s.segment_id, []).append(s)
if found:
    n = len(by_segment)
    st.caption(f"model {model} · {n} segment{'s' if n != 1 else ''} not yet coded")
for segment_id, options in list(by_segment.items())[:15]:
    segment = project.segment(segment_id)
    with st.container(border=True):
        st.markdown(f"**Turn {segment.index + 1}** · {segment.speaker}")
        st.write(segment.text)
        for option in options:
            a, b, c = st.columns([6, 1, 1])
            reason = (
                f" — like “{option.reasons[0].text[:90]}…” ({option.reasons[0].interview_id})"
                if option.reasons
                else ""
            )
            a.markdown(f"`{option.score:.3f}` **{option.code_path}**{reason}")
            if b.button("Accept", key=f"sg_accept_{segment_id}_{option.code_id}"):
                project.decide_suggestion(segment_id, option.code_id, Decision.ACCEPTED, by=user())
                flash(f"Coded turn {segment.index + 1} with {option.code_path}.")
            if c.button("Reject", key=f"sg_reject_{segment_id}_{option.code_id}"):
                project.decide_suggestion(segment_id, option.code_id, Decision.REJECTED, by=user())
                flash(
                    f"{option.code_path} will not be suggested for turn {segment.index + 1} again."
                )

st.header("New-theme candidates")
st.caption(
    "Topics among the participant segments that no code fits yet (BERTopic over the same "
    "embeddings). The first run takes about half a minute; later ones a few seconds."
)


def theme_runs() -> None:
    recorded = runs(project)
    latest = recorded[0] if recorded else None
    busy = latest is not None and latest.status in ("queued", "running")
    a, b = st.columns([2, 3])
    topics = a.select_slider(
        "Topics",
        ["auto", *range(2, 31)],
        key="sg_topics",
        help="auto: as many as the clustering finds. A number: that many (k-means). "
        "After a first run on large studies, changing it only re-clusters (seconds).",
    )
    b.write("")
    if b.button("Find topics no code covers", key="sg_themes", disabled=busy):
        from qda.suggest.runs import start_themes

        start_themes(
            project,
            embedder(model),
            background(),
            seed=0,
            topics=None if topics == "auto" else int(topics),
            by=user(),
        )
        st.rerun()
    if busy:
        st.info(
            f"Topic model {latest.status}: {latest.phase or 'waiting'}… (you can use other pages)"
        )
        return
    done = next((r for r in recorded if r.status == "done"), None)
    if latest is not None and latest.status == "failed":
        st.error(f"The last run failed: {latest.error}")
    if done is None:
        return
    took = done.result.get("seconds")
    st.caption(
        f"Run {done.id} by {done.created_by}, {done.finished_at:%Y-%m-%d %H:%M}"
        + (f", {took:.1f} s" if took is not None else "")
        + (" (re-clustered only)" if done.result.get("reclustered_only") else "")
        + ": "
        + ", ".join(f"{k} {v}" for k, v in done.parameters.items())
    )
    for candidate in done.candidates():
        with st.container(border=True):
            st.markdown(
                f"**{candidate.suggested_name}** · {candidate.size} segments · "
                + ", ".join(candidate.key_words)
            )
            st.caption("By group: " + ", ".join(f"{g} {n}" for g, n in candidate.groups.items()))
            for segment_id in candidate.quotes:
                st.markdown(f"> {project.segment(segment_id).text}")
            name = st.text_input(
                "Name of the new code",
                candidate.suggested_name,
                key=f"sg_theme_name_{done.id}_{candidate.topic}",
            )
            if st.button(
                "Create code from this topic", key=f"sg_theme_create_{done.id}_{candidate.topic}"
            ):
                from qda.suggest.themes import code_from_theme

                code = code_from_theme(project, candidate, name=name, by=user())
                st.session_state["sg_review"] = (code.id, candidate.segment_ids)
                flash(f"Created the code {code.name}; review its segments below.")


_latest = runs(project)[:1]
_busy = bool(_latest) and _latest[0].status in ("queued", "running")
st.fragment(theme_runs, run_every=2.0 if _busy else None)()
review = st.session_state.get("sg_review")
if review is not None:
    code_id, segment_ids = review
    code = project.code(code_id)
    coded_here = {c.segment_id for c in project.codings(code_id=code_id)}
    pending = [i for i in segment_ids if i not in coded_here]
    st.subheader(f"Segments proposed for {code.name}")
    for segment_id in pending[:20]:
        a, b = st.columns([6, 1])
        a.write(project.segment(segment_id).text)
        if b.button("Code it", key=f"sg_review_{segment_id}"):
            project.decide_suggestion(segment_id, code_id, Decision.ACCEPTED, by=user())
            st.rerun()

st.header("Refine the codebook")
if st.button("Find codes to merge or split", key="sg_refine"):
    from qda.suggest.refine import refine_hints

    with st.spinner("Comparing the coded segments of each code…"):
        st.session_state["sg_refine_run"] = refine_hints(project, embedder(model))
hints = st.session_state.get("sg_refine_run")
if hints is not None:
    merges, splits = hints
    st.caption(
        "Merge: the two codes' segments are about as close to each other's centre as to "
        "their own. Split: the code's segments fall into two clear groups. Use the "
        "Codebook page to act on a hint."
    )
    for m in merges[:8]:
        st.write(f"Merge? **{m.code_a}** + **{m.code_b}** (closeness {m.ratio:.3f})")
    for sp in splits[:5]:
        with st.container(border=True):
            st.write(f"Split? **{sp.code}** (silhouette {sp.silhouette:.2f})")
            for n, group in enumerate(sp.groups, start=1):
                st.caption(f"Group {n}: “{project.segment(group[0]).text[:160]}”")
    if not merges and not splits:
        st.info("No code looks like it should be merged or split.")
