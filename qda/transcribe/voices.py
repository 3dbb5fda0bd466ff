"""Who speaks when, from the voices: how many speakers, and where each turn changes.

1. **Windows.** The speech the engine transcribed is cut into 1.6 s windows every
   0.4 s, each embedded with the voice encoder (`diarize.VoiceEncoder`), a chunk of
   windows at a time so memory does not grow with the length of the recording.
2. **How many.** With `speakers="auto"` the windows are clustered with k-means for
   k = 2 … 8 and the k with the best silhouette (cosine) is kept, unless even the best
   split is weak (silhouette under ONE_VOICE_SILHOUETTE, or two centres nearer than
   SAME_VOICE_COSINE): then it is one voice. A voice holding less than MIN_SHARE of the
   speech is not a speaker of its own; its windows go to the nearest other one. A given
   number is used as it is.
3. **When.** The labels of the windows in time order are smoothed with a Viterbi pass
   over the similarities to each voice's centre, with a penalty for every change of
   speaker, so that one odd window does not make a turn.
4. **Words.** Each word takes the label at its middle; each change of speaker is then
   moved to the longest pause between words near it (turns change in pauses; a window
   straddling the change would otherwise give the tail of an answer to the next
   speaker). A stretch shorter than BACKCHANNEL_S of at most three words between two
   stretches of one other speaker ("mm", "yes") stays inside the answer it
   interrupts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from qda.transcribe.diarize import WINDOW_S, VoiceEncoder, _normalize_volume, speaker_name
from qda.transcribe.types import TranscribedSegment, Word

STEP_S = 0.4
CHUNK_WINDOWS = 512  # windows embedded at a time (about 13 MB of mel frames)
MAX_SPEAKERS = 8
ONE_VOICE_SILHOUETTE = 0.12
SAME_VOICE_COSINE = 0.92
MIN_SHARE = 0.04
SWITCH_PENALTY = 1.5  # in units of cosine similarity / SIMILARITY_SCALE
SIMILARITY_SCALE = 0.05
NEAR_CHANGE_S = 1.0  # how far a turn change may move to reach a pause
BACKCHANNEL_S = 1.0
AUTO = "auto"


def parse_speakers(value: int | str | None) -> int | str:
    """`auto` (or None) to estimate the number from the voices, else a number ≥ 1."""
    if value is None or str(value).strip().lower() == AUTO:
        return AUTO
    try:
        number = int(value)
    except (TypeError, ValueError):
        from qda.errors import QdaError

        raise QdaError(f"speakers must be 'auto' or a number, not '{value}'") from None
    if number < 0:
        from qda.errors import QdaError

        raise QdaError(f"speakers must be 'auto' or a number of 1 or more, not {number}")
    return number


def window_centres(spans: Sequence[tuple[float, float]]) -> np.ndarray:
    centres: list[float] = []
    for start, end in spans:
        count = max(1, int((end - start) / STEP_S))
        centres.extend(start + (np.arange(count) + 0.5) * (end - start) / count)
    return np.sort(np.asarray(centres, dtype=np.float64))


def window_embeddings(
    samples: np.ndarray, centres: np.ndarray, encoder: VoiceEncoder
) -> np.ndarray:
    """(windows, 256) voice embeddings of 1.6 s around each centre, embedded
    CHUNK_WINDOWS at a time from the samples they need."""
    n_frames = int(WINDOW_S * 100)
    rate = 16_000
    gain = _gain(samples)
    out = []
    for first in range(0, len(centres), CHUNK_WINDOWS):
        chunk = centres[first : first + CHUNK_WINDOWS]
        lo = max(int((chunk[0] - WINDOW_S) * rate), 0)
        hi = min(int((chunk[-1] + WINDOW_S) * rate), len(samples))
        frames = encoder.mel_frames(samples[lo:hi] * gain)
        offset = lo / rate
        windows = []
        for centre in chunk:
            start = round((centre - offset - WINDOW_S / 2) * 100)
            start = min(max(start, 0), max(len(frames) - n_frames, 0))
            window = frames[start : start + n_frames]
            if len(window) < n_frames:
                window = np.pad(window, ((0, n_frames - len(window)), (0, 0)))
            windows.append(window)
        out.append(encoder.embed(np.stack(windows)))
    return np.concatenate(out) if out else np.zeros((0, 256), np.float32)


def _gain(samples: np.ndarray) -> float:
    """The volume change resemblyzer applies (to -30 dBFS, only ever louder), as one
    factor, so that chunks are scaled alike."""
    if len(samples) == 0:
        return 1.0
    probe = samples[:: max(1, len(samples) // 2_000_000)]
    loud = _normalize_volume(probe)
    rms = float(np.sqrt(np.mean(probe.astype(np.float64) ** 2)))
    return float(np.sqrt(np.mean(loud.astype(np.float64) ** 2)) / rms) if rms > 0 else 1.0


def _kmeans(embeddings: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, n_init=5, random_state=seed).fit(embeddings)
    centres = model.cluster_centers_
    return model.labels_, centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-9)


def cluster_voices(
    embeddings: np.ndarray, speakers: int | str = AUTO, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(label per window, unit centre per voice): `speakers` voices, or as many as the
    embeddings show."""
    from sklearn.metrics import silhouette_score

    n = len(embeddings)
    if n < 2 or speakers in (0, 1):
        return np.zeros(n, dtype=int), _unit_mean(embeddings)
    if speakers != AUTO:
        labels, centres = _kmeans(embeddings, min(int(speakers), n), seed)
        return labels, centres
    if n < 10:
        return np.zeros(n, dtype=int), _unit_mean(embeddings)
    sample = np.random.default_rng(seed).permutation(n)[:3000]  # silhouette is O(n²)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for k in range(2, min(MAX_SPEAKERS, n // 5) + 1):
        labels, centres = _kmeans(embeddings, k, seed)
        labels, centres = _drop_small(embeddings, labels, centres)
        # a voice too small to be a speaker was given to its neighbours
        if len(centres) < 2 or len(np.unique(labels[sample])) < 2:
            continue
        quality = float(silhouette_score(embeddings[sample], labels[sample], metric="cosine"))
        if best is None or quality > best[0] + 1e-9:
            best = (quality, labels, centres)
    if best is None:
        return np.zeros(n, dtype=int), _unit_mean(embeddings)
    quality, labels, centres = best
    nearest = max(
        (float(a @ b) for i, a in enumerate(centres) for b in centres[i + 1 :]), default=1.0
    )
    if quality < ONE_VOICE_SILHOUETTE or nearest > SAME_VOICE_COSINE:
        return np.zeros(n, dtype=int), _unit_mean(embeddings)
    return labels, centres


