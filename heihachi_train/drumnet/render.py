"""Pattern generator and renderer: drum loops from real Hydrogen samples, with labels.

Every clip is a pattern of one style (two-step DnB, amen break, half-time, rolls,
house, breakbeat, hip hop, rock, random grid) at a tempo of 80-180 BPM with swing and
micro-timing, played by the trimmed one-shots of one kit (sometimes with instruments
borrowed from another kit of the same split; in training, optionally from the GM
SoundFont kits of :mod:`.soundfonts` too), mixed at integer sample positions so hit
times are exact, then mixed with a synthetic bass line, pad chords and pink noise and
augmented (EQ, filters, compression, synthetic reverb, gain).  Training renders can
also re-pitch/damp/tilt the one-shots, swap in synthesised drum-machine voices, swap
two classes' parts, or play a class through a sampler emulation (:func:`lofi_sample`);
each draws from the RNG only when asked for, so validation renders never change.

Labels per clip: ``hits`` [(time_s, class, velocity 0-1)], ``beats`` (quarter notes at the
pattern tempo: for DnB that is ~170, not half), ``downbeats`` (first beat of each 4/4
bar), ``tempo`` (BPM) and ``style``.
"""

from __future__ import annotations

import math

import numpy as np

from . import chain
from .kits import CLASSES, TRAIN_KITS, VALIDATION_KITS
from .mix import augment, bass_line, pad, pink_noise, pluck_bass, reverb, rms
from .patterns import (
    EXTRA_STYLE_P,
    EXTRA_STYLES,
    EXTRA_TEMPO,
    METAL_STYLE_P,
    METAL_STYLES,
    METAL_TEMPO,
    STYLE_P,
    STYLES,
    TEMPO,
    draw_swing,
    make_pattern,
    metre,
    swap_roles,
    swing_warp,
)
from .samples import (
    LEND_P,
    LOFI_BITS,
    LOFI_RATE,
    MAX_SAMPLE_S,
    SR,
    WIDE_AUG,
    Sample,
    augment_instruments,
    layer_instruments,
    lend_instruments,
    load_bank,
    lofi_instruments,
    lofi_sample,
    pick_instruments,
    pick_layer,
    synth_instruments,
    trim_onset,
    vary_sample,
    voice_instruments,
)
from .situations import contrast

__all__ = ["ISOLATED_CLASS_P", "LEND_P", "LOFI_BITS", "LOFI_RATE", "MAX_SAMPLE_S", "SR",
           "STYLES", "STYLE_P", "TEMPO", "Sample", "augment", "augment_instruments",
           "bass_line", "finish_mix", "isolated_clip", "lend_instruments", "load_bank",
           "lofi_instruments", "lofi_sample", "make_pattern", "pad", "pick_instruments",
           "pick_layer", "pink_noise", "render_clip", "render_set", "render_train_set",
           "render_validation_set", "reverb", "swap_roles", "synth_instruments", "trim_onset",
           "vary_sample"]


