"""The plugin registry: built-ins and entry-point plugins through the same hooks.

Built-in plugin modules (``heihachi.plugins.*``) and third-party modules named
by entry points in the ``heihachi`` group are registered with one pluggy
``PluginManager``; then every ``register_*`` hook is called with a ``register``
callback that records plugin classes by kind and name. A module that fails to
import, or a hook that raises, produces one warning naming it and the rest load
(``HEIHACHI_STRICT_PLUGINS=1`` turns that into an error). ``HEIHACHI_LOAD_PLUGINS``
(a comma list of entry point or distribution names; empty = none) chooses which
entry points load; built-ins always do.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata as md
import os
import sys
from dataclasses import dataclass
from typing import Any

import pluggy

from heihachi import hookspecs
from heihachi.errors import ConfigError, PluginError
from heihachi.tasks import KINDS, Plugin

ENTRY_POINT_GROUP = "heihachi"

#: Built-in plugin modules under ``heihachi.plugins``, registered like third-party ones.
BUILTIN_MODULES: tuple[str, ...] = (
    "heihachi.plugins.hf_extractor",
    "heihachi.plugins.spectral",
    "heihachi.plugins.beat_this_tracker",
    "heihachi.plugins.hf_drum_classifier",
    "heihachi.plugins.drumnet_tasks",
    "heihachi.plugins.drumnet_online",
    "heihachi.plugins.madmom_beats",
    "heihachi.plugins.clap",
    "heihachi.plugins.hf_captioner",
    "heihachi.plugins.demucs_separator",
    "heihachi.plugins.music_dsp",
)

_HOOK_TO_KIND = {hook: kind for kind, (_b, _m, hook, _c) in KINDS.items()}


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin class and where it came from."""

    kind: str
    name: str
    cls: type[Plugin]
    package: str
    version: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "package": self.package,
                "version": self.version, "class": f"{self.cls.__module__}.{self.cls.__qualname__}",
                "default_model": self.cls.default_model,
                "sample_rate": self.cls.sample_rate, "channels": self.cls.channels,
                "window_s": self.cls.window_s,
                "description": (self.cls.__doc__ or "").strip().splitlines()[0]
                if self.cls.__doc__ else ""}


def _strict() -> bool:
    return os.environ.get("HEIHACHI_STRICT_PLUGINS", "").strip() not in ("", "0", "false")


def _warn(message: str, skip: str = "skipping it") -> None:
    """A plugin failed: a warning (and ``skip`` says what happens), or with
    HEIHACHI_STRICT_PLUGINS an error that stops the run."""
    if _strict():
        raise PluginError(f"{message} (an error because HEIHACHI_STRICT_PLUGINS is set)")
    print(f"heihachi: warning: {message}; {skip}", file=sys.stderr)


class PluginRegistry:
    """All plugin classes, by kind and name."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("heihachi")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, dict[str, PluginInfo]] = {k: {} for k in KINDS}
        self._sources: dict[str, tuple[str, str]] = {}  # module name -> (package, version)
        self._collected = False

    # -- loading -------------------------------------------------------------------------
    def load_builtins(self) -> None:
        from heihachi import __version__

        for modname in BUILTIN_MODULES:
            try:
                module = importlib.import_module(modname)
            except Exception as e:
                _warn(f"built-in plugin module {modname} failed to import: {e}",
                      "its plugins are not available")
                continue
            self.add_module(module, "heihachi", __version__)

    def load_entry_points(self) -> None:
        wanted = os.environ.get("HEIHACHI_LOAD_PLUGINS")
        allow = None if wanted is None else {w.strip() for w in wanted.split(",") if w.strip()}
        for ep in md.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist else "?"
            if allow is not None and ep.name not in allow and dist not in allow:
                continue
            try:
                module = ep.load()
            except Exception as e:
                _warn(f"plugin {ep.name!r} (package {dist}) failed to load: "
                      f"{type(e).__name__}: {e}")
                continue
            self.add_module(module, dist, ep.dist.version if ep.dist else "?", name=ep.name)

    def add_module(self, module: Any, package: str, version: str,
                   name: str | None = None) -> None:
        """Register a module (or any object) carrying ``@hookimpl`` functions."""
        if self.pm.is_registered(module):
            return
        registered = self.pm.register(module, name=name or getattr(module, "__name__", None))
        self._sources[registered or repr(module)] = (package, version)
        self._collected = False

    def remove_module(self, module: Any) -> None:
        self.pm.unregister(module)
        self._collected = False

    # -- collecting ----------------------------------------------------------------------
    def collect(self) -> None:
        """Call every ``register_*`` hookimpl, isolating failures per plugin."""
        self.plugins = {k: {} for k in KINDS}
        for hook_name, kind in _HOOK_TO_KIND.items():
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                package, version = self._sources.get(impl.plugin_name, (impl.plugin_name, "?"))

                def register(cls: type, _kind: str = kind, _pkg: str = package,
                             _ver: str = version, _src: str = impl.plugin_name) -> None:
                    self._register_class(_kind, cls, _pkg, _ver, _src)

                try:
                    impl.function(register=register)
                except Exception as e:
                    _warn(f"plugin {impl.plugin_name!r}: {hook_name} failed: "
                          f"{type(e).__name__}: {e}")
        self._collected = True

    def _register_class(self, kind: str, cls: type, package: str, version: str,
                        source: str) -> None:
        base = KINDS[kind][0]
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(f"{source}: {cls!r} registered as {kind} must subclass "
                              f"heihachi.tasks.{base.__name__}")
        if not cls.name:
            raise PluginError(f"{source}: {cls.__qualname__} has no `name`")
        if not dataclasses.is_dataclass(cls.Config):
            raise PluginError(f"{source}: {cls.__qualname__}.Config must be a @dataclass")
        previous = self.plugins[kind].get(cls.name)
        if previous is not None and previous.cls is not cls:
            print(f"heihachi: warning: {kind} plugin {cls.name!r} from {package} replaces the "
                  f"one from {previous.package}", file=sys.stderr)
        self.plugins[kind][cls.name] = PluginInfo(kind, cls.name, cls, package, version)

    # -- lookup --------------------------------------------------------------------------
    def all(self) -> list[PluginInfo]:
        if not self._collected:
            self.collect()
        return [info for kind in KINDS for info in self.plugins[kind].values()]

    def names(self, kind: str) -> list[str]:
        if not self._collected:
            self.collect()
        return sorted(self.plugins[kind])

    def get(self, kind: str, name: str) -> PluginInfo:
        if not self._collected:
            self.collect()
        try:
            return self.plugins[kind][name]
        except KeyError:
            available = ", ".join(self.names(kind)) or "none installed"
            raise ConfigError(f"no {kind} plugin named {name!r} (available: {available}; "
                              "see `python -m heihachi plugins`)") from None


_REGISTRY: PluginRegistry | None = None


def get_registry() -> PluginRegistry:
    """The process-wide registry, loaded on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        reg = PluginRegistry()
        reg.load_builtins()
        reg.load_entry_points()
        reg.collect()
        _REGISTRY = reg
    return _REGISTRY


def reset_registry() -> None:
    """Forget the loaded registry (tests; after installing a plugin in-process)."""
    global _REGISTRY
    _REGISTRY = None
