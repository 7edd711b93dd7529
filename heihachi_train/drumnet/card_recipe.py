"""The model card's account of the generalisation recipe (issue 15): one sentence per
training option that is on, written from the values ``train.py`` records in
``metrics.json`` (kept apart from ``card.py``, which lays out the whole card)."""

from __future__ import annotations


def generalisation_text(metrics: dict) -> str:
    """The card's sentences for the augmentations of issue 15 (empty when all are off)."""
    out = ""
    if metrics.get("voices_p"):
        out += (f"With probability {metrics['voices_p']} per class and clip, that class is "
                "played on one or two one-shots of a wide-range synthesis (`voices.py`: "
                "808/909/FM/distorted kicks, claps, clap-on-snare, noise and gated snares, "
                "noise/ring-modulated/FM hats, Simmons/808/FM toms, noise crashes, FM rides, "
                "chinas and splashes, every parameter over a wide range).  ")
    if metrics.get("layer_p"):
        out += (f"With probability {metrics['layer_p']} per class and clip, each instrument "
                "is layered with another sound of its class (another training kit's "
                "one-shot or a synthesised one, -15..0 dB, 0-3 ms later).  ")
    if metrics.get("pitch_range") == "wide":
        out += ("The re-pitch and decay ranges are wide (`samples.WIDE_AUG`: kicks -8..+7 "
                "semitones, toms -10..+9).  ")
    if metrics.get("chain_p"):
        from .chain import MIX_STEPS, STEM_STEPS

        out += (f"Production chains (`chain.py`): with probability {metrics['chain_p']} per "
                "class stem, one or two of " + ", ".join(s for s, _ in STEM_STEPS)
                + f"; with probability {metrics['chain_p']} per mix, one to three of "
                + ", ".join(s for s, _ in MIX_STEPS) + " (low-pass down to 1.8 kHz, "
                "telephone band 200-600 to 2500-4500 Hz, sidechain pumping keyed by the "
                "kicks, MP3/Ogg round trips, 8-22.05 kHz sample rates); the beds are also "
                "pumped by the kicks in some clips.  ")
    if metrics.get("contrast_p"):
        out += (f"With probability {metrics['contrast_p']} per clip, a hard mix situation "
                "(`situations.py`): hats and cymbals 8-20 dB down under a loud bass, a "
                "ride line together with the hats, snares/claps stacked on kicks, or busy "
                "quiet 16th hats.  ")
    if metrics.get("balance"):
        out += (f"Clips are drawn class-balanced (strength {metrics['balance']}: each "
                "class's onsets get an equal share of the draws).  ")
    if metrics.get("label_smooth"):
        out += f"Onset targets are label-smoothed (e = {metrics['label_smooth']}).  "
    if metrics.get("extra_styles_p"):
        out += (f"With probability {metrics['extra_styles_p']} per clip the groove is one of "
                "the extra metres and feels (`patterns.EXTRA_STYLES`: 3/4, 6/8 with the "
                "dotted quarter as beat, house with a hats-only intro, hip hop swung 58-70 "
                "%), beats and downbeats labelled in that metre.  ")
    if metrics.get("real_beds_p"):
        out += (f"With probability {metrics['real_beds_p']} per clip a bed of real "
                "recordings plays under the drums (`beds.py`: acoustic guitar strums of "
                "Debian's hydrogen-drumkits-effects on the clip's grid, sometimes driven, "
                "spoken words of klettres-data and ktuberling-data, a room), the drums "
                "-12..+6 dB against it.  ")
    if metrics.get("negatives_p"):
        out += (f"A fraction {metrics['negatives_p']} of the clips hold no drums and no "
                "pulse (a free real-recording bed, white or pink noise, a pad, or digital "
                "silence), labelled with no hits and no beats.  ")
    if metrics.get("isolated_p"):
        out += (f"With probability {metrics['isolated_p']} per clip the clip holds single "
                "hits 0.3-1.6 s apart off any grid, in silence or a quiet floor "
                "(`render.isolated_clip`: toms and cymbals drawn most, the same instruments "
                "and production chains), labelled with the hits and no beats, so a hit is "
                "named by its sound and not by where a groove puts it.  ")
    if metrics.get("thin_p"):
        out += (f"With probability {metrics['thin_p']} per clip the mix goes through a thin "
                "band (`chain.thin`: a steep 150-700 Hz high-pass or a telephone band), "
                "which leaves a kick only its click.  ")
    if metrics.get("pluck_p"):
        out += (f"With probability {metrics['pluck_p']} a clip's bass line is plucked notes "
                "in the toms' register, 35-220 Hz, decaying over 60-500 ms (`mix.pluck_bass`: "
                "a Karplus-Strong bass string or an additive synth pluck), labelled as no "
                "drum.  ")
    if metrics.get("metal_p"):
        out += (f"With probability {metrics['metal_p']} per clip the groove is a rock or "
                "metal one whose drums alone leave the beat ambiguous (`patterns."
                "METAL_STYLES`: a skank beat with kicks on the 8ths, a half-time breakdown "
                "with one snare per bar, syncopated kicks with bars pushed onto the last "
                "\"and\"), beats labelled on the quarter notes.  ")
    if metrics.get("band_p"):
        out += (f"With probability {metrics['band_p']} per clip a band plays on the clip's "
                "grid instead of a free bass line (`band.band_bed`: synthesised bass roots on "
                "the beats, chords changing on bar lines, a distorted power-chord guitar; "
                "drums 12 dB under it to 6 dB over), so non-drum onsets and harmonic changes "
                "carry the metre as they do in real songs.  ")
    if metrics.get("init"):
        out += (f"Fine-tuned: training started from the weights in `{metrics['init']}` "
                f"(sha256 `{metrics.get('init_sha256', '?')}`, reproducible by the command in "
                "that model's own card), not from a random initialisation.  ")
    if metrics.get("heads_only"):
        out += ("Only the drum onset and velocity heads were trained (`--heads-only`): the "
                "convolutional trunk, the GRU and the beat head are the initial model's "
                "weights bit for bit, so its beats, downbeats and tempo are the initial "
                "model's.  ")
    if metrics.get("distill_beats"):
        out += (f"The beat and downbeat outputs were distilled (`--distill-beats "
                f"{metrics['distill_beats']:g}`): their loss is the cross-entropy to the "
                "frozen initial model's beat probabilities on every training clip"
                + (" but the " + " and ".join(
                    f"`--{k}` clips" for k in ("metal", "band") if metrics.get(f"{k}_p"))
                   + " (trained on their rendered beats, at weight 1)"
                   if metrics.get("metal_p") or metrics.get("band_p") else "")
                + ", not to the rendered beats, so the trunk moves for the drums while the "
                "beats are held near the initial model's.  ")
    if metrics.get("tune_chain_p"):
        out += (f"The threshold-tuning render (held-out kits) goes through the production "
                f"chains at probability {metrics['tune_chain_p']}.  ")
    return out
