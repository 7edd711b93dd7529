"""drumnet training (heihachi_train): kit mapping, renderer, augmentations, training smoke."""

from __future__ import annotations

import hashlib
import importlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pkg():
    try:
        return importlib.import_module("heihachi.plugins.drumnet")
    except ImportError:  # not installed yet: import the package from plugins/ directly
        sys.path.insert(0, str(ROOT / "plugins"))
        return importlib.import_module("drumnet")


dn = _pkg()
PKG = dn.__name__
TRAIN = "heihachi_train.drumnet"  # rendering and training, outside the installed package
kits = importlib.import_module(TRAIN + ".kits")
decode = importlib.import_module(PKG + ".decode")

HAVE_KITS = Path("/usr/share/hydrogen/data/drumkits/GMRockKit/drumkit.xml").is_file()
needs_kits = pytest.mark.skipif(not HAVE_KITS, reason="hydrogen-drumkits not installed")
soundfonts = importlib.import_module(TRAIN + ".soundfonts")


def _have_soundfonts() -> bool:
    try:
        for sf2, _ in soundfonts.SOUNDFONT_KITS.values():
            soundfonts.soundfont_path(sf2)  # the lookup the renderer uses
    except FileNotFoundError:
        return False
    return shutil.which("fluidsynth") is not None


HAVE_SOUNDFONTS = _have_soundfonts()
needs_soundfonts = pytest.mark.skipif(
    not HAVE_SOUNDFONTS, reason="fluidsynth, fluid-soundfont-gm or timgm6mb-soundfont missing")


def test_split_by_kit_and_groups():
    val, train = set(kits.VALIDATION_KITS), set(kits.TRAIN_KITS)
    assert val and train and not (val & train)
    assert importlib.import_module(TRAIN).validation_kits() == list(kits.VALIDATION_KITS)
    for group in kits.KIT_GROUPS:
        sides = {k in val for k in group}
        assert len(sides) == 1, group
    for k in val | train:
        assert k in kits.KIT_MAP and k in kits.KIT_LICENCES


def test_mapping_pitfalls_are_explicit():
    m = kits.KIT_MAP
    assert m["Audiophob"]["Kick"] == "tom"
    assert m["Audiophob"]["Pedal HH"] is None
    assert m["ForzeeStereo"]["Snare 2 (Pearl Free Floating Maple 14x3.5)"] is None
    assert m["ForzeeStereo"]['Ride (Custom, Zagrebin 22")'] == "cymbal"
    assert m["ColomboAcousticDrumkit"]["tomhi2"] is None
    for mapping in m.values():
        assert set(mapping.values()) <= {*kits.CLASSES, None}


@needs_kits
def test_every_used_kit_parses_with_all_files():
    for kit in (*kits.TRAIN_KITS, *kits.VALIDATION_KITS):
        instruments, _ = kits.parse_kit(kit)
        assert instruments, kit
        for ins in instruments:
            assert all(layer.path.is_file() for layer in ins.layers)
    val_classes = set()
    for kit in kits.VALIDATION_KITS:
        val_classes |= {i.cls for i in kits.parse_kit(kit)[0]}
    assert val_classes == set(kits.CLASSES)


def test_extra_kit_groups():
    assert soundfonts.expand_kits("") == ()
    both = soundfonts.expand_kits("fluidr3,timgm6mb")
    assert len(both) == len(soundfonts.SOUNDFONT_KITS) and len(set(both)) == len(both)
    assert soundfonts.expand_kits("TimGM6mb TR 808,timgm6mb")[0] == "TimGM6mb TR 808"
    assert not set(both) & {*kits.TRAIN_KITS, *kits.VALIDATION_KITS}
    with pytest.raises(ValueError, match="unknown extra kit 'nope'"):
        soundfonts.expand_kits("fluidr3,nope")
    for sf2, _ in soundfonts.SOUNDFONT_KITS.values():
        assert sf2 in soundfonts.SOUNDFONT_LICENCES


