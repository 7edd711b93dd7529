"""Hydra configuration: compose ``conf/`` with plugin schemas and CLI overrides.

Every registered plugin's ``Config`` dataclass is stored in Hydra's ConfigStore
under its kind (group) and name, so ``extractor=hf extractor.layer=6`` is typed
and validated the same way for built-in and third-party plugins. ``runtime``,
``output`` and ``models`` have dataclass schemas too.

Every value is checked before any work starts, so a bad setting is one line and exit
code 2, never the same error per file: types by the schemas, the framework's ranges
in :func:`_validate`, a plugin's own rules in its ``Config.__post_init__`` (a
``ValueError`` there becomes a :class:`ConfigError`), and the settings many plugins
share by name (:data:`COMMON_RANGES`: windows, tempo range, threshold scale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from heihachi.errors import ConfigError

OVERRIDE_RE = re.compile(r"^[+~]{0,2}[A-Za-z_][\w.\-/@]*=")
PRECISIONS = ("fp32", "fp16", "bf16")


@dataclass
class RuntimeConfig:
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int = 4  # windows per forward pass; CPUs are fastest at 4, GPUs want more
    num_workers: int = 1
    threads: int | None = None  # torch CPU threads per process (None: CPUs - workers)


@dataclass
class OutputConfig:
    dir: str = "heihachi_out"
    formats: list[str] = field(default_factory=lambda: ["json"])
    stems: list[str] | None = None  # separate: keep only these stems (None = all)
    audio_format: str = "wav"  # separate: wav | flac
    audio_subtype: str = "float"  # separate: float (32-bit) | pcm24 | pcm16
    plots_min_s: float = 10.0  # files shorter than this get no plots/timeline (one-shots)


@dataclass
class ModelsConfig:
    cache_dir: str | None = None
    offline: bool = False


@dataclass
class IndexConfig:
    path: str = "heihachi_index"
    embedder: str = "similarity"  # similarity | extractor
    window_s: float | None = None
    hop_s: float | None = None
    kind: str = "auto"  # auto | flat | ivf | hnsw
    nprobe: int = 16
    ef_search: int = 64
    #: index search --audio also tries the query as played at these speeds (DJ pitch)
    query_speeds: list[float] = field(default_factory=lambda: [0.97, 0.985, 1.0, 1.015,
                                                               1.03])


@dataclass
class ProcessConfig:
    """``heihachi process``: which tasks run, and what is written at the end."""

    tasks: list[str] = field(default_factory=lambda: [
        "drums", "beats", "patterns", "sections", "key", "energy"])
    modules: list[str] = field(default_factory=list)  # extra modules registering tasks
    settings: dict[str, Any] = field(default_factory=dict)  # <task>.<key>: task settings
    block_s: float = 4.0  # seconds of audio decoded per block
    report: bool = True  # OUT/report.html
    exports: list[str] = field(default_factory=list)  # collection exports at the end


def conf_dir() -> Path:
    """The shipped ``conf/`` directory (inside the installed package)."""
    return Path(str(resources.files("heihachi.conf")))


def is_override(arg: str) -> bool:
    """``KEY=VALUE`` in Hydra's grammar (and not an existing file path)."""
    return bool(OVERRIDE_RE.match(arg)) and not Path(arg).exists()


def _store_schemas() -> None:
    from hydra.core.config_store import ConfigStore

    from heihachi.registry import get_registry

    cs = ConfigStore.instance()
    cs.store(group="runtime", name="schema", node=RuntimeConfig)
    cs.store(group="output", name="schema", node=OutputConfig)
    cs.store(group="models", name="schema", node=ModelsConfig)
    cs.store(group="index", name="schema", node=IndexConfig)
    cs.store(group="process", name="schema", node=ProcessConfig(settings=_task_settings()))
    for info in get_registry().all():
        cs.store(group=info.kind, name=info.name, node=info.cls.Config)


def _task_settings() -> dict[str, Any]:
    """Every registered process task's default settings (``process.settings.<task>``), so
    ``process.settings.patterns.steps_per_bar=32`` needs no ``+`` and a typo is an error."""
    import sys
    from dataclasses import asdict, is_dataclass

    from heihachi.errors import HeihachiError
    from heihachi.process.registry import task_registry

    try:
        tasks = task_registry()
    except HeihachiError as e:  # `process` itself reports it; other commands go on
        print(f"heihachi: warning: {e}", file=sys.stderr)
        return {}
    out = {}
    for name, cls in sorted(tasks.items()):
        if is_dataclass(cls.Config):
            defaults = asdict(cls.Config())
            if defaults:
                out[name] = defaults
    return out


