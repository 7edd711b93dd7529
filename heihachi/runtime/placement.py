"""Where a process runs: device, autocast dtype, rank and world size, CPU threads.

Placement goes through accelerate's ``PartialState``, so ``accelerate launch`` and
``torchrun`` give each rank its own device (``cuda:LOCAL_RANK``) or, on CPU, a
gloo process group. ``torch.cuda`` is never assumed to exist.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from heihachi.errors import HeihachiError


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


def shutdown(placement: Placement | None) -> None:
    """End the process group cleanly (avoids an intermittent gloo abort at exit)."""
    if placement is None or placement.world_size == 1:
        return
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
