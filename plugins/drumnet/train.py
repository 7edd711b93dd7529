"""Train drumnet on renders of the Hydrogen drumkits.

    python -m heihachi.plugins.drumnet.train --out models_cache/heihachi/drumnet-v1

Renders a deterministic training set from the training kits (cached in RAM), trains the
CRNN with fixed seeds on CPU, tunes per-class peak-picking thresholds on one rendered
validation set of the held-out kits and reports onset / beat F-measures on a second,
independent validation set of the same held-out kits.  Writes ``config.json``,
``model.safetensors`` and ``metrics.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import kits as kits_mod
from .decode import activations_to_beats, activations_to_hits
from .render import LEND_P
from .soundfonts import SOUNDFONT_KITS, SOUNDFONT_LICENCES, expand_kits

CLASSES = kits_mod.CLASSES
TUNE_SEED = 1234
TEST_SEED = 4321


def frame_targets(ann: dict, n_frames: int, fps: float):
    on = np.zeros((n_frames, 5), np.float32)
    vel = np.zeros((n_frames, 5), np.float32)
    vmask = np.zeros((n_frames, 5), np.float32)
    bt = np.zeros((n_frames, 2), np.float32)
    for t, cls, v in ann["hits"]:
        k = CLASSES.index(cls)
        i = int(round(t * fps))  # noqa: RUF046
        for d, val in ((-1, 0.5), (1, 0.5), (0, 1.0)):
            j = i + d
            if 0 <= j < n_frames:
                on[j, k] = max(on[j, k], val)
        if 0 <= i < n_frames:
            vel[i, k] = max(vel[i, k], v)
            vmask[i, k] = 1.0
    for col, key in ((0, "beats"), (1, "downbeats")):
        for t in ann[key]:
            i = int(round(t * fps))  # noqa: RUF046
            for d, val in ((-2, 0.25), (2, 0.25), (-1, 0.5), (1, 0.5), (0, 1.0)):
                j = i + d
                if 0 <= j < n_frames:
                    bt[j, col] = max(bt[j, col], val)
    return on, vel, vmask, bt


def run_model(model, clips, batch: int = 8):
    import torch

    outs = []
    model.eval()
    with torch.no_grad():
        for s in range(0, len(clips), batch):
            chunk = clips[s : s + batch]
            n = max(len(c[0]) for c in chunk)
            x = np.zeros((len(chunk), n), np.float32)
            for i, c in enumerate(chunk):
                x[i, : len(c[0])] = c[0]
            o = model(torch.from_numpy(x))
            for i, c in enumerate(chunk):
                f = len(c[0]) // model.hop_length + 1
                outs.append({k: v[i, :f].numpy() for k, v in o.items()})
    return outs


def _counts(est: np.ndarray, ref: np.ndarray, window: float = 0.05) -> tuple[int, int, int]:
    import mir_eval

    if len(est) == 0 or len(ref) == 0:
        return 0, len(est), len(ref)
    m = mir_eval.util.match_events(np.asarray(ref), np.asarray(est), window)
    return len(m), len(est), len(ref)


def _f(tp, ne, nr):
    p = tp / ne if ne else (1.0 if nr == 0 else 0.0)
    r = tp / nr if nr else 1.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _band(bpm: float) -> str:
    return "80-120" if bpm < 120 else "120-160" if bpm < 160 else "160-180"


def evaluate(outs, clips, fps, thresholds, beat_threshold=0.5, suppress=None) -> dict:
    """Onset F-measure per class (mir_eval matching, ±50 ms, counts pooled over clips),
    mean of per-clip mir_eval.onset.f_measure; beat and downbeat F-measure (mir_eval.beat,
    70 ms) and tempo accuracy (60 / median inter-beat interval within 4 % of the true
    tempo) of the shipped decoder (``heihachi.beat_decoding.decode_beats``, as the CLI
    runs it), and the beat F of plain peak picking for comparison."""
    import mir_eval

    from heihachi.beat_decoding import decode_beats

    pooled = {c: [0, 0, 0] for c in CLASSES}
    by_kit: dict[str, dict[str, list[int]]] = {}
    per_clip = {c: [] for c in CLASSES}
    beat_f, down_f, peak_f, beat_f_metric = [], [], [], []
    tempo_ok: dict[str, list[int]] = {}
    tempo_metric: list[int] = []
    for o, (_, _, ann) in zip(outs, clips, strict=True):
        hits = activations_to_hits(o["onsets"], o["velocity"], fps, thresholds,
                                   suppress=suppress)
        for c in CLASSES:
            est = np.array([h[0] for h in hits if h[1] == c])
            ref = np.array([h[0] for h in ann["hits"] if h[1] == c])
            tp, ne, nr = _counts(est, ref)
            kit_counts = by_kit.setdefault(ann.get("kit", "?"), {k: [0, 0, 0] for k in CLASSES})
            for i, v in enumerate((tp, ne, nr)):
                pooled[c][i] += v
                kit_counts[c][i] += v
            if len(ref):
                per_clip[c].append(mir_eval.onset.f_measure(ref, est, window=0.05)[0])
        ref_b = np.asarray(ann["beats"])
        b, _ = activations_to_beats(o["beats"], fps, beat_threshold)
        peak_f.append(mir_eval.beat.f_measure(ref_b, b))
        b, d = decode_beats(o["beats"][:, 0], o["beats"][:, 1], fps)
        beat_f.append(mir_eval.beat.f_measure(ref_b, b))
        if ann.get("style") != "random":  # random grids: no metre to find
            beat_f_metric.append(beat_f[-1])
        if len(ann["downbeats"]) > 1:
            down_f.append(mir_eval.beat.f_measure(np.asarray(ann["downbeats"]), d))
        tempo = 60.0 / float(np.median(np.diff(b))) if len(b) > 1 else 0.0
        ok = int(abs(tempo - ann["tempo"]) <= 0.04 * ann["tempo"])
        tempo_ok.setdefault(_band(ann["tempo"]), []).append(ok)
        if ann.get("style") != "random":
            tempo_metric.append(ok)
    res = {"onset_f": {c: round(_f(*pooled[c]), 4) for c in CLASSES},
           "onset_f_mean_per_clip": {c: round(float(np.mean(per_clip[c])), 4)
                                     if per_clip[c] else 0.0 for c in CLASSES},
           "n_ref": {c: pooled[c][2] for c in CLASSES},
           # per held-out kit and class: [precision, recall, F, reference hits]
           "onset_by_kit": {kit: {c: [round(tp / ne, 3) if ne else 0.0,
                                      round(tp / nr, 3) if nr else 0.0,
                                      round(_f(tp, ne, nr), 3), nr]
                                  for c, (tp, ne, nr) in counts.items()}
                            for kit, counts in sorted(by_kit.items())},
           "beat_f": round(float(np.mean(beat_f)), 4) if beat_f else 0.0,
           "beat_f_metrical_styles": round(float(np.mean(beat_f_metric)), 4)
           if beat_f_metric else 0.0,
           "beat_f_peak_picking": round(float(np.mean(peak_f)), 4) if peak_f else 0.0,
           "downbeat_f": round(float(np.mean(down_f)), 4) if down_f else 0.0,
           "tempo_acc": round(float(np.mean([v for vs in tempo_ok.values() for v in vs])), 4)
           if tempo_ok else 0.0,
           "tempo_acc_metrical_styles": round(float(np.mean(tempo_metric)), 4)
           if tempo_metric else 0.0,
           "tempo_acc_by_band": {k: [int(sum(v)), len(v)] for k, v in sorted(tempo_ok.items())}}
    res["onset_f_mean_kick_snare_hihat"] = round(
        float(np.mean([res["onset_f"][c] for c in ("kick", "snare", "hihat")])), 4)
    return res


THRESHOLD_GRID = (0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
                  0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
#: Suppression ratios tried per class pair (None: the pair does not suppress).  Never
#: below 1: a peak is only dropped under a *more* confident other class, so simultaneous
#: hits the model hears clearly (kick + snare, which the rendered patterns rarely hold)
#: both stay.
RATIO_GRID = (None, 4.0, 3.0, 2.0, 1.5, 1.2, 1.0)


def tune_peak_picking(outs, clips, fps, rounds: int = 2) -> tuple[dict, dict]:
    """Per-class thresholds and cross-class suppression ratios that maximise each class's
    pooled onset F-measure on ``clips`` (coordinate ascent, ``rounds`` passes).

    Candidates are the peaks above the lowest grid threshold, found once; each setting is
    then scored by filtering them, so the search takes seconds.
    """
    from .decode import neighbourhood_max, pick_peaks, unsuppressed

    lo = THRESHOLD_GRID[0]
    cands = []  # per clip: {class: (frames, act, near[frames, 5], ref times)}
    for o, (_, _, ann) in zip(outs, clips, strict=True):
        on = np.asarray(o["onsets"], dtype=np.float32)
        near = neighbourhood_max(on)
        row = {}
        for k, c in enumerate(CLASSES):
            p = pick_peaks(on[:, k], lo, fps)
            ref = np.array([h[0] for h in ann["hits"] if h[1] == c])
            row[c] = (p / fps, on[p, k], near[p], ref)
        cands.append(row)

    th = {c: 0.5 for c in CLASSES}
    sup: dict[str, dict[str, float]] = {c: {} for c in CLASSES}

    def score(c: str) -> float:
        tot = [0, 0, 0]
        for row in cands:
            t, a, near, ref = row[c]
            keep = (a >= th[c]) & unsuppressed(a, near, sup[c])
            for i, v in enumerate(_counts(t[keep], ref)):
                tot[i] += v
        return _f(*tot)

    def ascend(c: str, grid: tuple, current: Any, apply: Callable[[Any], None]) -> None:
        """Apply the grid value that beats ``current``'s score by > 1e-4 most."""
        best = (score(c), current)
        for v in grid:
            apply(v)
            s = score(c)
            if s > best[0] + 1e-4:
                best = (s, v)
        apply(best[1])

    def set_ratio(c: str, d: str, r: float | None) -> None:
        if r is None:
            sup[c].pop(d, None)
        else:
            sup[c][d] = r

    for _ in range(rounds):
        for c in CLASSES:
            ascend(c, THRESHOLD_GRID, th[c], lambda t, c=c: th.__setitem__(c, t))
            for d in CLASSES:
                if d != c:
                    ascend(c, RATIO_GRID, sup[c].get(d),
                           lambda r, c=c, d=d: set_ratio(c, d, r))
    return {c: float(v) for c, v in th.items()}, {c: v for c, v in sup.items() if v}