@needs_soundfonts
def test_soundfont_kits_render_every_class_at_rising_velocity():
    render = importlib.import_module(TRAIN + ".render")
    for kit in soundfonts.SOUNDFONT_KITS:
        bank = render.load_bank(kit)  # rendered by fluidsynth, prepared like a Hydrogen kit
        assert all(bank[c] for c in kits.CLASSES), kit
        for layers in (lay for inst in bank.values() for lay in inst):
            assert [s.vmin for s in layers] == [0.0, 0.45, 0.8], kit
            peaks = [float(np.abs(s.audio).max()) for s in layers]
            # normalised per instrument, the loudest layer at 1, softer ones below
            assert peaks == sorted(peaks) and peaks[-1] == pytest.approx(1.0), (kit, peaks)
            assert peaks[0] > 0.05, (kit, peaks)
    assert all(len(render.load_bank("FluidR3 TR-808")[c]) >= 2 for c in ("kick", "snare", "tom"))
    # fluidsynth renders deterministically: training on these kits is reproducible
    a, b = (soundfonts.render_kit("TimGM6mb Standard") for _ in range(2))
    assert [np.array_equal(x.audio, y.audio) for i, j in zip(a, b, strict=True)
            for x, y in zip(i.layers, j.layers, strict=True)] == [True] * 60


@needs_kits
@needs_soundfonts
def test_soundfont_kits_share_no_recording_with_the_held_out_kits():
    """The SoundFont kits train only; none of their notes may be a held-out kit's sample
    (which would leak validation recordings into training)."""
    render = importlib.import_module(TRAIN + ".render")

    def sig(x: np.ndarray) -> np.ndarray:
        y = np.zeros(8192, np.float32)
        y[: min(len(x), 8192)] = x[:8192]
        return y / (np.linalg.norm(y) + 1e-9)

    held = [sig(s.audio) for k in kits.VALIDATION_KITS
            for inst in render.load_bank(k).values() for layers in inst for s in layers]
    held_m = np.stack(held)
    for kit in soundfonts.SOUNDFONT_KITS:
        for inst in render.load_bank(kit).values():
            for layers in inst:
                for s in layers:
                    assert float(np.max(held_m @ sig(s.audio))) < 0.95, kit


def test_trim_onset():
    render = importlib.import_module(TRAIN + ".render")
    x = np.zeros(1000, np.float32)
    x[100] = 1e-5  # below -60 dB of the peak: lead-in noise
    x[300:310] = 0.5
    x[305] = 1.0
    y = render.trim_onset(x)
    assert len(y) == 700 and y[0] == 0.5


@needs_kits
def test_render_clip_labels():
    render = importlib.import_module(TRAIN + ".render")
    rng = np.random.default_rng(0)
    audio, sr, ann = render.render_clip(rng, kits.TRAIN_KITS, duration=4.0, style="dnb")
    assert sr == render.SR and audio.dtype == np.float32 and len(audio) == 4 * sr
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
    assert 160 <= ann["tempo"] <= 180 and ann["style"] == "dnb"
    assert np.allclose(np.diff(ann["beats"]), 60 / ann["tempo"])  # quarter notes, not half
    assert set(ann["downbeats"]) <= set(ann["beats"])
    for t, cls, vel in ann["hits"]:
        assert 0 <= t < 4.0 and cls in kits.CLASSES and 0 < vel <= 1
        assert abs(t * sr - round(t * sr)) < 1e-6  # integer sample positions


@needs_kits
def test_render_is_deterministic_and_hits_exact():
    render = importlib.import_module(TRAIN + ".render")
    a = render.render_set(2, 7, kits.VALIDATION_KITS, duration=3.0)
    b = render.render_set(2, 7, kits.VALIDATION_KITS, duration=3.0)
    for (xa, _, aa), (xb, _, ab) in zip(a, b, strict=True):
        assert np.array_equal(xa, xb) and aa == ab
    # a single trimmed one-shot placed at an integer position starts exactly there
    bank = render.load_bank(kits.VALIDATION_KITS[0])
    one = next(v for v in bank.values() if v)[0][0].audio
    peak = np.abs(one).max()
    assert abs(one[0]) > peak * 10 ** (-60 / 20)