def render_clip(
    rng: np.random.Generator,
    kits: list[str] | tuple[str, ...],
    duration: float = 8.0,
    style: str | None = None,
    tempo: float | None = None,
    augment_p: float = 0.8,
    sample_aug_p: float = 0.0,
    synth_p: float = 0.0,
    role_swap_p: float = 0.0,
    lenders: tuple[str, ...] = (),
    lend_classes: tuple[str, ...] = (),
    lofi_p: float = 0.0,
    lofi_classes: tuple[str, ...] = (),
    voices_p: float = 0.0,
    layer_p: float = 0.0,
    wide_pitch: bool = False,
    chain_p: float = 0.0,
    contrast_p: float = 0.0,
    layer_kits: tuple[str, ...] = (),
    extra_styles_p: float = 0.0,
    real_beds_p: float = 0.0,
    negatives_p: float = 0.0,
    isolated_p: float = 0.0,
    thin_p: float = 0.0,
    pluck_p: float = 0.0,
    metal_p: float = 0.0,
    band_p: float = 0.0,
) -> tuple[np.ndarray, int, dict]:
    if negatives_p > 0 and rng.random() < negatives_p:  # no draw at all when off
        return negative_clip(rng, duration, augment_p, chain_p)
    if style is None and extra_styles_p > 0 and rng.random() < extra_styles_p:
        style = str(rng.choice(EXTRA_STYLES, p=EXTRA_STYLE_P / EXTRA_STYLE_P.sum()))
    if style is None and metal_p > 0 and rng.random() < metal_p:  # no draw when off
        style = str(rng.choice(METAL_STYLES, p=METAL_STYLE_P / METAL_STYLE_P.sum()))
    style = style or str(rng.choice(STYLES, p=STYLE_P / STYLE_P.sum()))
    lo, hi = (EXTRA_TEMPO | METAL_TEMPO | TEMPO)[style]
    tempo = float(tempo or rng.uniform(lo, hi))
    if style == "random" and rng.random() < 0.3:
        tempo = float(rng.uniform(80, 180))
    kit = str(rng.choice(list(kits)))
    bank = load_bank(kit)
    # instruments per class (borrow from another kit of the same split when missing/randomly)
    inst: dict[str, list[list[Sample]]] = {}
    for c in CLASSES:
        src = bank[c]
        if not src or rng.random() < 0.25:
            other = load_bank(str(rng.choice(list(kits))))[c]
            src = other or src
        if src:
            inst[c] = pick_instruments(src, rng)
    if lenders and lend_classes:  # training only, like synth_p
        inst = lend_instruments(inst, rng, lenders, lend_classes)
    if synth_p > 0:  # training only: validation renders draw nothing here
        inst = synth_instruments(inst, rng, synth_p)
    if voices_p > 0:  # training only, like every option below: no draws when off
        inst = voice_instruments(inst, rng, voices_p)
    if layer_p > 0:
        inst = layer_instruments(inst, rng, layer_p, tuple(layer_kits or kits))
    if sample_aug_p > 0:  # training only: validation renders draw nothing here
        inst = augment_instruments(inst, rng, sample_aug_p, WIDE_AUG if wide_pitch else None)
    if lofi_p > 0:  # training only; no draws at 0, so older recipes render as before
        inst = lofi_instruments(inst, rng, lofi_p, lofi_classes)
    if isolated_p > 0 and rng.random() < isolated_p:  # no draw at all when off
        return isolated_clip(rng, inst, kit, duration, augment_p, chain_p, thin_p)
    n = int(duration * SR)
    beat = 60.0 / tempo
    bpb, spb = metre(style)  # (4, 4) for every style of STYLES
    step = beat / spb
    bar = bpb * beat
    pre = rng.uniform(0, bar)
    bars = math.ceil((duration + pre) / bar) + 1
    events = make_pattern(style, bars, rng)
    if role_swap_p > 0 and rng.random() < role_swap_p:  # training only, like synth_p
        events = swap_roles(events, rng)
    extra = style in EXTRA_STYLES
    if extra:  # swing_warp places the swung steps
        swing, unit = draw_swing(style, rng)
    else:
        swing = rng.uniform(0, 0.3) if rng.random() < 0.4 else 0.0
    jitter = rng.uniform(0, 0.008) if rng.random() < 0.7 else 0.0
    muted = {c for c in CLASSES if rng.random() < 0.08}
    class_gain = {c: 10 ** (rng.uniform(-5, 3) / 20) for c in CLASSES}
    class_gain["hihat"] *= 10 ** (-3 / 20)
    class_gain["cymbal"] *= 10 ** (-3 / 20)
    loud_bed = False
    if contrast_p > 0 and rng.random() < contrast_p:
        events, loud_bed = contrast(events, rng, class_gain)
    drums = np.zeros(n + int(MAX_SAMPLE_S * SR), dtype=np.float32)
    stems = ({c: np.zeros(len(drums), dtype=np.float32) for c in CLASSES}
             if chain_p > 0 else None)
    hits = []
    for pos, cls, vel in events:
        if cls in muted or cls not in inst:
            continue
        if extra:
            t = swing_warp(pos, swing, unit) * step - pre
        else:
            t = pos * step - pre
            if int(pos) % 2 == 1:
                t += swing * step
        t += rng.normal(0, jitter) if jitter else 0.0
        i = int(round(t * SR))  # noqa: RUF046
        if i < 0 or i >= n:
            continue
        v = float(np.clip(vel + rng.normal(0, 0.08), 0.05, 1.0))
        layers = inst[cls][int(rng.integers(len(inst[cls])))]
        s = pick_layer(layers, v, rng)
        a = s.audio
        if stems is not None:
            stems[cls][i : i + len(a)] += a * (s.gain * v * class_gain[cls])
        else:
            drums[i : i + len(a)] += a * (s.gain * v * class_gain[cls])
        hits.append((i / SR, cls, v))
    if stems is not None:  # production chains per stem, then the drum bus
        for c in CLASSES:
            if np.any(stems[c]) and rng.random() < chain_p:
                stems[c] = chain.stem_chain(stems[c].astype(np.float64), c,
                                            rng).astype(np.float32)
        drums = np.sum([stems[c] for c in CLASSES], axis=0, dtype=np.float32)
    drums = drums[:n]
    if rng.random() < 0.35:
        drums = reverb(drums, rng).astype(np.float32)
    mix = drums.astype(np.float64)
    bed = np.zeros(n) if chain_p > 0 else None  # the non-drum part, for pumping
    dr = rms(drums) if np.any(drums) else 0.05
    band = band_p > 0 and rng.random() < band_p  # no draw at all when off
    if band:  # bass, chords, guitar on the clip's grid (band.py), instead of a free bass
        from .band import DRUM_TO_BAND_DB, band_bed

        part = (band_bed(n, beat, -pre, bpb, rng).astype(np.float64) * dr
                / 10 ** (rng.uniform(*DRUM_TO_BAND_DB) / 20))
        mix += part
        if bed is not None:
            bed += part
    elif rng.random() < 0.7:
        boost = 10 ** (rng.uniform(6, 14) / 20) if loud_bed else 1.0
        if pluck_p > 0 and rng.random() < pluck_p:  # no draw at all when off
            line = pluck_bass(n, tempo, rng)
        else:
            line = bass_line(n, tempo, rng)
        part = line * dr * 10 ** (rng.uniform(-18, 2) / 20) / 0.3
        mix += part * boost
        if bed is not None:
            bed += part * boost
    if rng.random() < 0.5:
        p = pad(n, rng)
        part = p / rms(p) * dr * 10 ** (rng.uniform(-25, -6) / 20)
        mix += part
        if bed is not None:
            bed += part
    if rng.random() < 0.6:
        mix += pink_noise(n, rng) * dr * 10 ** (rng.uniform(-50, -20) / 20)
    if real_beds_p > 0 and rng.random() < real_beds_p:  # real recordings (beds.py)
        from .beds import DRUM_TO_BED_DB, real_bed

        rb = real_bed(n, SR, rng, beat_s=beat, downbeat_s=-pre, beats_per_bar=bpb)
        if rb is not None:
            part = rb.astype(np.float64) * dr / 10 ** (rng.uniform(*DRUM_TO_BED_DB) / 20)
            mix += part
            if bed is not None:
                bed += part
    kicks = np.array([t for t, c, _ in hits if c == "kick"])
    if bed is not None and np.any(bed) and rng.random() < 0.3 * chain_p:
        mix = mix - bed + chain.pump(bed, rng, kicks)  # sidechain: beds duck under kicks
    mix = finish_mix(mix, rng, kicks, augment_p, chain_p, thin_p)
    beats = []
    downbeats = []
    k = 0
    while True:
        t = k * beat - pre
        if t >= duration:
            break
        if t >= 0:
            beats.append(t)
            if k % bpb == 0:
                downbeats.append(t)
        k += 1
    hits.sort()
    ann = {"hits": hits, "beats": beats, "downbeats": downbeats, "tempo": tempo,
           "style": style, "kit": kit, "beats_per_bar": bpb}
    if band:
        ann["band"] = True
    return mix.astype(np.float32), SR, ann


