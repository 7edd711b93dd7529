"""The runtime: everything between a list of paths and the files a task writes.

- ``inputs``: paths -> sorted audio files, track names, source fingerprints
- ``audio``: decode, resample, mix and window files in bounded memory
- ``runner``: one plugin over many files: placement, batching, stitching, writing
- ``outputs`` / ``atomic``: the on-disk layout, written atomically; resume checks
- ``stems``: stems streamed to disk window by window
- ``pipeline``: config -> plugin -> runner -> writers, as the CLI and the API run it
"""

from heihachi.runtime.runner import (
    Placement,
    Runner,
    RunOptions,
    cpu_threads,
    place,
    shutdown,
    stitch,
)

__all__ = ["Placement", "RunOptions", "Runner", "cpu_threads", "place", "shutdown", "stitch"]
