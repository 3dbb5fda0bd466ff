"""Who speaks when: qda's speaker labels against the fixed-k baseline.

    python bench/speakers.py [--quick]

Interviews are generated with espeak-ng voices (Debian package `espeak-ng`; the bench
says so when it is missing), so the truth is known to the sample: who speaks from when
to when. Each is transcribed once (faster-whisper, the bundled base model, batched with
VAD) and its words are labelled twice:

- **baseline**: the earlier method, k-means told the number of speakers (2 unless the
  number is given), a median filter, each word the speaker of most windows over it;
- **qda**: `speakers="auto"`, the number estimated from the voices, labels smoothed
  over time (Viterbi), turn changes moved to the pause between words, back-channels
  kept inside the answer they interrupt.

Printed per interview and method: speakers found, speech-time accuracy (share of the
transcribed words' time given the right speaker, labels matched to the truth in the
way that agrees best) and the diarization error rate (missed + false alarm + confusion
over the reference speech, 0.25 s collar around reference turn changes). Then the same
on the real clips of ../shared/audio/ when it is there (the stereo two-voice clip mixed
to mono, and the one-voice clips: only the count can be checked there).
"""

from __future__ import annotations

import argparse
import io
import itertools
import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED_AUDIO = REPO.parent / "shared" / "audio"
FRAME_S = 0.01
RATE = 16_000

QUESTIONS = [
    "How do you usually get in touch with the council?",
    "What happened the last time you asked for help?",
    "Who did you speak to first?",
    "What would have made that easier?",
    "How did the staff treat you?",
    "What do you think should change first?",
    "Is there anything you would like to add?",
    "How long did you wait for an answer?",
]
ANSWERS = [
    "I try the website first, but the login never works for me, so I give up after a while.",
    "I rang the helpline and waited for nearly an hour before anyone picked up the phone.",
    "My neighbour told me about the food bank, and they helped me fill in the forms.",
    "A person I can talk to, face to face, would make all the difference for me.",
    "The letters are hard to read, and they always arrive after the deadline has passed.",
    "The staff were kind, but they did not have the time to explain what would happen next.",
    "We need someone who knows the whole case, not a new name every week.",
    "Transport is the real problem, the bus only comes twice a day out here.",
    "I lost my payment for a month because a form went to the wrong address.",
    "Honestly, the volunteers at the community centre did more than the office ever did.",
    "Nobody asked us what we needed before they changed the service.",
    "It took three visits and a lot of patience before the rent was sorted out.",
]
BACKCHANNELS = ["Mm.", "Yes.", "Right.", "Okay."]


@dataclass
class Clip:
    name: str
    samples: np.ndarray
    truth: list[tuple[float, float, int]]  # (start, end, speaker) of each stretch of speech
    voices: int
    language: str = "en"


def speak(text: str, voice: str, wpm: int = 160) -> np.ndarray:
    """espeak-ng's speech of `text`, 16 kHz, leading and trailing silence cut."""
    from scipy.signal import resample_poly

    wav_bytes = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav_bytes)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    samples = resample_poly(pcm.astype(np.float32) / 32768.0, RATE, rate).astype(np.float32)
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples


def interview(
    name: str,
    voices: list[str],
    rounds: int,
    *,
    overlap_s: float = 0.0,
    backchannels: bool = False,
    gap_s: float = 0.35,
    seed: int = 0,
) -> Clip:
    """Voice 0 asks, the others answer in turn (a focus group when there are several),
    two sentences an answer. `overlap_s`: each answer starts this much before the
    question ends. `backchannels`: voice 0 says "mm" between the sentences of answers."""
    rng = np.random.default_rng(seed)
    pieces: list[tuple[float, np.ndarray, int]] = []
    t = 0.5
    answers = itertools.cycle(rng.permutation(ANSWERS).tolist())
    for r in range(rounds):
        turns: list[tuple[int, str]] = [(0, QUESTIONS[r % len(QUESTIONS)])]
        for speaker in range(1, len(voices)) if len(voices) > 1 else [0]:
            turns.append((speaker, next(answers) + " " + next(answers)))
        for k, (speaker, text) in enumerate(turns):
            if len(voices) == 1 and k == 0:
                continue  # a monologue: no questions
            sentences = [text] if not backchannels or speaker == 0 else text.split(". ")
            for n, sentence in enumerate(sentences):
                audio = speak(sentence, voices[speaker])
                start = t - (overlap_s if k > 0 and n == 0 and overlap_s else 0.0)
                pieces.append((start, audio, speaker))
                t = start + len(audio) / RATE
                if backchannels and speaker != 0 and n < len(sentences) - 1:
                    t += 0.25
                    mm = speak(str(rng.choice(BACKCHANNELS)), voices[0])
                    pieces.append((t, mm, 0))
                    t += len(mm) / RATE + 0.25
            t += gap_s + float(rng.uniform(0, 0.3))
    samples = np.zeros(int((t + 0.5) * RATE), np.float32)
    truth = []
    for start, audio, speaker in pieces:
        first = int(start * RATE)
        samples[first : first + len(audio)] += audio
        truth.append((start, start + len(audio) / RATE, speaker))
    peak = float(np.abs(samples).max()) or 1.0
    return Clip(name, samples / peak * 0.8, truth, len(voices))


