"""Windows -> padded batches on the device -> the plugin's one batched method.

A batch that runs out of device memory is halved (and so are later batches); any
other error in a multi-file batch reruns its windows one by one, so only the
window (and file) that broke fails.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from heihachi.errors import HeihachiError
from heihachi.results import Result
from heihachi.runtime.decoding import Item
from heihachi.runtime.placement import Placement
from heihachi.tasks import KINDS, AudioBatch, Plugin


class BatchCaller:
    """Calls ``plugin``'s batched method on windows, with out-of-memory back-off.

    ``batch_size`` shrinks when a batch runs out of memory and stays shrunk for the
    rest of the run.
    """

    def __init__(self, plugin: Plugin, placement: Placement, batch_size: int) -> None:
        self.plugin = plugin
        self.placement = placement
        self.batch_size = batch_size
        self.method = getattr(plugin, KINDS[plugin.kind][1])

    def run(self, items: list[Item]) -> list[tuple[Item, Any]]:
        """Run the plugin on ``items``; returns (item, result or exception) pairs."""
        import torch

        out: list[tuple[Item, Any]] = []
        groups = [items]
        if self.plugin.batch_equal_lengths:
            by_len: dict[int, list[Item]] = {}
            for it in items:
                by_len.setdefault(it.window.audio.shape[-1], []).append(it)
            groups = list(by_len.values())
        size = self.batch_size
        queue = [g[i:i + size] for g in groups for i in range(0, len(g), size)]
        while queue:
            chunk = queue.pop(0)
            if not chunk:
                continue
            try:
                results = self._call(chunk)
                if len(results) != len(chunk):
                    raise HeihachiError(f"plugin {self.plugin.name!r} returned {len(results)} "
                                        f"results for a batch of {len(chunk)}")
                out.extend(zip(chunk, results, strict=True))
            except torch.OutOfMemoryError as e:
                if len(chunk) == 1:
                    out.append((chunk[0], HeihachiError(
                        f"out of memory even with batch size 1 ({str(e).splitlines()[0]}); "
                        "use a smaller window or runtime.device=cpu")))
                    continue
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                self.batch_size = max(1, (len(chunk) + 1) // 2)
                print(f"heihachi: out of memory; batch size now {self.batch_size}",
                      file=sys.stderr)
                size = self.batch_size
                queue[:0] = [chunk[i:i + size] for i in range(0, len(chunk), size)]
            except Exception as e:
                if len(chunk) == 1:
                    out.append((chunk[0], e))
                else:
                    queue[:0] = [[it] for it in chunk]
        return out

    def _call(self, chunk: list[Item]) -> list[Result]:
        """Pad ``chunk`` into one tensor on the device and call the plugin under autocast."""
        import torch

        pl = self.placement
        lengths = [it.window.audio.shape[-1] for it in chunk]
        channels = self.plugin.channels
        audio = np.zeros((len(chunk), channels, max(lengths)), np.float32)
        for row, it in enumerate(chunk):
            audio[row, :, :lengths[row]] = it.window.audio
        tensor = torch.from_numpy(audio[:, 0] if channels == 1 else audio).to(pl.device)
        batch = AudioBatch(tensor, lengths, self.plugin.sample_rate,
                           [it.window.start for it in chunk])
        with torch.inference_mode():
            if pl.autocast_dtype is not None:
                with torch.autocast(device_type=pl.device.type, dtype=pl.autocast_dtype):
                    return list(self.method(batch))
            return list(self.method(batch))
