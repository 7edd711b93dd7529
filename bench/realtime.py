"""The realtime beat tracker (issue 18), measured in one run beside the offline tracker.

    python bench/realtime.py [--val-clips 100] [--unseen-clips 42] [--streams 4]
                             [--json models_cache/heihachi/drumnet-online-v1/realtime_bench.json]

Every causal figure goes through the public API, ``heihachi.hf.RealtimeBeatTracker``
(shipped ``drumnet-online-v1``, default latency budget 0.15 s), fed 512-sample blocks of
44.1 kHz audio (the 24 kHz renders resampled with ``scipy.signal.resample_poly``); the
offline tracker is ``drumnet-v1`` + ``heihachi.music.beat_decoding.decode_beats`` on the
whole 24 kHz clip, as ``train.evaluate`` and the CLI run it.

- accuracy: beat F (mir_eval.beat, 70 ms, every beat of the clip, the first seconds
  included) and tempo accuracy on the held-out kits (``render_validation_set``, seed
  4321: the model card's test set, 8 s clips) and on the unseen-source set
  (``bench/unseen``, seed 2027, 12 s clips; never trained or tuned on).  Causal tempo:
  the median ``bpm`` of the events after 4 s within 4 % of the true tempo; offline: 60 /
  median inter-beat interval within 4 % (the card's rule).  Both with and without the
  random-grid clips (no metre to find).
- streams (``heihachi_train/drumnet/streams.py``, held-out kits, seeds 100+): time to the
  right tempo after the start and after a tempo change (first event from which every
  reported ``bpm`` of the segment is within 4 %, in stream time of emission), events in
  a 4 s silent gap and time to the first beat after it, and half-time sections of
  drum & bass (reported tempo halved or not).
- drum & bass at 160-180 BPM: clips whose reported tempo settles at half.
- latency: compute per ``process()`` call (p50/p99 wall time, one torch thread; and the
  p99 of the thread's CPU time, which a busy machine's lost time slices do not inflate)
  for blocks of 256/512/1024 samples at 44.1 kHz against the block duration, and the
  decision delay
  ``emitted_at - t`` of every event of the held-out run (p50/p99).
- BeatNet's online mode (1.1.1, its causal CRNN + particle-filter cascade), beside ours:
  only with ``--beatnet-python PATH`` (or ``HEIHACHI_BEATNET_PYTHON``), the interpreter of a
  separate virtual environment holding BeatNet, which runs ``bench/beatnet_online.py`` on
  the same clips (resampled to its 22.05 kHz) in a subprocess, after the timing runs, so
  BeatNet's torch never enters the project's environment.  Same beat F; its tempo (it
  reports none) is 60 / the median of its last 4 inter-beat intervals at each beat, and
  each beat counts as emitted at its own time (a particle filter decides on the frame).
  Without the option the JSON says it was not measured, and why.

Needs Debian's hydrogen-drumkits + hydrogen-data (and for the unseen set opl3-soundfont
and libsonivox3), mir_eval.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # heihachi_train: from the checkout
sys.path.insert(0, str(ROOT / "bench"))  # bench/unseen

SR_IN = 44_100
BLOCK = 512
TOL = 0.04


def to_input_rate(x24: np.ndarray) -> np.ndarray:
    from scipy.signal import resample_poly

    return resample_poly(x24.astype(np.float64), 147, 80).astype(np.float32)


def run_causal(tracker, x: np.ndarray, block: int = BLOCK) -> list:
    tracker.reset()
    events = []
    for i in range(0, len(x), block):
        events += tracker.process(x[i:i + block])
    return events + tracker.flush()


def run_offline(model, x24: np.ndarray) -> np.ndarray:
    import torch

    from heihachi.music.beat_decoding import decode_beats

    with torch.inference_mode():
        act = model(torch.from_numpy(x24)[None])["beats"][0].numpy()
    beats, _ = decode_beats(act[:, 0], act[:, 1], model.fps)
    return np.asarray(beats)


def beat_f(ref, est) -> float:
    import mir_eval

    return float(mir_eval.beat.f_measure(np.asarray(ref, float), np.asarray(est, float)))


def causal_tempo_ok(events, tempo: float, after: float = 4.0) -> bool:
    late = [e.bpm for e in events if e.t >= after]
    return bool(late) and abs(float(np.median(late)) / tempo - 1) <= TOL


def half_tempo(events, tempo: float, after: float = 4.0) -> bool:
    """The reported tempo after ``after`` s settles at half the true one (median)."""
    late = [e.bpm for e in events if e.t >= after]
    return bool(late) and 0.45 < float(np.median(late)) / tempo < 0.55


def offline_tempo_ok(beats: np.ndarray, tempo: float) -> bool:
    if len(beats) < 2:
        return False
    return abs(60.0 / float(np.median(np.diff(beats))) / tempo - 1) <= TOL


def time_to_tempo(events, s0: float, s1: float, tempo: float) -> float | None:
    """Seconds from ``s0`` to the emission of the first event after which every event of
    ``[s0, s1)`` reports the tempo within 4 % (None: never)."""
    seg = [e for e in events if s0 <= e.t < s1]
    ok = [abs(e.bpm / tempo - 1) <= TOL for e in seg]
    for k in range(len(seg)):
        if all(ok[k:]):
            return round(seg[k].emitted_at - s0, 3)
    return None


def mean_of(rows: list[dict], keys: tuple[str, ...]) -> dict:
    """The mean of each of ``keys`` over ``rows``, and how many rows."""
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in keys} | {
        "clips": len(rows)}


def dnb_counts(rows: list[dict], keys: tuple[str, ...]) -> dict:
    """How many of the 160-180 BPM rows have each of ``keys`` true."""
    dnb = [r for r in rows if 160 <= r["tempo"] <= 180]
    return {"clips": len(dnb)} | {k: int(sum(r[k] for r in dnb)) for k in keys}


def accuracy(tracker, offline, clips, label: str) -> dict:
    rows = []
    for x24, ann in clips:
        ev = run_causal(tracker, to_input_rate(x24))
        est = [e.t for e in ev]
        off = run_offline(offline, x24)
        rows.append({"style": ann["style"], "tempo": ann["tempo"],
                     "causal_f": beat_f(ann["beats"], est),
                     "causal_tempo": causal_tempo_ok(ev, ann["tempo"]),
                     "offline_f": beat_f(ann["beats"], off),
                     "offline_tempo": offline_tempo_ok(off, ann["tempo"]),
                     "delays": [e.emitted_at - e.t for e in ev],
                     "causal_half": half_tempo(ev, ann["tempo"])})
    out: dict = {"clips": len(rows)}
    keys = ("causal_f", "causal_tempo", "offline_f", "offline_tempo")
    out["all"] = mean_of(rows, keys)
    out["metre"] = mean_of([r for r in rows if r["style"] != "random"], keys)
    out["dnb_160_180"] = dnb_counts(rows, ("causal_tempo", "causal_half", "offline_tempo"))
    out["_delays"] = [d for r in rows for d in r["delays"]]
    print(f"{label}: {json.dumps({k: v for k, v in out.items() if k != '_delays'})}",
          flush=True)
    return out


STREAMS = {
    "tempo_change": lambda rng: [("dnb", rng.uniform(165, 178), 12),
                                 (str(rng.choice(["breakbeat", "house", "rock"])),
                                  rng.uniform(120, 140), 12)],
    "up_change": lambda rng: [(str(rng.choice(["hiphop", "house"])), rng.uniform(86, 126), 10),
                              ("dnb", rng.uniform(165, 178), 12)],
    "silent_gap": lambda rng: [("dnb", (t := rng.uniform(165, 178)), 12), ("silence", 4.0),
                               ("dnb", t, 12)],
    "half_time": lambda rng: [("dnb", (t := rng.uniform(165, 178)), 8), ("halftime", t, 12),
                              ("dnb", t, 8)],
}


def streams(tracker, n: int, keep: dict | None = None) -> dict:
    """Every stream kind, ``n`` of each; ``keep`` collects the rendered tempo-change
    streams (for BeatNet)."""
    from heihachi_train.drumnet.streams import render_stream

    res: dict = {}
    for kind, make in STREAMS.items():
        rows = []
        for i in range(n):
            rng = np.random.default_rng([100, i, len(kind)])
            segs = [(s[0], round(float(s[1]), 1), s[2]) if s[0] != "silence" else s
                    for s in make(rng)]
            x24, ann = render_stream(100 + i, segs)
            if keep is not None and kind in ("tempo_change", "up_change"):
                keep[f"{kind}_{i}"] = (x24, ann)
            ev = run_causal(tracker, to_input_rate(x24))
            row = {"segments": [(round(a, 2), round(b, 2), t, st)
                                for a, b, t, st in ann["segments"]],
                   "beat_f": round(beat_f(ann["beats"], [e.t for e in ev]), 4),
                   "time_to_tempo": [time_to_tempo(ev, a, b, t) if t else None
                                     for a, b, t, _ in ann["segments"]]}
            for a, b, t, st in ann["segments"]:
                if st == "silence":
                    row["events_in_gap"] = sum(1 for e in ev if a + 0.1 <= e.t < b)
                    after = [e.t - b for e in ev if e.t >= b]
                    row["first_beat_after_gap_s"] = round(after[0], 3) if after else None
                if st == "halftime":
                    bpms = [e.bpm for e in ev if a <= e.t < b]
                    row["half_time_flipped"] = sum(1 for v in bpms if v / t < 0.6)
                    row["half_time_events"] = len(bpms)
            rows.append(row)
        ttt = [r["time_to_tempo"] for r in rows]
        summary = {"streams": len(rows),
                   "beat_f": round(float(np.mean([r["beat_f"] for r in rows])), 4),
                   "time_to_tempo_start_s": [t[0] for t in ttt],
                   "time_to_tempo_after_change_s": [t[-1] for t in ttt]}
        for key in ("events_in_gap", "first_beat_after_gap_s", "half_time_flipped",
                    "half_time_events"):
            if key in rows[0]:
                summary[key] = [r[key] for r in rows]
        res[kind] = {"summary": summary, "rows": rows}
        print(f"stream {kind}: {json.dumps(summary, default=float)}", flush=True)
    return res


def compute_time(tracker, seconds: float = 20.0) -> dict:
    import torch

    from heihachi_train.drumnet.streams import render_stream

    torch.set_num_threads(1)
    x24, _ = render_stream(5, [("dnb", 174.0, 14)])
    x = to_input_rate(x24)[: int(seconds * SR_IN)]
    out = {}
    for block in (256, 512, 1024):
        tracker.reset()
        ts, cpu = [], []
        for i in range(0, len(x) - block + 1, block):
            t0, c0 = time.perf_counter(), time.thread_time()
            tracker.process(x[i:i + block])
            cpu.append(time.thread_time() - c0)
            ts.append(time.perf_counter() - t0)
        ts = np.array(ts)
        dur = block / SR_IN
        c99 = float(np.percentile(cpu, 99))
        out[str(block)] = {"block_ms": round(dur * 1e3, 3),
                           "p50_ms": round(float(np.percentile(ts, 50)) * 1e3, 3),
                           "p99_ms": round(float(np.percentile(ts, 99)) * 1e3, 3),
                           "p99_share_of_block": round(float(np.percentile(ts, 99)) / dur, 3),
                           "mean_share_of_block": round(float(ts.mean()) / dur, 3),
                           "p99_cpu_ms": round(c99 * 1e3, 3),
                           "p99_cpu_share_of_block": round(c99 / dur, 3),
                           "calls": len(ts)}
        print(f"compute, {block}-sample blocks: {json.dumps(out[str(block)])}", flush=True)
    return out


class _Beat:
    """A BeatNet beat as the bench's rules read an event: time, tempo, emission."""

    def __init__(self, t: float, bpm: float) -> None:
        self.t, self.bpm, self.emitted_at = t, bpm, t