def test_tune_peak_picking_learns_a_confusion():
    """A model that fires "tom" weakly under every snare: the tuner must learn to drop
    those toms (ratio) while keeping the real ones, and find a threshold between."""
    train = importlib.import_module(TRAIN + ".train")
    fps = 100.0
    rng = np.random.default_rng(0)
    outs, clips = [], []
    for _ in range(4):
        on = np.zeros((800, 5), np.float32)
        snares = rng.choice(np.arange(20, 780, 20), size=12, replace=False)
        toms = np.setdiff1d(np.arange(30, 780, 40), snares)[:8]
        on[snares, 1] = 0.9
        on[snares + 1, 3] = 0.7  # confusion, stronger than the real toms: no threshold helps
        on[toms, 3] = 0.6
        on[::37, 2] = 0.04  # noise below any sensible hihat threshold
        hits = [(f / fps, "snare", 0.8) for f in snares] + [(f / fps, "tom", 0.8) for f in toms]
        outs.append({"onsets": on})
        clips.append((None, None, {"hits": hits}))
    th, sup = train.tune_peak_picking(outs, clips, fps)
    assert sup["tom"]["snare"] <= 1.2
    got = decode.activations_to_hits(outs[0]["onsets"], None, fps, th, suppress=sup)
    ref = sorted(t for t, c, _ in clips[0][2]["hits"] if c == "tom")
    assert [round(t, 2) for t, c, *_ in got if c == "tom"] == [round(t, 2) for t in ref]


