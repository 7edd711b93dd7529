"""Train drumnet on renders of the Hydrogen drumkits.

    python -m heihachi_train.drumnet.train --out DIR [recipe flags]

(each shipped model's card, ``models_cache/heihachi/*/MODEL_CARD.md``, has its exact
command; drumnet-v4, the default, is fine-tuned with ``--init`` from drumnet-v3, itself
fine-tuned from v2 and v2 from v1: ``python -m heihachi_train.drumnet.reproduce
models_cache/heihachi/drumnet-v4 --out DIR`` replays the chain and checks every sha256.)

Renders a deterministic training set from the training kits (cached in RAM), trains the
CRNN with fixed seeds on CPU, tunes per-class peak-picking thresholds on one rendered
validation set of the held-out kits and reports onset / beat F-measures on a second,
independent validation set of the same held-out kits.  Writes ``config.json``,
``model.safetensors`` and ``metrics.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from heihachi.plugins.drumnet.decode import activations_to_hits

from . import kits as kits_mod
from .card import write_model_card
from .evaluate import (
    TEST_SEED,
    TUNE_SEED,
    evaluate,
    run_model,
    tune_beat_threshold,
    tune_peak_picking,
)
from .options import (
    add_mix_flags,
    balanced_sampling,
    beat_loss,
    beat_teacher,
    check_fine_tune_flags,
    freeze_all_but_drum_heads,
    init_sha,
    labelled_clips,
    load_init,
    render_options,
)
from .soundfonts import expand_kits
from .targets import frame_targets

CLASSES = kits_mod.CLASSES


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
    ("--voices", "voices", "voices_p", 0.0),
    ("--layer", "layer", "layer_p", 0.0),
    ("--pitch-range", "pitch_range", "pitch_range", "normal"),
    ("--chain", "chain", "chain_p", 0.0),
    ("--contrast", "contrast", "contrast_p", 0.0),
    ("--balance", "balance", "balance", 0.0),
    ("--label-smooth", "label_smooth", "label_smooth", 0.0),
    ("--tune-chain", "tune_chain", "tune_chain_p", 0.0),
    ("--extra-styles", "extra_styles", "extra_styles_p", 0.0),
    ("--real-beds", "real_beds", "real_beds_p", 0.0),
    ("--negatives", "negatives", "negatives_p", 0.0),
    ("--isolated", "isolated", "isolated_p", 0.0),
    ("--thin", "thin", "thin_p", 0.0),
    ("--pluck", "pluck", "pluck_p", 0.0),
    ("--metal", "metal", "metal_p", 0.0),
    ("--band", "band", "band_p", 0.0),
    ("--distill-beats", "distill_beats", "distill_beats", 0.0),
    ("--init", "init", "init", ""),
)


def _usable_cpus() -> int:
    """CPUs this process may run on (``os.cpu_count`` where affinity is not available)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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
    """Train (or re-measure) a drumnet; see ``--help``. Returns the metrics written.

    Training flushes denormal floats to zero (the GRU's tails run several times faster).
    That is a process-wide CPU flag, so it is put back as it was on return: left on, it
    broke every later computation in the same process that needs subnormal floats
    (hypothesis refuses to generate floats at all, as the serve fuzz test found in CI).
    """
    import torch

    was_flushing = sys.float_info.min / 2 == 0.0
    try:
        return _main(argv)
    finally:
        torch.set_flush_denormal(was_flushing)