def _unit_mean(embeddings: np.ndarray) -> np.ndarray:
    if len(embeddings) == 0:
        return np.zeros((1, 256))
    mean = embeddings.mean(axis=0, keepdims=True)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def _drop_small(
    embeddings: np.ndarray, labels: np.ndarray, centres: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Voices with less than MIN_SHARE of the windows are given to the nearest other
    voice; labels renumbered 0 … k-1."""
    while len(centres) > 1:
        shares = np.bincount(labels, minlength=len(centres)) / len(labels)
        small = int(np.argmin(shares))
        if shares[small] >= MIN_SHARE:
            break
        keep = [j for j in range(len(centres)) if j != small]
        centres = centres[keep]
        labels = np.argmax(embeddings @ centres.T, axis=1)
    return labels, centres


def smooth(embeddings: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The most likely sequence of voices for windows in time order: similarity to each
    centre (scaled by SIMILARITY_SCALE) minus SWITCH_PENALTY for each change (Viterbi)."""
    n, k = len(embeddings), len(centres)
    if n == 0 or k < 2:
        return np.zeros(n, dtype=int)
    emission = (embeddings @ centres.T) / SIMILARITY_SCALE
    score = emission[0].copy()
    back = np.zeros((n, k), dtype=np.int32)
    for t in range(1, n):
        stay = score
        best_other = np.argmax(score)
        # the best state to come from: itself, or the best state less the penalty
        switch = score[best_other] - SWITCH_PENALTY
        come_from = np.where(stay >= switch, np.arange(k), best_other)
        back[t] = come_from
        score = np.maximum(stay, switch) + emission[t]
    path = np.zeros(n, dtype=int)
    path[-1] = int(np.argmax(score))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def voice_timeline(
    samples: np.ndarray,
    spans: Sequence[tuple[float, float]],
    speakers: int | str = AUTO,
    encoder: VoiceEncoder | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(window centres in seconds, voice number per window), voices numbered by first
    appearance (0 speaks first)."""
    centres = window_centres(spans)
    if speakers in (0, 1) or len(centres) < 2:
        return centres, np.zeros(len(centres), dtype=int)
    encoder = encoder or VoiceEncoder()
    embeddings = window_embeddings(samples, centres, encoder)
    labels, voice_centres = cluster_voices(embeddings, speakers, seed)
    path = smooth(embeddings, voice_centres) if len(voice_centres) > 1 else labels * 0
    first_seen = {c: n for n, c in enumerate(dict.fromkeys(path.tolist()))}
    return centres, np.array([first_seen[c] for c in path], dtype=int)


def _label_at(centres: np.ndarray, labels: np.ndarray, t: float) -> int:
    k = int(np.searchsorted(centres, t))
    if k <= 0:
        return int(labels[0])
    if k >= len(centres):
        return int(labels[-1])
    return int(labels[k] if centres[k] - t < t - centres[k - 1] else labels[k - 1])


def word_speakers(words: Sequence[Word], centres: np.ndarray, labels: np.ndarray) -> list[int]:
    """A voice number for each word (in time order): the label at its middle, each
    change moved to the longest pause near it, back-channels kept in the answer."""
    if not words or len(centres) == 0:
        return [0] * len(words)
    who = [_label_at(centres, labels, (w.start + w.end) / 2) for w in words]
    changes = [j for j in range(1, len(who)) if who[j] != who[j - 1]]
    for n, j in enumerate(changes):
        before, after = who[j - 1], who[j]
        lo = changes[n - 1] + 1 if n else 1
        hi = changes[n + 1] - 1 if n + 1 < len(changes) else len(words) - 1
        at = (words[j - 1].end + words[j].start) / 2
        best, best_pause = j, -1.0
        for k in range(max(lo, 1), hi + 1):
            middle = (words[k - 1].end + words[k].start) / 2
            if abs(middle - at) > NEAR_CHANGE_S:
                continue
            pause = words[k].start - words[k - 1].end
            if words[k - 1].text.rstrip().endswith((".", "?", "!", "…")):
                pause += 0.15  # a sentence end is where turns usually change
            if pause > best_pause + 1e-9:
                best, best_pause = k, pause
        for k in range(min(best, j), max(best, j)):
            who[k] = before if k < best else after
    return _keep_backchannels(words, who)


def _keep_backchannels(words: Sequence[Word], who: list[int]) -> list[int]:
    runs: list[list[int]] = []  # [voice, first word, last word]
    for k, voice in enumerate(who):
        if runs and runs[-1][0] == voice:
            runs[-1][2] = k
        else:
            runs.append([voice, k, k])
    for n in range(1, len(runs) - 1):
        voice, first, last = runs[n]
        if (
            runs[n - 1][0] == runs[n + 1][0] != voice
            and last - first < 3
            and words[last].end - words[first].start < BACKCHANNEL_S
        ):
            for k in range(first, last + 1):
                who[k] = runs[n - 1][0]
    return who


def label_words(
    samples: np.ndarray,
    segments: Sequence[TranscribedSegment],
    speakers: int | str = AUTO,
    encoder: VoiceEncoder | None = None,
) -> list[TranscribedSegment]:
    """The segments with speakers (SPEAKER_1 …), cut where the speaker changes."""
    ordered = sorted(segments, key=lambda s: s.start)
    centres, labels = voice_timeline(
        samples, [(s.start, s.end) for s in ordered], speakers, encoder
    )
    words = [w for s in ordered for w in s.words]
    voices = word_speakers(words, centres, labels)
    out: list[TranscribedSegment] = []
    k = 0
    for s in ordered:
        if not s.words:
            middle = (s.start + s.end) / 2
            voice = _label_at(centres, labels, middle) if len(centres) else 0
            out.append(replace(s, speaker=speaker_name(voice)))
            continue
        mine = voices[k : k + len(s.words)]
        pieces: list[tuple[int, list[Word]]] = []
        for voice, w in zip(mine, s.words, strict=True):
            if pieces and pieces[-1][0] == voice:
                pieces[-1][1].append(w)
            else:
                pieces.append((voice, [w]))
        k += len(s.words)
        for voice, ws in pieces:
            text = "".join(w.text for w in ws).strip()
            if text:
                out.append(
                    TranscribedSegment(
                        ws[0].start, ws[-1].end, text, tuple(ws), speaker_name(voice)
                    )
                )
    return out
