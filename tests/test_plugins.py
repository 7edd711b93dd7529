"""The plugin contract: every hook is tested and documented, registration is isolated."""

from __future__ import annotations

import dataclasses
import importlib.metadata as md
import inspect
import json
import re
import sys
import types
from pathlib import Path

import pytest
from conftest import ROOT, run_heihachi

import heihachi
from heihachi import hookspecs
from heihachi.errors import PluginError
from heihachi.registry import PluginRegistry
from heihachi.tasks import KINDS

HOOKS = sorted(n for n, f in inspect.getmembers(hookspecs, inspect.isfunction)
               if hasattr(f, "heihachi_spec"))


def test_there_is_one_register_hook_per_kind_plus_commands_and_process_tasks():
    assert {KINDS[k][2] for k in KINDS} | {"register_commands", "register_process_tasks"} == set(
        HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_in_the_readme(hook):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Plugin hooks", 1)[1]
    assert f"`{hook}" in section, f"README's 'Plugin hooks' section must document {hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py")
                    if p.name != "test_plugins.py")
    this = Path(__file__).read_text().split("# -- hook tests", 1)[1]
    assert re.search(rf"\bdef (test_)?{hook}\b", this + tests), f"no test implements {hook}"


# -- hook tests: each kind's hook registers an in-test plugin that shows up ----------------
def _module_with(hook: str, cls: type) -> types.ModuleType:
    mod = types.ModuleType(f"test_plugin_{hook}")

    def impl(register):
        register(cls)

    impl.__name__ = hook
    setattr(mod, hook, heihachi.hookimpl(impl))
    return mod


def _plugin_class(kind: str) -> type:
    base = KINDS[kind][0]

    @dataclasses.dataclass
    class Config:
        strength: float = 1.0

    return type(f"Test{kind.title()}", (base,), {"name": f"test-{kind}", "Config": Config})


def _registered(kind: str) -> PluginRegistry:
    reg = PluginRegistry()
    reg.add_module(_module_with(KINDS[kind][2], _plugin_class(kind)), "tests", "0")
    reg.collect()
    return reg


def test_register_extractors():
    assert _registered("extractor").get("extractor", "test-extractor").package == "tests"


def test_register_beat_trackers():
    assert "test-beats" in _registered("beats").names("beats")


def test_register_drum_models():
    assert "test-drums" in _registered("drums").names("drums")


def test_register_separators():
    assert "test-separator" in _registered("separator").names("separator")


def test_register_captioners():
    assert "test-captioner" in _registered("captioner").names("captioner")


def test_register_similarity_models():
    assert "test-similarity" in _registered("similarity").names("similarity")


def test_register_commands(monkeypatch, capsys):
    import click

    from heihachi import cli as cli_module

    mod = types.ModuleType("test_plugin_commands")

    @heihachi.hookimpl
    def register_commands(cli):
        @cli.command("hello-test")
        def hello():
            click.echo("hello from a plugin")

    mod.register_commands = register_commands
    from heihachi.registry import get_registry, reset_registry

    reset_registry()
    get_registry().add_module(mod, "tests", "0")
    try:
        try:
            cli_module.main(["hello-test"])
        except SystemExit as e:
            assert e.code in (0, None)
        assert "hello from a plugin" in capsys.readouterr().out
    finally:
        cli_module.cli.commands.pop("hello-test", None)
        reset_registry()


# -- registry behaviour ---------------------------------------------------------------------
def test_a_class_of_the_wrong_kind_is_rejected_with_a_warning(capsys):
    reg = PluginRegistry()
    reg.add_module(_module_with("register_beat_trackers", _plugin_class("drums")), "bad", "0")
    reg.collect()
    assert reg.names("beats") == []
    assert "must subclass heihachi.tasks.BeatTracker" in capsys.readouterr().err


def test_a_broken_hook_does_not_stop_the_others(capsys):
    reg = PluginRegistry()
    broken = types.ModuleType("broken_plugin")

    @heihachi.hookimpl
    def register_beat_trackers(register):
        raise RuntimeError("boom")

    broken.register_beat_trackers = register_beat_trackers
    reg.add_module(broken, "broken-pkg", "0")
    reg.add_module(_module_with("register_beat_trackers", _plugin_class("beats")), "ok", "0")
    reg.collect()
    assert reg.names("beats") == ["test-beats"]
    assert "broken_plugin" in capsys.readouterr().err


def test_strict_mode_turns_plugin_failures_into_errors(monkeypatch):
    monkeypatch.setenv("HEIHACHI_STRICT_PLUGINS", "1")
    reg = PluginRegistry()
    reg.add_module(_module_with("register_beat_trackers", _plugin_class("drums")), "bad", "0")
    with pytest.raises(PluginError):
        reg.collect()


class _FakeEntryPoint:
    def __init__(self, name, module=None, error=None):
        self.name, self._module, self._error = name, module, error
        self.dist = types.SimpleNamespace(name=f"dist-{name}", version="1.2.3")

    def load(self):
        if self._error:
            raise self._error
        return self._module


def _fake_entry_points(monkeypatch, eps):
    monkeypatch.setattr(md, "entry_points", lambda group=None: eps if group == "heihachi" else [])


def test_entry_points_load_and_a_failing_one_only_warns(monkeypatch, capsys):
    good = _module_with("register_beat_trackers", _plugin_class("beats"))
    _fake_entry_points(monkeypatch, [_FakeEntryPoint("good", good),
                                     _FakeEntryPoint("broken", error=ImportError("no numpy9"))])
    monkeypatch.delenv("HEIHACHI_LOAD_PLUGINS", raising=False)
    reg = PluginRegistry()
    reg.load_entry_points()
    reg.collect()
    info = reg.get("beats", "test-beats")
    assert (info.package, info.version) == ("dist-good", "1.2.3")
    err = capsys.readouterr().err
    assert "'broken'" in err and "dist-broken" in err and "no numpy9" in err


@pytest.mark.parametrize(("setting", "expected"), [("", []), ("good", ["test-beats"]),
                                                   ("dist-good", ["test-beats"]),
                                                   ("other", [])])
def test_heihachi_load_plugins_gates_entry_points(monkeypatch, setting, expected):
    good = _module_with("register_beat_trackers", _plugin_class("beats"))
    _fake_entry_points(monkeypatch, [_FakeEntryPoint("good", good)])
    monkeypatch.setenv("HEIHACHI_LOAD_PLUGINS", setting)
    reg = PluginRegistry()
    reg.load_builtins()
    reg.load_entry_points()
    reg.collect()
    from_entry_points = [n for n in reg.names("beats") if reg.get("beats", n).package != "heihachi"]
    assert from_entry_points == expected
    assert "hf" in reg.names("extractor")  # built-ins always load


def test_plugins_json_lists_the_builtin_extractor():
    result = run_heihachi("plugins", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    hf = [r for r in rows if r["kind"] == "extractor" and r["name"] == "hf"]
    assert hf and hf[0]["package"] == "heihachi"
    assert {"kind", "name", "package", "version", "default_model"} <= set(hf[0])


def test_plugins_table_shows_columns():
    result = run_heihachi("plugins")
    assert result.returncode == 0
    assert "extractor" in result.stdout and "heihachi" in result.stdout
    online = [line for line in result.stdout.splitlines() if "online-beat-tracker" in line]
    assert online and "stream" in online[0] and "whole file" not in online[0]


def test_cli_start_imports_no_heavy_library():
    code = ("import sys, heihachi.cli, heihachi.registry as r; r.get_registry(); "
            "print(sorted(m for m in ('torch','transformers','faiss','numpy','hydra') "
            "if m in sys.modules))")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
