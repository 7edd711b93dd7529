"""MODEL_CARD.md: what drumnet is, what trained and validated it, how to reproduce it."""

from __future__ import annotations

import json
from pathlib import Path

from . import kits as kits_mod
from .card_recipe import generalisation_text
from .evaluate import TEST_SEED, TUNE_SEED
from .render import LEND_P
from .soundfonts import SOUNDFONT_KITS, SOUNDFONT_LICENCES

CLASSES = kits_mod.CLASSES


def _init_text(metrics: dict) -> str:
    """For a fine-tuned model: where its initial weights come from, and the one command
    that replays every stage (``heihachi_train.drumnet.reproduce``)."""
    if not metrics.get("init"):
        return ""
    base = metrics.get("init_source") or "the directory named by --init"
    argv = metrics.get("argv") or []
    here = argv[argv.index("--out") + 1] if "--out" in argv[:-1] else "MODEL_DIR"
    return (f"\nFine-tuned: the initial weights (sha256 `{metrics.get('init_sha256', '?')}`) "
            f"are {base}, reproduced by the command in their own card.  One command replays "
            "every stage from random weights, each from the previous stage's reproduced "
            "weights, and compares every stage's sha256 with the shipped file (exit code 1 "
            "on any difference):\n\n"
            f"```\npython -m heihachi_train.drumnet.reproduce {here} --out DIR\n```\n\n"
            "The last stage alone, from the shipped initial weights:\n")


def _beside(out: Path, name: str) -> dict | None:
    """A bench's JSON written next to the weights (``--json DIR/name``), or None."""
    path = out / name
    return json.loads(path.read_text()) if path.is_file() else None


def _limits_text(metrics: dict) -> str:
    if metrics.get("real_beds_p"):
        return ("Limits: the drums it learned are synthetic renders (one-shot samples and "
                "synthesised voices), some over real drumless recordings (guitar, speech); "
                "real drum recordings with bleed and live cymbal washes will score lower.  "
                "Claps, side sticks, cowbells and hand percussion are not classes.")
    return ("Limits: trained and validated on synthetic renders only (one-shot drum "
            "samples, 4/4,\nconstant tempo); real recordings with bleed, live cymbal "
            "washes or heavy processing will\nscore lower.  Claps, side sticks, cowbells "
            "and hand percussion are not classes.")


def _real_beats_section(out: Path) -> str:
    """Beats on real recorded songs (``bench/real_beats.py --json DIR/real_beats.json``)
    when that file sits next to the weights; empty otherwise."""
    doc = _beside(out, "real_beats.json")
    if doc is None:
        return ""
    rows = []
    for label, s in doc["summary"].items():
        down = "-" if s["downbeat_f"] is None else f"{s['downbeat_f']:.3f}"
        name = f"**{out.name}** (this model)" if label == "heihachi" else label
        rows.append(f"| {name} | {s['beat_f']:.3f} | {s['cmlt']:.3f} | {s['amlt']:.3f} | "
                    f"{down} | {s['tempo']:.2f} |")
    songs = ", ".join(s["name"] for s in doc["songs"] if s["beats_ok"])
    return ("## Beats on real recorded songs\n\n"
            f"`{doc.get('command', 'python bench/real_beats.py')}`: {len(doc['songs'])} rock "
            f"and metal songs of Debian's `fretsonfire-songs-muldjord` and "
            f"`fretsonfire-songs-sectoid` (validation only, never trained on; scored: "
            f"{songs}), beat grids from the game charts' tempo maps after the sync rule of "
            "`bench/fof_charts.py`; every tracker in the same run.  A small, genre-bound "
            "set: it catches failures on dense real mixes, it cannot rank trackers "
            "finely.\n\n"
            "| tracker | beat F | CMLt | AMLt | downbeat F | tempo |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n")