def generated(quick: bool) -> list[Clip]:
    rounds = 3 if quick else 6
    clips = [
        interview("2 voices (female, male)", ["en+f3", "en"], rounds),
        interview("2 voices (male, male)", ["en+m3", "en-us+m1"], rounds, seed=1),
        interview("2 voices, back-channels", ["en+f3", "en"], rounds, backchannels=True, seed=2),
        interview("2 voices, overlapping speech", ["en+f3", "en"], rounds, overlap_s=0.4, seed=3),
        interview("3 voices (focus group)", ["en+f3", "en", "en-us+m1"], rounds - 1, seed=4),
        interview(
            "4 voices (focus group)", ["en+f3", "en", "en-us+m1", "en+f5"], rounds - 2, seed=5
        ),
        interview("1 voice (monologue)", ["en"], rounds, seed=6),
    ]
    if not quick:
        clips.append(interview("2 voices, short gaps", ["en+f3", "en"], rounds, gap_s=0.1, seed=7))
    return clips


def frames_of(spans, length: int) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in range(length)]
    for start, end, who in spans:
        for f in range(max(int(start / FRAME_S), 0), min(int(end / FRAME_S), length)):
            out[f].add(who)
    return out


def score(clip: Clip, segments) -> dict[str, float]:
    """Speech-time accuracy and DER of labelled segments against the clip's truth."""
    length = int(len(clip.samples) / RATE / FRAME_S) + 1
    ref = frames_of(clip.truth, length)
    labels = sorted({s.speaker for s in segments})
    index = {label: n for n, label in enumerate(labels)}
    hyp_spans = [(w.start, w.end, index[s.speaker]) for s in segments for w in s.words]
    hyp = frames_of(hyp_spans, length)
    collar = np.zeros(length, bool)
    for start, end, _ in clip.truth:
        for t in (start, end):
            collar[max(int((t - 0.25) / FRAME_S), 0) : int((t + 0.25) / FRAME_S)] = True
    truths = list(range(clip.voices))
    best = None
    for chosen in itertools.permutations(
        truths + [-1] * max(len(labels) - len(truths), 0), len(labels)
    ):
        mapping = dict(enumerate(chosen))
        right = timed = miss = fa = conf = total = 0
        for f in range(length):
            r, h = ref[f], {mapping[x] for x in hyp[f]}
            if len(r) == 1 and h:
                timed += 1
                right += h == r
            if collar[f]:
                continue
            total += bool(r)
            if r and not h:
                miss += 1
            elif h and not r:
                fa += 1
            elif r and h and not (h & r):
                conf += 1
        found = {
            "accuracy": right / max(timed, 1),
            "DER": (miss + fa + conf) / max(total, 1),
            "confusion": conf / max(total, 1),
        }
        if best is None or found["accuracy"] > best["accuracy"]:
            best = found
    best = best or {"accuracy": 0.0, "DER": 1.0, "confusion": 0.0}
    best["found"] = len(labels)
    return best


