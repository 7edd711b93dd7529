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
                      ("thin", "thin_p"), ("pluck", "pluck_p"), ("metal", "metal_p"),
                      ("band", "band_p")):
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


def labelled_clips(anns: list[dict], args) -> np.ndarray | None:
    """Per clip, whether ``--distill-beats`` keeps its rendered beats (``--metal``'s
    grooves, ``--band``'s clips: beats the initial model was never taught); None when
    every clip is distilled or none is."""
    if not args.distill_beats or not (args.metal or args.band):
        return None
    from .patterns import METAL_STYLES

    return np.array([a["style"] in METAL_STYLES or bool(a.get("band")) for a in anns])


def beat_loss(logits, rendered, soft=None, weight: float = 0.0, labelled=None):
    """The beat/downbeat loss of one batch: cross-entropy to the ``rendered`` beats, or
    with ``--distill-beats`` (``soft``: the teacher's probabilities) ``weight`` times the
    cross-entropy to ``soft``, except on the clips ``labelled`` marks (a boolean array per
    clip: see :func:`labelled_clips`), which keep their rendered beats at weight 1."""
    import torch

    bce = torch.nn.functional.binary_cross_entropy_with_logits
    if soft is None:
        return bce(logits, rendered)
    if labelled is None:
        return bce(logits, soft) * weight
    lab = torch.from_numpy(np.asarray(labelled, dtype=bool))[:, None, None]
    return bce(logits, torch.where(lab, rendered, soft), weight=torch.where(lab, 1.0, weight))


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


def add_mix_flags(ap) -> None:
    """The recipe flags that draw whole mix situations per clip (grooves, beds, clips
    without drums or without a grid, thin bands, bass lines)."""
    ap.add_argument("--extra-styles", type=float, default=0.0,
                    help="probability per clip of an extra metre or feel (patterns."
                         "EXTRA_STYLES: 3/4, 6/8, hats-only intro, swung hip hop, skank, "
                         "double kick)")
    ap.add_argument("--real-beds", type=float, default=0.0,
                    help="probability per clip of a bed of real recordings (beds.py: guitar "
                         "strums on the clip's grid, speech, drive, room) under the drums")
    ap.add_argument("--negatives", type=float, default=0.0,
                    help="fraction of clips with no drums and no pulse (free bed, noise, pad, "
                         "silence), labelled empty")
    ap.add_argument("--isolated", type=float, default=0.0,
                    help="probability per clip of single hits off any grid in silence, "
                         "labelled with the hits and no beats (render.isolated_clip)")
    ap.add_argument("--thin", type=float, default=0.0,
                    help="probability per clip of a thin band on the mix (chain.thin: a steep "
                         "150-700 Hz high-pass or a telephone band)")
    ap.add_argument("--pluck", type=float, default=0.0,
                    help="probability that a clip's bass line is plucked notes (mix.pluck_bass: "
                         "a bass string or a synth pluck in the toms' register)")
    ap.add_argument("--metal", type=float, default=0.0,
                    help="probability per clip of a rock/metal groove whose drums leave the "
                         "beat ambiguous (patterns.METAL_STYLES: skank with 8th kicks, "
                         "half-time breakdown, pushed bars); its beats are always trained on "
                         "the rendered labels, --distill-beats or not")
    ap.add_argument("--band", type=float, default=0.0,
                    help="probability per clip of a band on the clip's grid instead of a free "
                         "bass line (band.py: bass roots, chord changes, a distorted guitar); "
                         "its beats are always trained on the rendered labels")