def _realtime_section(out: Path) -> str:
    """The causal tracker's figures (``bench/realtime.py --json DIR/realtime_bench.json``)
    when that file sits next to the weights; empty otherwise."""
    r = _beside(out, "realtime_bench.json")
    if r is None:
        return ""
    ho, un = r["held_out"], r.get("unseen") or {}
    st = r["streams"]
    m = _beside(out, "metrics.json") or {}
    lines = [
        "## Realtime tracker (`drumnet-online`)", "",
        "How it was made: `model.to_causal` of the bidirectional model named by `--init` "
        "(convs, projection, the GRU's forward direction and each head's weights on it "
        f"copied), then fine-tuned {m.get('steps', '?')} steps (batch {m.get('batch', '?')}, "
        f"lr {m.get('lr', '?')}, {m.get('train_time_s', '?')} s on one thread) with that "
        f"model's data recipe on its first {m.get('n_train', '?')} training clips (same "
        "seeds; the held-out kits and the unseen sources never rendered for training).  "
        "It was trained once; the byte-identical claim under Reproduce rests on the "
        "deterministic training code, not on a second run.", "",
        f"Measured by `python bench/realtime.py --json {out}/realtime_bench.json` in one run "
        f"({r['wall_s']} s): the tracker through `heihachi.hf.RealtimeBeatTracker`, latency "
        f"budget {r['latency_s']} s (model look-ahead {r['lookahead_s']} s + "
        f"{r['decoder_lag_frames']} decoder frames), {r['block']}-sample blocks at "
        f"{r['input_rate']} Hz; offline: drumnet-v1 + `decode_beats` on the whole clip.  "
        "The decoder's settings (the defaults of `heihachi/music/online_beats.py`) were "
        "chosen on other renders (held-out kits, seed 9999; streams of seeds 50-55), "
        "never on the sets below, except how the tempo is reported (a median of heard "
        "beats, the two-beat switch once the old tempo went unheard, a 0.75 s octave-up "
        "hold): made for the `up_change` streams below (seeds 100-103) and checked on "
        "streams of seeds 104-111 of every kind; it moves no beat.", "",
        "| set | clips | causal beat F | causal tempo | offline beat F | offline tempo |",
        "|---|---|---|---|---|---|"]
    for name, d in (("held-out kits, seed 4321", ho), ("unseen sources, seed 2027", un)):
        for sub in ("all", "metre"):
            if d and sub in d:
                x = d[sub]
                lines.append(f"| {name} ({'clips with a metre' if sub == 'metre' else 'all'})"
                             f" | {x['clips']} | {x['causal_f']:.3f} | {x['causal_tempo']:.3f} "
                             f"| {x['offline_f']:.3f} | {x['offline_tempo']:.3f} |")
    ed = r["event_delay_s"]
    lines += ["", f"- event delay (`emitted_at - t`): p50 {ed['p50']} s, p99 {ed['p99']} s, "
              f"max {ed['max']} s over {ed['events']} events"]
    for b, v in r["compute"].items():
        cpu = (f"; the thread's CPU time p99 {v['p99_cpu_ms']} ms = "
               f"{v['p99_cpu_share_of_block']:.0%}" if "p99_cpu_ms" in v else "")
        lines.append(f"- compute per {b}-sample block ({v['block_ms']} ms): p50 {v['p50_ms']} "
                     f"ms, p99 {v['p99_ms']} ms = {v['p99_share_of_block']:.0%} of the block "
                     f"(one torch thread, shared machine){cpu}")
    for kind, d in st.items():
        sm = d["summary"]
        extra = {k: v for k, v in sm.items() if k not in ("streams", "beat_f")}
        lines.append(f"- streams `{kind}` ({sm['streams']}): beat F {sm['beat_f']:.3f}; "
                     + "; ".join(f"{k} {v}" for k, v in extra.items()))
    bn = r["beatnet"]
    if not bn.get("measured"):
        lines.append(f"- BeatNet online: {bn.get('reason', '')}")
        return "\n".join(lines) + "\n\n"
    lines.append(f"- BeatNet {bn['beatnet']} online (model {bn['model']}, {bn['mode']}; its "
                 "own venv, `--beatnet-python`), same clips: " + "; ".join(
                     f"{k} (metre) beat F {bn[k]['metre']['causal_f']:.3f}, tempo "
                     f"{bn[k]['metre']['causal_tempo']:.3f}, DnB at half "
                     f"{bn[k]['dnb_160_180']['causal_half']}/{bn[k]['dnb_160_180']['clips']}"
                     for k in ("held_out", "unseen") if k in bn) + "; " + "; ".join(
                     f"`{k}` beat F {bn[k]['beat_f']:.3f}, time_to_tempo_after_change_s "
                     f"{bn[k]['time_to_tempo_after_change_s']}"
                     for k in ("tempo_change", "up_change") if k in bn))
    return "\n".join(lines) + "\n\n"


