"""Finding and safely loading Demucs checkpoints (used by :mod:`.demucs_separator`).

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
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from heihachi.errors import ConfigError, ModelNotFoundError, PluginError

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


def verify_repo(path: Path) -> list[str] | None:
    """Problems loading each model of a demucs repository (or ``.th`` file) with the
    loader ``hf separate`` uses; None when ``path`` holds no demucs checkpoint."""
    if path.is_file():
        if path.suffix != ".th":
            return None
        repo, names = path.parent, [_repo_and_name(path, None)[1]]
    else:
        bags = sorted(p.stem for p in path.glob("*.yaml"))
        singles = sorted({p.stem.rsplit("-", 1)[0] if "-" in p.stem else p.stem
                          for p in path.glob("*.th")})
        if not bags and not singles:
            return None
        repo, names = path, bags or singles
    problems = []
    for name in names:
        try:
            load_from_repo(repo, name)
        except Exception as e:
            problems.append(str(e).strip().splitlines()[0] if str(e).strip()
                            else f"{repo / name}: {type(e).__name__}")
    return problems


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
    snapshot = hub_snapshot(ref, cache, local_only=True)
    if snapshot is not None:
        return load_from_repo(snapshot, ref, trust)
    legacy = cache / "demucs"
    if _legacy_complete(ref, legacy):
        return load_from_repo(legacy, ref, trust, verified=True)
    if is_offline(offline):
        raise ModelNotFoundError(_missing_message(ref, cache))
    snapshot = hub_snapshot(ref, cache, local_only=False)
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


def hub_snapshot(ref: str, cache: Path, local_only: bool) -> Path | None:
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