def test_synth_voices_are_deterministic_and_class_shaped():
    synth = importlib.import_module(TRAIN + ".synth")

    def centroid(x):
        mag = np.abs(np.fft.rfft(x[:4096], 8192)) ** 2
        f = np.fft.rfftfreq(8192, 1 / synth.SR)
        return float((mag * f).sum() / mag.sum())

    cents = {}
    for cls in synth.VOICES:
        a = synth.synth_one_shot(cls, np.random.default_rng(5))
        b = synth.synth_one_shot(cls, np.random.default_rng(5))
        assert np.array_equal(a, b) and a.dtype == np.float32
        assert np.isfinite(a).all() and np.abs(a).max() == pytest.approx(1.0, abs=1e-3)
        assert np.abs(a[: synth.SR // 100]).max() > 0.3  # the hit starts at once
        cents[cls] = np.median([centroid(synth.synth_one_shot(cls, np.random.default_rng(i)))
                                for i in range(8)])
    assert cents["kick"] < cents["tom"] < cents["snare"] < cents["hihat"]
    assert cents["cymbal"] > cents["snare"]


@needs_kits
def test_synth_only_in_training_renders():
    render = importlib.import_module(TRAIN + ".render")
    plain = render.render_set(2, 11, kits.TRAIN_KITS, duration=2.0)
    synth = render.render_set(2, 11, kits.TRAIN_KITS, duration=2.0, synth_p=1.0)
    assert not np.array_equal(plain[0][0], synth[0][0])
    again = render.render_set(2, 11, kits.TRAIN_KITS, duration=2.0)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(plain, again, strict=True))


@needs_kits
def test_lend_instruments_replaces_only_the_lent_classes():
    render = importlib.import_module(TRAIN + ".render")
    own = {c: [[render.Sample(np.ones(64, np.float32), 0.0, 1.0, 1.0)]] for c in kits.CLASSES}
    lender = kits.TRAIN_KITS[0]
    lent = 0
    for i in range(40):
        out = render.lend_instruments(own, np.random.default_rng(i), (lender,), ("tom",))
        assert all(out[c] is own[c] for c in kits.CLASSES if c != "tom")
        if out["tom"] is not own["tom"]:
            lent += 1
            bank = render.load_bank(lender)["tom"]
            assert all(any(inst is b for b in bank) for inst in out["tom"])
            assert 1 <= len(out["tom"]) <= 2
    assert 0 < lent < 40  # about half of the clips (LEND_P)
    assert render.lend_instruments(own, np.random.default_rng(0), (lender,), ("tom",),
                                   p=0.0) == own


def test_lofi_sample_holds_and_quantises():
    render = importlib.import_module(TRAIN + ".render")
    t = np.arange(2400) / render.SR
    x = (0.9 * np.sin(2 * np.pi * 3000 * t) * np.exp(-t / 0.03)).astype(np.float32)
    s = render.Sample(x, 0.2, 0.8, 0.7)
    y = render.lofi_sample(s, rate=8000.0, bits=4)
    assert (y.vmin, y.vmax, y.gain) == (0.2, 0.8, 0.7) and len(y.audio) == len(x)
    # sample-and-hold at 8 kHz: runs of 3 equal samples at 24 kHz; 4 bits: 16 levels at most
    assert np.all(y.audio[0::3] == y.audio[1::3]) and np.all(y.audio[0::3] == y.audio[2::3])
    assert len(np.unique(y.audio)) <= 16
    assert not np.array_equal(y.audio, x)
    quiet = render.Sample(x * 1e-3, 0.0, 0.2, 1.0)  # would round to silence at 4 bits
    assert np.max(np.abs(render.lofi_sample(quiet, 8000.0, 4).audio)) > 0


@needs_kits
def test_lofi_only_when_asked_and_deterministic():
    render = importlib.import_module(TRAIN + ".render")
    plain = render.render_set(2, 12, kits.TRAIN_KITS, duration=2.0, sample_aug_p=0.5)
    zero = render.render_set(2, 12, kits.TRAIN_KITS, duration=2.0, sample_aug_p=0.5, lofi_p=0.0)
    lofi = render.render_set(2, 12, kits.TRAIN_KITS, duration=2.0, sample_aug_p=0.5, lofi_p=1.0)
    again = render.render_set(2, 12, kits.TRAIN_KITS, duration=2.0, sample_aug_p=0.5, lofi_p=1.0)
    # p=0 draws nothing, so recipes without --lofi render exactly as before
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(plain, zero, strict=True))
    assert not np.array_equal(plain[0][0], lofi[0][0])
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(lofi, again, strict=True))
    # --lofi-classes: the other classes draw nothing and keep their kit sound
    rng_all, rng_ks = np.random.default_rng(5), np.random.default_rng(5)
    inst = {"kick": [[render.Sample(np.linspace(0.9, 0, 600, dtype=np.float32), 0, 1, 1)]],
            "hihat": [[render.Sample(np.linspace(0.3, 0, 600, dtype=np.float32), 0, 1, 1)]]}
    only_kick = render.lofi_instruments(inst, rng_ks, 1.0, ("kick",))
    assert only_kick["hihat"] is inst["hihat"]
    assert not np.array_equal(only_kick["kick"][0][0].audio, inst["kick"][0][0].audio)
    both = render.lofi_instruments(inst, rng_all, 1.0)
    assert not np.array_equal(both["hihat"][0][0].audio, inst["hihat"][0][0].audio)


def test_swap_roles_exchanges_two_parts_and_nothing_else():
    render = importlib.import_module(TRAIN + ".render")
    events = [(0.0, "kick", 0.9), (4.0, "snare", 0.8), (2.0, "hihat", 0.5),
              (14.0, "tom", 0.7), (0.0, "cymbal", 0.9)]
    seen = set()
    for seed in range(40):
        out = render.swap_roles(events, np.random.default_rng(seed))
        assert out == render.swap_roles(events, np.random.default_rng(seed))
        assert [(p, v) for p, _, v in out] == [(p, v) for p, _, v in events]
        changed = {(a, b) for (_, a, _), (_, b, _) in zip(events, out, strict=True) if a != b}
        assert changed in ({("kick", "tom"), ("tom", "kick")}, {("snare", "tom"), ("tom", "snare")})
        seen.add(frozenset(changed))
    assert len(seen) == 2  # both pairs are drawn


