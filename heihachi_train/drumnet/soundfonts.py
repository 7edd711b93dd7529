"""More training kits: the General MIDI drum kits of Debian's SoundFont packages.

The Hydrogen kits give eleven training kits, and the per-kit figures show that timbre
diversity is what limits the model.  Debian ships two GM SoundFonts whose percussion
banks (bank 128) hold several distinct kits each, recorded or modelled independently of
the Hydrogen kits:

* ``fluid-soundfont-gm`` (FluidR3_GM.sf2, MIT): Standard, Power, Electronic, TR-808,
  Jazz;
* ``timgm6mb-soundfont`` (TimGM6mb.sf2, GPL-2): Standard, Power, Electronic, TR 808.

Kits of one SoundFont share some notes (Power reuses Standard's cymbals, and so on);
FluidR3's Room and Brush kits are left out because all but two of their notes are
Standard's or Jazz's.  (``musescore-general-soundfont`` is derived from FluidR3 and would
add no new recordings.)  A kit is rendered note by note with the ``fluidsynth`` command-line
synthesiser, which applies the SoundFont's envelopes, filters and tuning exactly as a
player would, with reverb and chorus off, at three velocities per note.  Rendering one
kit takes about a second and happens in memory once per process; nothing is cached on
disk, so the samples can never go stale.  These kits are only ever used for *training*:
the validation and bench kits stay the held-out Hydrogen kits.

GM percussion notes map onto the five classes below; side stick, claps, cowbell, hand
percussion and FX are excluded, as in :mod:`.kits`.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SOUNDFONT_DIRS = ("/usr/share/sounds/sf2",)

# kit name -> (SoundFont file, preset number in bank 128)
SOUNDFONT_KITS: dict[str, tuple[str, int]] = {
    "FluidR3 Standard": ("FluidR3_GM.sf2", 0),
    "FluidR3 Power": ("FluidR3_GM.sf2", 16),
    "FluidR3 Electronic": ("FluidR3_GM.sf2", 24),
    "FluidR3 TR-808": ("FluidR3_GM.sf2", 25),
    "FluidR3 Jazz": ("FluidR3_GM.sf2", 32),
    "TimGM6mb Standard": ("TimGM6mb.sf2", 0),
    "TimGM6mb Power": ("TimGM6mb.sf2", 16),
    "TimGM6mb Electronic": ("TimGM6mb.sf2", 24),
    "TimGM6mb TR 808": ("TimGM6mb.sf2", 25),
}

SOUNDFONT_LICENCES: dict[str, str] = {
    "FluidR3_GM.sf2": "MIT (Frank Wen; Debian fluid-soundfont-gm)",
    "TimGM6mb.sf2": "GPL-2 (Tim Brechbill; Debian timgm6mb-soundfont)",
}

# Named groups for the training command's --extra-kits.
SOUNDFONT_GROUPS: dict[str, tuple[str, ...]] = {
    "fluidr3": tuple(k for k, v in SOUNDFONT_KITS.items() if v[0] == "FluidR3_GM.sf2"),
    "timgm6mb": tuple(k for k, v in SOUNDFONT_KITS.items() if v[0] == "TimGM6mb.sf2"),
}

# General MIDI percussion key map (notes 35-59) -> class; unlisted notes are excluded.
GM_NOTES: dict[int, tuple[str, str]] = {
    35: ("kick", "Acoustic Bass Drum"),
    36: ("kick", "Bass Drum 1"),
    38: ("snare", "Acoustic Snare"),
    40: ("snare", "Electric Snare"),
    42: ("hihat", "Closed Hi-Hat"),
    44: ("hihat", "Pedal Hi-Hat"),
    46: ("hihat", "Open Hi-Hat"),
    41: ("tom", "Low Floor Tom"),
    43: ("tom", "High Floor Tom"),
    45: ("tom", "Low Tom"),
    47: ("tom", "Low-Mid Tom"),
    48: ("tom", "Hi-Mid Tom"),
    50: ("tom", "High Tom"),
    49: ("cymbal", "Crash Cymbal 1"),
    51: ("cymbal", "Ride Cymbal 1"),
    52: ("cymbal", "Chinese Cymbal"),
    53: ("cymbal", "Ride Bell"),
    55: ("cymbal", "Splash Cymbal"),
    57: ("cymbal", "Crash Cymbal 2"),
    59: ("cymbal", "Ride Cymbal 2"),
}

# MIDI velocity of each rendered layer and the velocity range (0-1) it stands for.
VELOCITY_LAYERS: tuple[tuple[int, float, float], ...] = (
    (50, 0.0, 0.45),
    (90, 0.45, 0.8),
    (127, 0.8, 1.0),
)
NOTE_SPACING_S = 3.0
RENDER_SR = 44_100


@dataclass
class RenderedLayer:
    audio: np.ndarray  # float32 mono at RENDER_SR, starting at the note-on
    vmin: float
    vmax: float


@dataclass
class RenderedInstrument:
    kit: str
    name: str
    cls: str
    layers: list[RenderedLayer]


def is_soundfont_kit(kit: str) -> bool:
    return kit in SOUNDFONT_KITS


def soundfont_path(filename: str) -> Path:
    for d in SOUNDFONT_DIRS:
        p = Path(d) / filename
        if p.is_file():
            return p
    raise FileNotFoundError(
        f"SoundFont {filename} not found in {', '.join(SOUNDFONT_DIRS)}; install Debian's "
        "fluid-soundfont-gm and timgm6mb-soundfont (apt-get install fluid-soundfont-gm "
        "timgm6mb-soundfont fluidsynth)"
    )


def expand_kits(spec: str) -> tuple[str, ...]:
    """Kit names from a comma-separated list of group names (``fluidr3``, ``timgm6mb``)
    or exact kit names; ``""`` gives none."""
    out: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if part in SOUNDFONT_GROUPS:
            out.extend(SOUNDFONT_GROUPS[part])
        elif part in SOUNDFONT_KITS:
            out.append(part)
        else:
            raise ValueError(f"unknown extra kit {part!r}; choose from "
                             f"{', '.join([*SOUNDFONT_GROUPS, *SOUNDFONT_KITS])}")
    return tuple(dict.fromkeys(out))


def _score(preset: int, path: Path) -> list[tuple[float, int, int]]:
    """Write the MIDI score (every mapped note at every layer velocity, one note every
    NOTE_SPACING_S seconds on the GM drum channel) and return [(onset_s, note, vel)]."""
    import mido

    tpb = 480  # at the default 120 BPM, one second is 2 * tpb ticks
    spacing = int(NOTE_SPACING_S * 2 * tpb)
    mid = mido.MidiFile(ticks_per_beat=tpb)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.Message("program_change", channel=9, program=preset, time=0))
    events = []
    tick = 2 * tpb  # the first note starts one second in
    for i, (note, (vel, _, _)) in enumerate(itertools.product(GM_NOTES, VELOCITY_LAYERS)):
        # each later note-on NOTE_SPACING_S after the previous one (note-off at half way)
        tr.append(mido.Message("note_on", channel=9, note=note, velocity=vel,
                               time=tick if i == 0 else spacing // 2))
        tr.append(mido.Message("note_off", channel=9, note=note, velocity=0,
                               time=spacing // 2))
        events.append((tick / (2 * tpb), note, vel))  # seconds, from the same ticks
        tick += spacing
    tr.append(mido.MetaMessage("end_of_track", time=2 * tpb))
    mid.save(str(path))
    return events


def render_kit(kit: str) -> list[RenderedInstrument]:
    """Render every mapped GM note of ``kit`` at each layer velocity with fluidsynth."""
    filename, preset = SOUNDFONT_KITS[kit]
    return render_soundfont(kit, soundfont_path(filename), preset)


def render_soundfont(kit: str, sf2: Path, preset: int) -> list[RenderedInstrument]:
    """Render every mapped GM note of drum preset ``preset`` (bank 128) of ``sf2`` at
    each layer velocity with fluidsynth; ``kit`` names the result."""
    import soundfile as sf

    exe = shutil.which("fluidsynth")
    if exe is None:
        raise FileNotFoundError("fluidsynth not found; install it (apt-get install fluidsynth)")
    with tempfile.TemporaryDirectory(prefix="heihachi-sf-") as tmp:
        mid, wav = Path(tmp) / "kit.mid", Path(tmp) / "kit.wav"
        events = _score(preset, mid)
        cmd = [exe, "-n", "-i", "-q", "-R", "0", "-C", "0", "-g", "0.5",
               "-r", str(RENDER_SR), "-O", "float", "-T", "wav", "-F", str(wav),
               str(sf2), str(mid)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0 or not wav.is_file():
            raise RuntimeError(f"fluidsynth failed on {kit} ({sf2}): {res.stderr.strip()}")
        audio, sr = sf.read(str(wav), dtype="float32", always_2d=True)
    if sr != RENDER_SR:
        raise RuntimeError(f"fluidsynth wrote {sr} Hz, asked for {RENDER_SR}")
    mono = audio.mean(axis=1)
    n = int(NOTE_SPACING_S * sr)
    by_note: dict[int, list[RenderedLayer]] = {}
    ranges = {vel: (lo, hi) for vel, lo, hi in VELOCITY_LAYERS}
    for onset, note, vel in events:
        i = int(round(onset * sr))  # noqa: RUF046
        seg = mono[i : i + n].copy()
        if seg.size < 32 or float(np.max(np.abs(seg))) < 1e-4:
            continue  # the preset has no sound on this note
        lo, hi = ranges[vel]
        by_note.setdefault(note, []).append(RenderedLayer(seg, lo, hi))
    return [RenderedInstrument(kit, GM_NOTES[note][1], GM_NOTES[note][0], layers)
            for note, layers in by_note.items()]
