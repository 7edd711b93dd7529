"""The event a realtime tracker emits and every output consumes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class BeatEvent:
    """One beat, emitted as soon as the tracker has decided it.

    Attributes:
        t: time of the beat in seconds from the start of the stream (stream time: the
            number of samples fed so far divided by the sample rate, not wall-clock).
        beat: position in the bar, 1-based (1 is the downbeat).
        downbeat: whether this beat starts a bar.
        bpm: the tempo the tracker believes in at this beat.
        confidence: 0..1, how sure the tracker is of the pulse right now.
        emitted_at: stream time at which the event was decided (``emitted_at - t`` is
            the decision delay; it may be negative for a predicted beat).
    """

    t: float
    beat: int
    downbeat: bool
    bpm: float
    confidence: float
    emitted_at: float

    def to_json(self) -> dict[str, Any]:
        """The NDJSON record: ``{"t", "beat", "downbeat", "bpm", "confidence"}`` (+ delay)."""
        d = asdict(self)
        return {"t": round(d["t"], 4), "beat": d["beat"], "downbeat": d["downbeat"],
                "bpm": round(d["bpm"], 2), "confidence": round(d["confidence"], 3),
                "emitted_at": round(d["emitted_at"], 4)}