def finish_mix(x: np.ndarray, rng: np.random.Generator, kicks: np.ndarray,
               augment_p: float, chain_p: float, thin_p: float = 0.0,
               level_db: tuple[float, float] = (-14, -1)) -> np.ndarray:
    """The end of every training clip (groove, isolated hits, negative), in this order:
    the mix effects (:func:`augment`), a production chain keyed by ``kicks``
    (``chain_p``), a thin band (``thin_p``; no draw when 0), then peak-normalised to a
    level drawn from ``level_db``.  One order for all three, so a new step lands in
    every kind of clip alike."""
    if rng.random() < augment_p:
        x = augment(x, rng)
    if chain_p > 0 and rng.random() < chain_p:
        x = chain.mix_chain(x, rng, kicks)
    if thin_p > 0 and rng.random() < thin_p:
        x = chain.thin(x, rng)
    return x / (np.max(np.abs(x)) + 1e-9) * 10 ** (rng.uniform(*level_db) / 20)


#: Class odds of an isolated hit (``isolated_p``): toms and cymbals, the classes a groove
#: plays least and the isolated one-shots of issue 15 confused most, are drawn most.
ISOLATED_CLASS_P = {"kick": 0.16, "snare": 0.18, "hihat": 0.18, "tom": 0.26, "cymbal": 0.22}