def test_parse_pos_weight():
    train = importlib.import_module(TRAIN + ".train")
    assert train.parse_pos_weight("") == {}
    assert train.parse_pos_weight("tom=3, cymbal=2.5") == {"tom": 3.0, "cymbal": 2.5}
    for bad in ("toms=3", "tom", "tom="):
        with pytest.raises(SystemExit, match="--pos-weight"):
            train.parse_pos_weight(bad)


def test_class_flags_are_checked(tmp_path):
    train = importlib.import_module(TRAIN + ".train")
    assert train.parse_classes("--lofi-classes", "kick, snare,kick") == ("kick", "snare")
    with pytest.raises(SystemExit, match="--lofi-classes: unknown class"):
        train.parse_classes("--lofi-classes", "kick,bongo")
    with pytest.raises(SystemExit, match="--lofi-classes needs --lofi"):
        train.main(["--out", str(tmp_path / "m"), "--tiny", "--lofi-classes", "kick"])
    assert not (tmp_path / "m").exists()


@needs_kits
def test_train_smoke_then_decode(tmp_path):
    import torch

    train = importlib.import_module(TRAIN + ".train")
    model_mod = importlib.import_module(PKG + ".model")
    render = importlib.import_module(TRAIN + ".render")
    metrics = train.main(["--out", str(tmp_path / "m"), "--steps", "3", "--tiny",
                          "--n-train", "8", "--n-val", "2", "--batch", "4",
                          "--role-swap", "0.5", "--pos-weight", "tom=2", "--lofi", "0.5",
                          "--lofi-classes", "kick,snare",
                          *(["--extra-kits", "timgm6mb"] if HAVE_SOUNDFONTS else [])])
    assert set(metrics["onset_f"]) == set(kits.CLASSES)
    # training flushes denormals; the process-wide flag must be put back afterwards
    assert sys.float_info.min / 2 > 0.0
    assert metrics["role_swap_p"] == 0.5 and metrics["pos_weight"] == {"tom": 2.0}
    assert metrics["lofi_p"] == 0.5 and metrics["lofi_classes"] == ["kick", "snare"]
    extra = list(soundfonts.SOUNDFONT_GROUPS["timgm6mb"]) if HAVE_SOUNDFONTS else []
    assert metrics["extra_kits"] == extra
    assert metrics["train_kits"] == [*kits.TRAIN_KITS, *extra]
    assert (tmp_path / "m" / "metrics.json").is_file()
    # --eval-only re-measures the saved model and writes the command that made it
    again = train.main(["--out", str(tmp_path / "m"), "--eval-only", "--n-val", "2"])
    assert again["thresholds"] == metrics["thresholds"]
    assert again["extra_kits"] == extra
    card = (tmp_path / "m" / "MODEL_CARD.md").read_text()
    assert "--role-swap 0.5 --pos-weight tom=2" in card
    assert "--lofi 0.5 --lofi-classes kick,snare" in card and "sampler emulation" in card
    assert "--batch 4 " in card  # every recipe flag off its default (train.RECIPE_FLAGS)
    assert "(kick, snare only)" in card
    sha = hashlib.sha256((tmp_path / "m" / "model.safetensors").read_bytes()).hexdigest()
    assert f"`{sha}`" in card  # the card names the weights' hash, for checking a retrain
    assert ("--extra-kits timgm6mb" in card) == HAVE_SOUNDFONTS
    # per held-out kit: [precision, recall, F, reference hits], tabulated in the card
    assert set(again["onset_by_kit"]) <= set(kits.VALIDATION_KITS)
    for row in again["onset_by_kit"].values():
        for p, r, f, n in row.values():
            assert n >= 0 and abs(f - (2 * p * r / (p + r) if p + r else 0.0)) < 0.01
    kit = next(iter(again["onset_by_kit"]))
    assert f"| {kit} | " in card
    m = model_mod.load_drumnet(tmp_path / "m")
    audio, _, _ = render.render_validation_set(1, seed=3, duration=3.0)[0]
    with torch.no_grad():
        out = m(torch.from_numpy(audio)[None])
    hits = decode.activations_to_hits(out["onsets"][0].numpy(), out["velocity"][0].numpy(),
                                      m.fps, m.thresholds)
    for t, cls, conf, vel in hits:
        assert cls in kits.CLASSES and 0 <= conf <= 1 and 0 <= vel <= 1 and t >= 0


