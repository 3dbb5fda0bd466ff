"""From decoded audio to a speaker-labelled transcript.

The steps are separate functions so that a background job can store segments as they
are decoded (and resume after a crash) and label speakers once at the end:

1. `decode` yields segments from the engine, shifted by where decoding started;
   a stereo file with one voice per channel is decoded channel by channel.
2. `label_and_merge` labels speakers (channels or voices), names the interviewer
   (the speaker who asks the most questions), and joins pieces of one sentence that
   the engine cut in two.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import numpy as np

from qda.audio import SAMPLE_RATE, Audio
from qda.transcribe.diarize import VoiceEncoder, separate_channels, speaker_name
from qda.transcribe.types import (
    TranscribedSegment,
    Transcriber,
    Transcript,
    TranscriptionOptions,
)
from qda.transcribe.voices import AUTO, label_words

INTERVIEWER = "Interviewer"
PARTICIPANT = "Participant"
_SENTENCE_END = re.compile(r"[.!?…。»\"”)]\s*$")


def channel_plan(audio: Audio, speakers: int | str) -> list[tuple[str, np.ndarray]]:
    """What to decode: [("", mono)] or, for one voice per stereo channel,
    [(SPEAKER_1, left), (SPEAKER_2, right)]."""
    if speakers in (2, AUTO) and separate_channels(audio.stereo):
        return [(speaker_name(0), audio.stereo[0]), (speaker_name(1), audio.stereo[1])]
    return [("", audio.samples)]


def decode(
    transcriber: Transcriber,
    samples: np.ndarray,
    options: TranscriptionOptions,
    *,
    start_at: float = 0.0,
    speaker: str = "",
) -> tuple[str, Iterator[TranscribedSegment]]:
    """Decode `samples` from `start_at` seconds on; yields segments in file time.

    Returns:
        The language (given or detected) and the segments as they are decoded.
    """
    first = int(start_at * SAMPLE_RATE)
    info, segments = transcriber.transcribe(samples[first:], options)

    def shifted() -> Iterator[TranscribedSegment]:
        for s in segments:
            if not s.text:
                continue
            words = tuple(
                replace(w, start=w.start + start_at, end=w.end + start_at) for w in s.words
            )
            yield replace(
                s, start=s.start + start_at, end=s.end + start_at, words=words, speaker=speaker
            )

    return info.language, shifted()


def interviewer_of(segments: Sequence[TranscribedSegment]) -> str | None:
    """The speaker whose segments most often end in a question; without any question,
    the first speaker. None when there are fewer than two speakers."""
    turns = Counter(s.speaker for s in segments if s.speaker)
    if len(turns) < 2:
        return None
    questions = Counter(s.speaker for s in segments if s.text.rstrip().endswith(("?", "？")))
    if not questions:  # no question recognised: interviews usually open with the interviewer
        return next(s.speaker for s in segments if s.speaker)
    return max(turns, key=lambda spk: (questions[spk] / turns[spk], questions[spk]))


def speaker_names(segments: Sequence[TranscribedSegment], participant: str = "") -> dict[str, str]:
    """Readable names: Interviewer and the participant for two speakers, else Speaker N."""
    labels = list(dict.fromkeys(s.speaker for s in segments if s.speaker))
    interviewer = interviewer_of(segments)
    if len(labels) == 2 and interviewer:
        other = next(label for label in labels if label != interviewer)
        return {interviewer: INTERVIEWER, other: participant or PARTICIPANT}
    names = {label: f"Speaker {n + 1}" for n, label in enumerate(labels)}
    if interviewer:
        names[interviewer] = INTERVIEWER
    return names


TURN_MAX_S = 60.0


def merge_turns(
    segments: Sequence[TranscribedSegment], max_gap: float = 1.5, max_turn: float = TURN_MAX_S
) -> list[TranscribedSegment]:
    """Join consecutive segments of one speaker into a turn (up to `max_turn` seconds,
    cut at a sentence end), and always join a sentence the engine cut in two
    ("…my password every" + "single time.")."""
    merged: list[TranscribedSegment] = []
    for s in segments:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.speaker == s.speaker
            and s.start - previous.end <= max_gap
            and (
                not _SENTENCE_END.search(previous.text)
                or (bool(s.speaker) and s.end - previous.start <= max_turn)
            )
        ):
            merged[-1] = replace(
                previous,
                end=s.end,
                text=f"{previous.text} {s.text}",
                words=previous.words + s.words,
            )
        else:
            merged.append(s)
    return merged


def label_and_merge(
    audio: Audio,
    segments: Sequence[TranscribedSegment],
    speakers: int | str = AUTO,
    *,
    participant: str = "",
    encoder: VoiceEncoder | None = None,
) -> tuple[list[TranscribedSegment], str]:
    """Speaker-labelled, time-ordered, merged segments, and the labelling method
    ("channels", "voices" or "none"). `speakers`: "auto" (estimated from the voices),
    or a number; 0 or 1 labels none."""
    ordered = sorted(segments, key=lambda s: (s.start, s.speaker))
    if speakers in (0, 1):
        return merge_turns([replace(s, speaker="") for s in ordered]), "none"
    if all(s.speaker for s in ordered) and len({s.speaker for s in ordered}) > 1:
        method = "channels"
        labelled = list(ordered)
    else:
        method = "voices"
        labelled = label_words(audio.samples, ordered, speakers, encoder)
    names = speaker_names(labelled, participant)
    named = [replace(s, speaker=names.get(s.speaker, s.speaker)) for s in labelled]
    return merge_turns(named), method


def transcribe_audio(
    audio: Audio,
    transcriber: Transcriber,
    options: TranscriptionOptions,
    *,
    speakers: int | str = AUTO,
    participant: str = "",
    on_segment: Callable[[TranscribedSegment], None] | None = None,
) -> Transcript:
    """Transcribe a whole recording in one go (the CLI without a project)."""
    from qda.transcribe.gaps import recover

    segments: list[TranscribedSegment] = []
    missing: list[tuple[float, float]] = []
    language = options.language or ""
    for speaker, samples in channel_plan(audio, speakers):
        language, decoded = decode(transcriber, samples, options, speaker=speaker)
        mine = []
        for segment in decoded:
            mine.append(segment)
            if on_segment:
                on_segment(segment)
        if options.vad:  # speech the voice detection dropped: decoded again without it
            gaps = recover(transcriber, samples, replace(options, language=language), mine,
                           speaker=speaker)  # fmt: skip
            for segment in gaps.recovered:
                if on_segment:
                    on_segment(segment)
            mine = sorted([*mine, *gaps.recovered], key=lambda s: s.start)
            missing += gaps.missing
        segments += mine
    labelled, _ = label_and_merge(audio, segments, speakers, participant=participant)
    return Transcript(
        language=language,
        duration=audio.duration,
        engine=transcriber.info,
        options=options,
        segments=labelled,
        untranscribed=missing,
    )
