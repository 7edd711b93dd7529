"""The Python API: one small class per task over the registry and the runtime.

    from heihachi.hf import FeatureExtractor, BeatDetector, DrumAnalyzer
    emb = FeatureExtractor(model="microsoft/wavlm-base-plus", layer="all").extract("a.wav")
    beats = BeatDetector().detect("mix.mp3")            # Beats: .beats, .downbeats, .tempo
    hits = DrumAnalyzer(device="cuda").analyze("mix.mp3")  # DrumHits: .hits

Each object composes the same Hydra config as the CLI (so ``profile="tiny"``,
``device`` and any ``overrides`` work the same), loads its plugin once, and runs
files through the same runtime (decoding, windows, batching, stitching).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from heihachi.errors import HeihachiError


class _Task:
    kind = ""

    def __init__(self, plugin: str | None = None, model: str | None = None, *,
                 device: str | None = None, profile: str | None = None,
                 overrides: list[str] | tuple[str, ...] = (), **settings: Any) -> None:
        ov = _overrides(self.kind, overrides, plugin, model, profile, settings)
        if device:
            ov.append(f"runtime.device={device}")
        self.overrides = ov
        self._runner: Any = None
        self._tmp: Any = None

    def _run(self, path: str | Path, output_dir: str | Path | None = None) -> Any:
        """Run the plugin on one file; returns its result object (``self.track_dir``: where
        its outputs went)."""
        from heihachi.runtime.pipeline import build_plugin
        from heihachi.runtime.placement import place
        from heihachi.runtime.runner import Runner, RunOptions

        if self._runner is None:
            cfg, plugin = build_plugin(self.kind, self.overrides)
            self._tmp = tempfile.TemporaryDirectory(prefix="heihachi-")
            rt = cfg.runtime
            opts = RunOptions(output_dir=Path(self._tmp.name), batch_size=rt.batch_size,
                              num_workers=0, device=rt.device, precision=rt.precision,
                              overwrite=True, progress=False)
            self._runner = Runner(plugin, opts, place(rt.device, rt.precision, rt.threads))
        captured: dict[str, Any] = {}
        self._runner.on_result = lambda track, result: captured.update(result=result,
                                                                       track=track)
        if output_dir is not None:
            self._runner.opts.output_dir = Path(output_dir)
        summary = self._runner.run([Path(path).absolute()])
        entry = summary.entries[0]
        if entry.status != "ok":
            raise HeihachiError(entry.error or f"{path}: failed")
        self.track_dir = captured["track"].dir(self._runner.opts.output_dir)
        return captured["result"]


def _overrides(kind: str, overrides: list[str] | tuple[str, ...], plugin: str | None,
               model: str | None, profile: str | None, settings: dict[str, Any]
               ) -> list[str]:
    """The Hydra overrides of an API object: the caller's, then plugin, weights, plugin
    settings and profile, as the CLI would spell them."""
    ov = list(overrides)
    if plugin:
        ov.append(f"{kind}={plugin}")
    if model:
        ov.append(f"{kind}.model={model}")
    ov += [f"{kind}.{k}={_value(v)}" for k, v in settings.items()]
    if profile:
        ov.append(f"profile={profile}")
    return ov


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple):
        return "[" + ",".join(str(x) for x in v) + "]"
    return str(v)


class FeatureExtractor(_Task):
    """Frame and scene embeddings (``Embeddings``) from an extractor plugin."""

    kind = "extractor"

    def extract(self, path: str | Path) -> Any:
        return self._run(path)


class BeatDetector(_Task):
    """Beats, downbeats and tempo (``Beats``)."""

    kind = "beats"

    def detect(self, path: str | Path) -> Any:
        return self._run(path)


class DrumAnalyzer(_Task):
    """Every drum hit with class, time, velocity and confidence (``DrumHits``)."""

    kind = "drums"

    def analyze(self, path: str | Path) -> Any:
        return self._run(path)


class StemSeparator(_Task):
    """Stems written under ``output_dir/<track>/stems/``; returns the stems result."""

    kind = "separator"

    def separate(self, path: str | Path, output_dir: str | Path = "heihachi_out") -> Any:
        """Separate ``path``; stems go to ``output_dir/<track>/stems/`` (default
        ``./heihachi_out``, as the CLI). Returns ``StemFiles`` whose ``files[i].file``
        are absolute paths of the stems written."""
        from dataclasses import replace

        result = self._run(path, Path(output_dir).absolute())
        result.files = [replace(f, file=str(self.track_dir / f.file)) for f in result.files]
        return result


class Captioner(_Task):
    """Text captions per segment (``Captions``)."""

    kind = "captioner"

    def caption(self, path: str | Path) -> Any:
        return self._run(path)


class RealtimeBeatTracker:
    """Causal beat tracking from any audio callback: blocks in, ``BeatEvent`` s out.

        tracker = RealtimeBeatTracker(sample_rate=44100, latency_s=0.15)
        for block in blocks:                     # float32 [n] or [n, channels], any n
            for ev in tracker.process(block):    # heihachi.streaming.events.BeatEvent
                print(ev.t, ev.beat, ev.bpm)
        tail = tracker.flush()                   # end of stream

    ``model``: an ``online-beat-tracker`` plugin name (default ``drumnet-online``) or the
    weights (cache name or path) for the default plugin.  It composes the same Hydra
    config as the CLI (``profile``, ``overrides``; plugin settings as keywords) and
    resolves weights like every plugin.  ``latency_s`` (default: the plugin's, 0.15 s)
    bounds how long after its audio frame a beat is emitted.

    In a realtime process call ``torch.set_num_threads(1)`` first (the tracker does not
    change that process-wide setting for you): each block is a few small matrix products,
    and intra-op threads cost more than they save (2 s of audio took 0.52 s on one thread
    and 3-8 s on two, on 2 cores); ``hf realtime-beats --threads`` defaults to 1.
    """

    kind = "online-beat-tracker"

    def __init__(self, model: str | None = "drumnet-online", sample_rate: int = 44_100,
                 latency_s: float | None = None, *, device: str | None = "cpu",
                 profile: str | None = None, overrides: list[str] | tuple[str, ...] = (),
                 **settings: Any) -> None:
        from heihachi.registry import get_registry
        from heihachi.runtime.pipeline import build_plugin

        is_plugin = bool(model) and model in get_registry().names(self.kind)
        if latency_s is not None:
            settings = {"latency_s": float(latency_s), **settings}
        ov = _overrides(self.kind, overrides, model if is_plugin else None,
                        None if is_plugin else model, profile, settings)
        _cfg, self.plugin = build_plugin(self.kind, ov)
        if device is not None:
            self.plugin.device = device
        self.plugin.open(int(sample_rate))
        self.sample_rate = int(sample_rate)
        self.latency_s = self.plugin.latency_s

    def process(self, block: Any) -> list[Any]:
        """Feed one block (float32 ``[n]`` or ``[n, channels]``); the beats it decided."""
        return self.plugin.process(block)

    def reset(self) -> None:
        """Start a new stream (time back to 0), keeping the model loaded."""
        self.plugin.reset()

    def flush(self) -> list[Any]:
        """End of stream: the beats still pending."""
        return self.plugin.flush()


class SimilaritySearch:
    """A semantic index over a music collection: add files, search by text or example.

        search = SimilaritySearch("my_index")            # CLAP by default
        search.add(["tracks/"])
        search.search("dark rolling bass, 174 BPM")       # list of Hit(track, start, end, score)
        search.search(audio="this_one.wav", per_track=True)
    """

    def __init__(self, index: str | Path = "heihachi_index", *,
                 overrides: list[str] | tuple[str, ...] = (), profile: str | None = None
                 ) -> None:
        self.index = Path(index)
        self.overrides = list(overrides) + ([f"profile={profile}"] if profile else [])

    def add(self, paths: list[str | Path]) -> dict[str, Any]:
        from heihachi.index import collection as indexing

        return indexing.add(self.index, [str(p) for p in paths], self.overrides, False)

    def search(self, text: str | None = None, *, audio: str | Path | None = None, k: int = 10,
               per_track: bool = False) -> list[Any]:
        from heihachi.index import collection as indexing

        if (text is None) == (audio is None):
            raise HeihachiError("give a text query or audio=FILE (one of them)")
        if audio is not None:
            return indexing.search_audio(self.index, str(audio), k, per_track, self.overrides)
        return indexing.search_text(self.index, text or "", k, per_track, self.overrides)
