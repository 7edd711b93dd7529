"""The training options of issue 15 that are not rendering: which render options a
recipe passes, fine-tuning from saved weights, class-balanced clip draws."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def render_options(args, train_kits: tuple[str, ...]) -> dict:
    """The training-only render options of the recipe flags that are on (an option left
    off is not passed, so recipes without it render bit for bit as before)."""
    opts: dict[str, Any] = {}
    if args.voices:
        opts["voices_p"] = args.voices
    if args.layer:
        opts["layer_p"] = args.layer
        opts["layer_kits"] = tuple(train_kits)
    if args.pitch_range == "wide":
        opts["wide_pitch"] = True
    if args.chain:
        opts["chain_p"] = args.chain
    if args.contrast:
        opts["contrast_p"] = args.contrast
    for flag, key in (("extra_styles", "extra_styles_p"), ("real_beds", "real_beds_p"),
                      ("negatives", "negatives_p"), ("isolated", "isolated_p"),
                      ("thin", "thin_p"), ("pluck", "pluck_p")):
        if getattr(args, flag):
            opts[key] = getattr(args, flag)
    return opts


def load_init(path: str):
    """The model to fine-tune: a drumnet directory's weights and architecture (exits with
    the flag named when ``path`` is not one)."""
    from heihachi.plugins.drumnet.model import load_drumnet

    p = Path(path)
    if not (p / "model.safetensors").is_file() or not (p / "config.json").is_file():
        raise SystemExit(f"--init: {path} is not a drumnet directory "
                         "(model.safetensors + config.json)")
    model = load_drumnet(p)
    model.train()
    return model


def check_fine_tune_flags(args) -> None:
    """Refuse, before any rendering, the flags that only make sense with ``--init``."""
    for flag, on, what in (("--heads-only", args.heads_only, "fine-tunes the heads of"),
                           ("--distill-beats", args.distill_beats, "distils the beats of")):
        if on and not args.init:
            raise SystemExit(f"{flag}: {what} an --init model; name one with --init DIR")


def beat_teacher(path: str):
    """The frozen initial model whose beat and downbeat probabilities ``--distill-beats``
    trains towards, in eval mode (no dropout, BatchNorm running statistics) and without
    gradients.  Distilling rather than freezing lets the shared trunk move for the drums
    while the beat outputs are held where the initial model had them, on every clip kind
    the recipe renders (isolated hits and drumless beds included)."""
    teacher = load_init(path)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def balanced_sampling(onsets: np.ndarray, strength: float) -> np.ndarray:
    """Clip-draw probabilities: ``(1 - strength)`` uniform plus ``strength`` weighted so
    that each class's onset frames get the same total share (rare toms and cymbals are
    drawn more often).  ``onsets``: ``[clips, frames, classes]`` targets."""
    hits = (onsets >= 1.0).sum(axis=1).astype(np.float64)  # [clips, classes]
    share = hits / np.maximum(hits.sum(axis=0, keepdims=True), 1.0)
    w = share.sum(axis=1)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    p = (1 - strength) / len(w) + strength * w
    return p / p.sum()


def freeze_all_but_drum_heads(model) -> list:
    """Freeze every parameter but the onset and velocity heads' and return those.

    The beat head reads the GRU alone and the drum heads read the GRU and the frame
    projection, so with the trunk frozen (and the model kept in eval mode, BatchNorm
    statistics and dropout included) a fine-tune moves the drum hits and leaves the beat,
    downbeat and tempo outputs bit for bit those of the initial model: drum-only data
    (isolated hits, say) cannot cost the beat tracker anything."""
    heads = {id(p) for m in (model.onset_head, model.vel_head) for p in m.parameters()}
    for p in model.parameters():
        p.requires_grad_(id(p) in heads)
    return [p for p in model.parameters() if p.requires_grad]


def init_sha(init: str) -> str:
    if not init:
        return ""
    from heihachi.runtime.inputs import content_hash

    return content_hash(Path(init) / "model.safetensors")
