"""What a newcomer reads first: --cfg names each kind's plugin, `plugins` marks defaults."""

from __future__ import annotations

import json

from test_config_errors import run_cli


def test_cfg_shows_which_plugin_each_kind_resolves_to(capsys):
    code, out, err = run_cli(capsys, "hf", "analyze-drums", "--cfg", "profile=tiny",
                             "beats=beat_this")
    assert code == 0, err
    header = "\n".join(ln for ln in out.splitlines() if ln.startswith("#"))
    assert "drums: drumnet" in header and "model tiny/drumnet" in header, out[:800]
    assert "beats: beat_this" in header and "extractor: hf" in header


def test_plugins_marks_the_default_of_each_kind(capsys):
    code, out, err = run_cli(capsys, "plugins", "--json")
    assert code == 0, err
    rows = json.loads(out)
    defaults = {(r["kind"], r["name"]) for r in rows if r["default"]}
    assert {("drums", "drumnet"), ("beats", "drumnet"), ("extractor", "hf"),
            ("separator", "demucs")} <= defaults
    assert len({kind for kind, _ in defaults}) == len(defaults)  # one default per kind
