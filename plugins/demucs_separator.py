"""Stems with Demucs (``separator=demucs``): drums, bass, other, vocals (+ guitar, piano).

Models and where they come from: see :mod:`.demucs_loading` (named models through the
models cache or the hub, local demucs repositories, and safe loading of pickled
checkpoints).

Separation follows ``demucs.apply.apply_model`` exactly (each runtime window is
normalised by its own mean/std, cut into ``segment``-second chunks with
``overlap``, weighted by a triangle and overlap-added; ``shifts`` random time
shifts are averaged), but the chunks of every window in a runtime batch are run
through the model together, ``segment_batch`` at a time, so a GPU sees full
batches even for short files. Chunks of different mixtures never share a
normalisation: each is normalised before it is cut. On CUDA out-of-memory the
chunk batch halves and the batch is retried.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import heihachi
from heihachi.errors import ConfigError
from heihachi.tasks import AudioBatch, StemSeparator

from .demucs_loading import (
    PRETRAINED,
    DemucsError,
    hub_snapshot,
    load_demucs,
    make_tiny_htdemucs,
)

if TYPE_CHECKING:
    import torch

    from heihachi.results import Stems

@dataclass
class DemucsConfig:
    """Settings of the demucs separator."""

    #: a name (htdemucs, htdemucs_ft, htdemucs_6s, hdemucs_mmi), a local repo directory
    #: (+ ``name``), or a ``.th``/``.yaml``/``.safetensors`` file inside one
    model: str = "htdemucs"
    #: model or bag name inside a local repository (None: the directory's name, or its
    #: only model)
    name: str | None = None
    #: seconds per chunk the network sees (None: the model's own; htdemucs: 7.8)
    segment: float | None = None
    #: fraction of overlap between chunks
    overlap: float = 0.25
    #: random time shifts averaged (demucs' "shift trick"); 0 = none
    shifts: int = 1
    #: seed of the shifts, so reruns give the same stems
    seed: int = 0
    #: chunks per forward pass (halved on out-of-memory)
    segment_batch: int = 8
    #: runtime window (bounded memory on long files); None = the whole file at once
    window_s: float | None = 60.0
    #: runtime hop; None = window_s - 4 s, so windows overlap and cut in the middle of it
    hop_s: float | None = None
    #: load pickled ``.th`` checkpoints that need more than the safe allow-list
    trust_checkpoint: bool = False


class DemucsSeparator(StemSeparator):
    """Stems with Demucs (htdemucs and friends), chunked and batched like apply_model."""

    name = "demucs"
    sample_rate = 44_100
    channels = 2
    window_s = 60.0
    hop_s = 56.0
    default_model = "htdemucs"
    tiny_model: ClassVar[str] = "tiny/htdemucs"
    Config = DemucsConfig

    # -- loading -----------------------------------------------------------------------
    @classmethod
    def verify_model(cls, path: Path) -> list[str] | None:
        """A demucs repository (``*.th`` pickles, ``*.yaml`` bags) through demucs' safe loader."""
        from heihachi.plugins.demucs_loading import verify_repo

        return verify_repo(path)

    @classmethod
    def fetch_model(cls, ref: str, cache_dir: Path) -> Path | None:
        """``models fetch htdemucs`` (or another name in PRETRAINED): download and load once."""
        if ref not in PRETRAINED:
            return None
        load_demucs(ref, None, cache_dir, offline=False)
        return hub_snapshot(ref, cache_dir, local_only=True) or cache_dir / "demucs"

    def load(self) -> None:
        cfg = self.config
        if not 0.0 <= cfg.overlap < 1.0:
            raise ConfigError(f"separator.overlap={cfg.overlap}: use a fraction in [0, 1)")
        if cfg.shifts < 0:
            raise ConfigError(f"separator.shifts={cfg.shifts}: use 0 or more")
        if cfg.segment_batch < 1:
            raise ConfigError(f"separator.segment_batch={cfg.segment_batch}: use 1 or more")
        model = load_demucs(cfg.model, cfg.name, self.cache_dir, self.offline,
                            cfg.trust_checkpoint)
        self._set_model(model)

    def _set_model(self, model: Any) -> None:
        from demucs.apply import BagOfModels

        cfg = self.config
        self.model = model.eval().to(self.device)
        self.sources: list[str] = list(model.sources)
        self.sample_rate = int(model.samplerate)
        self.channels = int(model.audio_channels)
        if self.channels not in (1, 2):
            raise DemucsError(f"demucs model {cfg.model!r} has {self.channels} audio channels; "
                              "heihachi handles 1 or 2")
        members = list(model.models) if isinstance(model, BagOfModels) else [model]
        weights = model.weights if isinstance(model, BagOfModels) else [[1.0] * len(
            self.sources)]
        self.members: list[tuple[Any, list[float]]] = list(zip(members, weights, strict=True))
        if cfg.segment is not None:
            if cfg.segment <= 0:
                raise ConfigError(f"separator.segment={cfg.segment}: must be > 0 seconds")
            longest = _max_segment(members)
            if cfg.segment > longest:
                raise ConfigError(f"separator.segment={cfg.segment}: {cfg.model!r} is a "
                                  f"transformer model trained on {longest:.2f} s; use at most "
                                  "that")
        self.segment_batch = cfg.segment_batch
        self._window = _quantised_window(cfg.window_s, cfg.hop_s, self.sample_rate)

    def window(self) -> tuple[float | None, float | None]:
        return getattr(self, "_window", _quantised_window(
            self.config.window_s, self.config.hop_s, self.sample_rate))

    # -- separating --------------------------------------------------------------------
    def separate(self, batch: AudioBatch) -> list[Stems]:
        import torch

        from heihachi.results import Stems

        mixes, refs = [], []
        for row in batch.unpadded():
            x = row.float()
            ref = x.mean(0)
            # demucs normalises each mixture by its own statistics (here: each window's)
            mean = ref.mean()
            std = ref.std() + 1e-8 if ref.numel() > 1 else torch.ones((), device=x.device)
            mixes.append((x - mean) / std)
            refs.append((mean, std))
        rngs = [random.Random(self.config.seed) for _ in mixes]
        total: list[torch.Tensor | None] = [None] * len(mixes)
        totals = [0.0] * len(self.sources)
        # in-place arithmetic throughout: each window's stems are [S, C, T] float32
        # (85 MB for 60 s of 4 stems), and a batch holds several
        for member, weights in self.members:
            member.to(self.device)
            for i, est in enumerate(self._apply(member, mixes, rngs)):
                est.mul_(torch.tensor(weights, device=est.device)[:, None, None])
                total[i] = est if total[i] is None else total[i].add_(est)  # type: ignore[union-attr]
                del est
            totals = [t + w for t, w in zip(totals, weights, strict=True)]
        results = []
        for out, (mean, std) in zip(total, refs, strict=True):
            out.div_(torch.tensor(totals, device=out.device)[:, None, None])
            out.mul_(std).add_(mean)
            wave = out.float().cpu().numpy()
            results.append(Stems({s: wave[i] for i, s in enumerate(self.sources)},
                                 self.sample_rate))
        return results

    def _apply(self, model: Any, mixes: list[torch.Tensor],
               rngs: list[random.Random]) -> list[torch.Tensor]:
        """``apply_model(model, mix, shifts, split=True, overlap, segment)`` for each mix,
        with the chunks of all mixes batched through the network."""
        import torch
        import torch.nn.functional as F

        sr = int(model.samplerate)
        seg = self.config.segment if self.config.segment is not None else model.segment
        seg_len = int(sr * seg)
        stride = int((1 - self.config.overlap) * seg_len)
        if stride < 1:
            raise ConfigError(f"separator.overlap={self.config.overlap} leaves no stride")
        half = seg_len // 2
        weight = torch.cat([torch.arange(1, half + 1), torch.arange(seg_len - half, 0, -1)])
        weight = (weight / weight.max()).to(mixes[0].device)
        shifts = self.config.shifts
        max_shift = int(0.5 * sr) if shifts else 0
        # one "pass" = one mix under one shift: a padded base, where the shifted region
        # starts in it, its length, and the running overlap-add buffers
        passes: list[dict[str, Any]] = []
        chunks: list[tuple[int, int, int, int]] = []  # (pass, base start, length, padded)
        for m, x in enumerate(mixes):
            length = x.shape[-1]
            base = F.pad(x, (max_shift, max_shift)) if max_shift else x
            for _ in range(max(1, shifts)):
                offset = rngs[m].randint(0, max_shift) if shifts else 0
                n = length + max_shift - offset
                p = len(passes)
                passes.append({"mix": m, "base": base, "offset": offset, "n": n,
                               "out": torch.zeros(len(self.sources), x.shape[0], n,
                                                  device=x.device),
                               "sum": torch.zeros(n, device=x.device)})
                for start in range(0, n, stride):
                    c_len = min(seg_len, n - start)
                    chunks.append((p, offset + start, c_len, _valid_length(model, seg,
                                                                           seg_len, c_len)))
        by_len: dict[int, list[tuple[int, int, int, int]]] = {}
        for c in chunks:
            by_len.setdefault(c[3], []).append(c)
        for padded, group in by_len.items():
            i = 0
            while i < len(group):
                part = group[i:i + self.segment_batch]
                inputs = torch.stack([_padded(passes[p]["base"], s, c_len, padded)
                                      for p, s, c_len, _ in part])
                try:
                    outs = model(inputs)
                except torch.OutOfMemoryError:
                    if self.segment_batch == 1:
                        raise
                    self.segment_batch = max(1, self.segment_batch // 2)
                    print(f"heihachi: demucs out of memory; segment_batch now "
                          f"{self.segment_batch}", file=sys.stderr)
                    if torch.cuda.is_available():
                        torch.cuda.empty_cache()
                    continue
                for (p, s, c_len, _), out in zip(part, outs, strict=True):
                    ps = passes[p]
                    out = _center_trim(out, c_len)
                    a = s - ps["offset"]
                    ps["out"][..., a:a + c_len] += weight[:c_len] * out.to(ps["out"].device)
                    ps["sum"][a:a + c_len] += weight[:c_len]
                i += len(part)
        results: list[torch.Tensor] = [None] * len(mixes)  # type: ignore[list-item]
        for ps in passes:
            out = ps.pop("out").div_(ps.pop("sum"))[..., max_shift - ps["offset"]:]
            m = ps["mix"]
            results[m] = out if results[m] is None else results[m].add_(out)
        passes.clear()
        return [r.div_(shifts) if shifts > 1 else r for r in results]

    # -- tiny model --------------------------------------------------------------------
    @classmethod
    def make_tiny(cls, cache_dir: Path) -> list[Path]:
        """Write a tiny random-weight HTDemucs to ``<cache>/tiny/htdemucs/htdemucs.th``,
        in demucs' own format (``serialize_model`` + ``torch.save``)."""
        return [make_tiny_htdemucs(cache_dir / "tiny" / "htdemucs")]


# ----------------------------------------------------------------------------- helpers
def _max_segment(members: list[Any]) -> float:
    from demucs.htdemucs import HTDemucs

    segs = [float(m.segment) for m in members if isinstance(m, HTDemucs)]
    return min(segs) if segs else float("inf")


def _valid_length(model: Any, segment: float, seg_len: int, chunk_len: int) -> int:
    """The padded length apply_model feeds the network for a chunk of ``chunk_len``."""
    from demucs.htdemucs import HTDemucs

    if isinstance(model, HTDemucs):
        return int(segment * model.samplerate)
    if hasattr(model, "valid_length"):
        return int(model.valid_length(chunk_len))
    return chunk_len


def _padded(base: torch.Tensor, start: int, length: int, target: int) -> torch.Tensor:
    """``TensorChunk(base, start, length).padded(target)``: centred, context from ``base``."""
    import torch.nn.functional as F

    delta = target - length
    lo = start - delta // 2
    hi = lo + target
    total = base.shape[-1]
    a, b = max(0, lo), min(total, hi)
    return F.pad(base[..., a:b], (a - lo, hi - b))


def _center_trim(x: torch.Tensor, length: int) -> torch.Tensor:
    delta = x.shape[-1] - length
    if delta:
        x = x[..., delta // 2:x.shape[-1] - (delta - delta // 2)]
    return x


def _quantised_window(window_s: float | None, hop_s: float | None,
                      sample_rate: int) -> tuple[float | None, float | None]:
    """Window and hop as whole even sample counts, so owned parts tile the file exactly."""
    if window_s is None:
        return None, None
    if window_s <= 0:
        raise ConfigError(f"separator.window_s={window_s}: must be > 0 (or null: whole file)")
    if hop_s is None:
        hop_s = window_s - min(4.0, window_s / 10)
    if not 0 < hop_s <= window_s:
        raise ConfigError(f"separator.hop_s={hop_s}: use 0 < hop_s <= window_s ({window_s})")

    def q(s: float) -> float:
        return max(2, 2 * round(s * sample_rate / 2)) / sample_rate

    return q(window_s), q(hop_s)


# ----------------------------------------------------------------------------- loading
@heihachi.hookimpl
def register_separators(register: Any) -> None:
    register(DemucsSeparator)