def _unseen_section(out: Path) -> str:
    """The unseen-source validation (``bench/quality.py --unseen --json
    DIR/unseen_validation.json`` and ``bench/oneshots.py --json DIR/oneshots.json``),
    when those files sit next to the weights; empty otherwise."""
    doc = _beside(out, "unseen_validation.json")
    if doc is None:
        return ""
    fig = doc["models"][0]["figures"]

    def ci(v: list[float]) -> str:
        return f"[{v[0]:.3f}, {v[1]:.3f}]"

    of, o95 = fig["onset_f"], fig["onset_f_95"]
    rows = "\n".join(f"| {c} | {of[c]:.3f} | {ci(o95[c])} |" for c in CLASSES)
    groups = ""
    for key, title in (("by_family", "family"), ("by_kit", "kit"),
                       ("by_processing", "processing")):
        g = fig.get(key) or {}
        header = f"| {title} | clips | " + " | ".join(CLASSES) + \
            " | mean k/s/h [95 %] | beat F | tempo |"
        groups += ("\n" + header + "\n" + "|---" * (len(CLASSES) + 5) + "|\n"
                   + "\n".join(f"| {k} | {v['clips']} | "
                               + " | ".join(f"{v['onset_f'][c]:.2f}" for c in CLASSES)
                               + f" | {v['mean_ksh']:.3f} {ci(v['mean_ksh_95'])} | "
                               f"{v['beat_f']:.3f} | {v['tempo']:.2f} |"
                               for k, v in g.items()) + "\n")
    shots = ""
    one = _beside(out, "oneshots.json")
    if one is not None:
        o = one["models"][0]
        cmd = one.get("command", "python bench/oneshots.py")
        shots = (f"\nIsolated one-shots of the same sources ({o['n']} files through the CLI, "
                 f"`{cmd}`): accuracy {o['accuracy']:.3f} {ci(o['accuracy_95'])}; "
                 f"an MFCC + logistic-regression baseline trained on drumnet's training "
                 f"one-shots gets {o['baseline']:.3f} {ci(o['baseline_95'])} in the same run.\n")
    return f"""## Unseen-source validation

Sound sources disjoint from every training source (`bench/unseen/`): the OPL3 FM
SoundFont (Debian opl3-soundfont, CC-BY-SA-4.0), the Sonivox EAS wavetable GM drums
(Debian libsonivox3, Apache-2.0) and four kits of a physically modelled engine
(`bench/unseen/physical.py`: Bessel membrane modes, plate modes, Karplus-Strong), each
clip through one production condition (low-pass near 3 kHz, telephone band 300-3400 Hz,
high-pass, reverb, compression with sidechain pumping, saturation, clipping, bit-crush,
mp3, ogg, 48 kHz, 22.05 kHz, two steps, or clean); the bench's leak check found no
validation one-shot matching a training one-shot (normalised cross-correlation < 0.9).
{doc['clips']} clips of {doc['duration_s']:g} s, seed {doc['seed']}, end to end through
`hf analyze-drums`; 95 % bootstrap intervals (clips resampled):
`{doc['command']}`

| class | onset F (50 ms) | 95 % interval |
|---|---|---|
{rows}

- mean F kick/snare/hihat **{fig['mean_ksh']:.3f}** {ci(fig['mean_ksh_95'])}; beat F
  {fig['beat_f']:.3f} {ci(fig['beat_f_95'])}; tempo within 4 % {fig['tempo']:.3f}
  {ci(fig['tempo_95'])}
{groups}{shots}

"""


def write_model_card(out: Path, metrics: dict, argv: list[str]) -> None:
    """MODEL_CARD.md next to the weights, from the measured metrics."""
    from heihachi.runtime.inputs import content_hash

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
    cmd = "python -m heihachi_train.drumnet.train " + " ".join(argv)
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
    aug_txt += generalisation_text(metrics)
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
    unseen = _unseen_section(out) + _real_beats_section(out) + _realtime_section(out)
    causal = bool(metrics.get("causal"))
    gru = ("a forward-only GRU: causal, each frame sees the audio up to half an STFT window "
           "and 6 frames (0.103 s) after it" if causal else "a bidirectional GRU")
    text = f"""# {out.name}

The project's own drum transcription and beat activation model: a small CRNN
(log-mel frontend inside the module, 3 conv blocks, {gru}) with per-frame
(100 fps) sigmoid outputs for kick, snare, hihat, tom and cymbal onsets, beat and downbeat
activations, and a velocity head.  Input: mono audio at 24 kHz, any length.  Frontend:
{mc_txt}.

- parameters: {metrics['n_params']}; weights: `model.safetensors`, fp32,
  {metrics['weights_bytes']} bytes; config and tuned thresholds: `config.json`
- code: `heihachi/plugins/drumnet/` (`plugins/drumnet/` in the repository); training
  code: `heihachi_train/drumnet/` (in the repository only, not in the wheel)

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
- beats, decoded as the CLI does (`heihachi.music.beat_decoding.decode_beats`: windowed
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

{unseen}Beat errors are metrical-level errors on slow material (hip hop and rolls at 80-110 BPM
doubled, a few breakbeat/house clips halved) and phase errors on a few roll clips.  With
{n_train_kits} training kits the model is limited by timbre diversity; more kits and a
wider model are the next steps.

{_limits_text(metrics)}

## Reproduce
{_init_text(metrics)}
```
{cmd}
```

Deterministic on CPU (fixed seeds, deterministic rendering); writes `config.json`,
`model.safetensors`, `metrics.json` and this card.  With torch {metrics.get("torch", "?")}
the weights file comes out byte for byte the same: `sha256sum model.safetensors` gives
`{weights_sha}`.
"""
    (out / "MODEL_CARD.md").write_text(text)


if __name__ == "__main__":  # rewrite a card after the benches wrote their JSON beside it
    import sys

    d = Path(sys.argv[1])
    m = json.loads((d / "metrics.json").read_text())
    write_model_card(d, m, m.get("argv") or [])
