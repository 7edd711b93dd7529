"""heihachi_train.drumnet.reproduce: the shipped fine-tuning chain, its consistency
check, and byte-identical comparison (the trainer replaced by a fake that copies)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from heihachi.runtime.inputs import content_hash
from heihachi_train.drumnet import reproduce

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models_cache" / "heihachi"


def _model(root: Path, name: str, weights: bytes, init: Path | None) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "model.safetensors").write_bytes(weights)
    argv = ["--out", f"somewhere/{name}", "--steps", "5"]
    doc: dict = {"argv": argv}
    if init is not None:
        argv[2:2] = ["--init", str(init)]
        doc["init_sha256"] = content_hash(init / "model.safetensors")
    (d / "metrics.json").write_text(json.dumps(doc))
    return d


def test_the_shipped_default_chain_is_consistent_and_replays_oldest_first() -> None:
    chain = reproduce.load_chain(SHIPPED / "drumnet-v4")
    assert [s.name for s in chain] == ["drumnet-v1", "drumnet-v2", "drumnet-v3", "drumnet-v4"]
    assert chain[0].init is None and chain[2].init == (SHIPPED / "drumnet-v2").resolve()
    assert chain[3].init == (SHIPPED / "drumnet-v3").resolve()
    out = subprocess.run([sys.executable, "-m", "heihachi_train.drumnet.reproduce",
                          str(SHIPPED / "drumnet-v4"), "--dry-run"], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout.splitlines()
    assert len(out) == 4
    assert "--out OUT/drumnet-v2 --init OUT/drumnet-v1 " in out[1]
    assert "--out OUT/drumnet-v4 --init OUT/drumnet-v3 " in out[3] and "--distill-beats 4" in out[3]
    assert "--init" not in out[0]


def test_an_init_replaced_without_retraining_is_refused(tmp_path: Path) -> None:
    a = _model(tmp_path, "a", b"first", None)
    b = _model(tmp_path, "b", b"second", a)
    assert [s.name for s in reproduce.load_chain(b)] == ["a", "b"]
    (a / "model.safetensors").write_bytes(b"replaced")
    with pytest.raises(SystemExit) as e:
        reproduce.load_chain(b)
    assert e.value.code == 2


def test_each_stage_trains_from_the_previous_reproduction_and_is_compared(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = _model(tmp_path / "shipped", "a", b"first", None)
    b = _model(tmp_path / "shipped", "b", b"second", a)
    calls: list[list[str]] = []
    produce = {"a": b"first", "b": b"second"}

    def fake_train(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
        argv = cmd[3:]
        calls.append(argv)
        out = Path(argv[argv.index("--out") + 1])
        out.mkdir(parents=True)
        (out / "model.safetensors").write_bytes(produce[out.name])
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(reproduce.subprocess, "run", fake_train)
    out = tmp_path / "out"
    assert reproduce.main([str(b), "--out", str(out)]) == 0
    assert calls[0][:2] == ["--out", str(out / "a")] and "--init" not in calls[0]
    assert calls[1][:4] == ["--out", str(out / "b"), "--init", str(out / "a")]
    produce["b"] = b"drifted"  # a stage whose weights differ fails the run
    calls.clear()
    assert reproduce.main([str(b), "--out", str(tmp_path / "out2"), "--last"]) == 1
    assert len(calls) == 1 and calls[0][3] == str(a.resolve())