def _beatnet_events(beats: list[float]) -> list[_Beat]:
    out = []
    for k, t in enumerate(beats):
        ibis = np.diff(beats[max(0, k - 4): k + 1])
        out.append(_Beat(t, 60.0 / float(np.median(ibis)) if len(ibis) else 0.0))
    return out


def beatnet(python: str | None, sets: dict) -> dict:
    """BeatNet's online mode on ``sets`` ({name: [(x24, ann), ...]}) through
    ``bench/beatnet_online.py`` under ``python``; the same figures as ours."""
    if not python:
        return {"measured": False,
                "reason": "no --beatnet-python (or HEIHACHI_BEATNET_PYTHON): BeatNet 1.1.1 "
                          "needs its own torch, librosa/numba and madmom, so it runs from a "
                          "separate virtual environment (README, realtime section)"}
    from scipy.signal import resample_poly

    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "clips.npz", Path(tmp) / "beats.json"
        np.savez(inp, **{f"{name}-{k}": resample_poly(x.astype(np.float64), 147, 160)
                         .astype(np.float32) for name, items in sets.items()
                         for k, (x, _) in enumerate(items)})
        t0 = time.time()
        run = subprocess.run([python, str(ROOT / "bench" / "beatnet_online.py"), str(inp),
                              str(out)], capture_output=True, text=True,
                             env=os.environ | {"OMP_NUM_THREADS": "1"})
        if run.returncode != 0:
            return {"measured": False, "python": python,
                    "reason": f"bench/beatnet_online.py exited {run.returncode}: "
                              + run.stderr.strip()[-600:]}
        got = json.loads(out.read_text())
    res: dict = {"measured": True, "python": python, "beatnet": got["beatnet"],
                 "model": got["model"], "mode": got["mode"],
                 "wall_s": round(time.time() - t0, 1),
                 "compute_s_per_audio_s": round(
                     sum(c["seconds"] for c in got["clips"].values())
                     / sum(len(x) / 24_000 for items in sets.values() for x, _ in items), 3)}
    for name, items in sets.items():
        rows = []
        for k, (_, ann) in enumerate(items):
            ev = _beatnet_events(got["clips"][f"{name}-{k}"]["beats"])
            row = {"causal_f": beat_f(ann["beats"], [e.t for e in ev]),
                   "style": ann.get("style")}
            if "tempo" in ann:
                row |= {"tempo": ann["tempo"], "causal_tempo": causal_tempo_ok(ev, ann["tempo"]),
                        "causal_half": half_tempo(ev, ann["tempo"])}
            else:
                (a, b, t, _) = ann["segments"][-1]
                row["time_to_tempo_after_change_s"] = time_to_tempo(ev, a, b, t)
            rows.append(row)
        if "tempo" in rows[0]:
            res[name] = {"metre": mean_of([r for r in rows if r["style"] != "random"],
                                          ("causal_f", "causal_tempo")),
                         "all_causal_f": mean_of(rows, ("causal_f",))["causal_f"],
                         "dnb_160_180": dnb_counts(rows, ("causal_tempo", "causal_half"))}
        else:
            res[name] = {"beat_f": mean_of(rows, ("causal_f",))["causal_f"],
                         "time_to_tempo_after_change_s": [
                             r["time_to_tempo_after_change_s"] for r in rows]}
        print(f"BeatNet {name}: {json.dumps(res[name], default=float)}", flush=True)
    return res


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--val-clips", type=int, default=100)
    ap.add_argument("--unseen-clips", type=int, default=42)
    ap.add_argument("--streams", type=int, default=4, help="streams of each kind")
    ap.add_argument("--model", default="heihachi/drumnet-online-v1")
    ap.add_argument("--latency", type=float, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--beatnet-python", default=os.environ.get("HEIHACHI_BEATNET_PYTHON"),
                    help="python of a venv with BeatNet 1.1.1: run its online mode beside "
                         "ours (env HEIHACHI_BEATNET_PYTHON)")
    args = ap.parse_args(argv)

    import torch
    from unseen.clips import render_unseen_set

    from heihachi.hf import RealtimeBeatTracker
    from heihachi.models import resolve
    from heihachi.plugins.drumnet.model import load_drumnet
    from heihachi_train.drumnet.render import render_validation_set

    torch.set_num_threads(1)
    t_start = time.time()
    tracker = RealtimeBeatTracker(model=args.model, sample_rate=SR_IN, latency_s=args.latency)
    offline = load_drumnet(resolve("heihachi/drumnet-v1"))
    res: dict = {"model": args.model, "latency_s": tracker.latency_s,
                 "lookahead_s": round(tracker.plugin.stream.lookahead_s, 4),
                 "decoder_lag_frames": tracker.plugin.lag, "input_rate": SR_IN,
                 "block": BLOCK, "torch": torch.__version__}
    print(f"tracker: latency budget {tracker.latency_s} s = model look-ahead "
          f"{res['lookahead_s']} s + decoder {tracker.plugin.lag} frames", flush=True)
    val = [(x, ann) for x, _, ann in render_validation_set(args.val_clips, 4321)]
    res["held_out"] = accuracy(tracker, offline, val, "held-out kits (seed 4321)")
    unseen = render_unseen_set(args.unseen_clips, 2027) if args.unseen_clips else []
    res["unseen"] = accuracy(tracker, offline, unseen, "unseen sources (seed 2027)") \
        if unseen else None
    delays = res["held_out"].pop("_delays")
    if res["unseen"]:
        res["unseen"].pop("_delays")
    res["event_delay_s"] = {"p50": round(float(np.percentile(delays, 50)), 4),
                            "p99": round(float(np.percentile(delays, 99)), 4),
                            "max": round(float(np.max(delays)), 4), "events": len(delays)}
    print(f"event delay: {json.dumps(res['event_delay_s'])}", flush=True)
    changes: dict = {}
    res["streams"] = streams(tracker, args.streams, keep=changes)
    res["compute"] = compute_time(tracker)
    sets = {"held_out": val, "unseen": unseen,
            "tempo_change": [changes[k] for k in sorted(changes) if k.startswith("tempo")],
            "up_change": [changes[k] for k in sorted(changes) if k.startswith("up")]}
    res["beatnet"] = beatnet(args.beatnet_python, {k: v for k, v in sets.items() if v})
    res["wall_s"] = round(time.time() - t_start, 1)
    ho = res["held_out"]["metre"]
    st = res["streams"]
    starts = [t for k in st for t in st[k]["summary"]["time_to_tempo_start_s"]]
    changes = (st["tempo_change"]["summary"]["time_to_tempo_after_change_s"]
               + st["up_change"]["summary"]["time_to_tempo_after_change_s"])
    res["targets"] = {
        "causal_beat_f_held_out_metre>=0.85": ho["causal_f"],
        "offline_beat_f_held_out_metre>=0.95": ho["offline_f"],
        "tempo_within_4s_of_start": [t is not None and t <= 4.0 for t in starts],
        "tempo_within_4s_of_change": [t is not None and t <= 4.0 for t in changes],
        "p99_compute<25%_of_block": {b: v["p99_share_of_block"] for b, v in
                                     res["compute"].items()},
        "p99_thread_cpu_share_of_block": {b: v["p99_cpu_share_of_block"] for b, v in
                                          res["compute"].items()},
        "event_delay_p99<0.05+budget": [res["event_delay_s"]["p99"],
                                        round(0.05 + tracker.latency_s, 3)],
        "dnb_half_tempo_clips": res["held_out"]["dnb_160_180"]["causal_half"],
        "half_time_flipped_events": st["half_time"]["summary"]["half_time_flipped"],
        "events_in_silent_gap": st["silent_gap"]["summary"]["events_in_gap"],
    }
    print("targets:", json.dumps(res["targets"], default=float), f"wall {res['wall_s']} s",
          flush=True)
    bn = res["beatnet"]
    if bn["measured"]:  # side by side: ours | BeatNet online
        for name in ("held_out", "unseen"):
            if name in bn:
                ours = res[name]["metre"]
                print(f"beside, {name} (metre): beat F {ours['causal_f']} | "
                      f"{bn[name]['metre']['causal_f']}, tempo {ours['causal_tempo']} | "
                      f"{bn[name]['metre']['causal_tempo']}, DnB half "
                      f"{res[name]['dnb_160_180']['causal_half']} | "
                      f"{bn[name]['dnb_160_180']['causal_half']}", flush=True)
        for kind in ("tempo_change", "up_change"):
            if kind in bn:
                print(f"beside, {kind}: beat F {st[kind]['summary']['beat_f']} | "
                      f"{bn[kind]['beat_f']}, s to tempo after the change "
                      f"{st[kind]['summary']['time_to_tempo_after_change_s']} | "
                      f"{bn[kind]['time_to_tempo_after_change_s']}", flush=True)
    else:
        print(f"BeatNet not measured: {bn['reason']}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1, default=float) + "\n")
    return res


if __name__ == "__main__":
    main()
