"""Stems with Demucs (``separator=demucs``): drums, bass, other, vocals (+ guitar, piano).

Models are demucs' own: ``htdemucs`` (default), ``htdemucs_ft``, ``htdemucs_6s``,
``hdemucs_mmi`` by name, or a local demucs repository (a directory holding
``<name>.th`` / ``<sig>.safetensors`` files and optional ``<name>.yaml`` bags).

Where named models come from, in order (nothing touches the network if the
first two find them):

1. a Hugging Face snapshot in the models cache of the repository demucs itself
   loads from (``adefossez/HTDemucs``, ``adefossez/HTDemucs-ft``, ...: a bag
   ``.yaml`` + ``.safetensors``): put there by
   ``python -m heihachi models fetch adefossez/HTDemucs``; safetensors need no pickle;
2. demucs' legacy checkpoints ``<cache>/demucs/<sig>-<sha256 prefix>.th`` (the
   file names of demucs' remote list, e.g. ``955717e8-8726e21a.th``), checked
   against the hash in their name by demucs' ``LocalRepo``;
3. otherwise, unless offline, the hub snapshot is downloaded into the cache,
   falling back to demucs' legacy URLs (``torch.hub``) into ``<cache>/demucs/``.

Safe loading: demucs' ``.th`` checkpoints are pickles of ``{klass, args, kwargs,
state}``, which demucs itself opens with ``torch.load(weights_only=False)`` —
loading one runs whatever code it names. Heihachi opens them with
``weights_only=True`` and allows only demucs' model classes and ``Fraction``; a
checkpoint that needs more is refused unless it is one of demucs' published
files verified by its checksum, or ``separator.trust_checkpoint=true`` is set.
Only use checkpoints from sources you trust.

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
from heihachi.errors import ConfigError, ModelNotFoundError, PluginError
from heihachi.tasks import AudioBatch, StemSeparator

if TYPE_CHECKING:
    import torch

    from heihachi.results import Stems

#: demucs model name -> the Hugging Face repository demucs 4.1 loads it from
PRETRAINED: dict[str, str] = {
    "htdemucs": "adefossez/HTDemucs",
    "htdemucs_ft": "adefossez/HTDemucs-ft",
    "htdemucs_6s": "adefossez/HTDemucs-6s",
    "hdemucs_mmi": "adefossez/Demucs-hdemucs_mmi",
}
TINY_SOURCES = ("drums", "bass", "other", "vocals")


class DemucsError(PluginError):
    """A demucs model could not be loaded (bad repository, unsafe checkpoint)."""


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
    def fetch_model(cls, ref: str, cache_dir: Path) -> Path | None:
        """``models fetch htdemucs`` (or another name in PRETRAINED): download and load once."""
        if ref not in PRETRAINED:
            return None
        load_demucs(ref, None, cache_dir, offline=False)
        return _hub_snapshot(ref, cache_dir, local_only=True) or cache_dir / "demucs"

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


def make_tiny_htdemucs(repo: Path, name: str = "htdemucs") -> Path:
    """A tiny HTDemucs (4 sources, 44.1 kHz stereo, 2 s segment) saved like demucs does."""
    from fractions import Fraction

    import torch
    from demucs.htdemucs import HTDemucs
    from demucs.states import serialize_model
    from omegaconf import OmegaConf

    torch.manual_seed(0)
    model = HTDemucs(sources=list(TINY_SOURCES), audio_channels=2, samplerate=44_100,
                     segment=Fraction(2), channels=4, depth=4, nfft=4096, t_layers=1,
                     t_heads=2, t_hidden_scale=1.0, bottom_channels=0, dconv_depth=1,
                     dconv_comp=2)
    package = serialize_model(model, OmegaConf.create({"tiny": True}), half=False)
    repo.mkdir(parents=True, exist_ok=True)
    path = repo / f"{name}.th"
    tmp = repo / f".tmp-{name}.th"
    torch.save(package, tmp)
    tmp.replace(path)
    return path


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
def _safe_globals() -> list[Any]:
    from fractions import Fraction

    from demucs.demucs import Demucs
    from demucs.hdemucs import HDemucs
    from demucs.htdemucs import HTDemucs

    return [Demucs, HDemucs, HTDemucs, Fraction]


def _official_files() -> dict[str, str]:
    """demucs' published checkpoints: signature -> download URL (from its remote list)."""
    from demucs.pretrained import REMOTE_ROOT, _parse_remote_files

    return _parse_remote_files(REMOTE_ROOT / "files.txt")


