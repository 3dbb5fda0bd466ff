"""New-theme candidates: topics across the participant turns, for a researcher to read.

Every participant turn goes in, coded or not: a new theme often runs across codes that
are already there. A turn over PASSAGE_CHARS is cut into passages of whole sentences,
so a long answer can feed several topics; each topic lists the passage of each turn.
The vectors are the cached embeddings with each language's mean taken off (a
multilingual model still draws Danish turns towards each other), and the clustering
follows the number of segments, chosen by measurement (`bench/themes.py`:
deleting a code and asking the topics to bring it back):

- fewer than 3 segments: a clear message, no topics;
- up to 60: k-means with about √(n/2) clusters;
- up to 4,000: Ward's agglomerative clustering into one topic per 8 segments, the
  size of a typical code (BERTopic's UMAP + HDBSCAN with a minimum cluster size of
  n/40 made topics larger than any code and far fewer than a codebook has);
- more: UMAP (5 dimensions) + HDBSCAN, leaf clusters of at least 5.

A group of fewer than 3 segments is no topic: its segments are reported as outliers.
A number of topics asked for replaces the automatic one. Topics holding the most turns
no code fits yet (no coding, no suggestion above the calibrated threshold) come first,
each with the existing code nearest it, so a variant of a code is seen as one.

Key words come from BERTopic's c-TF-IDF (words and phrases of up to three words) with
the stop words and fillers of English, Danish and French, contraction fragments, the
names of the study's people and its own stop-word list left out; a phrase comes before
the words it holds, and names the topic. A fixed seed gives the same topics for the same
input; each run returns its parameters.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np

from qda.errors import QdaError
from qda.limits import ENV, limits
from qda.models import Code, Segment, SpeakerRole
from qda.store import Project
from qda.suggest.codefit import fit_codes
from qda.suggest.embed import Embedder, cached_embeddings
from qda.suggest.stopwords import DANISH, ENGLISH, FRENCH, STOP_WORDS

MIN_SEGMENTS = 3
SMALL = 60  # up to this many segments: k-means
WARD_MAX = 4_000  # up to this many: Ward's clustering (its memory grows with n²)
TOPIC_SIZE = 8  # segments a topic, as a typical code has codings
MIN_TOPIC = 3  # a smaller group is no topic: its segments are outliers


@dataclass(frozen=True)
class ThemeCandidate:
    topic: int
    size: int
    key_words: tuple[str, ...]
    quotes: tuple[int, ...]  # segment ids, most representative first
    groups: dict[str, int]  # stakeholder group -> segments
    segment_ids: tuple[int, ...]
    nearest_code: str = ""  # the path of the existing code nearest the topic's centre
    closeness: float = 0.0  # the mean chance that its turns belong to that code
    new: int = 0  # its segments that no code fits yet (not coded, no suggestion)
    passages: tuple[str, ...] = ()  # with segment_ids: the part of each turn in the topic

    @property
    def suggested_name(self) -> str:
        """Like a code name: the first key phrase among its first four key words
        ("Shared consent form"), or its first two words when there is none ("Rent and
        arrears")."""
        if not self.key_words:
            return f"Topic {self.topic}"
        phrase = next((w for w in self.key_words[:4] if " " in w), None)
        if phrase or len(self.key_words) == 1:
            return (phrase or self.key_words[0]).capitalize()
        return f"{self.key_words[0]} and {self.key_words[1]}".capitalize()


def phrases_first(words: list[str]) -> tuple[str, ...]:
    """Key words with each word or phrase that a longer key phrase holds taken out
    ("consent", "consent form" -> "consent form"), in their order."""
    kept = []
    for w in words:
        longer = [x for x in words if x != w and f" {w} " in f" {x} "]
        if not longer:
            kept.append(w)
    return tuple(kept)


_REDUCED: OrderedDict[str, np.ndarray] = OrderedDict()  # reductions of the latest inputs
_KEEP = 4


def nearest_neighbours(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by cosine distance (each point first, at distance 0),
    in blocks of rows so memory stays near 80 MB whatever the number of segments."""
    n = len(vectors)
    k = min(k, n)
    indices = np.zeros((n, k), np.int64)
    distances = np.zeros((n, k), np.float32)
    block = max(1, 20_000_000 // n)
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        rows = np.arange(len(sims))
        sims[rows, start + rows] = np.inf  # a point is its own nearest neighbour
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-top, axis=1)
        indices[start : start + block] = np.take_along_axis(part, order, axis=1)
        distances[start : start + block] = np.clip(1 - np.take_along_axis(top, order, axis=1), 0, 2)
    return indices, distances


def reduce(vectors: np.ndarray, seed: int) -> tuple[np.ndarray, bool]:
    """UMAP to 5 dimensions (cosine), remembered for the same vectors and seed.
    Returns the reduced vectors and whether they came from memory.

    The neighbour graph is computed here, exactly, with one matrix product per block:
    on 10,000 segments that takes under 2 s, while UMAP's own approximate search
    (pynndescent) spends about 50 s compiling on its first use in a process."""
    from umap import UMAP

    key = hashlib.sha256(vectors.tobytes() + str((vectors.shape, seed)).encode()).hexdigest()
    if key in _REDUCED:
        _REDUCED.move_to_end(key)
        return _REDUCED[key], True
    neighbours = min(15, len(vectors) - 1)
    indices, distances = nearest_neighbours(vectors, neighbours)
    reducer = UMAP(
        n_neighbors=neighbours,
        n_components=5,
        min_dist=0.0,
        metric="cosine",
        n_epochs=200,  # UMAP's own choice above 10,000 points; 500 below took 8x longer
        precomputed_knn=(indices, distances, None),
        random_state=seed,
    )
    with warnings.catch_warnings():  # it says new data cannot be placed: none is
        warnings.filterwarnings("ignore", "precomputed_knn", UserWarning)
        reduced = reducer.fit_transform(vectors).astype(np.float32)
    _REDUCED[key] = reduced
    while len(_REDUCED) > _KEEP:
        _REDUCED.popitem(last=False)
    return reduced, False


@dataclass(frozen=True)
class ThemeRun:
    candidates: list[ThemeCandidate]
    parameters: dict[str, object] = field(default_factory=dict)
    set_aside: int = 0  # segments a code already fits
    reused: bool = False  # the reduction came from memory: only the clustering ran
    pool: tuple[int, ...] = ()  # the segments the topics were looked for in
    outliers: tuple[int, ...] = ()  # those of them in no topic


def check_topic_size(project: Project) -> list[Segment]:
    """The participant segments a topic run goes over: every one, coded or not (a new
    theme often runs across codes already there).

    Raises:
        QdaError: more of them than the limit (checked before a model is loaded).
    """
    candidates = [
        s
        for s in project.segments(analysed_only=True)
        if s.role is not SpeakerRole.INTERVIEWER and s.text.strip()
    ]
    if len(candidates) > (allowed := limits().topic_segments):
        raise QdaError(
            f"a topic run over {len(candidates):,} participant segments is more than the "
            f"limit of {allowed:,}: run it on fewer interviews (exclude some from analysis), "
            f"or raise the limit ({ENV['topic_segments']}, or `qda app --max-topic-segments N`)"
        )
    return candidates


WORD = re.compile(r"[^\W\d_]+")


def left_out_words(project: Project) -> list[str]:
    """Words kept out of key words and topic names: the stop words and fillers of
    English, Danish and French, the study's own list, and the names of its people
    (participant ids and pseudonyms, speaker labels, interviewers), each word of them."""
    names = [p.id for p in project.participants] + [p.pseudonym for p in project.participants]
    names += project.interviewer_names
    frame = project.segment_frame()
    if "speaker" in frame:
        names += [str(x) for x in frame.speaker.dropna().unique()]
    words = {w.lower() for name in names for w in WORD.findall(name)}
    return sorted(set(STOP_WORDS) | words | set(project.topic_stop_words))


def fitting(project: Project, embedder: Embedder, segments: list, vectors: np.ndarray, fitted=None):
    """Which segments an existing code fits: those that code suggestions would be shown
    for (the first code's chance at least the project's calibrated threshold). The
    others, which get no suggestion, are what new themes are looked for in. Before the
    coding is enough to measure the threshold, no segment counts as fitting."""
    fitted = fitted or fit_codes(project, embedder)
    calibration = fitted.calibration
    if not segments or not fitted.data.codes or calibration.checked < 5:
        return np.zeros(len(segments), bool)
    texts = [s.text for s in segments]
    scores = fitted.scorer.scores(fitted.data.vocabulary.vectors(texts, vectors))
    chance = calibration.chances(scores.max(axis=1))
    return chance >= calibration.threshold


LANGUAGES = {"en": set(ENGLISH), "da": set(DANISH), "fr": set(FRENCH)}


def language_of(text: str) -> str:
    """en, da or fr: the language whose function words the text uses most."""
    words = WORD.findall(text.lower())
    return max(LANGUAGES, key=lambda k: sum(w in LANGUAGES[k] for w in words))


def without_language(vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    """The vectors with each language's mean taken off, so that turns group by what
    they say rather than by the language they say it in (a multilingual model still
    puts all Danish turns a little nearer each other than their meaning does)."""
    languages = np.array([language_of(t) for t in texts])
    out = np.asarray(vectors, dtype=np.float64).copy()
    found = [x for x in LANGUAGES if (languages == x).any()]
    if len(found) > 1:
        for x in found:
            out[languages == x] -= out[languages == x].mean(axis=0)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


PASSAGE_CHARS = 400  # a longer turn is cut into passages of about this length


@dataclass(frozen=True)
class Passage:
    segment: Segment
    text: str


def passages(segments: list[Segment]) -> list[tuple[Segment, str]]:
    """Each turn as passages: a turn of up to PASSAGE_CHARS characters whole, a longer
    one cut into runs of whole sentences of about that length, so that a two-minute
    answer that touches three subjects can feed three topics."""
    from qda.suggest.hybrid import SENTENCE

    out: list[tuple[Segment, str]] = []
    for s in segments:
        text = s.text.strip()
        if len(text) <= PASSAGE_CHARS:
            out.append((s, text))
            continue
        run = ""
        for sentence in (x.strip() for x in SENTENCE.split(text) if x.strip()):
            if run and len(run) + 1 + len(sentence) > PASSAGE_CHARS:
                out.append((s, run))
                run = sentence
            else:
                run = f"{run} {sentence}".strip()
        if run:
            out.append((s, run))
    return out


class _Labels:
    """A clusterer that gives labels already found (BERTopic then only names them)."""

    def __init__(self, labels: np.ndarray):
        self.labels_ = labels

    def fit(self, x, y=None):
        return self


def clusters(vectors: np.ndarray, topics: int | None, seed: int) -> tuple[np.ndarray, dict, bool]:
    """Labels (-1: in no topic) for the vectors, with the parameters and whether a
    remembered reduction was used. Up to SMALL segments: k-means (about √(n/2)); up to
    WARD_MAX: Ward's agglomerative clustering into about one topic per TOPIC_SIZE
    segments, the size of a typical code; above: UMAP + HDBSCAN (leaf clusters of at
    least 5). A topic of fewer than MIN_TOPIC segments is no topic."""
    from sklearn.cluster import AgglomerativeClustering, KMeans

    n = len(vectors)
    reused = False
    if n <= SMALL:
        k = topics or max(2, round(math.sqrt(n / 2)))
        labels = KMeans(k, n_init=10, random_state=seed).fit_predict(vectors)
        return labels, {"reduction": "none", "clustering": f"kmeans({k})"}, False
    if n <= WARD_MAX:
        k = topics or max(2, round(n / TOPIC_SIZE))
        labels = AgglomerativeClustering(k, linkage="ward").fit_predict(vectors)
        params = {"reduction": "none", "clustering": f"ward({k})"}
    else:
        from hdbscan import HDBSCAN

        reduced, reused = reduce(vectors.astype(np.float32), seed)
        if topics:
            labels = KMeans(topics, n_init=10, random_state=seed).fit_predict(reduced)
            params = {"reduction": "umap(5, cosine)", "clustering": f"kmeans({topics})"}
        else:
            labels = HDBSCAN(min_cluster_size=5, cluster_selection_method="leaf").fit_predict(
                reduced
            )
            params = {
                "reduction": "umap(5, cosine)",
                "clustering": "hdbscan(min_cluster_size=5, leaf)",
            }
    labels = np.asarray(labels)
    sizes = Counter(labels.tolist())
    labels = np.array([x if x >= 0 and sizes[x] >= MIN_TOPIC else -1 for x in labels])
    return labels, params, reused


def theme_candidates(
    project: Project, embedder: Embedder, *, seed: int = 0, topics: int | None = None
) -> ThemeRun:
    """Topics over the participant turns, coded or not: those holding the most turns
    that no code fits (no coding, no suggestion above the threshold) first, each with
    the existing code nearest it. `topics` asks for that many instead of the number the
    size of the study gives."""
    import bertopic
    import sklearn
    from bertopic import BERTopic
    from bertopic.dimensionality import BaseDimensionalityReduction
    from sklearn.feature_extraction.text import CountVectorizer

    candidates = check_topic_size(project)
    n = len(candidates)
    if n < MIN_SEGMENTS:
        raise QdaError(f"only {n} participant segment(s); topics need at least {MIN_SEGMENTS}")
    units = passages(candidates)
    if topics is not None and not 2 <= topics <= len(units):
        raise QdaError(f"the number of topics must be between 2 and {len(units)} (the passages)")
    texts = [text for _, text in units]
    vectors = cached_embeddings(project, embedder, texts)
    fitted = fit_codes(project, embedder)
    coded = {c.segment_id for c in project.codings()}
    fits = fitting(project, embedder, [Passage(s, t) for s, t in units], vectors, fitted)
    new = np.array([s.id not in coded for s, _ in units]) & ~fits
    centred = without_language(vectors, texts)
    labels, params, reused = clusters(centred, topics, seed)
    vectorizer = CountVectorizer(
        stop_words=left_out_words(project),
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
        ngram_range=(1, 3),
    )
    model = BERTopic(
        language="multilingual",
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=_Labels(labels),
        vectorizer_model=vectorizer,
        top_n_words=10,
        min_topic_size=2,
    )
    if (labels >= 0).any():  # BERTopic numbers the topics again, by size
        found, _ = model.fit_transform(texts, embeddings=centred)
        labels = np.asarray(found)
    people = {p.id: p for p in project.participants}
    owner = {i.id: i.participant_id for i in project.interviews}
    out: list[ThemeCandidate] = []
    for topic in sorted(set(labels.tolist()) - {-1}):
        members = np.flatnonzero(labels == topic)
        centre = centred[members].mean(axis=0)
        order = members[np.argsort(-(centred[members] @ centre))]
        first: dict[int, int] = {}  # segment id -> its passage nearest the centre
        for i in order:
            first.setdefault(units[i][0].id, int(i))
        segments = [units[i][0] for i in first.values()]
        words = phrases_first([w for w, _ in (model.get_topic(topic) or [])[:10] if w])[:8]
        nearest, closeness = "", 0.0
        if fitted.data.codes:  # the code its passages fit best on average, and how well
            scores = fitted.scorer.scores(fitted.data.vocabulary.vectors(
                [texts[i] for i in members], vectors[members]
            ))  # fmt: skip
            j = int(np.argmax(scores.mean(axis=0)))
            nearest = fitted.data.paths[fitted.data.codes[j].id]
            closeness = float(fitted.calibration.chances(scores[:, j]).mean())
        group_counts = Counter(people[owner[s.interview_id]].stakeholder_group for s in segments)
        out.append(
            ThemeCandidate(
                topic=int(topic),
                size=len(segments),
                key_words=words,
                quotes=tuple(s.id for s in segments[:3]),
                groups=dict(sorted(group_counts.items())),
                segment_ids=tuple(s.id for s in segments),
                nearest_code=nearest,
                closeness=round(closeness, 4),
                new=len({units[i][0].id for i in members if new[i]}),
                passages=tuple(texts[i] for i in first.values()),
            )
        )
    out.sort(key=lambda c: (-c.new, -c.size, c.topic))
    params.update(
        {
            "topics": topics or "auto",
            "segments": n,
            "passages": len(units),
            "no_code_fits": len({units[i][0].id for i in np.flatnonzero(new)}),
            "seed": seed,
            "embedding_model": embedder.name,
            "bertopic": bertopic.__version__,
            "scikit-learn": sklearn.__version__,
        }
    )
    return ThemeRun(
        candidates=out,
        parameters=params,
        set_aside=n - len({units[i][0].id for i in np.flatnonzero(new)}),
        reused=reused,
        pool=tuple(s.id for s in candidates),
        outliers=tuple(dict.fromkeys(units[i][0].id for i in np.flatnonzero(labels == -1))),
    )


def code_from_theme(
    project: Project, candidate: ThemeCandidate, *, name: str = "", by: str
) -> Code:
    """A new top-level code for a topic, with a suggested name and definition. Its
    segments are not coded: they become suggestions for the researcher to review."""
    words = ", ".join(candidate.key_words[:6])
    return project.add_code(
        name.strip() or candidate.suggested_name,
        by=by,
        definition=f"Suggested from a topic of {candidate.size} segments about: {words}.",
    )