def _main(argv: list[str] | None) -> dict:
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
    ap.add_argument("--voices", type=float, default=0.0,
                    help="probability per class and clip of playing that class on the "
                         "wide-range synthesised voices of voices.py")
    ap.add_argument("--layer", type=float, default=0.0,
                    help="probability per class and clip of layering each instrument with "
                         "another sound of its class (samples.layer_instruments)")
    ap.add_argument("--pitch-range", choices=("normal", "wide"), default="normal",
                    help="ranges of --sample-aug's re-pitch/decay (wide: samples.WIDE_AUG)")
    ap.add_argument("--chain", type=float, default=0.0,
                    help="probability per stem and per mix of a random production chain "
                         "(chain.py: filters, telephone band, reverb, compression, pumping, "
                         "saturation, clipping, bit-crush, codecs, sample rates)")
    ap.add_argument("--contrast", type=float, default=0.0,
                    help="probability per clip of a hard mix situation (situations.py)")
    ap.add_argument("--balance", type=float, default=0.0,
                    help="class-balanced clip sampling: mix (0-1) of uniform draws and "
                         "draws weighted so every class's hits get the same share")
    ap.add_argument("--label-smooth", type=float, default=0.0,
                    help="label smoothing of the onset targets (t -> t(1-e) + e/2)")
    ap.add_argument("--tune-chain", type=float, default=0.0,
                    help="render the threshold-tuning set (held-out kits, seed 1234) with "
                         "--chain at this probability, so thresholds suit processed audio")
    ap.add_argument("--init", type=str, default="",
                    help="fine-tune: start from the weights (and architecture) of this drumnet "
                         "directory instead of a random initialisation")
    ap.add_argument("--causal", action="store_true",
                    help="a causal model (forward-only GRU; model.to_causal): with --init, "
                         "converted from the initial (bidirectional) weights")
    ap.add_argument("--heads-only", action="store_true",
                    help="with --init: train only the drum onset and velocity heads; the "
                         "trunk and the beat head keep the initial weights, so beats, tempo "
                         "and downbeats stay exactly those of the initial model")
    ap.add_argument("--distill-beats", type=float, default=0.0,
                    help="with --init: the beat/downbeat loss is this weight times the "
                         "cross-entropy to the initial model's beat probabilities instead of "
                         "the rendered beats, so drums can move while beats stay the "
                         "initial model's")
    add_mix_flags(ap)
    ap.add_argument("--pos-weight", type=str, default="",
                    help="onset-loss weight of positive frames per class, e.g. tom=3,cymbal=2")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 is fastest on a shared 2-core machine)")
    ap.add_argument("--render-workers", type=int, default=_usable_cpus(),
                    help="processes rendering the training clips (default: every usable "
                         "CPU; the clips, and so the weights, are the same for any number)")
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

    from heihachi.plugins.drumnet.model import DEFAULT_CONFIG, TINY_OVERRIDES, build, n_params

    from . import render

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
        from heihachi.plugins.drumnet.model import load_drumnet

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
        if model.causal:
            argv += ["--causal"]
        args.heads_only = bool(old.get("heads_only", False))
        if args.heads_only:
            argv += ["--heads-only"]
        extra, lend_classes = _extra_kit_plan(args.extra_kits, args.extra_classes)
        return _validate_and_save(model, args, argv, n_train, n_val, train_s, t0, log,
                                  extra, lend_classes)

    extra, lend_classes = _extra_kit_plan(args.extra_kits, args.extra_classes)
    check_fine_tune_flags(args)
    if args.real_beds:
        from .beds import sources_present

        if not sources_present():
            raise SystemExit("--real-beds: the bed recordings are missing; apt-get install "
                             "hydrogen-drumkits-effects klettres-data ktuberling-data")
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
    if args.init:
        if any(getattr(args, key) for key in ARCH_KEYS) or args.tiny:
            raise SystemExit("--init: the architecture comes from the initial weights; "
                             "drop the architecture flags")
        model = load_init(args.init)
        if args.causal and not model.causal:
            from heihachi.plugins.drumnet.model import to_causal

            model = to_causal(model)
    else:
        if args.causal:
            cfg["causal"] = True
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
                              lenders=lenders, lend_classes=lend_classes,
                              workers=args.render_workers, **render_options(args, train_kits))
    n_samp = int(args.clip_s * render.SR)
    n_frames = n_samp // model.hop_length + 1
    X = np.stack([c[0][:n_samp] for c in train]).astype(np.float32)
    T = [frame_targets(c[2], n_frames, fps) for c in train]
    ON = np.stack([t[0] for t in T])
    VEL = np.stack([t[1] for t in T])
    VM = np.stack([t[2] for t in T])
    BT = np.stack([t[3] for t in T])
    labelled = labelled_clips([c[2] for c in train], args)  # kept from --distill-beats
    del train, T
    log(f"rendered training set: {X.shape}, {X.nbytes / 1e6:.0f} MB")

    heads_only = args.heads_only
    trained = freeze_all_but_drum_heads(model) if heads_only else list(model.parameters())
    opt = torch.optim.AdamW(trained, lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=max(1, args.steps),
                                                pct_start=0.1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    pos_w = parse_pos_weight(args.pos_weight)
    pos_w_t = torch.tensor([pos_w.get(c, 1.0) for c in CLASSES]) if pos_w else None
    gen = np.random.default_rng(args.seed)
    draw_p = balanced_sampling(ON, args.balance) if args.balance > 0 else None
    if args.label_smooth > 0:
        ON = ON * (1 - args.label_smooth) + args.label_smooth / 2
    model.train(not heads_only)  # heads only: BatchNorm statistics and dropout frozen too
    teacher = beat_teacher(args.init) if args.distill_beats else None
    run = None
    for step in range(1, args.steps + 1):
        idx = gen.choice(len(X), size=min(args.batch, len(X)), replace=False, p=draw_p)
        gains = 10 ** (gen.uniform(-12, 6, size=(len(idx), 1)) / 20).astype(np.float32)
        x = torch.from_numpy(X[idx] * gains)
        out = model.forward_logits(x)
        on, bt = torch.from_numpy(ON[idx]), torch.from_numpy(BT[idx])
        vel, vm = torch.from_numpy(VEL[idx]), torch.from_numpy(VM[idx])
        l_on = bce(out["onsets"], on, pos_weight=pos_w_t)
        soft = None
        if teacher is not None:
            with torch.no_grad():
                soft = torch.sigmoid(teacher.forward_logits(x)["beats"])
        l_bt = beat_loss(out["beats"], bt, soft, args.distill_beats,
                         None if labelled is None else labelled[idx])
        l_vel = ((torch.sigmoid(out["velocity"]) - vel) ** 2 * vm).sum() / vm.sum().clamp(min=1)
        loss = l_on * 2.0 + l_bt + l_vel
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 5.0)
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

    from heihachi.plugins.drumnet.model import n_params, save_drumnet

    from . import render

    fps = model.fps
    t_eval = time.time()
    log(f"rendering validation sets ({n_val} clips each) from held-out kits "
        f"{list(kits_mod.VALIDATION_KITS)}")
    tune_chain = getattr(args, "tune_chain", 0.0)
    tune = (render.render_set(n_val, TUNE_SEED, kits_mod.VALIDATION_KITS, duration=8.0,
                              chain_p=tune_chain) if tune_chain
            else render.render_validation_set(n_val, TUNE_SEED))
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
        "threshold_tuning_set": {"seed": TUNE_SEED, "n_clips": n_val, "duration_s": 8.0,
                                 "chain_p": tune_chain},
        "test_set": {"seed": TEST_SEED, "n_clips": n_val, "duration_s": 8.0},
        "thresholds": th,
        "suppress": sup,
        "beat_threshold": bth,
        "steps": args.steps, "batch": args.batch, "clip_s": args.clip_s, "n_train": n_train,
        "seed": args.seed, "lr": args.lr, "sample_aug_p": args.sample_aug,
        "synth_p": args.synth, "role_swap_p": args.role_swap, "lofi_p": args.lofi,
        "lofi_classes": list(parse_classes("--lofi-classes", args.lofi_classes)),
        "pos_weight": parse_pos_weight(args.pos_weight),
        "voices_p": args.voices, "layer_p": args.layer, "pitch_range": args.pitch_range,
        "chain_p": args.chain, "contrast_p": args.contrast, "balance": args.balance,
        "label_smooth": args.label_smooth, "tune_chain_p": args.tune_chain,
        "extra_styles_p": args.extra_styles, "real_beds_p": args.real_beds,
        "negatives_p": args.negatives, "isolated_p": args.isolated,
        "thin_p": args.thin, "pluck_p": args.pluck, "metal_p": args.metal, "band_p": args.band,
        "init": args.init,
        "causal": bool(getattr(model, "causal", False)),
        "heads_only": args.heads_only, "distill_beats": args.distill_beats,
        "init_sha256": init_sha(args.init),
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
    metrics["argv"] = list(argv if argv is not None else sys.argv[1:])
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log("validation (held-out kits, test seed):", json.dumps(
        {k: metrics[k] for k in ("onset_f", "onset_f_mean_kick_snare_hihat", "beat_f",
                                 "downbeat_f", "velocity_mae_at_ref_onsets")}))
    write_model_card(args.out, metrics, list(argv if argv is not None else sys.argv[1:]))
    log(f"wrote {args.out}")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
