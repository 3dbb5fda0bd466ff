"""Regenerate the demo recordings from their scripts (maintainers only).

The recordings are synthetic speech made with espeak-ng, two voices per interview
(interviewer and participant), encoded as mono Ogg/Opus at 24 kbit/s. Each recording
has a reference transcript beside it (`<stem>.txt`, the `[hh:mm:ss] Speaker: text`
format) holding the exact words spoken and when each turn starts.

Needs the `espeak-ng` program (Debian package `espeak-ng`); qda itself never does.

    python sample_transcripts/recordings/make_recordings.py
"""

from __future__ import annotations

import io
import subprocess
import sys
import wave
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).parent
RATE = 22050
PAUSE_S = 0.5

# stem -> (words per minute, interviewer voice, participant voice, participant name, turns).
# A variant (+f3, +m3) only takes effect after a voice *file* name (en, fr, da): espeak-ng
# silently ignores it after a language tag such as en-gb.
# Danish is spoken slower: Whisper base recognises espeak-ng's Danish far better so.
SCRIPTS: dict[str, tuple[int, str, str, str, list[tuple[str, str]]]] = {
    "P15_lorraine": (
        150,
        "en+f3",
        "en",
        "Lorraine",
        [
            ("I", "Lorraine, how do you usually contact the council?"),
            (
                "P",
                "I try the website first, but the login never works for me. "
                "I reset my password every single time.",
            ),
            ("I", "What happens when you cannot get in?"),
            (
                "P",
                "I ring the helpline and wait for an hour. Last month I missed the "
                "deadline for my housing form and my payment was stopped.",
            ),
            ("I", "What would help you most?"),
            (
                "P",
                "A person I can talk to, and a letter on paper when something important is due.",
            ),
        ],
    ),
    "P16_birgit": (
        130,
        "da+f3",
        "da+m3",
        "Birgit",
        [
            ("I", "Birgit, hvad fylder mest i dit arbejde i borgerservice?"),
            (
                "P",
                "Det er MitID. Mange ældre kan ikke logge ind, og de bliver bange, "
                "når de ikke kan læse deres post.",
            ),
            ("I", "Hvordan hjælper I dem?"),
            (
                "P",
                "Vi sidder sammen med dem og viser det trin for trin. Men vi har ikke "
                "tid nok, og køen bliver længere hver uge.",
            ),
        ],
    ),
    "P17_elodie": (
        150,
        "fr+f3",
        "fr",
        "Élodie",
        [
            ("I", "Élodie, comment votre association aide-t-elle les familles ?"),
            (
                "P",
                "Nous aidons les familles à faire leurs démarches en ligne. Beaucoup "
                "n'ont qu'un téléphone et pas d'ordinateur.",
            ),
            ("I", "Quelle est la plus grande difficulté ?"),
            (
                "P",
                "Les mots de passe et les documents à envoyer. Quand un papier manque, "
                "les allocations sont coupées sans prévenir.",
            ),
        ],
    ),
}


def speak(text: str, voice: str, speed: int) -> np.ndarray:
    """Synthesise `text` with espeak-ng and return float32 samples at RATE."""
    wav_bytes = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    with wave.open(io.BytesIO(wav_bytes)) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0


def write_opus(samples: np.ndarray, path: Path) -> None:
    """Encode mono float samples as Ogg/Opus (48 kHz, 24 kbit/s)."""
    with av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48000, layout="mono")
        stream.bit_rate = 24000
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = RATE
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        for resampled in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def timestamp(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def make(stem: str) -> float:
    speed, voice_i, voice_p, name, turns = SCRIPTS[stem]
    pieces: list[np.ndarray] = [np.zeros(int(RATE * PAUSE_S), np.float32)]
    lines: list[str] = []
    t = PAUSE_S
    for who, text in turns:
        speech = speak(text, voice_i if who == "I" else voice_p, speed)
        lines.append(f"[{timestamp(t)}] {'Interviewer' if who == 'I' else name}: {text}")
        pieces += [speech, np.zeros(int(RATE * PAUSE_S), np.float32)]
        t += len(speech) / RATE + PAUSE_S
    audio = np.concatenate(pieces)
    write_opus(audio, HERE / f"{stem}.opus")
    (HERE / f"{stem}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(audio) / RATE


if __name__ == "__main__":
    for stem in sys.argv[1:] or SCRIPTS:
        print(f"{stem}: {make(stem):.1f} s")
