"""Limits that protect the machine from work it cannot finish.

A recording of ten hours, an upload of twenty gigabytes or a topic model over half a
million segments would fill the memory or the disk of a laptop long before it ended.
Each limit has a default that fits a study on an ordinary computer; a team with a
bigger machine raises it with an environment variable (read when the limit is used,
so `qda app` and the transcription worker it starts share it) or with the options of
`qda app`. Hitting a limit gives a message that says which limit and how to raise it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from qda.errors import InvalidInput


@dataclass(frozen=True)
class Limits:
    upload_mb: int = 2048  # largest file taken in: a recording, or a file uploaded to the app
    audio_hours: float = 4.0  # longest recording transcribed
    topic_segments: int = 50_000  # most segments one topic-model run goes over

    @property
    def upload_bytes(self) -> int:
        return self.upload_mb * 1_000_000

    @property
    def audio_seconds(self) -> float:
        return self.audio_hours * 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, changed by QDA_MAX_UPLOAD_MB, QDA_MAX_AUDIO_HOURS and
        QDA_MAX_TOPIC_SEGMENTS where they are set.

        Raises:
            InvalidInput: a variable that is not a positive number.
        """
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(ENV[f.name], "").strip()
            if not raw:
                continue
            kind = float if f.type == "float" else int
            try:
                value = kind(raw)
            except ValueError:
                value = 0
            if value <= 0:
                what = "number" if kind is float else "whole number"
                raise InvalidInput(
                    f"{ENV[f.name]} must be a positive {what}, not {raw!r}",
                    source="environment",
                )
            values[f.name] = value
        return cls(**values)

    def as_env(self) -> dict[str, str]:
        return {ENV[f.name]: str(getattr(self, f.name)) for f in fields(self)}


ENV = {
    "upload_mb": "QDA_MAX_UPLOAD_MB",
    "audio_hours": "QDA_MAX_AUDIO_HOURS",
    "topic_segments": "QDA_MAX_TOPIC_SEGMENTS",
}


def limits() -> Limits:
    """The limits in force now."""
    return Limits.from_env()