@needs_kits
def test_heads_only_fine_tune_keeps_trunk_and_beat_head(tmp_path):
    from safetensors.torch import load_file

    train = importlib.import_module(TRAIN + ".train")
    base = ["--steps", "2", "--n-train", "6", "--n-val", "2", "--batch", "3"]
    with pytest.raises(SystemExit, match="--heads-only: fine-tunes the heads of an --init"):
        train.main(["--out", str(tmp_path / "x"), *base, "--tiny", "--heads-only"])
    train.main(["--out", str(tmp_path / "a"), *base, "--tiny"])
    metrics = train.main(["--out", str(tmp_path / "b"), *base, "--init", str(tmp_path / "a"),
                          "--heads-only", "--isolated", "0.5", "--lr", "0.05"])
    assert metrics["heads_only"] is True and metrics["isolated_p"] == 0.5
    a = load_file(str(tmp_path / "a" / "model.safetensors"))
    b = load_file(str(tmp_path / "b" / "model.safetensors"))
    moved = {k for k in a if not (a[k] == b[k]).all()}
    assert moved and all(k.startswith(("onset_head.", "vel_head.")) for k in moved)
    card = (tmp_path / "b" / "MODEL_CARD.md").read_text()
    assert "--heads-only" in card and "single hits" in card
    again = train.main(["--out", str(tmp_path / "b"), "--eval-only", "--n-val", "2"])
    assert again["heads_only"] is True


@needs_kits
def test_distill_beats_holds_the_beats_near_the_initial_models(tmp_path):
    """--distill-beats trains the beat outputs towards the initial model's instead of the
    rendered beats: with the same seed and clips, a distilled fine-tune ends with beat
    probabilities closer to the initial model's than a plain one does."""
    import torch

    from heihachi.plugins.drumnet.model import load_drumnet

    train = importlib.import_module(TRAIN + ".train")
    base = ["--steps", "6", "--n-train", "6", "--n-val", "2", "--batch", "3"]
    with pytest.raises(SystemExit, match="--distill-beats: distils the beats of an --init"):
        train.main(["--out", str(tmp_path / "x"), *base, "--tiny", "--distill-beats", "1"])
    train.main(["--out", str(tmp_path / "a"), "--steps", "2", *base[2:], "--tiny"])
    tune = [*base, "--init", str(tmp_path / "a"), "--isolated", "0.5", "--lr", "0.05"]
    train.main(["--out", str(tmp_path / "plain"), *tune])
    metrics = train.main(["--out", str(tmp_path / "held"), *tune, "--distill-beats", "2"])
    assert metrics["distill_beats"] == 2.0 and "--distill-beats 2" in " ".join(metrics["argv"])
    audio = torch.from_numpy(np.random.default_rng(0).normal(0, 0.1, 24000 * 3)
                             .astype(np.float32))[None]

    def beats(name):
        with torch.no_grad():
            return load_drumnet(tmp_path / name)(audio)["beats"]

    start = beats("a")
    drift = {name: (beats(name) - start).abs().mean().item() for name in ("plain", "held")}
    assert drift["held"] < 0.5 * drift["plain"], drift
    card = (tmp_path / "held" / "MODEL_CARD.md").read_text()
    assert "--distill-beats 2" in card and "distilled" in card
    again = train.main(["--out", str(tmp_path / "held"), "--eval-only", "--n-val", "2"])
    assert again["distill_beats"] == 2.0


