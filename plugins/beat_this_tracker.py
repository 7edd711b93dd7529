"""Beat and downbeat tracking with Beat This! (Foscarin, Schlüter & Widmer, ISMIR 2024).

Wraps the ``beat-this`` package (MIT): its ``BeatThis`` transformer, its log-mel
front end and its minimal postprocessor, fed in batches by the Heihachi runtime.

Checkpoints are named as in beat-this (``final0``, ``small0``, ``single_final0``,
``fold0`` ...) or given as a path to a ``.ckpt`` file. Names are downloaded from
the authors' server (the URL beat-this itself uses) into the models cache as
``<cache>/beat_this/<name>.ckpt`` -- not into torch.hub's cache, so one
``HEIHACHI_MODELS_CACHE`` holds every weight Heihachi uses. A checkpoint already in
torch.hub's cache (``beat_this-<name>.ckpt``, where ``beat_this`` puts it) is used
as is. Offline, a missing checkpoint raises :class:`ModelNotFoundError`.

Windows: the model sees 30 s chunks (1500 frames at 50 fps) and the package
splits longer input into chunks overlapping by 6 frames, keeping the first
chunk's prediction in overlaps. That is exactly what runs here, per file, on the
whole file (``window_s=None``): beat this works best with the whole piece, and
one file's audio at 22050 Hz mono is small (10 min = 53 MB). The chunks of every
file in a runtime batch go through the model together, grouped by length so no
chunk ever sees zero padding (results do not depend on batch composition).
``beats.window_s``/``beats.hop_s`` cut very long files (DJ mixes of hours) into
runtime windows instead; use a hop at least 10 s shorter than the window so each
window's edges, where the model lacks context, fall in the overlap the runtime
discards.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import heihachi
from heihachi.errors import ConfigError, ModelNotFoundError, PluginError
from heihachi.tasks import AudioBatch, BeatTracker

#: Where beat-this downloads its named checkpoints from (``beat_this.inference``).
CHECKPOINT_URL = "https://cloud.cp.jku.at/public.php/dav/files/7ik4RrBKTS273gp"
FPS = 50
CHUNK_FRAMES = 1500  # the training excerpt length of every released checkpoint
BORDER_FRAMES = 6  # frames the model was not trained on at each chunk edge
MIN_SAMPLES = 1024  # one STFT frame (n_fft); shorter windows give no beats


def checkpoint_path(ref: str, cache_dir: Path, offline: bool) -> Path:
    """The local ``.ckpt`` file for ``ref`` (a path or a beat-this checkpoint name).

    Looks for: an existing path; a path under the models cache
    (``tiny/beat_this.ckpt``); ``<cache>/beat_this/<name>.ckpt``; torch.hub's copy
    ``beat_this-<name>.ckpt``; else downloads ``<CHECKPOINT_URL>/<name>.ckpt`` into
    ``<cache>/beat_this/`` unless offline.

    Raises:
        ModelNotFoundError: not found and offline, the download failed, or a path
            (anything with a ``/`` or a ``.ckpt`` suffix) does not exist.
    """
    local = Path(ref).expanduser()
    if local.is_file():
        return local
    if (cache_dir / ref).is_file():
        return cache_dir / ref
    if "/" in ref or os.sep in ref or ref.endswith(".ckpt"):
        hint = ("run `python -m heihachi models make-tiny` to build the tiny test models"
                if ref.startswith("tiny/") else "give an existing .ckpt file or a checkpoint "
                "name such as final0 or small0")
        raise ModelNotFoundError(f"beat_this checkpoint {ref!r} not found (looked at {local} "
                                 f"and {cache_dir / ref}); {hint}")
    dest = cache_dir / "beat_this" / f"{ref}.ckpt"
    if dest.is_file():
        return dest
    import torch

    hub_copy = Path(torch.hub.get_dir()) / "checkpoints" / f"beat_this-{ref}.ckpt"
    if hub_copy.is_file():
        return hub_copy
    url = f"{CHECKPOINT_URL}/{ref}.ckpt"
    from heihachi.models import is_offline

    if is_offline(offline):
        raise ModelNotFoundError(
            f"beat_this checkpoint {ref!r} is not in the models cache (expected {dest}) and "
            "downloads are off (offline mode). On a machine with network run "
            f"`python -m heihachi hf beats SOME_AUDIO_DIR beats=beat_this beats.model={ref}` "
            f"once with the same HEIHACHI_MODELS_CACHE (`python -m heihachi models fetch {ref}`), "
            f"or download {url} to {dest}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(f".ckpt.part{os.getpid()}")
    try:
        torch.hub.download_url_to_file(url, str(tmp), progress=True)
        tmp.replace(dest)
    except Exception as e:
        tmp.unlink(missing_ok=True)
        raise ModelNotFoundError(
            f"could not download beat_this checkpoint {ref!r} from {url} into {dest}: {e}. "
            "Check the name (final0, small0, single_final0, fold0 ...), your network, or "
            "pass a path to a .ckpt file") from None
    return dest


def load_beat_this(path: Path, device: Any = "cpu") -> Any:
    """Build a ``BeatThis`` from a checkpoint file, as ``beat_this.inference.load_model`` does.

    The file is a Lightning checkpoint: ``hyper_parameters`` (those of ``PLBeatThis``,
    a superset of the model's) and ``state_dict`` with the model's keys under
    ``model.``. It is read with ``weights_only=True``: no pickled code runs.
    """
    import torch
    from beat_this.model.beat_tracker import BeatThis

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        hparams = dict(ckpt["hyper_parameters"])
        state = ckpt["state_dict"]
    except Exception as e:
        raise PluginError(f"{path}: not a usable beat_this checkpoint ({type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}); delete it and fetch "
                          "it again, or give another checkpoint") from None
    accepted = set(inspect.signature(BeatThis).parameters)
    model = BeatThis(**{k: v for k, v in hparams.items() if k in accepted})
    if any(k.startswith("model.") for k in state):  # Lightning: drop losses, strip prefix
        state = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise PluginError(f"{path}: weights do not fit the BeatThis model its hyper_parameters "
                          f"describe: {str(e).splitlines()[0]}") from None
    return model.to(device).eval()


class BeatThisTracker(BeatTracker):
    """Beats and downbeats from Beat This! (transformer, no DBN needed; MIT)."""

    name = "beat_this"
    sample_rate = 22_050
    channels = 1
    window_s = None
    hop_s = None
    default_model = "final0"
    tiny_model: ClassVar[str] = "tiny/beat_this.ckpt"

    @classmethod
    def verify_model(cls, path: Path) -> list[str] | None:
        """A beat_this ``.ckpt`` file (or a folder of them), built as ``load()`` builds it."""
        files = [path] if path.is_file() else sorted(path.glob("*.ckpt"))
        files = [f for f in files if f.suffix == ".ckpt"]
        if not files:
            return None
        problems = []
        for f in files:
            try:
                load_beat_this(f)
            except Exception as e:
                problems.append(str(e).strip().splitlines()[0] if str(e).strip()
                                else f"{f}: {type(e).__name__}")
        return problems

    @dataclass
    class Config:
        model: str = "final0"  # checkpoint name (final0, small0, ...) or path to a .ckpt
        dbn: bool = False  # madmom's DBN postprocessor instead of the minimal one
        window_s: float | None = None  # None: whole files (see module docs)
        hop_s: float | None = None
        chunks_per_forward: int = 8  # 30 s chunks per model call (memory bound)

    @classmethod
    def fetch_model(cls, ref: str, cache_dir: Path) -> Path | None:
        """``models fetch final0`` (or small0, fold3, ...): download into the cache."""
        import re

        if not re.fullmatch(r"(final|small|single_final|fold|small_fold|single_fold)\d+", ref):
            return None
        return checkpoint_path(ref, cache_dir, offline=False)

    def load(self) -> None:
        import torch  # noqa: F401  (fail here, not mid-batch, if torch is missing)
        from beat_this.model.postprocessor import Postprocessor
        from beat_this.preprocessing import LogMelSpect

        from heihachi.models import default_cache_dir

        cfg = self.config
        if cfg.dbn:
            try:
                import madmom  # noqa: F401
            except ImportError:
                raise ConfigError(
                    "beats.dbn=true needs madmom's DBN, and madmom is not installed (its PyPI "
                    "release 0.16.1 does not build on Python >= 3.10); use beats.dbn=false, "
                    "the minimal postprocessor Beat This! was designed for") from None
        if cfg.chunks_per_forward < 1:
            raise ConfigError(f"beats.chunks_per_forward={cfg.chunks_per_forward}: must be >= 1")
        win, hop = self.window()
        if win is not None and (win < 30.0 or (hop is not None and not 0 < hop <= win)):
            raise ConfigError(f"beats.window_s={win}, beats.hop_s={hop}: use window_s=null "
                              "(whole files) or window_s >= 30 with 0 < hop_s <= window_s")
        cache = self.cache_dir or default_cache_dir()
        path = checkpoint_path(str(cfg.model), Path(cache), self.offline)
        self.model = load_beat_this(path, self.device)
        self.spect = LogMelSpect(sample_rate=self.sample_rate, device=self.device)
        self.postprocess = Postprocessor(type="dbn" if cfg.dbn else "minimal", fps=FPS)

    def window(self) -> tuple[float | None, float | None]:
        cfg = self.config
        return getattr(cfg, "window_s", None), getattr(cfg, "hop_s", None)

    def track(self, batch: AudioBatch) -> list[Any]:
        import torch
        from beat_this.inference import aggregate_prediction, split_piece

        from heihachi.results import Beats

        spects = [self.spect(x.float()) if len(x) >= MIN_SAMPLES else None
                  for x in batch.unpadded()]
        # every chunk of every row: (row, chunk index, tensor [frames, 128])
        chunks: list[tuple[int, int, torch.Tensor]] = []
        starts: dict[int, Any] = {}
        for row, spect in enumerate(spects):
            if spect is None:
                continue
            pieces, starts[row] = split_piece(spect, CHUNK_FRAMES, BORDER_FRAMES,
                                              avoid_short_end=True)
            chunks.extend((row, k, piece) for k, piece in enumerate(pieces))
        preds = self._predict(chunks)
        out = []
        for row, spect in enumerate(spects):
            if spect is None:
                out.append(Beats(beats=[], downbeats=[]))
                continue
            parts = [preds[(row, k)] for k in range(len(starts[row]))]
            beat, downbeat = aggregate_prediction(parts, starts[row], len(spect), CHUNK_FRAMES,
                                                  BORDER_FRAMES, "keep_first", spect.device)
            beats, downbeats = self.postprocess(beat.float(), downbeat.float())
            frames = torch.as_tensor(beats * FPS).round().long().clamp(0, len(beat) - 1)
            conf = float(beat.float()[frames.to(beat.device)].sigmoid().mean()) \
                if len(beats) else None
            out.append(Beats(beats=beats, downbeats=downbeats, confidence=conf))
        return out

    def _predict(self, chunks: list[tuple[int, int, Any]]) -> dict[tuple[int, int], dict]:
        """Run the model on all chunks, equal lengths together; -> {(row, k): logits}."""
        import torch

        by_len: dict[int, list[tuple[int, int, torch.Tensor]]] = {}
        for item in chunks:
            by_len.setdefault(item[2].shape[0], []).append(item)
        preds: dict[tuple[int, int], dict] = {}
        step = self.config.chunks_per_forward
        for group in by_len.values():
            for i in range(0, len(group), step):
                part = group[i:i + step]
                out = self.model(torch.stack([c[2] for c in part]))
                for j, (row, k, _c) in enumerate(part):
                    preds[(row, k)] = {"beat": out["beat"][j].float(),
                                       "downbeat": out["downbeat"][j].float()}
        return preds

    @classmethod
    def make_tiny(cls, cache_dir: Path) -> list[Path]:
        """Write a tiny random-weight BeatThis as a real-format checkpoint: tiny/beat_this.ckpt."""
        import torch
        from beat_this.model.beat_tracker import BeatThis

        torch.manual_seed(0)
        hparams = dict(spect_dim=128, fps=FPS, transformer_dim=32, ff_mult=2, n_layers=1,
                       stem_dim=8, head_dim=8, dropout={"frontend": 0.1, "transformer": 0.2},
                       lr=0.0008, weight_decay=0.01, pos_weights={"beat": 1, "downbeat": 1},
                       loss_type="shift_tolerant_weighted_bce", warmup_steps=1000,
                       max_epochs=100, use_dbn=False, eval_trim_beats=5, sum_head=True,
                       partial_transformers=True)
        accepted = set(inspect.signature(BeatThis).parameters)
        model = BeatThis(**{k: v for k, v in hparams.items() if k in accepted}).eval()
        # Random weights give logits near -0.1 everywhere (no beats at all); scale and
        # centre the output layer so the tiny model marks some frames, which the tests need.
        head = model.task_heads.beat_downbeat_lin
        with torch.no_grad():
            head.weight.mul_(10.0)
            head.bias.zero_()
            logits = model(torch.randn(1, 200, 128) + 4.0)
            head.bias.sub_(torch.stack([logits["beat"].mean() - logits["downbeat"].mean(),
                                        logits["downbeat"].mean()]))
        # like PLBeatThis's state_dict: the model's weights under "model."
        state = {f"model.{k}": v for k, v in model.state_dict().items()}
        out = cache_dir / cls.tiny_model
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".ckpt.tmp")
        torch.save({"state_dict": state, "hyper_parameters": hparams,
                    "pytorch-lightning_version": "2.4.0"}, tmp)
        tmp.replace(out)
        return [out]


@heihachi.hookimpl
def register_beat_trackers(register: Any) -> None:
    register(BeatThisTracker)