def _load_th(path: Path, trusted: bool) -> Any:
    """One pickled demucs checkpoint, through ``demucs.states.load_model``."""
    import pickle
    import warnings

    import torch
    from demucs.states import load_model

    try:
        with torch.serialization.safe_globals(_safe_globals()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            package = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if not trusted:
            first = str(e).strip().splitlines()
            raise DemucsError(
                f"{path}: this demucs checkpoint needs more than weights to unpickle "
                f"({first[-1] if first else e}); it was refused because a pickle can run "
                "code. If you trust its source, set separator.trust_checkpoint=true") from None
        package = str(path)  # demucs' own loader: torch.load(weights_only=False)
    except Exception as e:
        raise DemucsError(f"{path}: cannot read this demucs checkpoint ({e}); delete it and "
                          "fetch it again") from None
    if isinstance(package, dict) and not {"klass", "kwargs", "state"} <= set(package):
        raise DemucsError(f"{path}: not a demucs model package (serialize_model output); "
                          "a bare state dict cannot be loaded without its class and kwargs")
    return load_model(package)


def _load_safetensors(path: Path) -> Any:
    from demucs.hf import load_safetensors_model
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        klass = (f.metadata() or {}).get("klass", "")
    allowed = {f"{c.__module__}.{c.__name__}" for c in _safe_globals()[:3]}
    if klass not in allowed:
        raise DemucsError(f"{path}: model class {klass!r} is not a demucs model "
                          f"({', '.join(sorted(allowed))})")
    return load_safetensors_model(path)


def load_from_repo(repo: Path, name: str, trust: bool = False, verified: bool = False) -> Any:
    """Model or bag ``name`` from a demucs repository directory.

    Uses demucs' own pieces: ``LocalRepo`` finds ``<sig>[-<sha>].th`` files and checks
    their checksums, a ``<name>.yaml`` is a bag (``models``, ``weights``, ``segment``),
    ``demucs.states.load_model`` builds each model. ``.safetensors`` files (demucs'
    Hugging Face layout) load without pickle.
    """
    import yaml
    from demucs.apply import BagOfModels
    from demucs.repo import LocalRepo, ModelLoadingError

    try:
        th_repo = LocalRepo(repo)
    except ModelLoadingError as e:
        raise DemucsError(f"{repo}: {e}") from None

    def single(sig: str) -> Any:
        st = repo / f"{sig}.safetensors"
        if st.is_file():
            return _load_safetensors(st)
        if not th_repo.has_model(sig):
            raise DemucsError(f"{repo}: no model {sig!r} (neither {sig}.th, {sig}-<sha>.th nor "
                              f"{sig}.safetensors)")
        if sig in th_repo._checksums:
            from demucs.repo import check_checksum

            try:
                check_checksum(th_repo._models[sig], th_repo._checksums[sig])
            except ModelLoadingError as e:
                raise DemucsError(f"{e}: the file is corrupt or incomplete; delete it and "
                                  "fetch it again") from None
        # trusted as published only if the name carries the checksum demucs publishes
        url = _official_files().get(sig, "") if verified else ""
        official = bool(url) and Path(th_repo._models[sig]).name == url.rsplit("/", 1)[-1]
        return _load_th(Path(th_repo._models[sig]), trust or official)

    bag_file = repo / f"{name}.yaml"
    if bag_file.is_file():
        bag = yaml.safe_load(bag_file.read_text())
        models = [single(str(sig)) for sig in bag["models"]]
        return BagOfModels(models, bag.get("weights"), bag.get("segment"))
    return single(name)


def _repo_and_name(path: Path, name: str | None) -> tuple[Path, str]:
    """A local model reference -> (repository directory, model or bag name)."""
    if path.is_file():
        stem = path.stem
        if path.suffix == ".th" and "-" in stem:
            stem = stem.rsplit("-", 1)[0]
        return path.parent, name or stem
    if name:
        return path, name
    names = {p.stem for p in path.glob("*.yaml")}
    if not names:
        names = {p.stem.rsplit("-", 1)[0] for p in path.glob("*.th")} | {
            p.stem for p in path.glob("*.safetensors")}
    if path.name in names or (path / f"{path.name}.th").exists():
        return path, path.name
    if len(names) == 1:
        return path, names.pop()
    raise ConfigError(f"{path}: a demucs repository with models {sorted(names) or 'none'}; "
                      "choose one with separator.name=NAME")


def load_demucs(ref: str, name: str | None, cache_dir: Path | None, offline: bool,
                trust: bool = False) -> Any:
    """Resolve ``ref`` (a name or a local repository) and load it (see module docs)."""
    from heihachi.models import default_cache_dir, is_offline

    cache = cache_dir or default_cache_dir()
    for candidate in (Path(ref).expanduser(), cache / ref):
        if candidate.exists():
            repo, model_name = _repo_and_name(candidate, name)
            return load_from_repo(repo, model_name, trust)
    if ref not in PRETRAINED:
        if ref.startswith("tiny/"):
            raise ModelNotFoundError(f"demucs model {ref!r} is not in the models cache {cache}; "
                                     "run `python -m heihachi models make-tiny`")
        raise ConfigError(f"separator.model={ref!r}: not a local path and not a known demucs "
                          f"model ({', '.join(PRETRAINED)})")
    snapshot = _hub_snapshot(ref, cache, local_only=True)
    if snapshot is not None:
        return load_from_repo(snapshot, ref, trust)
    legacy = cache / "demucs"
    if _legacy_complete(ref, legacy):
        return load_from_repo(legacy, ref, trust, verified=True)
    if is_offline(offline):
        raise ModelNotFoundError(_missing_message(ref, cache))
    snapshot = _hub_snapshot(ref, cache, local_only=False)
    if snapshot is not None:
        return load_from_repo(snapshot, ref, trust)
    _fetch_legacy(ref, legacy)
    return load_from_repo(legacy, ref, trust, verified=True)


def _missing_message(ref: str, cache: Path) -> str:
    urls = [_official_files()[sig] for sig in _bag_signatures(ref)]
    return (f"demucs model {ref!r} is not in the models cache {cache} and downloads are off "
            f"(offline mode). Download {' '.join(urls)} into {cache / 'demucs'}/ keeping the "
            f"file names (demucs' published checkpoints, hash-checked on load), or on a machine "
            f"with network run `python -m heihachi models fetch {ref}` with the same "
            "HEIHACHI_MODELS_CACHE, or run once without "
            "models.offline/HF_HUB_OFFLINE to download it")


def _bag_signatures(ref: str) -> list[str]:
    import yaml
    from demucs.pretrained import REMOTE_ROOT

    bag = yaml.safe_load((REMOTE_ROOT / f"{ref}.yaml").read_text())
    return [str(s) for s in bag["models"]]


def _legacy_complete(ref: str, legacy: Path) -> bool:
    """True when every checkpoint of ``ref`` is in ``legacy``; then adds its bag ``.yaml``
    (shipped inside the demucs package) if the files were placed there by hand."""
    import shutil

    from demucs.pretrained import REMOTE_ROOT

    if not all(any(legacy.glob(f"{sig}-*.th")) for sig in _bag_signatures(ref)):
        return False
    if not (legacy / f"{ref}.yaml").is_file():
        shutil.copyfile(REMOTE_ROOT / f"{ref}.yaml", legacy / f"{ref}.yaml")
    return True


def _hub_snapshot(ref: str, cache: Path, local_only: bool) -> Path | None:
    """The cached (or, unless ``local_only``, downloaded) hub snapshot of a named model."""
    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(PRETRAINED[ref], cache_dir=str(cache),
                                      local_files_only=local_only))
    except Exception as e:
        if not local_only:
            print(f"heihachi: {PRETRAINED[ref]} not on the hub ({type(e).__name__}); trying "
                  "demucs' legacy download", file=sys.stderr)
        return None
    return path if (path / f"{ref}.yaml").is_file() else None


def _fetch_legacy(ref: str, legacy: Path) -> None:
    """Download demucs' published checkpoints of ``ref`` into ``legacy`` (hash-checked)."""
    import shutil

    import torch
    from demucs.pretrained import REMOTE_ROOT

    legacy.mkdir(parents=True, exist_ok=True)
    files = _official_files()
    for sig in _bag_signatures(ref):
        url = files[sig]
        fname = url.rsplit("/", 1)[-1]
        dest = legacy / fname
        if dest.exists():
            continue
        tmp = legacy / f".tmp-{fname}"
        try:
            torch.hub.download_url_to_file(url, str(tmp), hash_prefix=fname.split("-")[1][:-3],
                                           progress=True)
        except Exception as e:
            tmp.unlink(missing_ok=True)
            raise ModelNotFoundError(f"could not download demucs model {ref!r} ({url}) into "
                                     f"{legacy}: {e}. Check your network, or place the file "
                                     "there by hand") from None
        tmp.replace(dest)
    shutil.copyfile(REMOTE_ROOT / f"{ref}.yaml", legacy / f"{ref}.yaml")


@heihachi.hookimpl
def register_separators(register: Any) -> None:
    register(DemucsSeparator)