def baseline_labels(samples, segments, speakers: int, encoder):
    """The earlier method: k-means into `speakers` voices, a median filter over the
    windows, each word the speaker of most windows centred on it, and a piece of a
    segment shorter than 0.8 s given to its neighbour."""
    from collections import Counter

    from scipy.signal import medfilt
    from sklearn.cluster import KMeans

    from qda.transcribe.diarize import speaker_name
    from qda.transcribe.types import TranscribedSegment
    from qda.transcribe.voices import window_centres, window_embeddings

    centres = window_centres([(s.start, s.end) for s in segments])
    embeddings = window_embeddings(samples, centres, encoder)
    labels = KMeans(n_clusters=speakers, n_init=10, random_state=0).fit_predict(embeddings)
    if len(labels) >= 5:
        labels = medfilt(labels.astype(float), kernel_size=5).astype(int)

    def at(start, end):
        inside = labels[(centres >= start) & (centres <= end)]
        if len(inside) == 0:
            inside = labels[[int(np.argmin(np.abs(centres - (start + end) / 2)))]]
        return Counter(inside.tolist()).most_common(1)[0][0]

    out = []
    for s in segments:
        groups: list[tuple[int, list]] = []
        for w in s.words:
            who = at(w.start, w.end)
            if groups and (groups[-1][0] == who or w.end - groups[-1][1][0].start < 0.8):
                groups[-1][1].append(w)
            else:
                groups.append((who, [w]))
        for who, words in groups:
            text = "".join(w.text for w in words).strip()
            out.append(TranscribedSegment(words[0].start, words[-1].end, text, tuple(words),
                                          speaker_name(who)))  # fmt: skip
    return out


def qda_labels(samples, segments, encoder):
    from qda.transcribe.voices import label_words

    return label_words(samples, segments, "auto", encoder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter interviews")
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        sys.exit("bench/speakers.py makes its interviews with espeak-ng: apt-get install espeak-ng")
    from qda.audio import load_audio
    from qda.transcribe import TranscriptionOptions, load_transcriber
    from qda.transcribe.diarize import VoiceEncoder

    transcriber = load_transcriber("faster-whisper", "base")
    encoder = VoiceEncoder()
    clips = generated(args.quick)
    if SHARED_AUDIO.exists():
        stereo = load_audio(SHARED_AUDIO / "en_stereo_two_speakers.wav")
        if stereo.stereo is not None:
            left, right = stereo.stereo
            truth = []
            for who, channel in enumerate((left, right)):
                loud = np.flatnonzero(np.abs(channel) > 0.02)
                if len(loud):
                    truth.append((loud[0] / RATE, loud[-1] / RATE, who))
            mono = (left + right) / 2
            clips.append(Clip("real stereo clip, mixed to mono", mono.astype(np.float32), truth, 2))
        for file, language in (("en_jfk.flac", "en"), ("fr_bonjour_vous_allez_bien.mp3", "fr")):
            one = load_audio(SHARED_AUDIO / file).samples
            clips.append(
                Clip(f"real one-voice clip {file}", one, [(0, len(one) / RATE, 0)], 1, language)
            )
    totals: dict[str, list[float]] = {}
    print(
        f"{'interview':36s} {'voices':>6s}   {'method':8s} {'found':>5s} "
        f"{'accuracy':>8s} {'DER':>6s}"
    )
    for clip in clips:
        options = TranscriptionOptions(language=clip.language, word_timestamps=True)
        _, decoded = transcriber.transcribe(clip.samples, options)
        segments = [replace(s, speaker="") for s in decoded if s.words]
        for method in ("baseline", "qda"):
            if method == "baseline":
                labelled = baseline_labels(clip.samples, segments, 2, encoder)
            else:
                labelled = qda_labels(clip.samples, segments, encoder)
            r = score(clip, labelled)
            one_voice = clip.voices == 1
            print(
                f"{clip.name[:36]:36s} {clip.voices:6d}   {method:8s} {r['found']:5d} "
                f"{r['accuracy']:8.1%} {r['DER']:6.1%}"
            )
            totals.setdefault(f"{method} count right", []).append(r["found"] == clip.voices)
            if not one_voice and not clip.name.startswith("real"):
                totals.setdefault(f"{method} accuracy", []).append(r["accuracy"])
                totals.setdefault(f"{method} DER", []).append(r["DER"])
    print()
    for method in ("baseline", "qda"):
        print(
            f"{method:8s}: mean speech-time accuracy {np.mean(totals[method + ' accuracy']):.1%}, "
            f"mean DER {np.mean(totals[method + ' DER']):.1%} over the generated interviews; "
            f"number of speakers right in {sum(totals[method + ' count right'])} of "
            f"{len(totals[method + ' count right'])} recordings"
        )
    ratio = np.mean(totals["baseline DER"]) / max(np.mean(totals["qda DER"]), 1e-9)
    print(f"DER baseline / qda: {ratio:.2f}x")


if __name__ == "__main__":
    main()
