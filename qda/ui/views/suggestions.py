"""Suggestions page: codes that fit segments not yet coded; accept or reject each."""

from __future__ import annotations

import re

import streamlit as st

from qda.models import Decision, clock
from qda.search import context
from qda.suggest.codefit import fit_codes, suggest_codes, suggestion_queue
from qda.suggest.embed import not_cached
from qda.suggest.runs import mark_abandoned, participant_texts, runs, start_embedding
from qda.ui.state import background, current_project, embedder, flash, literal, page, user

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
ALL = "all interviews"
PAGE = 10  # segments shown at a time
c1, c2, c3 = st.columns([2, 2, 2])
interview_id = c1.selectbox("Interview", [ALL, *interviews], key="sg_interview")
order = c2.selectbox(
    "Order",
    ["best", "uncertain", "transcript"],
    format_func={
        "best": "best fit first",
        "uncertain": "least sure first (your decisions teach the most)",
        "transcript": "interview by interview",
    }.get,
    key="sg_order",
)
MODELS = ["e5-small", "minilm", "minilm-static"]
model = c3.selectbox(
    "Embedding model",
    MODELS,
    index=MODELS.index(project.embedding_model),
    key=f"sg_model_{project.id}",
    on_change=lambda: project.set_embedding_model(st.session_state[f"sg_model_{project.id}"]),
    help="e5-small reads English, Danish and French; minilm only English; minilm-static "
    "(English) is a hundred times faster but its meaning alone ranked codes no better than "
    "chance on real studies: code fit then leans on the words (on QualCoder's demo project "
    "the right code first for 54% of turns, e5-small 56%). For very large English studies. "
    "The choice is kept for the project.",
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
        st.error(literal(f"Embedding the segments failed: {latest.error}"))
        if not st.button("Try again", key="sg_embed_retry"):
            st.stop()
    if latest is None or latest.status not in ("queued", "running"):
        start_embedding(project, embedder(model), background(), by=user())
    st.fragment(embedding_progress, run_every=1.0)()
    st.stop()

QUEUE = "sg_queue"  # the scored queue, kept until the project changes
LAST = "sg_last"  # the last accept or reject, for its undo


@st.cache_resource(max_entries=8, show_spinner=False)
def scored(path: str, model: str, interview: str, order: str, revision: str) -> list:
    """The queue as scored for one state of the project (shared by every session and
    reload until the project changes; never mutated)."""
    p = current_project()
    fitted = fit_codes(p, embedder(model))
    found = suggest_codes(
        p,
        embedder(model),
        interview_id=None if interview == ALL else interview,
        min_chance=0.0,
        fitted=fitted,
    )
    return suggestion_queue(found, order=order), fitted.calibration


def queue() -> list:
    """The suggestions of this view, scored once and kept while nothing they depend on
    changes (an accept or reject here only takes its segment or code off the queue)."""
    key = (str(project.root), model, interview_id, order)
    revision = project.revision()
    kept = st.session_state.get(QUEUE)
    if kept is None or kept["key"] != key or kept["revision"] != revision:
        with st.spinner("Scoring the segments not yet coded (only new text is embedded)…"):
            items, calibration = scored(*key, revision)
        kept = {"key": key, "revision": revision, "items": list(items), "calibration": calibration}
        st.session_state[QUEUE] = kept
        st.session_state["sg_shown"] = PAGE
    return kept["items"]


def decide(segment, option, decision: Decision) -> None:
    project.decide_suggestion(segment.id, option.code_id, decision, by=user())
    kept = st.session_state[QUEUE]
    items = []
    for segment_id, options in kept["items"]:
        if segment_id == segment.id:
            options = [] if decision is Decision.ACCEPTED else [
                o for o in options if o.code_id != option.code_id
            ]  # fmt: skip
        if options:
            items.append((segment_id, options))
    kept["items"], kept["revision"] = items, project.revision()
    turn = f"turn {segment.index + 1} of {segment.interview_id}"
    st.session_state[LAST] = (
        segment.id,
        option.code_id,
        f"Coded {turn} with {option.code_path}."
        if decision is Decision.ACCEPTED
        else f"{option.code_path} will not be suggested for {turn} again.",
    )


def undo_last() -> None:
    segment_id, code_id, _ = st.session_state.pop(LAST)
    project.undo_decision(segment_id, code_id, by=user())
    st.session_state.pop(QUEUE, None)  # scored again: the segment comes back


def code_fit() -> None:
    """The queue: one fragment, so that an accept or reject redraws only this part."""
    every = queue()
    calibration = st.session_state[QUEUE]["calibration"]
    floor = st.slider(
        "Show suggestions whose chance of being right is at least",
        0.0,
        1.0,
        value=float(round(calibration.threshold, 2)),
        step=0.01,
        key=f"sg_floor_{round(calibration.threshold, 2)}",
        help="The chance is measured on this project's own coding: turns already coded, "
        "each scored by a scorer that did not see it. The starting value is where the "
        "suggestions shown were right most often.",
    )
    st.caption(literal(calibration.describe()))
    items = [(i, o) for i, o in every if max(x.chance for x in o) >= floor]
    decisions = project.suggestion_decisions()
    accepted = sum(1 for d in decisions if d.decision is Decision.ACCEPTED)
    if decisions:
        st.caption(f"{accepted} suggestions accepted, {len(decisions) - accepted} rejected so far.")
    if len(every) > len(items):
        st.caption(
            f"{len(every) - len(items)} segments have no code above that chance: no code "
            "fits them well (a new theme? see the topics below)."
        )
    last = st.session_state.get(LAST)
    if last is not None:
        a, b = st.columns([6, 1])
        a.success(literal(last[2]))
        b.button("Undo", key="sg_undo", on_click=undo_last, help="Take this decision back.")
    if not items:
        st.success("Every participant segment here is coded (or every suggestion was decided).")
        return
    shown = st.session_state.setdefault("sg_shown", PAGE)
    n = len(items)
    st.caption(
        literal(
            f"model {model} · {n} segment{'s' if n != 1 else ''} not yet coded"
            + (
                f" in {interview_id}"
                if interview_id != ALL
                else f" in {len(interviews)} interviews"
            )
            + f" · showing {min(shown, n)}"
        )
    )
    for segment_id, options in items[:shown]:
        segment = project.segment(segment_id)
        with st.container(border=True):
            st.caption(
                literal(
                    f"{segment.interview_id} · turn {segment.index + 1} · {clock(segment.start)}"
                    f" · {segment.speaker or 'no speaker'}"
                )
            )
            st.text(segment.text)
            with st.expander("Context"):
                for is_it, turn in context(project, segment_id, around=1):
                    if not is_it:
                        st.caption(literal(f"turn {turn.index + 1} · {turn.speaker}"))
                        st.text(turn.text)
            for option in options:
                a, b, c = st.columns([6, 1, 1])
                reason = (
                    f" — like “{option.reasons[0].text[:90]}…” ({option.reasons[0].interview_id})"
                    if option.reasons
                    else ""
                )
                a.markdown(
                    f"`{option.chance:.0%}` **{literal(option.code_path)}**{literal(reason)}"
                )
                if option.passage and option.passage != segment.text.strip():
                    a.caption(literal(f"fits: “{option.passage}”"))
                b.button(
                    "Accept",
                    key=f"sg_accept_{segment_id}_{option.code_id}",
                    on_click=decide,
                    args=(segment, option, Decision.ACCEPTED),
                )
                c.button(
                    "Reject",
                    key=f"sg_reject_{segment_id}_{option.code_id}",
                    on_click=decide,
                    args=(segment, option, Decision.REJECTED),
                )
    if n > shown:
        st.button(
            f"Show {min(PAGE, n - shown)} more",
            key="sg_more",
            on_click=lambda: st.session_state.update(sg_shown=shown + PAGE),
        )


st.fragment(code_fit)()

st.header("New-theme candidates")
st.caption(
    "Topics across the participant turns, coded or not (a new theme often runs across the "
    "codes there): those with the most turns no code fits yet come first, each with the "
    "existing code nearest it. The first run takes about half a minute; later ones a few "
    "seconds."
)


def save_stop_words() -> None:
    words = re.split(r"[,\n]", st.session_state[f"sg_stop_words_{project.id}"])
    project.set_topic_stop_words(words)


st.text_input(
    "Words to leave out of topic key words",
    ", ".join(project.topic_stop_words),
    key=f"sg_stop_words_{project.id}",
    on_change=save_stop_words,
    help="Comma-separated, kept for the project (also `qda config --stop-word`). Stop "
    "words and fillers of English, Danish and French and the names of the study's "
    "participants, speakers and interviewers are left out anyway.",
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
        help="auto: about one topic per 8 turns, the size of a typical code. A number: "
        "that many. After a first run on very large studies, changing it only re-clusters "
        "(seconds).",
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
        st.error(literal(f"The last run failed: {latest.error}"))
    if done is None:
        return
    took = done.result.get("seconds")
    st.caption(
        literal(
            f"Run {done.id} by {done.created_by}, {done.finished_at:%Y-%m-%d %H:%M}"
            + (f", {took:.1f} s" if took is not None else "")
            + (" (re-clustered only)" if done.result.get("reclustered_only") else "")
            + ": "
            + ", ".join(f"{k} {v}" for k, v in done.parameters.items())
        )
    )

    outliers = done.outliers
    if outliers:
        st.caption(
            f"{len(outliers)} of the {done.result.get('pool', len(outliers))} segments looked "
            "at are in no topic: each is unlike the others (listed in `qda suggest --themes "
            "--format json`)."
        )
    for candidate in done.candidates():
        with st.container(border=True):
            st.markdown(
                f"**{literal(candidate.suggested_name)}** · {candidate.size} segments, "
                f"{candidate.new} that no code fits yet · "
                + literal(", ".join(candidate.key_words))
            )
            st.caption(
                literal(
                    "By group: "
                    + ", ".join(f"{g} {n}" for g, n in candidate.groups.items())
                    + (
                        f" · close to: {candidate.nearest_code}, {candidate.closeness:.2f}"
                        if candidate.nearest_code
                        else ""
                    )
                )
            )
            shown = dict(zip(candidate.segment_ids, candidate.passages, strict=False))
            for segment_id in candidate.quotes:  # the passage of the turn in the topic
                st.text(shown.get(segment_id) or project.segment(segment_id).text)
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
    st.subheader(literal(f"Segments proposed for {code.name}"))
    for segment_id in pending[:20]:
        a, b = st.columns([6, 1])
        a.text(project.segment(segment_id).text)
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
        st.markdown(
            f"Merge? **{literal(m.code_a)}** + **{literal(m.code_b)}** (closeness {m.ratio:.3f})"
        )
    for sp in splits[:5]:
        with st.container(border=True):
            st.markdown(f"Split? **{literal(sp.code)}** (silhouette {sp.silhouette:.2f})")
            for n, group in enumerate(sp.groups, start=1):
                st.caption(literal(f"Group {n}: “{project.segment(group[0]).text[:160]}”"))
    if not merges and not splits:
        st.info("No code looks like it should be merged or split.")
