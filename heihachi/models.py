"""Model resolution: a hub id or a local path -> a directory of weights on disk.

Order of lookup, so a cached model never waits on the network:
1. an existing local path (absolute, or relative to the working directory);
2. a path under the models cache (``tiny/wav2vec2``, ``heihachi/drumnet-v1``); the
   project's own models (``heihachi/...``) are also found where they ship (the
   checkout's ``models_cache/``, or ``heihachi/shipped_models/`` of a wheel install),
   whatever cache ``HEIHACHI_MODELS_CACHE`` names;
3. the hub snapshot already in the cache (``local_files_only``);
4. a download into the cache, unless offline (``HF_HUB_OFFLINE=1`` or
   ``models.offline=true``): then a :class:`ModelNotFoundError` that names the
   id, the cache path and the command that fetches it.

The cache is ``$HEIHACHI_MODELS_CACHE``, else ``models.cache_dir`` from the
config, else ``models_cache/`` of a source checkout, else
``~/.cache/heihachi/models``.
"""

from __future__ import annotations

import os
from pathlib import Path

from heihachi.errors import ModelNotFoundError

_REPO_CACHE = Path(__file__).resolve().parent.parent / "models_cache"
#: Where a wheel install carries the project's own models (``models_cache/heihachi/``).
_WHEEL_MODELS = Path(__file__).resolve().parent / "shipped_models"


def shipped_model(ref: str) -> Path | None:
    """The project's own model ``heihachi/NAME`` as shipped: in the source checkout's
    ``models_cache/`` or inside the installed wheel; None when neither holds it."""
    if not ref.startswith("heihachi/"):
        return None
    for path in (_REPO_CACHE / ref, _WHEEL_MODELS / ref.removeprefix("heihachi/")):
        if path.exists():
            return path
    return None


def default_cache_dir(configured: str | os.PathLike | None = None) -> Path:
    """The models cache directory (see module docs for the precedence)."""
    env = os.environ.get("HEIHACHI_MODELS_CACHE")
    if env:
        return Path(env).expanduser()
    if configured:
        return Path(configured).expanduser()
    if _REPO_CACHE.is_dir():
        return _REPO_CACHE
    return Path.home() / ".cache" / "heihachi" / "models"


def is_local_path(ref: str) -> bool:
    """A model reference that can only mean a local path, not a hub id (``owner/name``):
    absolute, ``~``, ``./`` or ``../``, or more than one ``/``."""
    return (Path(ref).is_absolute() or ref.startswith(("~", "./", "../", ".\\"))
            or ref.count("/") > 1)


def is_offline(configured: bool = False) -> bool:
    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return configured or flag in ("1", "true", "yes", "on")


def resolve(ref: str, cache_dir: Path | None = None, offline: bool = False,
            revision: str | None = None) -> Path:
    """Return the local directory (or file) holding model ``ref``.

    Raises:
        ModelNotFoundError: not local, not cached and cannot be downloaded.
    """
    cache = cache_dir or default_cache_dir()
    local = Path(ref).expanduser()
    if local.exists():
        return local
    if is_local_path(ref):
        raise ModelNotFoundError(f"model path {ref!r} does not exist: give an existing local "
                                 "directory or file, or a hub id (owner/name)")
    under_cache = cache / ref
    if under_cache.exists():
        return under_cache
    shipped = shipped_model(ref)
    if shipped is not None:
        return shipped  # shipped with the project (checkout or wheel)
    if ref.startswith(("tiny/", "heihachi/")):
        raise ModelNotFoundError(
            f"model {ref!r} is not in the models cache {cache}; "
            + ("run `python -m heihachi models make-tiny` to build the tiny test models"
               if ref.startswith("tiny/") else "check the name or give a path"))
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(ref, cache_dir=str(cache), revision=revision,
                                      local_files_only=True))
    except Exception:
        pass  # not cached yet: fall through to the download
    if is_offline(offline):
        raise ModelNotFoundError(
            f"model {ref!r} is not in the models cache {cache} and downloads are off "
            f"(offline mode); on a machine with network run "
            f"`python -m heihachi models fetch {ref}` (with the same HEIHACHI_MODELS_CACHE), "
            "or pass a local path")
    try:
        return Path(snapshot_download(ref, cache_dir=str(cache), revision=revision))
    except Exception as e:
        raise ModelNotFoundError(
            f"could not download model {ref!r} into {cache}: {e}. Check the id, your "
            "network, or pass a local path") from None


def list_cached(cache_dir: Path | None = None) -> list[dict[str, str]]:
    """Models in the cache: hub snapshots and local model directories."""
    cache = cache_dir or default_cache_dir()
    rows: list[dict[str, str]] = []
    if not cache.is_dir():
        return rows
    for child in sorted(cache.iterdir()):
        if child.name.startswith("models--"):
            repo = child.name[len("models--"):].replace("--", "/")
            snaps = sorted((child / "snapshots").glob("*")) if (child / "snapshots").is_dir() \
                else []
            rows.append({"id": repo, "kind": "hub", "path": str(snaps[-1] if snaps else child),
                         "size": _human(_size(child))})
        elif child.is_dir() and not child.name.startswith("."):
            for model in sorted(child.iterdir()):
                if model.name.startswith(".") or not (
                        model.is_dir() or model.suffix in WEIGHT_SUFFIXES):
                    continue  # a model is a folder, or one weights file (tiny/beat_this.ckpt)
                rows.append({"id": f"{child.name}/{model.name}", "kind": "local",
                             "path": str(model), "size": _human(_size(model))})
    return rows


WEIGHT_SUFFIXES = (".safetensors", ".th", ".pt", ".ckpt", ".bin")


def verify(path: Path) -> list[str]:
    """Check the weight files at ``path`` load safely; returns a list of problems.

    The generic check (safetensors, ``torch.load(weights_only=True)``); ``models
    verify`` asks each plugin's own loader first (``Plugin.verify_model``).
    """
    problems = []
    files = [path] if path.is_file() else list(path.rglob("*"))
    weight_files = [p for p in files if p.is_file() and p.suffix in WEIGHT_SUFFIXES]
    if not weight_files:
        problems.append(f"{path}: no weight files")
    for wf in weight_files:
        try:
            if wf.suffix == ".safetensors":
                from safetensors import safe_open

                with safe_open(str(wf), framework="pt") as f:
                    list(f.keys())
            else:
                import torch

                torch.load(wf, map_location="cpu", weights_only=True)
        except Exception as e:
            problems.append(f"{wf}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    for cfg in path.rglob("config.json"):
        import json

        try:
            json.loads(cfg.read_text())
        except ValueError as e:
            problems.append(f"{cfg}: invalid JSON ({e})")
    return problems


def _size(p: Path) -> int:
    if p.is_file():
        return p.stat().st_size
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink()) \
        + sum(f.resolve().stat().st_size for f in p.rglob("*") if f.is_symlink()
              and f.resolve().is_file())


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
