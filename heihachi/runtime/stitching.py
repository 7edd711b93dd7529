"""Window results -> one result per file.

Window ``k`` of a file starts at ``start_k`` and owns
``[start_k + overlap/2, start_(k+1) + overlap/2)`` of it (the first owns from 0, the
last to the end), so the owned parts of consecutive windows tile the file. Small
results are stitched in memory once every window is in (:func:`stitch`); results as
long as the audio (stems) are written to a sink part by part as soon as they arrive
in order (:func:`stream_ready_parts`), so memory stays bounded.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from heihachi.results import Result


@dataclass
class FileState:
    """What has arrived for one file so far."""

    parts: list[tuple[int, float, Result]] = field(default_factory=list)
    expected: int | None = None  # number of windows, known when the last one arrives
    duration: float | None = None
    started: float = field(default_factory=time.time)
    received: int = 0
    sink: Any = None  # a ResultSink when the result type streams to disk
    next_index: int = 0  # streaming: the next window to write
    warning: str | None = None  # from decoding, e.g. NaN/inf samples replaced by zeros


def stitch(parts: list[tuple[int, float, Result]], window_s: float | None,
           hop_s: float | None, result_cls: type[Result]) -> Result:
    """Shift each window's result to file time, keep the part it owns, concatenate."""
    parts = sorted(parts, key=lambda p: p[0])
    if len(parts) == 1:
        return parts[0][2].shifted(parts[0][1])
    assert window_s is not None
    overlap = window_s - (hop_s or window_s)
    owned = []
    for k, (_i, start, res) in enumerate(parts):
        own_start = 0.0 if k == 0 else start + overlap / 2
        own_end = math.inf if k == len(parts) - 1 else parts[k + 1][1] + overlap / 2
        owned.append(res.shifted(start).cropped(own_start, own_end))
    return result_cls.concatenate(owned)


def stream_ready_parts(st: FileState, window_s: float | None, hop_s: float | None) -> None:
    """Write the owned parts of ``st.sink``'s file that are next in order.

    Window k owns ``[start_k + overlap/2, start_k + hop + overlap/2)``, which is known
    as soon as window k arrives, so nothing waits for the end of the file.
    """
    window_s = window_s or math.inf
    hop = hop_s or window_s
    overlap = 0.0 if math.isinf(window_s) else window_s - hop
    ready = {index: (start, res) for index, start, res in st.parts}
    while st.next_index in ready:
        k = st.next_index
        start, res = ready.pop(k)
        last = st.expected is not None and k == st.expected - 1
        own_start = 0.0 if k == 0 else start + overlap / 2
        own_end = math.inf if last else start + hop + overlap / 2
        st.sink.write(res.shifted(start).cropped(own_start, own_end))
        st.next_index += 1
    st.parts = [(i, s, r) for i, (s, r) in ready.items()]
