"""Run one plugin over many files: devices, batching, sharding, stitching, writing.

The flow for a task (see DESIGN.md):

1. the sorted input list is sharded by rank (``accelerate launch`` /
   ``torchrun``), so every file is processed exactly once;
2. files whose output exists for the same config hash are skipped (resume);
3. DataLoader workers decode + resample files into the plugin's windows;
4. windows are batched across files, padded, moved to the device and passed to
   the plugin's one batched method under autocast;
5. window results are shifted, cropped to the part each window owns and
   concatenated per file, then written atomically;
6. rank 0 merges every rank's summary into ``OUT/summary.json``.

A file that fails (bad audio, plugin error) is recorded as failed and the rest
go on. On CUDA out-of-memory the batch is halved and retried.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heihachi.errors import HeihachiError
from heihachi.outputs import (
    Summary,
    SummaryEntry,
    Track,
    assign_track_names,
    atomic_write_json,
    config_hash,
    is_done,
    write_result,
)
from heihachi.results import Result
from heihachi.tasks import KINDS, AudioBatch, Plugin


# ----------------------------------------------------------------------------- devices
@dataclass
class Placement:
    """Where this process runs: device, dtype for autocast, rank and world size."""

    device: Any
    autocast_dtype: Any | None
    rank: int = 0
    world_size: int = 1
    state: Any = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _distributed_env() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def place(device: str = "auto", precision: str = "fp32", threads: int | None = None,
          num_workers: int = 0) -> Placement:
    """Pick the device through accelerate's ``PartialState`` (one per process).

    Under ``accelerate launch``/``torchrun`` each rank gets its own device
    (``cuda:LOCAL_RANK``) or, on CPU, a gloo process group. ``torch.cuda`` is
    never assumed to exist. On CPU it also sets torch's thread count (see
    :func:`cpu_threads`).
    """
    import torch
    from accelerate import PartialState

    want_cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available()
                                   and not _mps_available())
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise HeihachiError(f"runtime.device={device} but no CUDA device is available; use "
                            "runtime.device=cpu or auto")
    state = PartialState(cpu=want_cpu) if (_distributed_env() or want_cpu) else PartialState()
    if device.startswith("cuda:") and state.num_processes == 1:
        dev = torch.device(device)
    elif device == "mps":
        dev = torch.device("mps")
    else:
        dev = state.device
    autocast = None
    if precision == "bf16":
        autocast = torch.bfloat16
    elif precision == "fp16":
        if dev.type == "cpu":
            print("heihachi: warning: fp16 autocast is not supported on CPU; using fp32",
                  file=sys.stderr)
        else:
            autocast = torch.float16
    if dev.type == "cpu":
        local = int(os.environ.get("LOCAL_WORLD_SIZE", state.num_processes) or 1)
        torch.set_num_threads(cpu_threads(threads, num_workers, local))
    return Placement(dev, autocast, state.process_index, state.num_processes, state)


def cpu_threads(threads: int | None, num_workers: int, local_processes: int = 1) -> int:
    """Torch threads per process on CPU: ``threads`` if set, else the CPUs this process
    may use, shared among the local processes, minus the decoding workers.

    Oversubscribing matters far more than it seems: torch's OpenMP threads spin while
    they wait, so two of them on a 2-core machine next to a decoding worker ran the
    drum model 14x slower than one thread (measured: 3.9x vs 55x real time).
    """
    if threads:
        return max(1, int(threads))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus // max(1, local_processes) - max(0, num_workers))


def _mps_available() -> bool:
    import torch

    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


# ----------------------------------------------------------------------------- decoding
@dataclass
class Item:
    """One window of one file, or the error that stopped that file."""

    file: int
    window: Any = None  # heihachi.audio.Window
    error: HeihachiError | None = None


class WindowStream:
    """An iterable dataset: decodes the given files into windows (in DataLoader workers)."""

    def __init__(self, paths: list[Path], sample_rate: int, channels: int,
                 window_s: float | None, hop_s: float | None) -> None:
        self.paths = paths
        self.args = (sample_rate, channels, window_s, hop_s)

    def __iter__(self) -> Iterator[Item]:
        from heihachi.audio import iter_windows

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


# ----------------------------------------------------------------------------- stitching
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


# ----------------------------------------------------------------------------- running
@dataclass
class RunOptions:
    output_dir: Path
    batch_size: int = 4
    num_workers: int = 1
    device: str = "auto"
    precision: str = "fp32"
    threads: int | None = None
    overwrite: bool = False
    formats: list[str] = field(default_factory=lambda: ["json"])
    progress: bool = True
    stems: list[str] | None = None
    audio_format: str = "wav"
    audio_subtype: str = "float"


def plugin_config_dict(plugin: Plugin) -> dict[str, Any]:
    cfg = plugin.config
    return asdict(cfg) if is_dataclass(cfg) else dict(vars(cfg))


def task_hash(plugin: Plugin, outputs: dict[str, Any] | None = None) -> str:
    """Hash of what changes results: plugin, its config, rate, channels, windows.

    ``outputs`` adds output settings that change what is written (stems kept, their
    file format), so a rerun with other settings redoes the file instead of skipping it.
    """
    window_s, hop_s = plugin.window()
    doc = {"kind": plugin.kind, "plugin": plugin.name, "config": plugin_config_dict(plugin),
           "sample_rate": plugin.sample_rate, "channels": plugin.channels,
           "window_s": window_s, "hop_s": hop_s}
    if outputs:
        doc["outputs"] = outputs
    return config_hash(doc)


class Runner:
    """Runs one plugin instance over files and writes results."""

    def __init__(self, plugin: Plugin, options: RunOptions, placement: Placement | None = None,
                 extra_writers: list[Callable[..., list[Path]]] | None = None,
                 on_result: Callable[[Track, Result], None] | None = None) -> None:
        self.plugin = plugin
        self.opts = options
        self.placement = placement
        self.batch_size = options.batch_size
        self.extra_writers = extra_writers or []
        self.on_result = on_result
        self.method = getattr(plugin, KINDS[plugin.kind][1])
        self.task = KINDS[plugin.kind][3]

    # -- public --------------------------------------------------------------------------
    def run(self, paths: list[Path]) -> Summary:
        """Process ``paths`` (all ranks' inputs; this rank takes its shard)."""
        if self.placement is None:
            self.placement = place(self.opts.device, self.opts.precision, self.opts.threads,
                                   self.opts.num_workers)
        pl = self.placement
        out = self.opts.output_dir
        tracks = assign_track_names(paths)
        mine = tracks[pl.rank::pl.world_size]
        self.plugin.device = pl.device
        if not getattr(self.plugin, "_heihachi_loaded", False):
            self.plugin.load()
            self.plugin._heihachi_loaded = True
        chash = task_hash(self.plugin, self._output_settings())
        result_task = self._result_task()
        summary = Summary(task=self.task, plugin=self.plugin.name)
        todo: list[Track] = []
        for t in mine:
            if not self.opts.overwrite and is_done(t, out, result_task, chash):
                summary.entries.append(SummaryEntry(str(t.path), "skipped", track=t.name))
            else:
                todo.append(t)
        self.envelope = {"plugin": self.plugin.name, "kind": self.plugin.kind,
                         "model": self.plugin.model_id(), "config_hash": chash,
                         "config": plugin_config_dict(self.plugin)}
        with _Progress(enabled=self.opts.progress and pl.is_main, total=len(todo),
                       label=f"{self.task} ({self.plugin.name})") as progress:
            for entry in self._process(todo, progress):
                summary.entries.append(entry)
        for entry in summary.entries:
            entry.rank = pl.rank
        return self._merge_summaries(summary, tracks)

    # -- internals -----------------------------------------------------------------------
    def _output_settings(self) -> dict[str, Any] | None:
        """Output settings that change a separator's files (other kinds: none)."""
        if self.plugin.kind != "separator":
            return None
        return {"stems": sorted(self.opts.stems) if self.opts.stems else None,
                "audio_format": self.opts.audio_format,
                "audio_subtype": self.opts.audio_subtype}

    def _result_task(self) -> str:
        from heihachi import results

        return {"extractor": results.Embeddings, "beats": results.Beats,
                "drums": results.DrumHits, "separator": results.Stems,
                "captioner": results.Captions,
                "similarity": results.SegmentEmbeddings}[self.plugin.kind].task

    def _process(self, tracks: list[Track], progress: _Progress) -> Iterator[SummaryEntry]:
        if not tracks:
            return
        window_s, hop_s = self.plugin.window()
        states: dict[int, FileState] = {}
        failed: set[int] = set()
        pending: list[Item] = []
        items = iter_items([t.path for t in tracks], self.plugin.sample_rate,
                           self.plugin.channels, window_s, hop_s, self.opts.num_workers)

        def fail(i: int, err: BaseException) -> SummaryEntry:
            failed.add(i)
            st = states.pop(i, FileState())
            if st.sink is not None:
                st.sink.abort()
            started = st.started
            t = tracks[i]
            msg = str(err) if isinstance(err, HeihachiError) else f"{type(err).__name__}: {err}"
            if str(t.path) not in msg:
                msg = f"{t.path}: {msg}"
            progress.advance(0.0)
            return SummaryEntry(str(t.path), "failed", error=msg, track=t.name,
                                seconds=time.time() - started)

        def flush() -> Iterator[SummaryEntry]:
            batch = [it for it in pending if it.file not in failed]
            pending.clear()
            for it, res in self._run_batch(batch):
                st = states.setdefault(it.file, FileState())
                if isinstance(res, BaseException):
                    if it.file not in failed:
                        yield fail(it.file, res)
                    continue
                st.parts.append((it.window.index, it.window.start, res))
                st.received += 1
                if it.window.last:
                    st.expected, st.duration = it.window.index + 1, it.window.duration
                try:
                    self._stream(tracks[it.file], st, window_s, hop_s)
                except Exception as e:
                    yield fail(it.file, e)
            for i in [i for i, s in states.items() if s.expected == s.received]:
                yield self._finish(tracks[i], states.pop(i), window_s, hop_s, progress)

        for item in items:
            if item.error is not None:
                if item.file not in failed:
                    yield fail(item.file, item.error)
                continue
            if item.file in failed:
                continue
            states.setdefault(item.file, FileState())
            pending.append(item)
            if len(pending) >= self.batch_size:
                yield from flush()
        yield from flush()
        for i, st in list(states.items()):  # only reachable if a decoder stopped early
            yield fail(i, HeihachiError(f"decoding stopped after {len(st.parts)} windows"))

    def _stream(self, track: Track, st: FileState, window_s: float | None,
                hop_s: float | None) -> None:
        """Write owned parts of a streaming result (e.g. stems) as soon as they are in order.

        Keeps memory bounded for results as long as the audio itself: window k
        owns ``[start_k + overlap/2, start_k + hop + overlap/2)``, which is known as
        soon as window k arrives, so nothing waits for the end of the file.
        """
        if st.sink is None:
            if st.next_index > 0 or not st.parts:
                return
            opener = getattr(type(st.parts[0][2]), "open_sink", None)
            st.sink = opener(track.dir(self.opts.output_dir), self.opts) if opener else None
            if st.sink is None:
                st.next_index = -1  # this result type does not stream
                return
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

    def _finish(self, track: Track, st: FileState, window_s: float | None,
                hop_s: float | None, progress: _Progress) -> SummaryEntry:
        try:
            if st.sink is not None:
                result = st.sink.close()
            else:
                result = stitch(st.parts, window_s, hop_s, type(st.parts[0][2]))
                result = self.plugin.finish(result, st.duration)
            envelope = dict(self.envelope, duration=st.duration)
            writers = [lambda d, r, t, w=w: w(d, r, t, self.opts, envelope)
                       for w in self.extra_writers]
            write_result(track, self.opts.output_dir, result, envelope, writers)
            if self.on_result is not None:
                self.on_result(track, result)
        except Exception as e:
            if st.sink is not None:
                st.sink.abort()
            msg = str(e) if isinstance(e, HeihachiError) else f"{type(e).__name__}: {e}"
            return SummaryEntry(str(track.path), "failed", error=f"{track.path}: {msg}",
                                track=track.name, seconds=time.time() - st.started)
        progress.advance(st.duration or 0.0)
        return SummaryEntry(str(track.path), "ok", seconds=time.time() - st.started,
                            track=track.name, duration=st.duration)

    def _run_batch(self, items: list[Item]) -> list[tuple[Item, Any]]:
        """Run the plugin on ``items``; returns (item, result or exception) pairs.

        Out-of-memory halves the batch (and future batches); any other error on a
        multi-file batch reruns the items one by one so only the bad file fails.
        """
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
        import torch

        pl = self.placement
        assert pl is not None
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

    def _merge_summaries(self, summary: Summary, tracks: list[Track]) -> Summary:
        """Every rank writes its part; rank 0 merges them into ``summary.json``."""
        pl = self.placement
        assert pl is not None
        out = self.opts.output_dir
        out.mkdir(parents=True, exist_ok=True)
        if pl.world_size == 1:
            summary.entries.sort(key=lambda e: e.path)
            atomic_write_json(out / "summary.json", summary.to_json())
            return summary
        part = out / f".summary.rank{pl.rank}.json"
        atomic_write_json(part, [e.to_json() for e in summary.entries])
        pl.state.wait_for_everyone()
        if pl.is_main:
            entries = []
            for r in range(pl.world_size):
                p = out / f".summary.rank{r}.json"
                entries.extend(SummaryEntry(**{k: v for k, v in d.items()})
                               for d in json.loads(p.read_text()))
                p.unlink()
            summary.entries = sorted(entries, key=lambda e: e.path)
            atomic_write_json(out / "summary.json", summary.to_json())
        pl.state.wait_for_everyone()
        if not pl.is_main:
            summary = Summary(summary.task, summary.plugin,
                              _read_entries(out / "summary.json"))
        return summary


def _read_entries(path: Path) -> list[SummaryEntry]:
    return [SummaryEntry(**d) for d in json.loads(path.read_text())["files"]]


def shutdown(placement: Placement | None) -> None:
    """End the process group cleanly (avoids an intermittent gloo abort at exit)."""
    if placement is None or placement.world_size == 1:
        return
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# ----------------------------------------------------------------------------- progress
class _Progress:
    """A rich progress bar: files done and audio seconds per wall second."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self.enabled = enabled and total > 0
        self.total = total
        self.label = label
        self.audio_s = 0.0
        self.t0 = time.time()

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("{task.fields[speed]}"),
                                TimeElapsedColumn(), console=Console(stderr=True),
                                transient=False)
            self.bar.__enter__()
            self.task = self.bar.add_task(self.label, total=self.total, speed="")
        return self

    def advance(self, audio_seconds: float) -> None:
        self.audio_s += audio_seconds
        if self.enabled:
            rate = self.audio_s / max(1e-6, time.time() - self.t0)
            self.bar.update(self.task, advance=1, speed=f"{rate:,.1f} audio-s/s")

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.__exit__(*exc)