def test_beat_loss_keeps_the_rendered_beats_of_labelled_clips_when_distilling():
    """--distill-beats trains towards the teacher, W times, except on the clips marked
    labelled (--metal's grooves): those keep their rendered beats at weight 1."""
    import torch

    options = importlib.import_module(TRAIN + ".options")
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 50, 2, generator=g)
    rendered = (torch.rand(3, 50, 2, generator=g) > 0.8).float()
    soft = torch.rand(3, 50, 2, generator=g)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    plain = options.beat_loss(logits, rendered)
    assert torch.equal(plain, bce(logits, rendered))
    assert torch.equal(options.beat_loss(logits, rendered, soft, 4.0), bce(logits, soft) * 4.0)
    assert torch.equal(options.beat_loss(logits, rendered, soft, 4.0, np.ones(3, bool)), plain)
    mixed = options.beat_loss(logits, rendered, soft, 4.0, np.array([True, False, False]))
    per_clip = [bce(logits[0], rendered[0]), 4.0 * bce(logits[1], soft[1]),
                4.0 * bce(logits[2], soft[2])]
    assert torch.allclose(mixed, sum(per_clip) / 3)
    assert not torch.allclose(mixed, options.beat_loss(logits, rendered, soft, 4.0))


@needs_kits
def test_metal_grooves_are_recorded_and_carded(tmp_path):
    train = importlib.import_module(TRAIN + ".train")
    base = ["--steps", "2", "--n-train", "6", "--n-val", "2", "--batch", "3"]
    train.main(["--out", str(tmp_path / "a"), *base, "--tiny"])
    held = train.main(["--out", str(tmp_path / "held"), *base, "--init", str(tmp_path / "a"),
                       "--metal", "1", "--band", "0.5", "--distill-beats", "2"])
    assert held["metal_p"] == 1.0 and "--metal 1" in " ".join(held["argv"])
    assert held["band_p"] == 0.5 and "--band 0.5" in " ".join(held["argv"])
    card = (tmp_path / "held" / "MODEL_CARD.md").read_text()
    assert "METAL_STYLES" in card and "band.band_bed" in card
    assert "but the `--metal` clips and `--band` clips" in card


def test_labelled_clips_are_metal_grooves_and_band_clips_only_when_distilling():
    from types import SimpleNamespace

    options = importlib.import_module(TRAIN + ".options")
    anns = [{"style": "dnb"}, {"style": "skank8"}, {"style": "rock", "band": True}]
    args = SimpleNamespace(distill_beats=4.0, metal=0.1, band=0.2)
    assert options.labelled_clips(anns, args).tolist() == [False, True, True]
    assert options.labelled_clips(anns, SimpleNamespace(distill_beats=0.0, metal=0.1,
                                                        band=0.2)) is None
    assert options.labelled_clips(anns, SimpleNamespace(distill_beats=4.0, metal=0.0,
                                                        band=0.0)) is None


@needs_kits
def test_render_workers_render_exactly_the_clips_of_one_process(monkeypatch):
    """Each clip depends only on its own RNG, so rendering in worker processes gives the
    same clips, in the same order, as one process (the weights stay byte-identical)."""
    render = importlib.import_module(TRAIN + ".render")
    opts = {"chain_p": 0.8, "synth_p": 0.3, "voices_p": 0.3, "isolated_p": 0.2,
            "metal_p": 0.2, "extra_styles_p": 0.3, "negatives_p": 0.1}
    serial = render.render_set(10, 7, render.TRAIN_KITS, duration=1.0, **opts)
    monkeypatch.setattr(render, "CHUNK", 3)  # four chunks over two processes
    pooled = render.render_set(10, 7, render.TRAIN_KITS, duration=1.0, workers=2, **opts)
    assert len(pooled) == len(serial) == 10
    for (xa, sra, a), (xb, srb, b) in zip(serial, pooled, strict=True):
        assert sra == srb and np.array_equal(xa, xb) and a == b
    assert len({ann["style"] for _x, _sr, ann in serial}) > 2