def isolated_clip(rng: np.random.Generator, inst: dict[str, list[list[Sample]]], kit: str,
                  duration: float, augment_p: float = 0.8,
                  chain_p: float = 0.0, thin_p: float = 0.0) -> tuple[np.ndarray, int, dict]:
    """A clip of single hits off any grid, 0.3-1.6 s apart, in silence or a quiet floor,
    labelled with its hits and no beats.

    A groove lets the network name a hit by where it falls (toms in fills, a crash on
    the one); a sample library, a sparse intro or a one-shot folder gives it only the
    sound.  Issue 15's isolated one-shots of unseen kits were where that showed: toms
    called snares and kicks, cymbals called snares.  These clips use the same
    instruments (every timbre augmentation already applied) and the same per-stem and
    mix production chains as a groove, so only the context is taken away."""
    n = int(duration * SR)
    classes = [c for c in ISOLATED_CLASS_P if c in inst]
    odds = np.array([ISOLATED_CLASS_P[c] for c in classes])
    stems = {c: np.zeros(n + int(MAX_SAMPLE_S * SR)) for c in classes}
    hits = []
    t = rng.uniform(0.05, 0.8)
    while classes and t < duration - 0.1:
        cls = str(rng.choice(classes, p=odds / odds.sum()))
        v = float(rng.uniform(0.3, 1.0))
        s = pick_layer(inst[cls][int(rng.integers(len(inst[cls])))], v, rng)
        i = int(round(t * SR))  # noqa: RUF046
        stems[cls][i : i + len(s.audio)] += s.audio * (s.gain * v)
        hits.append((i / SR, cls, v))
        t += rng.uniform(0.3, 1.6)
    for c in classes:
        if np.any(stems[c]) and chain_p > 0 and rng.random() < chain_p:
            stems[c] = chain.stem_chain(stems[c], c, rng)
    x = np.sum([stems[c][:n] for c in classes], axis=0) if classes else np.zeros(n)
    if rng.random() < 0.3:
        x = reverb(x, rng)
    if rng.random() < 0.4:
        x = x + pink_noise(n, rng) * (rms(x) + 1e-9) * 10 ** (rng.uniform(-60, -30) / 20)
    x = finish_mix(x, rng, np.array([h[0] for h in hits if h[1] == "kick"]), augment_p,
                   chain_p, thin_p)
    ann = {"hits": hits, "beats": [], "downbeats": [], "tempo": 0.0, "style": "isolated",
           "kit": kit, "beats_per_bar": 4}
    return x.astype(np.float32), SR, ann


