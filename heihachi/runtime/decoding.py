"""Files -> windows of resampled audio, decoded in DataLoader worker processes.

A file that cannot be decoded yields one :class:`Item` carrying the error, so the
runner records it as failed and the other files go on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
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


def _windows_of(path: Path, *args: Any) -> Iterator[Any]:
    from heihachi.runtime.audio import iter_windows

    return iter_windows(path, *args)


def _streams_of(path: Path, *args: Any) -> Iterator[Any]:
    from heihachi.runtime.audio import iter_streams

    return iter_streams(path, *args)


class WindowStream:
    """An iterable dataset: decodes the given files into windows (in DataLoader workers).

    ``decode(path, *args)`` yields what one file decodes into: windows
    (:func:`~heihachi.runtime.audio.iter_windows`, the default) or multi-rate blocks
    (:func:`~heihachi.runtime.audio.iter_streams`, for ``heihachi process``).
    """

    def __init__(self, paths: list[Path], sample_rate: int, channels: int,
                 window_s: float | None, hop_s: float | None,
                 decode: Callable[..., Iterator[Any]] = _windows_of,
                 args: tuple[Any, ...] | None = None) -> None:
        self.paths = paths
        self.args = args if args is not None else (sample_rate, channels, window_s, hop_s)
        self.decode = decode

    def __iter__(self) -> Iterator[Item]:
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
                for window in self.decode(self.paths[i], *self.args):
                    yield Item(i, window)
            except HeihachiError as e:
                yield Item(i, error=e)
            except Exception as e:  # a decoder bug must not end the batch
                yield Item(i, error=HeihachiError(f"{self.paths[i]}: {type(e).__name__}: {e}"))


def iter_items(paths: list[Path], sample_rate: int, channels: int, window_s: float | None,
               hop_s: float | None, num_workers: int) -> Iterator[Item]:
    """Windows of every file, decoded in ``num_workers`` background processes."""
    stream = WindowStream(paths, sample_rate, channels, window_s, hop_s)
    return _load(stream, paths, num_workers)


def iter_stream_items(paths: list[Path], specs: list[tuple[int, int]], block_s: float,
                      num_workers: int) -> Iterator[Item]:
    """Each file decoded once into blocks at every ``(rate, channels)`` of ``specs``
    (:class:`~heihachi.runtime.audio.StreamBlock` in ``Item.window``), in file order.

    At most one background process decodes (``num_workers`` > 0), so the files come
    whole and in order: ``heihachi process`` feeds one track at a time.
    """
    stream = WindowStream(paths, 0, 0, None, None, decode=_streams_of,
                          args=(list(specs), block_s))
    return _load(stream, paths, min(num_workers, 1))


def _load(stream: WindowStream, paths: list[Path], num_workers: int) -> Iterator[Item]:
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