def _one_line(e: BaseException) -> str:
    """The first line of ``e`` and its causes, without OmegaConf's unfilled templates
    (``Value '$VALUE' of type '$VALUE_TYPE'``) or a cause that repeats its effect."""
    parts: list[str] = []
    while e is not None and len(parts) < 3:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if msg and "$VALUE" not in msg and not any(msg in p for p in parts):
            parts.append(msg)
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
    return ": ".join(parts)


_MISSING_OPTION = re.compile(r"Could not find '([\w\-]+)/([^']*)'")


def _unknown_option(e: BaseException) -> str | None:
    """``extractor=nosuch`` -> a message naming the installed choices, else None."""
    m = _MISSING_OPTION.search(str(e))
    if m is None:
        return None
    group, name = m[1], m[2]
    from heihachi.registry import get_registry
    from heihachi.tasks import KINDS

    if group in KINDS:
        choices = get_registry().names(group)
        return (f"no {group} plugin named {name!r} (available: "
                f"{', '.join(choices) or 'none installed'}; see `python -m heihachi plugins`)")
    folder = conf_dir() / group
    choices = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    return f"{group}={name!r} is not a {group} config (available: {', '.join(choices)})"


def compose(overrides: list[str], config_dirs: list[str] | None = None,
            config_name: str = "config") -> tuple[Any, dict]:
    """Compose the config; returns ``(cfg, choices)`` where choices maps group -> option.

    ``config_name`` picks the primary config (``config``, or a named one such as
    ``performance`` or ``mix``, from ``conf/`` or a ``config_dirs`` directory).

    Raises:
        ConfigError: a wrong key, type, value or plugin name (one line).
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    _store_schemas()
    GlobalHydra.instance().clear()
    overrides = list(overrides)
    primary = conf_dir()
    dirs = [Path(d).absolute() for d in config_dirs or []]
    if not (primary / f"{config_name}.yaml").is_file():
        # a named config in a user directory: that directory is the primary one and the
        # built-in conf/ is searched after it (its `- config` default and groups)
        owner = next((d for d in dirs if (d / f"{config_name}.yaml").is_file()), None)
        if owner is not None:
            dirs = [d for d in dirs if d != owner] + [primary]
            primary = owner
    if dirs:
        extra = ",".join(f"file://{d}" for d in dirs)
        overrides.append(f"hydra.searchpath=[{extra}]")
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(primary),
                                   job_name="heihachi"):
            cfg = hydra_compose(config_name, overrides=overrides, return_hydra_config=True)
    except Exception as e:
        raise ConfigError(f"invalid configuration: {_unknown_option(e) or _one_line(e)}"
                          ) from None
    finally:
        GlobalHydra.instance().clear()
    choices = dict(OmegaConf.to_container(cfg.hydra.runtime.choices))
    with_flag = OmegaConf.to_container(cfg, resolve=False)
    with_flag.pop("hydra", None)
    cfg = OmegaConf.create(with_flag)
    _validate(cfg)
    return cfg, choices


def _validate(cfg: Any) -> None:
    rt = cfg.runtime
    if rt.precision not in PRECISIONS:
        raise ConfigError(f"runtime.precision={rt.precision!r}: choose one of "
                          f"{', '.join(PRECISIONS)}")
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", rt.device):
        raise ConfigError(f"runtime.device={rt.device!r}: use auto, cpu, cuda, cuda:N or mps")
    if rt.batch_size < 1:
        raise ConfigError(f"runtime.batch_size={rt.batch_size}: must be >= 1")
    from heihachi.export import AUDIO_WRITERS, WRITERS

    known = {*WRITERS, *AUDIO_WRITERS}
    unknown = [f for f in cfg.output.formats if f != "json" and f not in known]
    if unknown:
        raise ConfigError(f"output.formats: unknown {', '.join(unknown)}; choose from json, "
                          f"{', '.join(sorted(known))}")
    if cfg.index.embedder not in ("similarity", "extractor"):
        raise ConfigError(f"index.embedder={cfg.index.embedder!r}: use similarity or extractor")
    if rt.num_workers < 0:
        raise ConfigError(f"runtime.num_workers={rt.num_workers}: must be >= 0")
    if cfg.output.plots_min_s < 0:
        raise ConfigError(f"output.plots_min_s={cfg.output.plots_min_s}: must be >= 0 "
                          "(0: plots and timeline for every file)")
    if rt.threads is not None and rt.threads < 1:
        raise ConfigError(f"runtime.threads={rt.threads}: must be >= 1 (or null: automatic)")
    ix = cfg.index
    _check_windows("index", ix.window_s, ix.hop_s)
    for key in ("nprobe", "ef_search"):
        if ix[key] < 1:
            raise ConfigError(f"index.{key}={ix[key]}: must be >= 1")
    if not ix.query_speeds or any(not 0.5 <= s <= 2.0 for s in ix.query_speeds):
        raise ConfigError(f"index.query_speeds={list(ix.query_speeds)}: give speeds between "
                          "0.5 and 2 ([1.0]: the query as it is)")
    if ix.kind not in ("auto", "flat", "ivf", "hnsw"):
        raise ConfigError(f"index.kind={ix.kind!r}: use auto, flat, ivf or hnsw")


def _check_windows(kind: str, window_s: Any, hop_s: Any) -> None:
    """``window_s`` > 0 and 0 < ``hop_s`` <= ``window_s`` (a longer hop leaves gaps)."""
    if window_s is not None and not window_s > 0:
        raise ConfigError(f"{kind}.window_s={window_s}: must be > 0 (or null: the whole file "
                          "or the plugin's own window)")
    if hop_s is not None and not hop_s > 0:
        raise ConfigError(f"{kind}.hop_s={hop_s}: must be > 0")
    if window_s is not None and hop_s is not None and hop_s > window_s:
        raise ConfigError(f"{kind}.hop_s={hop_s} > {kind}.window_s={window_s}: a hop longer "
                          "than the window skips audio between windows; use hop_s <= window_s")


#: Settings many plugins share, range-checked by name in every plugin's Config:
#: name -> (lowest allowed or None, highest allowed or None, is the lowest excluded)
COMMON_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "min_bpm": (0.0, 1000.0, True),
    "max_bpm": (0.0, 1000.0, True),
    "threshold_scale": (0.0, None, True),
}


def check_plugin_config(kind: str, config_cls: type, values: Any) -> Any:
    """The typed ``config_cls`` object of ``values``, checked: types (OmegaConf), the
    plugin's ``__post_init__`` and :data:`COMMON_RANGES`.

    Raises:
        ConfigError: one line naming the setting (``drums.min_bpm=300: ...``).
    """
    from omegaconf import OmegaConf

    try:
        obj = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(config_cls), values))
    except Exception as e:
        raise ConfigError(f"{kind}: {_one_line(e)}") from None
    get = obj.get if isinstance(obj, dict) else lambda k, d=None: getattr(obj, k, d)
    for key, (low, high, open_low) in COMMON_RANGES.items():
        value = get(key)
        if value is None:
            continue
        if low is not None and (value <= low if open_low else value < low):
            raise ConfigError(f"{kind}.{key}={value}: must be > {low:g}")
        if high is not None and value > high:
            raise ConfigError(f"{kind}.{key}={value}: must be <= {high:g}")
    lo, hi = get("min_bpm"), get("max_bpm")
    if lo is not None and hi is not None and lo >= hi:
        raise ConfigError(f"{kind}.min_bpm={lo} must be below {kind}.max_bpm={hi}")
    _check_windows(kind, get("window_s"), get("hop_s"))
    return obj


def plugin_config(cfg: Any, kind: str, choices: dict, user_overrides: list[str]) -> tuple[str, Any]:
    """The chosen plugin name for ``kind`` and its typed config object.

    Applies the profile's model (``profile=tiny``) unless ``<kind>.model`` was
    given on the command line.
    """
    from omegaconf import OmegaConf

    from heihachi.registry import get_registry

    name = choices.get(kind)
    if not name or cfg.get(kind) is None:
        available = ", ".join(get_registry().names(kind)) or "none installed"
        raise ConfigError(f"no {kind} plugin chosen: add `{kind}=NAME` "
                          f"(available: {available})")
    info = get_registry().get(kind, name)
    node = cfg[kind]
    explicit = any(o.split("=", 1)[0].lstrip("+~") == f"{kind}.model" for o in user_overrides)
    profile_model = OmegaConf.select(cfg, f"profile.models.{kind}.{name}")
    if cfg.profile.name == "tiny" and profile_model is None:
        profile_model = getattr(info.cls, "tiny_model", None)
    if profile_model is not None and not explicit and "model" in node:
        node.model = profile_model
    return name, check_plugin_config(kind, info.cls.Config, node)