#: What a negative clip (``negatives_p``) holds instead of drums, with its odds.
NEGATIVES = (("free bed", 0.35), ("white noise", 0.15), ("pink noise", 0.15), ("pad", 0.25),
             ("silence", 0.1))


def negative_clip(rng: np.random.Generator, duration: float, augment_p: float = 0.8,
                  chain_p: float = 0.0) -> tuple[np.ndarray, int, dict]:
    """A clip with no drums and no pulse, labelled so (no hits, beats or downbeats): a
    bed of real recordings strummed and spoken off any grid (``beds.real_bed`` without
    a beat; a pad when its packages are missing), white or pink noise, a synthetic pad,
    or digital silence.  Teaches the model to stay quiet where a listener hears no drum
    (issue 15: silence, noise, pads and speech gave beats and hits)."""
    n = int(duration * SR)
    names = [k for k, _ in NEGATIVES]
    p = np.array([w for _, w in NEGATIVES])
    kind = str(rng.choice(names, p=p / p.sum()))
    x = np.zeros(n)
    if kind == "free bed":
        from .beds import real_bed

        rb = real_bed(n, SR, rng, beat_s=None)
        kind = "free bed" if rb is not None else "pad"
        x = rb.astype(np.float64) if rb is not None else pad(n, rng).astype(np.float64)
    elif kind == "white noise":
        x = rng.standard_normal(n)
    elif kind == "pink noise":
        x = pink_noise(n, rng).astype(np.float64)
    elif kind == "pad":
        x = pad(n, rng).astype(np.float64)
    if kind != "silence":
        x = finish_mix(x, rng, np.zeros(0), augment_p, chain_p, level_db=(-30, -1))
    ann = {"hits": [], "beats": [], "downbeats": [], "tempo": 0.0, "style": "negative",
           "kit": kind, "beats_per_bar": 4}
    return x.astype(np.float32), SR, ann


#: Clips per task handed to a rendering worker process.
CHUNK = 64


def _render_range(seed: int, kits, duration: float, augment_p: float, options: dict,
                  clips: range) -> list:
    return [render_clip(np.random.default_rng([seed, i]), kits, duration=duration,
                        augment_p=augment_p, **options) for i in clips]


def render_set(n_clips: int, seed: int, kits, duration: float = 8.0, augment_p: float = 0.8,
               workers: int = 1, **options):
    """``n_clips`` clips of :func:`render_clip`, clip ``i`` from the RNG ``[seed, i]``;
    ``options`` are render_clip's training-only options (all off by default).

    A clip depends on nothing but its own RNG, so ``workers`` > 1 renders chunks of clips
    in that many processes (spawned: no state of this process is shared) and returns
    exactly the clips one process would, in the same order."""
    if workers <= 1 or n_clips <= CHUNK:
        return _render_range(seed, kits, duration, augment_p, options, range(n_clips))
    import functools
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    job = functools.partial(_render_range, seed, tuple(kits), duration, augment_p, options)
    chunks = [range(i, min(n_clips, i + CHUNK)) for i in range(0, n_clips, CHUNK)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as ex:
        return [clip for part in ex.map(job, chunks) for clip in part]


def render_validation_set(n_clips: int, seed: int = 1234, duration: float = 8.0):
    """Held-out kits only (see kits.VALIDATION_KITS); deterministic for a given seed.

    Returns [(audio float32 mono, sr, {hits: [(t, cls, vel)], beats, downbeats, tempo,
    style, kit})].
    """
    return render_set(n_clips, seed, VALIDATION_KITS, duration=duration)


def render_extra_validation_set(n_clips: int, seed: int = 1234, duration: float = 8.0):
    """Held-out kits playing only the extra metres and feels of ``patterns.EXTRA_STYLES``
    (3/4, 6/8, hats-only intros, swung hip hop); annotations carry ``beats_per_bar``."""
    return render_set(n_clips, seed, VALIDATION_KITS, duration=duration, extra_styles_p=1.0)


def render_train_set(n_clips: int, seed: int = 0, duration: float = 8.0):
    return render_set(n_clips, seed, TRAIN_KITS, duration=duration)