def tune_beat_threshold(outs, clips, fps) -> float:
    import mir_eval

    grid = np.round(np.concatenate([[0.03, 0.05, 0.07], np.arange(0.1, 0.81, 0.05)]), 2)
    sc = []
    for th in grid:
        fs = [mir_eval.beat.f_measure(np.asarray(a["beats"]),
                                      activations_to_beats(o["beats"], fps, th)[0])
              for o, (_, _, a) in zip(outs, clips, strict=True)]
        sc.append(np.mean(fs))
    return float(grid[int(np.argmax(sc))])


def write_model_card(out: Path, metrics: dict, argv: list[str]) -> None:
    """MODEL_CARD.md next to the weights, from the measured metrics."""
    from heihachi.indexing import content_hash

    weights_sha = content_hash(out / "model.safetensors")
    lic = "\n".join(f"| {k} | {'validation' if k in kits_mod.VALIDATION_KITS else 'train'} | "
                    f"{kits_mod.KIT_LICENCES[k]} |"
                    for k in (*kits_mod.TRAIN_KITS, *kits_mod.VALIDATION_KITS))
    extra = metrics.get("extra_kits") or []
    lend = metrics.get("extra_classes") or []
    n_train_kits = len(kits_mod.TRAIN_KITS) + len(extra)
    extra_txt = ""
    if extra:
        lic += "\n" + "\n".join(
            f"| {k} | train | {SOUNDFONT_LICENCES[SOUNDFONT_KITS[k][0]]} |" for k in extra)
        extra_txt = (
            f"\n\nAlso for training only: {len(extra)} General MIDI drum kits of Debian's "
            "SoundFont packages (`fluid-soundfont-gm`, `timgm6mb-soundfont`; `soundfonts.py`), "
            "rendered note by note with `fluidsynth` (reverb and chorus off) at three "
            "velocities, each GM percussion note mapped to a class explicitly: "
            f"{', '.join(extra)}.  "
            + (f"They only lend {' and '.join(lend)}: with probability {LEND_P} per clip "
               "and lent class, that class is played on one or two instruments of a random "
               "SoundFont kit; a clip's main kit is always a Hydrogen kit.  "
               if lend else "They join the Hydrogen kits as main kits of clips.  ")
            + "A test checks that none of their notes is a held-out "
            "kit's recording.  (The TR-808 kits are other 808 samplings than the held-out "
            "TR808EmulationKit.)\n")
    of = metrics["onset_f"]
    rows = "\n".join(f"| {c} | {of[c]:.3f} | {metrics['onset_f_mean_per_clip'][c]:.3f} | "
                     f"{metrics['thresholds'][c]:.2f} | {metrics['n_ref'][c]} |" for c in CLASSES)
    cmd = "python -m heihachi.plugins.drumnet.train " + " ".join(argv)
    mc = json.loads((out / "config.json").read_text())  # written before the card
    mc_txt = (f"{mc['n_fft']}-point STFT, hop {mc['hop_length']} "
              f"({mc['sample_rate'] / mc['hop_length']:g} frames/s), {mc['n_mels']} mel bands "
              f"({mc.get('mel_scale', 'slaney')} scale) from {mc['f_min']:g} Hz to "
              f"{mc['f_max']:g} Hz; log magnitude and its positive time difference")
    bands = metrics.get("tempo_acc_by_band", {})
    band_txt = ", ".join(f"{k} BPM {v[0]}/{v[1]}" for k, v in bands.items())
    hi = bands.get("160-180", [0, 0])
    aug = metrics.get("sample_aug_p", 0.0)
    aug_txt = (f"With probability {aug} per class and clip, the clip's one-shots of that class "
               "are re-pitched by resampling (kick/snare/hihat/cymbal about -4..+4 "
               "semitones, toms -6..+6), damped with an exponential decay, and/or tilted "
               f"brighter or darker, so that the {n_train_kits} training kits sound like many "
               "more.  "
               if aug else "No per-sample (pitch/decay) augmentation.  ")
    synth = metrics.get("synth_p", 0.0)
    if synth:
        aug_txt += (f"With probability {synth} per class and clip, that class is played "
                    "instead on one or two synthesised drum-machine voices (`synth.py`: "
                    "pitch-swept sine kicks, tone + noise snares, inharmonic square-bank "
                    "hi-hats and cymbals, pitched toms; every parameter random), because "
                    "electronic music is largely played on such voices and the Hydrogen "
                    "kits hold few.  Validation renders never use them: every figure below "
                    "is on the held-out kits' recordings.  ")
    swap = metrics.get("role_swap_p", 0.0)
    if swap:
        aug_txt += (f"In a fraction {swap} of the training clips two classes swap parts "
                    "(kick and tom, or snare and tom; labels follow the sound), so that a "
                    "tom playing the kick's groove is still heard as a tom.  ")
    lofi = metrics.get("lofi_p", 0.0)
    if lofi:
        from .render import LOFI_BITS, LOFI_RATE

        which = metrics.get("lofi_classes") or []
        who = (f"that class ({', '.join(which)} only)" if which else "that class")
        aug_txt += (f"With probability {lofi} per class and clip, {who} is played "
                    f"through a sampler emulation (sample-and-hold at "
                    f"{LOFI_RATE[0] / 1000:g}-{LOFI_RATE[1] / 1000:g} kHz with no "
                    f"anti-alias filter, {LOFI_BITS[0]}-{LOFI_BITS[1]} bits), the sound of "
                    "the 8-bit drum chips and 12-bit samplers that jungle and hip hop were "
                    "made on.  ")
    pw = metrics.get("pos_weight") or {}
    if pw:
        aug_txt += ("The onset loss weighs positive frames of "
                    + ", ".join(f"{c} x{w:g}" for c, w in pw.items())
                    + " (rarer classes).  ")
    sup = metrics.get("suppress") or {}
    sup_txt = "; ".join(f"{c} under {d} x{r:g}" for c, v in sup.items() for d, r in v.items())

    by_kit = metrics.get("onset_by_kit") or {}
    kit_table = "\n".join(
        ["| kit | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 1) + "|"]
        + [f"| {kit} | " + " | ".join(
            f"{v[0]:.2f} / {v[1]:.2f} / {v[2]:.2f}" if v[3] else "-"
            for v in (row[c] for c in CLASSES)) + " |"
           for kit, row in by_kit.items()]) if by_kit else "(not measured)"

    def met(ok: bool) -> str:
        return "met" if ok else "**NOT met**"

    bfm = metrics.get("beat_f_metrical_styles", 0.0)
    tam = metrics.get("tempo_acc_metrical_styles", 0.0)
    targets = "\n".join([
        f"| beat F-measure (70 ms) >= 0.92, clips with a metre | {bfm:.3f} | "
        f"{met(bfm >= 0.92)} |",
        f"| tempo within 4 % on >= 90 % of clips with a metre | {tam:.3f} | "
        f"{met(tam >= 0.9)} |",
        f"| ... including 160-180 BPM | {hi[0]}/{hi[1]} | "
        f"{met(hi[1] > 0 and hi[0] / hi[1] >= 0.9)} |",
        f"| onset F (50 ms) mean kick/snare/hihat >= 0.85 | "
        f"{metrics['onset_f_mean_kick_snare_hihat']:.3f} | "
        f"{met(metrics['onset_f_mean_kick_snare_hihat'] >= 0.85)} |",
        f"| onset F tom >= 0.6 | {of['tom']:.3f} | {met(of['tom'] >= 0.6)} |",
        f"| onset F cymbal >= 0.6 | {of['cymbal']:.3f} | {met(of['cymbal'] >= 0.6)} |",
    ])
    text = f"""# drumnet-v1

The project's own drum transcription and beat activation model: a small CRNN
(log-mel frontend inside the module, 3 conv blocks, a bidirectional GRU) with per-frame
(100 fps) sigmoid outputs for kick, snare, hihat, tom and cymbal onsets, beat and downbeat
activations, and a velocity head.  Input: mono audio at 24 kHz, any length.  Frontend:
{mc_txt}.

- parameters: {metrics['n_params']}; weights: `model.safetensors`, fp32,
  {metrics['weights_bytes']} bytes; config and tuned thresholds: `config.json`
- code: `heihachi/plugins/drumnet/` (`plugins/drumnet/` in the repository)

## Data

Rendered offline from the real one-shot samples of Debian's `hydrogen-drumkits` and
`hydrogen-data` (`/usr/share/hydrogen/data/drumkits`).  Each drumkit.xml instrument is
mapped to a class (or excluded) explicitly in `kits.py`; names are never pattern-matched.{extra_txt}
Patterns: two-step DnB, amen-style breaks, half-time, rolls/fills, house, breakbeat, hip hop,
rock and random grids at 80-180 BPM with swing and micro-timing, velocity layers, hits
mixed at integer sample positions after trimming each one-shot to its first sample above
-60 dB of its peak; mixed with synthetic bass, pads and pink noise; EQ, filters,
compression, synthetic reverb and gain augmentation.  {aug_txt}Beats are labelled at the quarter
note of the pattern tempo (170ish for DnB, never half), downbeats on the first beat of
each 4/4 bar.  Training clips: {metrics['n_train']} x {metrics['clip_s']} s (seed
{10000 + metrics['seed']}), rendered in RAM, not stored.

## Split (by kit)

Validation (held out, never seen in training): {', '.join(metrics['validation_kits'])}.
Kits that share recordings or author sessions are kept on one side
(GMRockKit + The Black Pearl; the three Millo kits; Artemio's three kits).
Excluded entirely: Gimme A Hand (hand percussion), circAfrique (djembe/dunun).

| kit | side | licence (see /usr/share/doc/<package>/copyright) |
|---|---|---|
{lic}

## Validation metrics

Rendered from the held-out kits with `render.render_validation_set(n, seed)`: per-class
peak-picking thresholds were tuned on seed {TUNE_SEED} ({metrics['threshold_tuning_set']['n_clips']}
clips of 8 s) and the figures below are measured on an independent set, seed {TEST_SEED}
({metrics['test_set']['n_clips']} clips of 8 s).  Onset F-measure: mir_eval event matching,
window 0.05 s, counts pooled over clips; per-clip column: mean of
`mir_eval.onset.f_measure` over clips containing the class.  Tuned with the thresholds:
cross-class suppression (a peak of class c is dropped when class d's activation within
20 ms exceeds r times it; the model's typical confusions, e.g. a weak tom under a snare):
{sup_txt or "none"}.

| class | F (pooled) | F (mean per clip) | threshold | reference hits |
|---|---|---|---|---|
{rows}

- mean F over kick/snare/hihat: **{metrics['onset_f_mean_kick_snare_hihat']:.3f}**
- beats, decoded as the CLI does (`heihachi.beat_decoding.decode_beats`: windowed
  autocorrelation tempo with an explicit metrical-level choice, Ellis' dynamic programme
  for the phase, a bar-position Viterbi for downbeats): beat F-measure (mir_eval.beat,
  70 ms) **{metrics['beat_f']:.3f}**; {metrics.get('beat_f_metrical_styles', 0):.3f} without the
  "random grid" clips, which have no metre to find; downbeat F {metrics['downbeat_f']:.3f}
- tempo (60 / median inter-beat interval) within 4 % of the true tempo:
  **{metrics.get('tempo_acc', 0):.3f}** of clips ({band_txt}),
  {metrics.get('tempo_acc_metrical_styles', 0):.3f} without the random grids
- for comparison, plain peak picking of the beat activation (threshold
  {metrics['beat_threshold']:.2f}, tuned on seed {TUNE_SEED}): beat F
  {metrics.get('beat_f_peak_picking', 0):.3f}
- velocity MAE at reference onsets: {metrics['velocity_mae_at_ref_onsets']}
- speed: a 30 s window in {metrics.get('infer_s_per_30s_window', float('nan')):.2f} s on
  {metrics.get('torch_threads', 1)} CPU thread(s) of a shared machine, peak picking included
  (about {30 / max(1e-3, metrics.get('infer_s_per_30s_window', 1e9)):.0f}x real time)
- training: {metrics['steps']} steps, batch {metrics['batch']}, AdamW + one-cycle lr
  {metrics['lr']}, seed {metrics['seed']}; {metrics['train_time_s']:.0f} s of training
  (rendering included), {metrics['total_time_s']:.0f} s in all, one torch thread on a
  2-core machine shared with other jobs,
  torch {metrics['torch']}

## Targets

Measured on the held-out-kit test renders above (`bench/quality.py` measures the same
things end to end through the CLI on 12 s renders, beside librosa).  Beat and tempo are
scored on the clips with a metre: a random-grid clip places every hit at random on a
16th grid, so its quarter-note labels are a convention of the renderer with nothing in
the audio to find (beat F there is ~0.3 for any tracker, librosa included); the
all-clips figures are above.

| target | measured | |
|---|---|---|
{targets}

Per held-out kit on the test renders (precision / recall / F of each class):

{kit_table}

Beat errors are metrical-level errors on slow material (hip hop and rolls at 80-110 BPM
doubled, a few breakbeat/house clips halved) and phase errors on a few roll clips.  With
{n_train_kits} training kits the model is limited by timbre diversity; more kits and a
wider model are the next steps.

Limits: trained and validated on synthetic renders only (one-shot drum samples, 4/4,
constant tempo); real recordings with bleed, live cymbal washes or heavy processing will
score lower.  Claps, side sticks, cowbells and hand percussion are not classes.

## Reproduce

```
{cmd}
```

Deterministic on CPU (fixed seeds, deterministic rendering); writes `config.json`,
`model.safetensors`, `metrics.json` and this card.  With torch {metrics.get("torch", "?")}
the weights file comes out byte for byte the same: `sha256sum model.safetensors` gives
`{weights_sha}`.
"""
    (out / "MODEL_CARD.md").write_text(text)


# model-config keys settable from the command line, each by the flag of the same name
# (gru_hidden <- --gru-hidden); --eval-only writes back the ones a model departs in
ARCH_KEYS = ("channels", "proj", "gru_hidden", "n_fft", "mel_scale")


#: The recipe flags that ``--eval-only`` reads back from metrics.json to rebuild the
#: training command, in the card's order: (flag, argparse dest, metrics key, value when
#: the key is missing, i.e. the model predates the flag).  A new recipe flag goes here.
RECIPE_FLAGS: tuple[tuple[str, str, str, Any], ...] = (
    ("--seed", "seed", "seed", 0),
    ("--batch", "batch", "batch", 12),
    ("--clip-s", "clip_s", "clip_s", 4.0),
    ("--lr", "lr", "lr", 2e-3),
    ("--sample-aug", "sample_aug", "sample_aug_p", 0.0),
    ("--synth", "synth", "synth_p", 0.0),
    ("--role-swap", "role_swap", "role_swap_p", 0.0),
    ("--pos-weight", "pos_weight", "pos_weight", {}),
    ("--lofi", "lofi", "lofi_p", 0.0),
    ("--lofi-classes", "lofi_classes", "lofi_classes", []),
    ("--extra-kits", "extra_kits", "extra_kits_arg", ""),
    ("--extra-classes", "extra_classes", "extra_classes", []),
)


def _flag_text(value: Any) -> str:
    """A metrics.json or model-config value as its command-line flag takes it
    (``{"tom": 2.0}`` -> ``tom=2``, ``[8, 16, 32]`` -> ``8,16,32``)."""
    if isinstance(value, dict):
        return ",".join(f"{c}={w:g}" for c, w in value.items())
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def parse_classes(flag: str, spec: str) -> tuple[str, ...]:
    """``"tom,cymbal"`` -> ``("tom", "cymbal")`` (duplicates dropped); an unknown class
    exits naming ``flag`` and the valid classes."""
    out = tuple(dict.fromkeys(c.strip() for c in spec.split(",") if c.strip()))
    bad = [c for c in out if c not in CLASSES]
    if bad:
        raise SystemExit(f"{flag}: unknown class(es) {bad}; choose from {CLASSES}")
    return out


def _extra_kit_plan(extra_kits: str, extra_classes: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The SoundFont kits named by ``--extra-kits`` and the classes named by
    ``--extra-classes`` (empty: the extra kits join the Hydrogen ones as main kits;
    otherwise they only lend those classes).  Bad values exit with the flag named."""
    try:
        extra = expand_kits(extra_kits)
    except ValueError as e:
        raise SystemExit(f"--extra-kits: {e}") from None
    lend = parse_classes("--extra-classes", extra_classes)
    if lend and not extra:
        raise SystemExit("--extra-classes needs --extra-kits")
    return extra, lend


def parse_pos_weight(spec: str) -> dict[str, float]:
    """``"tom=3,cymbal=2"`` -> ``{"tom": 3.0, "cymbal": 2.0}``; unknown classes are an error."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        cls, _, w = part.partition("=")
        if cls not in CLASSES or not w:
            raise SystemExit(f"--pos-weight: expected CLASS=WEIGHT with CLASS in {CLASSES}, "
                             f"got {part!r}")
        out[cls] = float(w)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--clip-s", type=float, default=4.0)
    ap.add_argument("--n-train", type=int, default=None, help="rendered training clips")
    ap.add_argument("--n-val", type=int, default=None, help="validation clips (each set)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--sample-aug", type=float, default=0.5,
                    help="probability per class and clip of re-pitching/damping/tilting "
                         "the training one-shots (0 disables)")
    ap.add_argument("--synth", type=float, default=0.0,
                    help="probability per class and clip of playing that class on "
                         "synthesised drum-machine voices (synth.py) instead of the kit")
    ap.add_argument("--lofi", type=float, default=0.0,
                    help="probability per class and clip of playing that class through a "
                         "sampler emulation (6-22 kHz hold, 4-12 bits; render.lofi_sample)")
    ap.add_argument("--lofi-classes", type=str, default="",
                    help="with --lofi: only these classes (e.g. kick,snare); default all")
    ap.add_argument("--role-swap", type=float, default=0.0,
                    help="fraction of training clips in which kick/tom or snare/tom swap "
                         "parts (render.swap_roles)")
    ap.add_argument("--extra-kits", type=str, default="",
                    help="training kits added to the Hydrogen ones, from Debian's GM "
                         "SoundFonts (soundfonts.py): groups fluidr3, timgm6mb or kit names, "
                         "comma-separated")
    ap.add_argument("--extra-classes", type=str, default="",
                    help="with --extra-kits: the extra kits only lend these classes "
                         "(e.g. tom,cymbal; each with probability 0.5 per clip) and are "
                         "never a clip's main kit")
    ap.add_argument("--pos-weight", type=str, default="",
                    help="onset-loss weight of positive frames per class, e.g. tom=3,cymbal=2")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 is fastest on a shared 2-core machine)")
    ap.add_argument("--tiny", action="store_true", help="minimal width (tests)")
    ap.add_argument("--channels", type=str, default=None, help="conv widths, e.g. 8,16,32")
    ap.add_argument("--proj", type=int, default=None)
    ap.add_argument("--gru-hidden", type=int, default=None)
    ap.add_argument("--n-fft", type=int, default=None, help="STFT size of the mel frontend")
    ap.add_argument("--mel-scale", choices=("slaney", "htk"), default=None,
                    help="mel scale of the frontend (htk: finer bands below 1 kHz)")
    ap.add_argument("--eval-only", action="store_true",
                    help="skip training: re-tune thresholds and re-measure the model in --out")
    args = ap.parse_args(argv)

    import torch

    from . import render
    from .model import DEFAULT_CONFIG, TINY_OVERRIDES, build, n_params

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    smoke = args.steps < 50
    n_train = args.n_train or (48 if smoke else max(512, min(4000, args.steps * 2)))
    n_val = args.n_val or (4 if smoke else 100)
    t0 = time.time()

    def log(*a):
        print(f"[{time.time() - t0:7.1f}s]", *a, flush=True)

    if args.eval_only:
        from .model import load_drumnet

        model = load_drumnet(args.out)
        old = json.loads((args.out / "metrics.json").read_text())
        n_train, train_s = old["n_train"], old["train_time_s"]
        args.steps = old["steps"]
        argv = ["--out", str(args.out), "--steps", str(args.steps), "--n-train", str(n_train)]
        for flag, dest, key, missing in RECIPE_FLAGS:
            value = _flag_text(old.get(key, missing))
            setattr(args, dest, type(ap.get_default(dest))(value))
            if value != _flag_text(ap.get_default(dest)):
                argv += [flag, value]
        for key in ARCH_KEYS:
            value = _flag_text(model.config[key])
            if value != _flag_text(DEFAULT_CONFIG[key]):
                argv += ["--" + key.replace("_", "-"), value]
        extra, lend_classes = _extra_kit_plan(args.extra_kits, args.extra_classes)
        return _validate_and_save(model, args, argv, n_train, n_val, train_s, t0, log,
                                  extra, lend_classes)

    extra, lend_classes = _extra_kit_plan(args.extra_kits, args.extra_classes)
    lofi_classes = parse_classes("--lofi-classes", args.lofi_classes)
    if lofi_classes and not args.lofi:
        raise SystemExit("--lofi-classes needs --lofi P > 0")
    cfg = dict(DEFAULT_CONFIG)
    if args.tiny:
        cfg.update(TINY_OVERRIDES)
    for key in ARCH_KEYS:
        value = getattr(args, key)
        if value:
            cfg[key] = [int(c) for c in value.split(",")] if key == "channels" else value
    model = build(cfg)
    fps = model.fps
    # lending extra kits never play a clip's main kit; otherwise they join the main kits
    lenders = extra if lend_classes else ()
    train_kits = kits_mod.TRAIN_KITS if lend_classes else (*kits_mod.TRAIN_KITS, *extra)
    log(f"drumnet: {n_params(model)} parameters; rendering {n_train} training clips "
        f"of {args.clip_s}s from {len(train_kits)} kits"
        + (f" ({', '.join(lend_classes)} also from {len(lenders)} lender kits)"
           if lenders else ""))
    train = render.render_set(n_train, 10_000 + args.seed, train_kits,
                              duration=args.clip_s, sample_aug_p=args.sample_aug,
                              synth_p=args.synth, role_swap_p=args.role_swap,
                              lofi_p=args.lofi, lofi_classes=lofi_classes,
                              lenders=lenders, lend_classes=lend_classes)
    n_samp = int(args.clip_s * render.SR)
    n_frames = n_samp // model.hop_length + 1
    X = np.stack([c[0][:n_samp] for c in train]).astype(np.float32)
    T = [frame_targets(c[2], n_frames, fps) for c in train]
    ON = np.stack([t[0] for t in T])
    VEL = np.stack([t[1] for t in T])
    VM = np.stack([t[2] for t in T])
    BT = np.stack([t[3] for t in T])
    del train, T
    log(f"rendered training set: {X.shape}, {X.nbytes / 1e6:.0f} MB")

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=max(1, args.steps),
                                                pct_start=0.1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    pos_w = parse_pos_weight(args.pos_weight)
    pos_w_t = torch.tensor([pos_w.get(c, 1.0) for c in CLASSES]) if pos_w else None
    gen = np.random.default_rng(args.seed)
    model.train()
    run = None
    for step in range(1, args.steps + 1):
        idx = gen.choice(len(X), size=min(args.batch, len(X)), replace=False)
        gains = 10 ** (gen.uniform(-12, 6, size=(len(idx), 1)) / 20).astype(np.float32)
        x = torch.from_numpy(X[idx] * gains)
        out = model.forward_logits(x)
        on, bt = torch.from_numpy(ON[idx]), torch.from_numpy(BT[idx])
        vel, vm = torch.from_numpy(VEL[idx]), torch.from_numpy(VM[idx])
        l_on = bce(out["onsets"], on, pos_weight=pos_w_t)
        l_bt = bce(out["beats"], bt)
        l_vel = ((torch.sigmoid(out["velocity"]) - vel) ** 2 * vm).sum() / vm.sum().clamp(min=1)
        loss = l_on * 2.0 + l_bt + l_vel
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        vals = np.array([loss.item(), l_on.item(), l_bt.item(), l_vel.item()])
        run = vals if run is None else 0.98 * run + 0.02 * vals
        if step % 50 == 0 or step == args.steps or step <= 3:
            log(f"step {step}/{args.steps} loss {run[0]:.4f} onset {run[1]:.4f} "
                f"beat {run[2]:.4f} vel {run[3]:.4f}")
    train_s = time.time() - t0
    del X, ON, VEL, VM, BT
    return _validate_and_save(model, args, argv, n_train, n_val, train_s, t0, log,
                              extra, lend_classes)


def _validate_and_save(model, args, argv, n_train, n_val, train_s, t0, log,
                       extra: tuple[str, ...], lend_classes: tuple[str, ...]) -> dict:
    import torch

    from . import render
    from .model import n_params, save_drumnet

    fps = model.fps
    t_eval = time.time()
    log(f"rendering validation sets ({n_val} clips each) from held-out kits "
        f"{list(kits_mod.VALIDATION_KITS)}")
    tune = render.render_validation_set(n_val, TUNE_SEED)
    test = render.render_validation_set(n_val, TEST_SEED)
    o_tune = run_model(model, tune)
    th, sup = tune_peak_picking(o_tune, tune, fps)
    bth = tune_beat_threshold(o_tune, tune, fps)
    log(f"tuned on seed {TUNE_SEED}: thresholds {th}, suppression {sup}, beat {bth}")
    o_test = run_model(model, test)
    metrics = evaluate(o_test, test, fps, th, bth, suppress=sup)
    # velocity error at matched reference hits
    errs = []
    for o, (_, _, ann) in zip(o_test, test, strict=True):
        for t, c, v in ann["hits"]:
            i = int(round(t * fps))  # noqa: RUF046
            if i < len(o["velocity"]):
                errs.append(abs(float(o["velocity"][i, CLASSES.index(c)]) - v))
    metrics["velocity_mae_at_ref_onsets"] = round(float(np.mean(errs)), 4) if errs else None
    metrics.update({
        "validation_kits": list(kits_mod.VALIDATION_KITS),
        "train_kits": [*kits_mod.TRAIN_KITS, *extra],
        "extra_kits": list(extra),
        "extra_kits_arg": args.extra_kits,
        "extra_classes": list(lend_classes),
        "threshold_tuning_set": {"seed": TUNE_SEED, "n_clips": n_val, "duration_s": 8.0},
        "test_set": {"seed": TEST_SEED, "n_clips": n_val, "duration_s": 8.0},
        "thresholds": th,
        "suppress": sup,
        "beat_threshold": bth,
        "steps": args.steps, "batch": args.batch, "clip_s": args.clip_s, "n_train": n_train,
        "seed": args.seed, "lr": args.lr, "sample_aug_p": args.sample_aug,
        "synth_p": args.synth, "role_swap_p": args.role_swap, "lofi_p": args.lofi,
        "lofi_classes": list(parse_classes("--lofi-classes", args.lofi_classes)),
        "pos_weight": parse_pos_weight(args.pos_weight),
        "n_params": n_params(model),
        "train_time_s": round(train_s, 1),
        "total_time_s": round(train_s + time.time() - t_eval, 1),
        "torch": torch.__version__,
    })
    # speed: one 30 s window on one CPU thread, decoding included (timing varies per machine)
    x = torch.from_numpy(np.concatenate([c[0] for c in test[:4]])[: 30 * model.sample_rate])[None]
    with torch.no_grad():
        model(x[:, : model.sample_rate])
        ts = []
        for _ in range(3):
            t1 = time.time()
            o = model(x)
            activations_to_hits(o["onsets"][0].numpy(), o["velocity"][0].numpy(), fps, th,
                                suppress=sup)
            ts.append(time.time() - t1)
    metrics["infer_s_per_30s_window"] = round(min(ts), 3)
    metrics["torch_threads"] = torch.get_num_threads()
    model.thresholds = th
    model.suppress = sup
    save_drumnet(model, args.out, {"thresholds": th, "suppress": sup, "beat_threshold": bth,
                                   "validation_kits": list(kits_mod.VALIDATION_KITS),
                                   "train_kits": [*kits_mod.TRAIN_KITS, *extra]})
    metrics["weights_bytes"] = (args.out / "model.safetensors").stat().st_size
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log("validation (held-out kits, test seed):", json.dumps(
        {k: metrics[k] for k in ("onset_f", "onset_f_mean_kick_snare_hihat", "beat_f",
                                 "downbeat_f", "velocity_mae_at_ref_onsets")}))
    write_model_card(args.out, metrics, list(argv if argv is not None else sys.argv[1:]))
    log(f"wrote {args.out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
