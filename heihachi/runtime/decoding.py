"""Files -> windows of resampled audio, decoded in DataLoader worker processes.

A file that cannot be decoded yields one :class:`Item` carrying the error, so the
runner records it as failed and the other files go on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heihachi.errors import HeihachiError


@dataclass
class Item:
    """One window of one file, or the error that stopped that file."""

    file: int
    window: Any = None  # heihachi.runtime.audio.Window
    error: HeihachiError | None = None


class WindowStream:
    """An iterable dataset: decodes the given files into windows (in DataLoader workers)."""

    def __init__(self, paths: list[Path], sample_rate: int, channels: int,
                 window_s: float | None, hop_s: float | None) -> None:
        self.paths = paths
        self.args = (sample_rate, channels, window_s, hop_s)

    def __iter__(self) -> Iterator[Item]:
        from heihachi.runtime.audio import iter_windows

        try:
            from torch.utils.data import get_worker_info

            info = get_worker_info()
        except ImportError:
            info = None
        ids = range(len(self.paths))
        if info is not None:
            ids = ids[info.id::info.num_workers]
        for i in ids:
            try:
                for window in iter_windows(self.paths[i], *self.args):
                    yield Item(i, window)
            except HeihachiError as e:
                yield Item(i, error=e)
            except Exception as e:  # a decoder bug must not end the batch
                yield Item(i, error=HeihachiError(f"{self.paths[i]}: {type(e).__name__}: {e}"))


def iter_items(paths: list[Path], sample_rate: int, channels: int, window_s: float | None,
               hop_s: float | None, num_workers: int) -> Iterator[Item]:
    """Windows of every file, decoded in ``num_workers`` background processes."""
    stream = WindowStream(paths, sample_rate, channels, window_s, hop_s)
    if num_workers <= 0 or len(paths) == 0:
        yield from stream
        return
    import torch

    torch_ds = _TorchStream(stream)
    loader = torch.utils.data.DataLoader(torch_ds, batch_size=None, num_workers=min(
        num_workers, len(paths)), collate_fn=lambda x: x, prefetch_factor=4,
        worker_init_fn=die_with_parent)
    yield from loader


def die_with_parent(_worker_id: int = 0) -> None:
    """In a decoding worker: exit when the main process dies, even by SIGKILL.

    Without this, `kill -9` of a run left its worker blocked on a full queue for
    good (seen: one orphan of ~440 MB per killed run). Linux only (prctl
    PR_SET_PDEATHSIG); elsewhere torch's own parent watchdog is all there is.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _torch_iterable_base() -> type:
    import torch

    return torch.utils.data.IterableDataset


class _TorchStream:
    """Wraps WindowStream as a torch IterableDataset (built lazily to keep torch optional)."""

    def __new__(cls, stream: WindowStream) -> Any:
        base = _torch_iterable_base()
        ds_cls = type("HeihachiWindows", (base,), {"__iter__": lambda self: iter(stream)})
        return ds_cls()
